package sandbox

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
)

// maxAgentFailures is how many times the executor may die before a sandbox
// stops trying it and keeps to plain execs.
const maxAgentFailures = 3

// killGrace is how long a killed command may take to report its exit before
// the executor is given up as wedged.
const killGrace = 3 * time.Second

// fastPath is a sandbox's in-container executor connection. It is started
// by the sandbox's first command (that start costs about one plain exec, and
// every later command a few milliseconds) and restarted when a command kills it.
type fastPath struct {
	c        *Container
	mu       sync.Mutex // held while starting, so one start serves everyone
	client   *agent.Client
	failures int
	fresh    bool // the last start failed: deliver the binary again
	disabled bool // no executor for this sandbox (or it was closed)

	// What a plain exec would use, from the container's record.
	inspected bool
	env       []string
	cwd, user string
}

// fastPath returns the container's executor state, making it on first use.
func (c *Container) fastPath() *fastPath {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fast == nil {
		f := &fastPath{c: c}
		c.fast = f
		c.channels = append(c.channels, f.close)
	}
	return c.fast
}

// startBudget is how long a command may wait for the executor to start:
// half its timeout (the plain path then has the whole timeout for the
// command), and never more than the engine's own bound.
func startBudget(timeout time.Duration) time.Duration {
	if timeout > 0 && timeout/2 < engine.AgentStartTimeout {
		return timeout / 2
	}
	return engine.AgentStartTimeout
}

// get returns a working client, or nil when the plain path must be used.
// A start waits at most startBudget(timeout).
func (f *fastPath) get(ctx context.Context, timeout time.Duration) *agent.Client {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.disabled {
		return nil
	}
	if f.client != nil {
		if f.client.Err() == nil {
			return f.client
		}
		f.client.Close()
		f.client = nil
		f.failures++
	}
	if f.failures >= maxAgentFailures {
		return nil
	}
	if !f.inspected {
		d, err := f.c.eng.Inspect(ctx, f.c.ID())
		if err != nil {
			return nil
		}
		f.env, f.cwd, f.user = d.Config.Env, d.Config.WorkingDir, d.Config.User
		f.inspected = true
	}
	sctx, cancel := context.WithTimeout(ctx, startBudget(timeout))
	defer cancel()
	start := f.c.eng.StartAgent
	if f.fresh {
		start = f.c.eng.ReplaceAgent
	}
	client, err := start(sctx, f.c.ID())
	if err != nil {
		if ctx.Err() != nil {
			return nil // interrupted: the next command tries again
		}
		switch {
		case errors.Is(err, engine.ErrNoAgent):
			f.disabled = true
		case engine.IsKind(err, engine.ContainerNotRunning), engine.IsKind(err, engine.ContainerNotFound),
			engine.IsKind(err, engine.EngineUnavailable):
			// not the executor's fault: the plain exec reports it, and a
			// sandbox started again gets the executor back
		default:
			// It hung, did not answer the handshake, or died: whatever
			// is at its path is not trusted again.
			f.failures++
			f.fresh = true
		}
		return nil
	}
	f.client, f.fresh = client, false
	return client
}

func (f *fastPath) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.disabled = true
	if f.client != nil {
		f.client.Close()
		f.client = nil
	}
}

// command is what a plain exec of spec would run: the container's
// environment, working directory and user unless the spec says otherwise.
func (f *fastPath) command(spec *engine.ExecSpec) agent.Command {
	cmd := agent.Command{Argv: spec.Argv, Env: mergeEnv(f.env, spec.Env), Cwd: spec.Cwd, User: spec.User, Stdin: spec.Stdin}
	if cmd.Cwd == "" {
		cmd.Cwd = f.cwd
	}
	if cmd.User == "" {
		cmd.User = f.user
	}
	// A plain exec runs through a small sh wrapper, which exports these.
	if !inList(cmd.Env, "PWD") {
		cmd.Env = append(cmd.Env, "PWD="+cmp.Or(cmd.Cwd, "/"))
	}
	if !inList(cmd.Env, "SHLVL") {
		cmd.Env = append(cmd.Env, "SHLVL=1")
	}
	return cmd
}

