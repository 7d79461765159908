package sandbox

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// RunOptions say how to run a command.
type RunOptions struct {
	Env       []string      // K=V, over the sandbox's environment
	Cwd       string        // absolute; "" = the sandbox's working directory
	User      string        // "" = the sandbox's user
	Stdin     io.Reader     // nil = empty
	Timeout   time.Duration // Run: 0 = the sandbox's default, < 0 = none; Spawn: 0 or < 0 = none
	MaxOutput int           // bytes kept per stream; 0 = engine.DefaultMaxOutput
	Isolated  bool          // a plain engine exec, not the shared executor

	// OnOutput, when set, gets each chunk of output as it comes (stream 1
	// is stdout, 2 stderr), on the goroutine running the command.
	OnOutput func(stream int, data []byte)
}

func (o *RunOptions) spec(argv []string, timeout time.Duration) engine.ExecSpec {
	if timeout < 0 {
		timeout = 0
	}
	return engine.ExecSpec{Argv: argv, Env: o.Env, Cwd: o.Cwd, User: o.User, Stdin: o.Stdin,
		Timeout: timeout, MaxOutput: o.MaxOutput, OnOutput: o.OnOutput}
}

// Shell is the argv that runs a command line through the sandbox's sh.
func Shell(cmd string) []string { return []string{"/bin/sh", "-c", cmd} }

// Run runs a command to its end and returns its result; a non-zero exit is
// a result, not an error. It goes through the in-container executor when it
// can (a few milliseconds), else through a plain engine exec.
func (c *Container) Run(ctx context.Context, argv []string, o RunOptions) (*engine.ExecResult, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = c.Timeout()
	}
	spec := o.spec(argv, timeout)
	return c.exec(ctx, &spec, o.Isolated)
}

// exec runs a command on the fast path when it can, else through a plain engine exec.
func (c *Container) exec(ctx context.Context, spec *engine.ExecSpec, isolated bool) (*engine.ExecResult, error) {
	if c.Removed() {
		return nil, c.shutDown()
	}
	var res *engine.ExecResult
	var err error
	if !isolated {
		res, err = c.fastExec(ctx, spec)
	}
	if res == nil && err == nil {
		res, err = c.eng.Exec(ctx, c.ID(), *spec)
	}
	if err == nil {
		c.record(spec.Argv, res)
	}
	return res, err
}

// record adds a run to a persistent project sandbox's history.
func (c *Container) record(argv []string, res *engine.ExecResult) {
	if c.Persist {
		project.RecordRun(c.dataPath, argv, res)
	}
}

// CommandFailed is the error for a command that exited non-zero or timed
// out, when the caller asked for that to be an error: it names the command
// and ends with the last of its stderr.
func CommandFailed(argv []string, res *engine.ExecResult) error {
	cmd := engine.CommandText(argv)
	msg := "command failed with exit code " + strconv.Itoa(res.ExitCode) + ": " + cmd
	if res.TimedOut {
		msg = "command timed out: " + cmd
	}
	if s := strings.TrimSpace(string(res.Stderr)); s != "" {
		if len(s) > 500 {
			s = s[len(s)-500:]
		}
		msg += "\n" + s
	}
	return &engine.Error{Kind: engine.CommandFailed, Message: msg}
}
