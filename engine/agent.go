package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"

	"github.com/containers/podman/v5/pkg/bindings/containers"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine/agentbin"
)

// ErrNoAgent means the in-container executor cannot run on this sandbox (no
// binary in this build, another CPU architecture, no way to put it there):
// use a plain exec.
var ErrNoAgent = errors.New("the in-container executor is not available")

// agentPath is where this build's executor lives inside a sandbox.
func agentPath() string { return AgentDir + "/" + agentbin.FileName() }

// machineNames is what `uname -m` says on a kernel that runs this build's
// executor, as a shell pattern.
var machineNames = map[string]string{"amd64": "x86_64", "arm64": "aarch64", "arm": "armv[78]*", "386": "i[3-6]86",
	"ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}

// agentMachine is this build's pattern; a test sets another to play a
// foreign engine.
var agentMachine = machineNames[runtime.GOARCH]

// StartAgent starts the executor in the sandbox as one long-lived exec and
// checks it answers. The binary travels on that exec's own stdin (once per
// sandbox start: a later start finds it), so a start costs one exec; where
// the image lacks the shell tools for that, it is copied in through the
// archive API first. Both land in the sandbox's private tmpfs, so remote
// engines and read-only root filesystems work and snapshots never carry it.
// The returned client lives until it is closed or the agent dies; ctx bounds
// only the start, and so does AgentStartTimeout: a start that hangs (the
// sandbox can put anything at the executor's path, or stop it) is a failure,
// and the caller takes the plain path.
//
// The executor is trusted only once it has echoed a random nonce in the
// protocol; then it is pinged while commands run (KeepAlive), so one that is
// stopped or wedged later cannot hold a command forever.
func (e *Engine) StartAgent(ctx context.Context, id string) (*agent.Client, error) {
	return e.startAgent(ctx, id, false)
}

// ReplaceAgent is StartAgent after a failed start: the binary at the
// executor's path is delivered again rather than trusted, in case the
// sandbox replaced it.
func (e *Engine) ReplaceAgent(ctx context.Context, id string) (*agent.Client, error) {
	return e.startAgent(ctx, id, true)
}

// AgentStartTimeout bounds an executor start (it takes about one exec).
const AgentStartTimeout = 10 * time.Second

// How often a busy executor is pinged, and how long it has to answer. The
// answer comes from a goroutine of its own, so only a stopped or starved
// executor misses it; a fork bomb at the pids limit still answers in well
// under a second here.
const (
	agentPingEvery  = time.Second
	agentPingWithin = 5 * time.Second
)

func (e *Engine) startAgent(ctx context.Context, id string, fresh bool) (*agent.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, AgentStartTimeout)
	defer cancel()
	if agentbin.Compressed() == nil {
		return nil, ErrNoAgent
	}
	if agentMachine == "" {
		return nil, fmt.Errorf("%w: no executor for %s", ErrNoAgent, runtime.GOARCH)
	}
	client, err := e.runAgent(ctx, id, true, fresh)
	if errors.Is(err, errNotDelivered) && ctx.Err() == nil {
		if err = e.copyAgent(ctx, id); err == nil {
			client, err = e.runAgent(ctx, id, false, false)
		}
	}
	if err != nil {
		return nil, err
	}
	client.KeepAlive(agentPingEvery, agentPingWithin)
	return client, nil
}

// deliverScript starts the executor at $1, first taking it from stdin when it
// is not there yet or $5 is set (a copy there failed to answer): it asks for "gz" ($2 bytes) or "raw" ($3 bytes) and says
// "ready" just before the exec. A kernel whose machine is not $4 cannot run
// it: the script says "arch" and stops. The host sends nothing it was not
// asked for, so head cannot read ahead into the protocol. A temporary name
// and a rename keep an executor another client runs intact. Commands get
// the umask a plain exec has (022), not the one that guards the copy.
const deliverScript = `umask 077; p=$1
case $(uname -m 2>/dev/null) in $4|"") ;; *) echo arch; exit 1;; esac
if [ -n "$5" ] || [ ! -x "$p" ]; then
  if command -v gzip >/dev/null 2>&1; then echo gz; head -c "$2" | gzip -dc > "$p.$$"
  else echo raw; head -c "$3" > "$p.$$"; fi && chmod 700 "$p.$$" && mv -f "$p.$$" "$p" || { rm -f "$p.$$"; exit 1; }
fi
echo ready; umask 022; exec "$p"`