// mergeEnv overlays K=V entries on a base environment, keeping its order.
// HOSTNAME is in the container's record but not in an exec's environment.
func mergeEnv(base, over []string) []string {
	out := make([]string, 0, len(base)+len(over))
	index := map[string]int{}
	for _, list := range [][]string{base, over} {
		for _, kv := range list {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	if i, ok := index["HOSTNAME"]; ok && !inList(over, "HOSTNAME") {
		out = append(out[:i], out[i+1:]...)
	}
	return out
}

func inList(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}

// fastExec runs spec through the executor; (nil, nil) means "use the plain path".
func (c *Container) fastExec(ctx context.Context, spec *engine.ExecSpec) (*engine.ExecResult, error) {
	f := c.fastPath()
	client := f.get(ctx, spec.Timeout)
	if client == nil {
		return nil, nil
	}
	p, q, err := f.start(ctx, client, spec)
	if err != nil {
		if errors.Is(err, agent.ErrAgentGone) {
			return nil, nil // nothing ran: the plain path runs it
		}
		return nil, err
	}
	return f.finish(ctx, client, p, q, spec)
}

func (f *fastPath) start(ctx context.Context, client *agent.Client, spec *engine.ExecSpec) (*agent.Proc, *eventQueue, error) {
	q := newEventQueue()
	p, err := client.Start(ctx, f.command(spec), q.push)
	return p, q, err
}

// finish collects a started command's output on this goroutine (callbacks
// post from here, as on the plain path) and ends it on timeout or
// cancellation, killing its process group. Output past the cap is read and
// dropped: the command runs on.
func (f *fastPath) finish(ctx context.Context, client *agent.Client, p *agent.Proc, q *eventQueue, spec *engine.ExecSpec) (*engine.ExecResult, error) {
	start := time.Now()
	defer q.consume(false) // late frames must not wait for a consumer that has gone
	out := engine.NewOutputCollector(spec)
	var timer <-chan time.Time
	if spec.Timeout > 0 {
		t := time.NewTimer(spec.Timeout)
		defer t.Stop()
		timer = t.C
	}
	done := make(chan struct{})
	var exit agent.Exit
	var werr error
	go func() {
		exit, werr = p.Wait(context.Background())
		close(done)
	}()
	reason, killed := fastNormal, false
	var grace <-chan time.Time
	kill := func(r fastEnd) {
		if killed {
			return
		}
		killed, reason = true, r
		_ = p.Signal(syscall.SIGKILL)
		grace = time.After(killGrace)
	}
	ctxDone := ctx.Done()
loop:
	for {
		select {
		case <-q.wake:
			q.drain(out.Add)
		case <-timer:
			kill(fastTimeout)
		case <-ctxDone:
			ctxDone = nil
			kill(fastInterrupt)
		case <-grace:
			client.Close()   // the executor did not end it: give it up; the next use restarts it
			q.consume(false) // the reader may wait on this queue; done needs it
			<-done
			break loop
		case <-done:
			break loop
		}
	}
	q.drain(out.Add)
	out.Flush()
	res := out.Result()
	res.Duration = time.Since(start)
	res.TimedOut = reason == fastTimeout
	res.ExitCode = exit.Code
	if werr != nil || (reason != fastNormal && exit.Code == 0 && exit.Signal == 0) {
		res.ExitCode = 137 // killed, or the executor died under it (a command may kill it)
	}
	if reason == fastInterrupt {
		return res, &engine.Error{Kind: engine.Interrupted, Message: "the command was interrupted", Err: context.Canceled}
	}
	if werr != nil {
		if err := f.c.whyLost(ctx); err != nil {
			return nil, err
		}
	}
	if exit.Error != "" && werr == nil && res.ExitCode >= 126 {
		res.Stderr = append(res.Stderr, []byte(startError(spec.Argv, exit.Error))...)
	}
	if errors.Is(werr, agent.ErrUnresponsive) || errors.Is(werr, agent.ErrProtocol) {
		// Say why, or a lost executor reads like a command killed by the OOM killer.
		res.Stderr = append(res.Stderr, []byte("pocketdock: the in-container executor was lost ("+lostReason(werr)+"); the command's own exit status is unknown\n")...)
	}
	return res, nil
}

// whyLost tells a connection to the executor lost because a command killed
// it (nil: the command's result stands) from an engine that went away or a
// sandbox removed under the command, which are errors as on the plain path.
func (c *Container) whyLost(ctx context.Context) error {
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	d, err := c.eng.Inspect(ictx, c.ID())
	// A sandbox being removed is stopped first: a stopped one is looked at
	// again for a moment, so that a removal reads as one.
	for i := 0; err == nil && !d.State.Running && i < 10; i++ {
		time.Sleep(100 * time.Millisecond)
		d, err = c.eng.Inspect(ictx, c.ID())
	}
	if engine.IsKind(err, engine.ContainerNotFound) {
		return engine.Errorf(engine.ContainerNotFound, "the sandbox was removed while the command ran").
			WithHint("something else removed it (pocketdock destroy, prune, podman rm)")
	}
	if err == nil && !d.State.Running {
		// Stopped under the command, or before it: the executor's connection
		// can outlive the sandbox briefly, and then takes the next command.
		// The plain path says the same.
		c.setStatus(d.State.Status)
		return engine.Errorf(engine.ContainerNotRunning, "sandbox %q is not running (%s)", c.Name, d.State.Status).
			WithHint("start it first (c:start() or pocketdock resume NAME)")
	}
	return err
}

func lostReason(err error) string {
	if errors.Is(err, agent.ErrUnresponsive) {
		return "it stopped answering"
	}
	return "its output broke the protocol, corrupt or forged"
}

// startError says why a command could not start, as a shell would.
func startError(argv []string, msg string) string {
	return "pocketdock: " + argv[0] + ": " + msg + "\n"
}

type fastEnd int

const (
	fastNormal fastEnd = iota
	fastTimeout
	fastInterrupt
)

// maxQueued bounds the output a command's queue holds for its consumer. A
// sandbox can write faster than a busy host drains: past this the
// connection's reader waits for the consumer, and output that nobody
// consumes (a session's background jobs between its commands) is dropped.
const maxQueued = 4 << 20

// eventQueue takes output from the agent client's reader goroutine, which
// serves every command of the sandbox, for one consumer.
type eventQueue struct {
	mu      sync.Mutex
	room    *sync.Cond // signalled when the queue empties or loses its consumer
	events  []agent.Event
	queued  int
	discard bool // no consumer: what arrives is dropped, the reader never waits
	wake    chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1)}
	q.room = sync.NewCond(&q.mu)
	return q
}

func (q *eventQueue) push(stream int, data []byte) {
	q.mu.Lock()
	for q.queued >= maxQueued && !q.discard {
		q.room.Wait()
	}
	if q.discard {
		q.mu.Unlock()
		return
	}
	q.events = append(q.events, agent.Event{Stream: stream, Data: data})
	q.queued += len(data)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) drain(fn func(stream int, data []byte)) {
	q.mu.Lock()
	events := q.events
	q.events, q.queued = nil, 0
	q.room.Broadcast()
	q.mu.Unlock()
	for _, e := range events {
		fn(e.Stream, e.Data)
	}
}

// consume says whether a consumer drains the queue from now on. Without one
// the queue drops what it holds and what arrives, so the reader, which
// every other command of the sandbox needs, never waits on nobody.
func (q *eventQueue) consume(on bool) {
	q.mu.Lock()
	q.discard = !on
	if !on {
		q.events, q.queued = nil, 0
	}
	q.room.Broadcast()
	q.mu.Unlock()
}
