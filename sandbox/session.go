package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
)

// Session is one long-lived shell run by the in-container executor. Each
// command is framed by a random marker written to both stdout and stderr
// after it, so output without a final newline is kept and stderr is always
// complete.
type Session struct {
	c      *Container
	client *agent.Client
	cmd    agent.Command // how the shell was started (env, user)

	mu      sync.Mutex  // one command at a time
	killing atomic.Bool // a killCommandAsync is under way
	proc    *agent.Proc
	stdin   *io.PipeWriter
	q       *eventQueue
	pid     string // the shell's pid inside the sandbox
	closed  bool

	exited  chan struct{} // closed when the shell has ended
	exit    agent.Exit
	waitErr error // set when the executor connection broke instead
}

func sessionClosed() error {
	return engine.Errorf(engine.SessionClosed, "the session has ended (its shell exited, or it was closed)").
		WithHint("open a new one with c:session()")
}

// SessionOptions say how to start a session's shell.
type SessionOptions struct {
	Env  []string // K=V, over the sandbox's environment
	Cwd  string   // absolute; "" = the sandbox's working directory
	User string   // "" = the sandbox's user
}

// Session starts a long-lived shell in the sandbox, run by the in-container
// executor: cd and variables persist from one command to the next.
func (c *Container) Session(ctx context.Context, o SessionOptions) (*Session, error) {
	if c.Removed() {
		return nil, c.shutDown()
	}
	spec := engine.ExecSpec{Argv: []string{"/bin/sh"}, Env: o.Env, Cwd: o.Cwd, User: o.User}
	f := c.fastPath()
	client := f.get(ctx, 0)
	if client == nil {
		return nil, engine.Errorf(engine.EngineError, "sessions need pocketdock's in-container executor, which cannot run in sandbox %q", c.Name).
			WithHint("is the sandbox running? c:run() still works without it")
	}
	pr, pw := io.Pipe()
	s := &Session{c: c, client: client, stdin: pw, q: newEventQueue()}
	s.q.consume(false) // until a command runs: see run
	s.cmd = f.command(&spec)
	s.cmd.Stdin = pr
	proc, err := client.Start(ctx, s.cmd, s.q.push)
	if err != nil {
		return nil, err
	}
	s.proc = proc
	s.exited = make(chan struct{})
	go func() {
		s.exit, s.waitErr = proc.Wait(context.Background())
		pr.CloseWithError(io.ErrClosedPipe) // writes to a dead shell fail, never block
		close(s.exited)
	}()
	c.onClose(s.close)
	res, err := s.run(ctx, "echo $$", nil, 10*time.Second, 0)
	if err != nil {
		s.close()
		return nil, err
	}
	s.pid = strings.TrimSpace(string(res.Stdout))
	return s, nil
}