// runAgent starts the executor's exec, sending the binary when the sandbox
// asks for it (deliver) or running the copy already there, and checks the
// executor answers. Any failure to get it running is an ErrNoAgent; one the
// archive copy can mend is also an errNotDelivered.
func (e *Engine) runAgent(ctx context.Context, id string, deliver, fresh bool) (*agent.Client, error) {
	argv := []string{agentPath()}
	if deliver {
		argv = []string{"/bin/sh", "-c", deliverScript, "sh", agentPath(),
			strconv.Itoa(len(agentbin.Compressed())), strconv.Itoa(agentbin.Size()), agentMachine}
		if fresh {
			argv = append(argv, "fresh")
		}
	}
	sid, err := e.execCreate(ctx, id, execConfig{Argv: argv, User: "0", AttachIn: true})
	if err != nil {
		return nil, err
	}
	sess, err := e.execStart(ctx, sid)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { sess.Close() })
	defer stop()
	out := bufio.NewReader(&agentStream{s: sess})
	if deliver {
		if err := answerDelivery(sess, out); err != nil {
			sess.Close()
			if errors.Is(err, errOtherMachine) {
				return nil, fmt.Errorf("%w: %w", ErrNoAgent, err)
			}
			return nil, fmt.Errorf("%w: %w: %w", ErrNoAgent, errNotDelivered, ctxOr(ctx, err))
		}
	}
	client := agent.NewClient(out, &agentStdin{s: sess})
	if err := client.Ping(ctx); err != nil {
		client.Close()
		// Not ErrNoAgent: the sandbox may have replaced or stopped the
		// executor, and a fresh delivery can mend that.
		return nil, fmt.Errorf("%w: %v", ErrAgentUnanswered, ctxOr(ctx, err))
	}
	return client, nil
}

// ErrAgentUnanswered means the executor was started but did not answer the
// protocol's nonce ping in time: what ran was not the executor, or it hung.
var ErrAgentUnanswered = errors.New("the in-container executor did not answer")

// errNotDelivered means the sandbox lacks what the delivery script needs
// (a shell, head, chmod, mv): the archive API can still copy the binary in.
var errNotDelivered = errors.New("the sandbox could not take it on stdin")

// errOtherMachine means the engine's kernel runs another CPU architecture.
var errOtherMachine = fmt.Errorf("the engine runs another CPU architecture than this build's executor (%s)", runtime.GOARCH)

// answerDelivery follows deliverScript's requests until it says "ready".
func answerDelivery(w io.Writer, r *bufio.Reader) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		switch line {
		case "ready\n":
			return nil
		case "arch\n":
			return errOtherMachine
		case "gz\n":
			_, err = w.Write(agentbin.Compressed())
		case "raw\n":
			_, err = w.Write(agentbin.Binary())
		default:
			return fmt.Errorf("unexpected %q", line)
		}
		if err != nil {
			return err
		}
	}
}

// copyAgent puts the binary in place through the archive API.
func (e *Engine) copyAgent(ctx context.Context, id string) error {
	tarball, err := archive.Single(agentbin.FileName(), agentbin.Binary(), 0o700, 0, 0)
	if err != nil {
		return err
	}
	put, err := containers.CopyFromArchive(e.ctx(ctx), id, AgentDir, bytes.NewReader(tarball))
	if err == nil {
		err = put()
	}
	return e.wrap(err, "copy the executor into "+short(id), ContainerNotFound)
}

// agentStream is the agent's stdout, taken out of the engine's multiplexed
// stream. The agent writes only diagnostics to stderr: they are dropped.
type agentStream struct {
	s    *session
	buf  []byte
	rest []byte
}

func (a *agentStream) Read(p []byte) (int, error) {
	for len(a.rest) == 0 {
		stream, data, err := a.s.next(a.buf)
		if err != nil {
			return 0, err
		}
		a.buf = data[:0]
		if stream == 1 {
			a.rest = data
		}
	}
	n := copy(p, a.rest)
	a.rest = a.rest[n:]
	return n, nil
}

// agentStdin writes the agent's stdin. Closing it drops the connection: the
// engine then closes the agent's stdin, and the agent kills its commands and
// exits; a dead or wedged agent cannot keep the connection open.
type agentStdin struct{ s *session }

func (a *agentStdin) Write(p []byte) (int, error) { return a.s.Write(p) }
func (a *agentStdin) Close() error {
	a.s.closeStdin()
	return a.s.Close()
}

var _ io.WriteCloser = (*agentStdin)(nil)

// OutputCollector gathers a command's output exactly as a plain exec does
// (the same cap and UTF-8-safe callbacks), for the in-container executor.
// It is not safe for concurrent use.
type OutputCollector struct{ c *collector }

// NewOutputCollector collects for s.
func NewOutputCollector(s *ExecSpec) *OutputCollector {
	return &OutputCollector{c: newCollector(s)}
}

// Add takes a chunk of stream 1 (stdout) or 2 (stderr).
func (o *OutputCollector) Add(stream int, data []byte) { o.c.add(stream, data) }

// Flush hands callbacks what is left once the command has ended.
func (o *OutputCollector) Flush() { o.c.flush() }

// Result is the output kept so far; the caller fills in the exit code.
func (o *OutputCollector) Result() *ExecResult { return o.c.result() }
