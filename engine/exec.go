package engine

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// ExecSpec is one command to run in a sandbox.
type ExecSpec struct {
	Argv      []string
	Env       []string // K=V, added to the container's environment
	Cwd, User string
	Stdin     io.Reader // nil: empty stdin
	Timeout   time.Duration
	// MaxOutput is how many bytes of stdout+stderr are kept; output past it
	// is read and dropped (Truncated), and the command runs on. 0: DefaultMaxOutput.
	MaxOutput int
	// OnOutput gets each chunk as it arrives (1 stdout, 2 stderr), never split
	// inside a UTF-8 character. It is called on the goroutine running Exec.
	OnOutput func(stream int, data []byte)
	// OnStart, if set, gets the command's pid inside the container once known
	// (for signalling it later), on the goroutine running Exec.
	OnStart func(pid string)
}

// DefaultMaxOutput bounds what a command may print into memory.
const DefaultMaxOutput = 64 << 20

// ExecResult is what a finished command left.
type ExecResult struct {
	ExitCode  int
	Stdout    []byte
	Stderr    []byte
	TimedOut  bool
	Truncated bool
	Duration  time.Duration
}

// OK reports whether the command exited 0 within its timeout.
func (r *ExecResult) OK() bool { return r.ExitCode == 0 && !r.TimedOut }

// pidWrapper reports the command's pid inside the container on the first line
// of stdout, so a timeout can end it and its children there. The engine's own
// exec pid is a host pid and cannot be signalled from inside.
const pidWrapper = `echo $$; exec "$@"`

// KillTree is a shell script that stops each process named in its arguments
// and all their descendants and kills them, leaves first (stopped first, a
// parent cannot replace what is killed), then the process group each one
// leads (a plain exec's command leads its own: a fork bomb dies at once),
// again until none of the group is left, since a member mid-fork can add
// one after the signal went round; then it waits, at most 5 s, until the
// killed members are gone, so the next command finds the pids free. A
// group is written -PGID with no "--" before it: busybox kill refuses "--".
// With -c as the first argument it kills only the descendants: a session's
// shell lives on.
const KillTree = `k() { kill -STOP "$1" 2>/dev/null; for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do k "$c"; done; kill -KILL "$1" 2>/dev/null; }
self=1; [ "$1" = -c ] && { self=; shift; }
for p in "$@"; do if [ -n "$self" ]; then i=0; while kill -KILL -"$p" 2>/dev/null && [ $i -lt 200 ]; do i=$((i+1)); done; k "$p"
i=0; while kill -0 -"$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1 2>/dev/null; kill -KILL -"$p" 2>/dev/null; i=$((i+1)); done; else for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do k "$c"; done; fi; done
echo killed`