// Close ends the session's shell, without waiting for it. The shell dies
// first: a command running in it (which holds s.mu) then ends at once.
func (s *Session) Close() {
	s.close()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
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

// SessionRunOptions say how to run one command in a session.
type SessionRunOptions struct {
	Stdin     []byte        // nil = empty
	Timeout   time.Duration // 0 = the sandbox's default, < 0 = none
	MaxOutput int           // bytes kept per stream; 0 = engine.DefaultMaxOutput
}

// Run runs a command line in the session's shell and returns its result;
// on timeout the command is killed and the session stays usable.
func (s *Session) Run(ctx context.Context, cmd string, o SessionRunOptions) (*engine.ExecResult, error) {
	timeout := o.Timeout
	if timeout == 0 {
		timeout = s.c.Timeout()
	}
	res, err := s.run(ctx, cmd, o.Stdin, max(timeout, 0), o.MaxOutput)
	if err == nil {
		s.c.record(Shell(cmd), res)
	}
	return res, err
}

// run runs one command and collects its output up to the markers.
func (s *Session) run(ctx context.Context, cmd string, stdin []byte, timeout time.Duration, maxOutput int) (*engine.ExecResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client.Err() != nil || !s.alive() {
		s.closed = true
		return nil, sessionClosed()
	}
	start := time.Now()
	file := ""
	if stdin != nil {
		var err error
		if file, err = s.stdinFile(ctx, stdin, timeout); err != nil {
			return nil, err
		}
	}
	// Between commands the queue drops the output of earlier commands'
	// background jobs; it keeps output only while this command runs.
	s.q.consume(true)
	defer s.q.consume(false)
	mark := newMarker()
	if _, err := io.WriteString(s.stdin, script(cmd, file, mark)); err != nil {
		s.closed = true
		return nil, sessionClosed()
	}
	return s.collect(ctx, mark, timeout, maxOutput, start)
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
func (s *Session) stdinFile(ctx context.Context, data []byte, timeout time.Duration) (string, error) {
	var out bytes.Buffer
	var mu sync.Mutex
	p, err := s.client.Start(ctx, agent.Command{
		Argv: []string{"/bin/sh", "-c", `f=$(mktemp) && cat > "$f" && echo "$f"`},
		Env:  s.cmd.Env, User: s.cmd.User, Stdin: bytes.NewReader(data),
	}, func(stream int, b []byte) {
		if stream == agent.Stdout {
			mu.Lock()
			if out.Len() < 4096 { // a path: the sandbox's mktemp may say more
				out.Write(b)
			}
			mu.Unlock()
		}
	})
	if err != nil {
		return "", sessionClosed()
	}
	// The sandbox's own sh, mktemp and cat do this: a deadline, as for any command.
	wctx, cancel := context.WithTimeout(ctx, cmp.Or(timeout, time.Minute))
	defer cancel()
	exit, err := p.Wait(wctx)
	if wctx.Err() != nil {
		_ = p.Signal(syscall.SIGKILL)
		if ctx.Err() != nil {
			return "", &engine.Error{Kind: engine.Interrupted, Message: "the command was interrupted", Err: ctx.Err()}
		}
		return "", engine.Errorf(engine.Timeout, "passing stdin to the session's command did not finish in time").
			WithHint("the sandbox's sh, mktemp or cat did not end; c:run() with stdin= does not need them")
	}
	if err != nil || exit.Code != 0 {
		return "", engine.Errorf(engine.EngineError, "could not pass stdin to the session's command (exit %d)", exit.Code)
	}
	mu.Lock()
	defer mu.Unlock()
	return strings.TrimSpace(out.String()), nil
}

// endScan finds a command's end marker in one output stream. It looks only
// at new data plus the few bytes held back because they could begin the
// marker, so a long output costs linear time; what it passes on is certainly
// the command's own output.
type endScan struct {
	mark  []byte
	held  []byte
	found bool
	rest  []byte // after the marker: the stdout marker's exit code and newline
}

// feed takes a chunk and returns the part of it (with what was held back)
// that is output. After the marker is found it returns nothing more.
func (e *endScan) feed(data []byte) []byte {
	if e.found {
		if len(e.rest) < 32 { // ":<code>\n" is short; anything longer is not ours
			e.rest = append(e.rest, data[:min(len(data), 32)]...)
		}
		return nil
	}
	buf := data
	if len(e.held) > 0 {
		buf = append(e.held, data...)
		e.held = nil
	}
	if i := bytes.Index(buf, e.mark); i >= 0 {
		e.found = true
		e.rest = append([]byte(nil), buf[i+len(e.mark):min(len(buf), i+len(e.mark)+32)]...)
		return buf[:i]
	}
	keep := 0
	for k := min(len(e.mark)-1, len(buf)); k > 0; k-- {
		if bytes.HasSuffix(buf, e.mark[:k]) {
			keep = k
			break
		}
	}
	e.held = append([]byte(nil), buf[len(buf)-keep:]...)
	return buf[:len(buf)-keep]
}

// code is the exit code after the stdout marker, once its line is complete.
func (e *endScan) code() (int, bool) {
	if !e.found {
		return 0, false
	}
	line, _, ok := bytes.Cut(e.rest, []byte("\n"))
	if !ok {
		return 0, len(e.rest) >= 32 // never complete: give up on it
	}
	n, err := strconv.Atoi(string(line))
	if err != nil {
		return -1, true
	}
	return n, true
}

// collect gathers output until both markers have arrived, the shell exits,
// or the timeout passes. Output is kept up to the cap, as for run; the rest
// is read and dropped. On timeout or cancellation the output so far is the
// result: the command's processes are killed (again as new ones start, since
// the shell goes on with the rest of the command line) and what is left is
// drained up to the markers, so the next command starts clean; a shell that
// does not get there within killGrace (a builtin loop) ends the session.
func (s *Session) collect(ctx context.Context, mark string, timeout time.Duration, maxOutput int, start time.Time) (*engine.ExecResult, error) {
	out := engine.NewOutputCollector(&engine.ExecSpec{MaxOutput: maxOutput})
	outScan, errScan := &endScan{mark: []byte(mark + ":")}, &endScan{mark: []byte(mark + "\n")}
	code, codeDone := -1, false
	ended := false // timed out or interrupted: output is no longer kept
	feed := func(stream int, data []byte) {
		sc := outScan
		if stream == agent.Stderr {
			sc = errScan
		}
		if b := sc.feed(data); len(b) > 0 && !ended {
			out.Add(stream, b)
		}
		if !codeDone {
			code, codeDone = outScan.code()
		}
	}
	var timer <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		timer = t.C
	}
	var tick, giveUp <-chan time.Time
	timedOut, interrupted := false, false
	ctxDone := ctx.Done()
	stop := func() {
		ended = true
		s.killCommandAsync()
		t := time.NewTicker(100 * time.Millisecond)
		defer func() { go func() { <-giveUp; t.Stop() }() }()
		tick, giveUp = t.C, time.After(killGrace)
	}
	result := func(code int) (*engine.ExecResult, error) {
		res := out.Result()
		res.ExitCode, res.TimedOut, res.Duration = code, timedOut, time.Since(start)
		if ended {
			res.ExitCode = 137
		}
		if interrupted {
			return res, &engine.Error{Kind: engine.Interrupted, Message: "the command was interrupted", Err: context.Canceled}
		}
		return res, nil
	}
	for !(codeDone && errScan.found) {
		select {
		case <-s.q.wake:
			s.q.drain(feed)
		case <-s.exited:
			s.q.drain(feed)
			s.closed = true
			if s.waitErr != nil {
				return nil, s.lost(ctx)
			}
			return result(s.exit.Code)
		case <-timer:
			timedOut, timer = true, nil
			if !ended {
				stop()
			}
		case <-ctxDone:
			interrupted, ctxDone = true, nil
			if !ended {
				stop()
			}
		case <-tick:
			s.killCommandAsync()
		case <-giveUp:
			s.closed = true
			s.close()
			return result(137)
		}
	}
	return result(code)
}

// lost is the error for a session whose executor connection broke under
// it: the sandbox is gone, or the session is.
func (s *Session) lost(ctx context.Context) error {
	if err := s.c.whyLost(ctx); err != nil {
		return err
	}
	return engine.Errorf(engine.SessionClosed, "the session was lost: pocketdock's in-container executor ended under it").
		WithHint("open a new one with c:session(); its shell state is gone")
}

// killCommandAsync kills what the shell is running without waiting: the
// kill's own exit comes through the connection's reader, which may be
// waiting for collect to drain this session's output. One kill at a time.
func (s *Session) killCommandAsync() {
	if s.killing.CompareAndSwap(false, true) {
		go func() {
			defer s.killing.Store(false)
			s.killCommand()
		}()
	}
}

// killCommand kills what the shell is running, through the executor.
func (s *Session) killCommand() {
	if s.pid == "" {
		_ = s.proc.Signal(syscall.SIGKILL)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), killGrace)
	defer cancel()
	p, err := s.client.Start(ctx, agent.Command{Argv: []string{"/bin/sh", "-c", engine.KillTree, "sh", "-c", s.pid}, Env: s.cmd.Env, User: "0"}, nil)
	if err == nil {
		_, _ = p.Wait(ctx)
	}
}

// Container is the sandbox the session runs in.
func (s *Session) Container() *Container { return s.c }
