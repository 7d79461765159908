package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/bindings/system"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine/agentbin"
)

// ErrNoAgent means the in-container executor cannot run on this sandbox (no
// binary in this build, or another CPU architecture): use a plain exec.
var ErrNoAgent = errors.New("the in-container executor is not available")

// AgentPath is where the executor binary lives inside a sandbox.
const AgentPath = AgentDir + "/" + agentbin.Name

// archNames maps the engine's reported architecture to Go's names.
var archNames = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "i386": "386"}

var arches sync.Map // *Engine -> string, the engine host's GOARCH

// engineArch asks the engine once for its CPU architecture.
func (e *Engine) engineArch(ctx context.Context) (string, error) {
	if v, ok := arches.Load(e); ok {
		return v.(string), nil
	}
	info, err := system.Info(e.ctx(ctx), nil)
	if err != nil {
		return "", e.wrap(err, "engine info", EngineError)
	}
	arch := info.Host.Arch
	if a, ok := archNames[arch]; ok {
		arch = a
	}
	arches.Store(e, arch)
	return arch, nil
}

// StartAgent copies the executor into the sandbox's private tmpfs through the
// archive API (so it works for remote engines and read-only root
// filesystems), starts it as one long-lived exec and checks it answers. The
// returned client lives until it is closed or the agent dies; ctx bounds only
// the start.
func (e *Engine) StartAgent(ctx context.Context, id string) (*agent.Client, error) {
	bin := agentbin.Binary()
	if bin == nil {
		return nil, ErrNoAgent
	}
	arch, err := e.engineArch(ctx)
	if err != nil {
		return nil, err
	}
	if arch != runtime.GOARCH {
		return nil, fmt.Errorf("%w: the engine runs %s, this build's executor is %s", ErrNoAgent, arch, runtime.GOARCH)
	}
	tarball, err := archive.Single(agentbin.Name, bin, 0o700, 0, 0)
	if err != nil {
		return nil, err
	}
	put, err := containers.CopyFromArchive(e.ctx(ctx), id, AgentDir, bytes.NewReader(tarball))
	if err == nil {
		err = put()
	}
	if err != nil {
		return nil, e.wrap(err, "copy the executor into "+short(id), ContainerNotFound)
	}
	sid, err := e.execCreate(ctx, id, execConfig{Argv: []string{AgentPath}, User: "0", AttachIn: true})
	if err != nil {
		return nil, err
	}
	sess, err := e.execStart(ctx, sid)
	if err != nil {
		return nil, err
	}
	client := agent.NewClient(&agentStream{s: sess}, &agentStdin{s: sess})
	if err := client.Ping(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("%w: the executor did not answer: %v", ErrNoAgent, err)
	}
	return client, nil
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

// NewOutputCollector collects for s; onLimit is called once when the cap is hit.
func NewOutputCollector(s *ExecSpec, onLimit func()) *OutputCollector {
	c := newCollector(s)
	c.onLimit = onLimit
	return &OutputCollector{c: c}
}

// Add takes a chunk of stream 1 (stdout) or 2 (stderr).
func (o *OutputCollector) Add(stream int, data []byte) { o.c.add(stream, data) }

// Flush hands callbacks what is left once the command has ended.
func (o *OutputCollector) Flush() { o.c.flush() }

// Result is the output kept so far; the caller fills in the exit code.
func (o *OutputCollector) Result() *ExecResult { return o.c.result() }
