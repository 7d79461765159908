package sandbox

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
)

// processBuffer bounds what a spawned process keeps per stream until read.
const processBuffer = 1 << 20

// Process is a command running in the background. Its goroutine fills the
// output buffers (up to 1 MiB per stream until read) under mu.
type Process struct {
	c    *Container
	argv []string
	done chan struct{} // closed when the command has ended

	mu         sync.Mutex
	out, err   bytes.Buffer
	overflowed bool
	pid        string // plain path: the pid inside the container
	res        *engine.ExecResult
	runErr     error

	proc   *agent.Proc        // agent path
	cancel context.CancelFunc // plain path: ends the exec
	start  time.Time
}

func (p *Process) add(stream int, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := &p.out
	if stream == 2 {
		b = &p.err
	}
	if room := processBuffer - b.Len(); len(data) > room {
		data = data[:max(room, 0)]
		p.overflowed = true
	}
	b.Write(data)
}

func (p *Process) setPID(pid string) {
	p.mu.Lock()
	p.pid = pid
	p.mu.Unlock()
}

func (p *Process) finish(res *engine.ExecResult, err error) {
	if err == nil && res != nil {
		rec := *res
		rec.Duration = time.Since(p.start)
		p.c.record(p.argv, &rec)
	}
	p.mu.Lock()
	p.res, p.runErr = res, err
	p.mu.Unlock()
	close(p.done)
}

// Running reports whether the command has not ended yet.
func (p *Process) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Spawn starts a command in the background and returns at once. Its output
// is kept (up to 1 MiB per stream) until read; o.OnOutput is not used.
func (c *Container) Spawn(ctx context.Context, argv []string, o RunOptions) (*Process, error) {
	if c.Removed() {
		return nil, c.shutDown()
	}
	o.OnOutput = nil
	spec := o.spec(argv, o.Timeout)
	p := &Process{c: c, argv: argv, done: make(chan struct{}), start: time.Now()}
	if !o.Isolated {
		f := c.fastPath()
		if client := f.get(ctx, 0); client != nil {
			cmd := f.command(&spec)
			cmd.KeepChildren = true // what a background process starts is its own business
			proc, err := client.Start(ctx, cmd, p.add)
			if err == nil {
				p.proc = proc
				go p.waitAgent(spec.Timeout)
				return p, nil
			}
			if !errors.Is(err, agent.ErrAgentGone) {
				return nil, err // nothing ran; only a lost executor sends it to the plain path
			}
		}
	}
	spec.OnOutput = p.add
	spec.OnStart = p.setPID
	bg, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	c.onClose(cancel)
	go func() {
		res, err := c.eng.Exec(bg, c.ID(), spec)
		if engine.IsKind(err, engine.Interrupted) && res != nil {
			res.ExitCode, err = 137, nil // ended by p:kill or shutdown
		}
		p.finish(res, err)
	}()
	return p, nil
}

func (p *Process) waitAgent(timeout time.Duration) {
	timedOut := false
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() {
			p.mu.Lock()
			timedOut = true
			p.mu.Unlock()
			_ = p.proc.Signal(syscall.SIGKILL)
		})
		defer t.Stop()
	}
	exit, err := p.proc.Wait(context.Background())
	res := &engine.ExecResult{ExitCode: exit.Code}
	if err != nil {
		res.ExitCode = 137 // the executor died, and the command with it
		err = p.c.whyLost(context.Background())
	}
	p.mu.Lock()
	res.TimedOut = timedOut
	p.mu.Unlock()
	p.finish(res, err)
}

// result is what Wait returns: the output not yet read and how it ended.
func (p *Process) result() (*engine.ExecResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runErr != nil {
		return nil, p.runErr
	}
	res := *p.res
	res.Stdout = append([]byte(nil), p.out.Bytes()...)
	res.Stderr = append([]byte(nil), p.err.Bytes()...)
	res.Truncated = res.Truncated || p.overflowed
	res.Duration = time.Since(p.start)
	return &res, nil
}

// Signal sends sig to the process and its children.
func (p *Process) Signal(ctx context.Context, sig syscall.Signal) error {
	if !p.Running() {
		return nil
	}
	if p.proc != nil {
		return p.proc.Signal(sig)
	}
	p.mu.Lock()
	pid := p.pid
	p.mu.Unlock()
	if sig == syscall.SIGKILL {
		p.cancel() // the exec's watcher kills the whole tree inside the sandbox
		return nil
	}
	if pid == "" {
		return nil
	}
	_, err := p.c.eng.Exec(ctx, p.c.ID(), engine.ExecSpec{Argv: []string{"kill", "-" + strconv.Itoa(int(sig)), pid}, User: "0", Timeout: 10 * time.Second})
	return err
}

// signalNames are the signals ParseSignal knows by name.
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP,
	"CONT": syscall.SIGCONT, "ALRM": syscall.SIGALRM, "PIPE": syscall.SIGPIPE,
}

// ParseSignal reads a signal's name, such as "TERM" or "sigterm".
func ParseSignal(name string) (syscall.Signal, bool) {
	s, ok := signalNames[strings.TrimPrefix(strings.ToUpper(name), "SIG")]
	return s, ok
}

// Kill sends sig to the process and its children; for SIGKILL it also
// waits, briefly, for the command to end.
func (p *Process) Kill(ctx context.Context, sig syscall.Signal) error {
	if err := p.Signal(ctx, sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
	}
	return nil
}

// Wait waits for the command to end and returns its result: the output not
// yet read and how it ended. A timeout >= 0 bounds the wait: (nil, nil) when
// it passes first.
func (p *Process) Wait(ctx context.Context, timeout time.Duration) (*engine.ExecResult, error) {
	var timer <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-p.done:
		return p.result()
	case <-timer:
		return nil, nil
	case <-ctx.Done():
		return nil, &engine.Error{Kind: engine.Interrupted, Message: "waiting for the process was interrupted", Err: ctx.Err()}
	}
}

// Read returns the output kept since the last Read, and whether some was
// dropped for want of room; drain false leaves it to be read again.
func (p *Process) Read(drain bool) (stdout, stderr string, overflowed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	stdout, stderr, overflowed = p.out.String(), p.err.String(), p.overflowed
	if drain {
		p.out.Reset()
		p.err.Reset()
		p.overflowed = false
	}
	return stdout, stderr, overflowed
}
