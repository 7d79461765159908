package luaapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
)

const sessionMeta = "pocketdock.Session"

// Session is one long-lived shell run by the in-container executor. Each
// command is framed by a random marker written to both stdout and stderr
// after it, so output without a final newline is kept and stderr is always
// complete.
type Session struct {
	c      *Container
	client *agent.Client
	cmd    agent.Command // how the shell was started (env, user)

	mu     sync.Mutex // one command at a time
	proc   *agent.Proc
	stdin  *io.PipeWriter
	q      *eventQueue
	pid    string // the shell's pid inside the sandbox
	closed bool

	exited chan struct{} // closed when the shell has ended
	exit   agent.Exit
}

func sessionClosed() error {
	return engine.Errorf(engine.SessionClosed, "the session has ended (its shell exited, or it was closed)").
		WithHint("open a new one with c:session()")
}

func (m *Module) session(L *lua.LState) int {
	c := checkContainer(L, 1, "session")
	o := optionsArg(L, "session", 2)
	spec := engine.ExecSpec{Argv: []string{"/bin/sh"}, Env: envList(o.Env("env")), Cwd: o.String("cwd", ""), User: o.String("user", "")}
	o.done(L)
	if spec.Cwd != "" && !strings.HasPrefix(spec.Cwd, "/") {
		return argError(L, "session", "option 'cwd' must be an absolute path, got %q", spec.Cwd)
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.openSession(ctx, spec)
	}, func(L *lua.LState, v any) int {
		ud := L.NewUserData()
		ud.Value = v
		L.SetMetatable(ud, L.GetTypeMetatable(sessionMeta))
		L.Push(ud)
		return 1
	})
}

func (c *Container) openSession(ctx context.Context, spec engine.ExecSpec) (*Session, error) {
	if c.removed {
		return nil, engine.Errorf(engine.ContainerNotFound, "sandbox %q was shut down", c.Name)
	}
	f := c.fastPath()
	client := f.get(ctx)
	if client == nil {
		return nil, engine.Errorf(engine.EngineError, "sessions need pocketdock's in-container executor, which cannot run in sandbox %q", c.Name).
			WithHint("is the sandbox running? c:run() still works without it")
	}
	pr, pw := io.Pipe()
	s := &Session{c: c, client: client, stdin: pw, q: newEventQueue()}
	s.cmd = f.command(&spec)
	s.cmd.Stdin = pr
	proc, err := client.Start(ctx, s.cmd, s.q.push)
	if err != nil {
		return nil, err
	}
	s.proc = proc
	s.exited = make(chan struct{})
	go func() {
		s.exit, _ = proc.Wait(context.Background())
		pr.CloseWithError(io.ErrClosedPipe) // writes to a dead shell fail, never block
		close(s.exited)
	}()
	c.onClose(s.close)
	res, err := s.run(ctx, "echo $$", nil, 10*time.Second)
	if err != nil {
		s.close()
		return nil, err
	}
	s.pid = strings.TrimSpace(string(res.Stdout))
	return s, nil
}

// close ends the shell without waiting: it must never hold up a shutdown.
func (s *Session) close() {
	s.stdin.Close()
	_ = s.proc.Signal(syscall.SIGKILL)
}

// quote makes s one single-quoted shell word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// script frames a command for the shell. The command is passed as data in a
// quoted variable, checked for syntax first (a syntax error in eval would end
// a non-interactive shell), and run in the shell itself so cd and variables
// persist. Its stdin is empty unless a file is given.
func script(cmd, stdinFile, marker string) string {
	in := "/dev/null"
	if stdinFile != "" {
		in = quote(stdinFile)
	}
	var b strings.Builder
	b.WriteString("__pd_c=" + quote(cmd) + "\n")
	b.WriteString("if /bin/sh -n -c \"$__pd_c\"; then { eval \"$__pd_c\"\n} <" + in + "; __pd_rc=$?; else __pd_rc=2; fi\n")
	if stdinFile != "" {
		b.WriteString("rm -f " + in + "\n")
	}
	b.WriteString("printf '%s:%d\\n' '" + marker + "' \"$__pd_rc\"; printf '%s\\n' '" + marker + "' >&2\n")
	return b.String()
}

// killChildren ends every process the shell started, leaves first, and
// leaves the shell alone.
const killChildren = `k() { kill -STOP "$1" 2>/dev/null; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do k "$c"; done; kill -KILL "$1" 2>/dev/null; }; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do k "$c"; done`

// run runs one command and collects its output up to the markers.
func (s *Session) run(ctx context.Context, cmd string, stdin []byte, timeout time.Duration) (*engine.ExecResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client.Err() != nil || !s.alive() {
		s.closed = true
		return nil, sessionClosed()
	}
	start := time.Now()
	s.q.drain(func(int, []byte) {}) // late output of an earlier command's background jobs
	file := ""
	if stdin != nil {
		var err error
		if file, err = s.stdinFile(ctx, stdin); err != nil {
			return nil, err
		}
	}
	mark := newMarker()
	if _, err := io.WriteString(s.stdin, script(cmd, file, mark)); err != nil {
		s.closed = true
		return nil, sessionClosed()
	}
	return s.collect(ctx, mark, timeout, start)
}

func (s *Session) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "__pd_end_" + hex.EncodeToString(b)
}