// Exec runs a command through a plain engine exec session.
func (e *Engine) Exec(ctx context.Context, id string, s ExecSpec) (*ExecResult, error) {
	start := time.Now()
	argv := append([]string{"/bin/sh", "-c", pidWrapper, "sh"}, s.Argv...)
	sid, err := e.execCreate(ctx, id, execConfig{Argv: argv, Env: s.Env, Cwd: s.Cwd, User: s.User, AttachIn: s.Stdin != nil})
	if err != nil {
		return nil, err
	}
	sess, err := e.execStart(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if s.Stdin != nil {
		go func() {
			_, _ = io.Copy(sess, s.Stdin)
			sess.closeStdin()
		}()
	}

	out := newCollector(&s)
	w := e.watch(ctx, id, s.Timeout, sess)
	pid := &pidLine{}
	buf := make([]byte, 32*1024)
	var readErr error
	for {
		stream, data, err := sess.next(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		if stream == 1 && !pid.done {
			data = pid.feed(data, func(p string) {
				w.setPID(p)
				if s.OnStart != nil {
					s.OnStart(p)
				}
			})
		}
		out.add(stream, data)
	}
	reason := w.stop()
	out.flush()
	res := out.result()
	res.TimedOut = reason == endTimeout
	if reason == endInterrupt {
		res.Duration = time.Since(start)
		return res, &Error{Kind: Interrupted, Message: "the command was interrupted", Err: context.Canceled}
	}
	code, err := e.exitCode(context.WithoutCancel(ctx), sid)
	if err != nil {
		if readErr != nil && !IsKind(err, ContainerNotFound) {
			return nil, e.wrap(readErr, "exec", EngineError)
		}
		var pe *Error
		if errors.As(err, &pe) && pe.Kind == ContainerNotFound {
			return nil, pe.reworded("the sandbox was removed while the command ran", "")
		}
		return nil, err
	}
	res.ExitCode = code
	if res.TimedOut && code == 0 {
		res.ExitCode = 137 // killed, as the fast path reports it, whatever the engine recorded
	}
	res.Duration = time.Since(start)
	if code >= 126 && s.Cwd != "" && bytes.Contains(res.Stderr, []byte("chdir to cwd")) {
		// The runtime's own words blame a missing command; say what the
		// executor says on the fast path.
		res.Stderr = []byte("pocketdock: " + s.Argv[0] + ": working directory " + s.Cwd + " does not exist\n")
	}
	return res, nil
}

// pidLine takes the wrapper's first stdout line off the stream.
type pidLine struct {
	done bool
	buf  []byte
}

func (p *pidLine) feed(data []byte, set func(string)) []byte {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		p.buf = append(p.buf, data...)
		return nil
	}
	p.buf = append(p.buf, data[:i]...)
	p.done = true
	set(string(p.buf))
	return data[i+1:]
}

type endReason int

const (
	endNormal endReason = iota
	endTimeout
	endInterrupt
)

// watcher ends a plain exec's command when its timeout passes or its context
// is cancelled: it kills the command's tree inside the
// container, and closes the stream if that does not end it.
type watcher struct {
	mu     sync.Mutex
	pid    string
	pidSet chan struct{}
	done   chan struct{}
	reason endReason
	exited chan struct{}
	timer  *time.Timer // nil without a timeout
}

func (e *Engine) watch(ctx context.Context, id string, timeout time.Duration, sess *session) *watcher {
	w := &watcher{pidSet: make(chan struct{}), done: make(chan struct{}), exited: make(chan struct{})}
	var timer <-chan time.Time
	if timeout > 0 {
		w.timer = time.NewTimer(timeout)
		timer = w.timer.C
	}
	go func() {
		defer close(w.exited)
		var r endReason
		select {
		case <-w.done:
			return
		case <-timer:
			r = endTimeout
		case <-ctx.Done():
			r = endInterrupt
		}
		w.mu.Lock()
		w.reason = r
		w.mu.Unlock()
		select { // the pid comes first on stdout; give it a moment if the command just started
		case <-w.pidSet:
		case <-w.done:
			return
		case <-time.After(2 * time.Second):
		}
		w.mu.Lock()
		pid := w.pid
		w.mu.Unlock()
		if pid != "" {
			// With the pids limit reached the kill's own exec may fail to
			// start: try again as the command's processes die off.
			kctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			for err := e.Kill(kctx, id, pid); err != nil && retryKill(err) && kctx.Err() == nil; err = e.Kill(kctx, id, pid) {
				time.Sleep(200 * time.Millisecond)
			}
			cancel()
		}
		select {
		case <-w.done:
		case <-time.After(3 * time.Second):
			sess.Close() // the kill did not end the stream: never hang
		}
	}()
	return w
}

func (w *watcher) setPID(s string) {
	if _, err := strconv.Atoi(s); err != nil {
		return
	}
	w.mu.Lock()
	w.pid = s
	w.mu.Unlock()
	close(w.pidSet)
}

// stop ends the watch and says why the command ended.
func (w *watcher) stop() endReason {
	if w.timer != nil {
		w.timer.Stop()
	}
	close(w.done)
	<-w.exited
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}

// retryKill tells a kill that may work when tried again (its exec could not
// start, or its shell not fork, while the pids limit was reached) from one
// that cannot: the sandbox or the engine is gone.
func retryKill(err error) bool {
	return !IsKind(err, ContainerNotFound) && !IsKind(err, ContainerNotRunning) &&
		!IsKind(err, EngineUnavailable) && !IsKind(err, Interrupted)
}

// killedMark is what KillTree says when it has run to its end.
const killedMark = "killed"

// Kill kills processes (pids inside the container) and all their
// descendants; an error means the kill did not run to its end.
func (e *Engine) Kill(ctx context.Context, id string, pids ...string) error {
	argv := append([]string{"/bin/sh", "-c", KillTree, "sh"}, pids...)
	sid, err := e.execCreate(ctx, id, execConfig{Argv: argv, User: "0"})
	if err != nil {
		return err
	}
	sess, err := e.execStart(ctx, sid)
	if err != nil {
		return err
	}
	defer sess.Close()
	out, _ := io.ReadAll(io.LimitReader(&agentStream{s: sess}, 64))
	if !bytes.Contains(out, []byte(killedMark)) {
		return Errorf(EngineError, "the kill did not run in %s", short(id))
	}
	return nil
}

// collector gathers a command's output under its cap and feeds callbacks
// whole UTF-8 characters. Both execution paths use it.
type collector struct {
	spec      *ExecSpec
	max       int
	stdout    bytes.Buffer
	stderr    bytes.Buffer
	truncated bool
	carry     [3][]byte
}

func newCollector(s *ExecSpec) *collector {
	max := s.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	return &collector{spec: s, max: max}
}

func (c *collector) add(stream int, data []byte) {
	if len(data) == 0 || stream < 1 || stream > 2 {
		return
	}
	room := c.max - c.stdout.Len() - c.stderr.Len()
	if len(data) > room {
		data = data[:max(room, 0)]
		c.truncated = true
	}
	if len(data) == 0 {
		return
	}
	if stream == 1 {
		c.stdout.Write(data)
	} else {
		c.stderr.Write(data)
	}
	if c.spec.OnOutput == nil {
		return
	}
	chunk := append(c.carry[stream], data...)
	cut := completeUTF8(chunk)
	c.carry[stream] = append([]byte(nil), chunk[cut:]...)
	if cut > 0 {
		c.spec.OnOutput(stream, chunk[:cut])
	}
}

// flush hands callbacks what is left, even an incomplete character.
func (c *collector) flush() {
	for stream := 1; stream <= 2; stream++ {
		if len(c.carry[stream]) > 0 && c.spec.OnOutput != nil {
			c.spec.OnOutput(stream, c.carry[stream])
		}
		c.carry[stream] = nil
	}
}

func (c *collector) result() *ExecResult {
	return &ExecResult{Stdout: c.stdout.Bytes(), Stderr: c.stderr.Bytes(), Truncated: c.truncated}
}

// completeUTF8 returns the length of b without a trailing incomplete UTF-8 sequence.
func completeUTF8(b []byte) int {
	for i := 1; i <= 3 && i <= len(b); i++ {
		r := b[len(b)-i]
		if r < 0x80 {
			return len(b) // ASCII: nothing pending
		}
		if r >= 0xC0 { // a lead byte: is its sequence complete?
			if utf8.FullRune(b[len(b)-i:]) {
				return len(b)
			}
			return len(b) - i
		}
	}
	return len(b)
}