// stdinFile writes a command's stdin to a fresh temporary file in the
// sandbox, through the executor, so no user data is pasted into the shell.
func (s *Session) stdinFile(ctx context.Context, data []byte) (string, error) {
	var out bytes.Buffer
	var mu sync.Mutex
	p, err := s.client.Start(ctx, agent.Command{
		Argv: []string{"/bin/sh", "-c", `f=$(mktemp) && cat > "$f" && echo "$f"`},
		Env:  s.cmd.Env, User: s.cmd.User, Stdin: bytes.NewReader(data),
	}, func(stream int, b []byte) {
		if stream == agent.Stdout {
			mu.Lock()
			out.Write(b)
			mu.Unlock()
		}
	})
	if err != nil {
		return "", sessionClosed()
	}
	exit, err := p.Wait(ctx)
	if err != nil || exit.Code != 0 {
		return "", engine.Errorf(engine.EngineError, "could not pass stdin to the session's command (exit %d)", exit.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	return strings.TrimSpace(out.String()), nil
}

// collect gathers output until both markers have arrived, the shell exits,
// or the timeout passes (then the command's processes are killed and the
// output drained up to the markers, so the next command starts clean).
func (s *Session) collect(ctx context.Context, mark string, timeout time.Duration, start time.Time) (*engine.ExecResult, error) {
	var out, errb bytes.Buffer
	code, outDone, errDone := -1, false, false
	markOut, markErr := []byte(mark+":"), []byte(mark+"\n")
	feed := func(stream int, data []byte) {
		if stream == agent.Stdout && !outDone {
			out.Write(data)
			if i := bytes.Index(out.Bytes(), markOut); i >= 0 {
				if j := bytes.IndexByte(out.Bytes()[i:], '\n'); j >= 0 {
					code, _ = strconv.Atoi(string(out.Bytes()[i+len(markOut) : i+j]))
					out.Truncate(i)
					outDone = true
				}
			}
		} else if stream == agent.Stderr && !errDone {
			errb.Write(data)
			if i := bytes.Index(errb.Bytes(), markErr); i >= 0 {
				errb.Truncate(i)
				errDone = true
			}
		}
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	// After a timeout the output so far is the result; the rest of the
	// command (builtins after the killed process) is drained to the markers
	// and dropped, killing whatever it starts, so the next command is clean.
	var frozenOut, frozenErr []byte
	var tick <-chan time.Time
	var giveUp <-chan time.Time
	timedOut, interrupted := false, false
	ctxDone := ctx.Done()
	stop := func() {
		frozenOut, frozenErr = bytes.Clone(out.Bytes()), bytes.Clone(errb.Bytes())
		s.killCommand()
		t := time.NewTicker(100 * time.Millisecond)
		defer func() { go func() { <-giveUp; t.Stop() }() }()
		tick, giveUp = t.C, time.After(killGrace)
	}
	result := func(code int) *engine.ExecResult {
		if frozenOut != nil {
			out.Reset()
			out.Write(frozenOut)
			errb.Reset()
			errb.Write(frozenErr)
			code = 137
		}
		return s.result(&out, &errb, code, timedOut, start)
	}
	for !(outDone && errDone) {
		select {
		case <-s.q.wake:
			s.q.drain(feed)
		case <-s.exited:
			s.q.drain(feed)
			s.closed = true
			return result(s.exit.Code), nil
		case <-timer:
			timedOut, timer = true, nil
			stop()
		case <-ctxDone:
			interrupted, ctxDone = true, nil
			if frozenOut == nil {
				stop()
			}
		case <-tick:
			s.killCommand()
		case <-giveUp:
			// The shell itself is stuck (a builtin loop): end the session.
			s.closed = true
			s.close()
			return result(137), nil
		}
	}
	res := result(code)
	if interrupted {
		return res, &engine.Error{Kind: engine.Interrupted, Message: "the command was interrupted", Err: context.Canceled}
	}
	return res, nil
}

func (s *Session) result(out, errb *bytes.Buffer, code int, timedOut bool, start time.Time) *engine.ExecResult {
	return &engine.ExecResult{ExitCode: code, Stdout: out.Bytes(), Stderr: errb.Bytes(), TimedOut: timedOut, Duration: time.Since(start)}
}

// killCommand kills what the shell is running, through the executor.
func (s *Session) killCommand() {
	if s.pid == "" {
		_ = s.proc.Signal(syscall.SIGKILL)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killGrace)
	defer cancel()
	p, err := s.client.Start(ctx, agent.Command{Argv: []string{"/bin/sh", "-c", killChildren, "sh", s.pid}, Env: s.cmd.Env, User: "0"}, nil)
	if err == nil {
		_, _ = p.Wait(ctx)
	}
}

func checkSession(L *lua.LState, method string) *Session {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if s, ok := ud.Value.(*Session); ok {
			return s
		}
	}
	argError(L, method, "must be called on a session (use s:%s(...))", method)
	return nil
}

var sessionBlocking = map[string]bool{"run": true}

func sessionMethods(m *Module) map[string]lua.LGFunction {
	return map[string]lua.LGFunction{
		"run":   m.sessionRun,
		"close": m.sessionClose,
	}
}

func (m *Module) sessionRun(L *lua.LState) int {
	s := checkSession(L, "run")
	cmd := stringArg(L, "run", 2, "command")
	o := optionsArg(L, "run", 3)
	timeout := o.Seconds("timeout", s.c.Timeout)
	var stdin []byte
	if o.has("stdin") {
		stdin = []byte(o.String("stdin", ""))
	}
	check := o.Bool("check", false)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return s.run(ctx, cmd, stdin, timeout)
	}, func(L *lua.LState, v any) int {
		res := v.(*engine.ExecResult)
		if check && (res.ExitCode != 0 || res.TimedOut) {
			return raise(L, commandFailed([]string{"/bin/sh", "-c", cmd}, res))
		}
		L.Push(resultTable(L, res))
		return 1
	})
}

func (m *Module) sessionClose(L *lua.LState) int {
	s := checkSession(L, "close")
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.close()
	L.Push(lua.LTrue)
	return 1
}
