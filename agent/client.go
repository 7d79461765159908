package agent

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
)

// ErrAgentGone is wrapped by the errors returned once the connection to the
// agent is broken: the agent died, the container stopped, or the client was
// closed. Callers can then fall back to a plain exec.
var ErrAgentGone = errors.New("agent connection closed")

// Output stream numbers passed to the onOutput callback.
const (
	Stdout = 1
	Stderr = 2
)

// stdinWindow is how many stdin bytes may be sent to a command before the
// agent acknowledges them; it bounds the agent's memory per command.
const stdinWindow = 1 << 20

// Command describes a command to run in the container.
type Command struct {
	Argv []string
	// Env is the complete environment of the command; nil means an empty
	// one. PATH in Env is used to find Argv[0].
	Env []string
	// Cwd is the working directory; empty means the agent's.
	Cwd string
	// User is "name", "uid", "name:group" or "uid:gid", resolved through the
	// container's /etc/passwd and /etc/group; empty means the agent's user.
	User string
	// Stdin is copied to the command's stdin. nil means empty stdin, closed
	// at once. Wait does not wait for the copy: if the command exits while a
	// Read is blocked, the copying goroutine stops when that Read returns.
	Stdin io.Reader
}

// Event is one chunk of a command's output, for callers that queue what
// the onOutput callback receives.
type Event struct {
	Stream int // Stdout or Stderr
	Data   []byte
}

// Exit is how a command ended.
type Exit struct {
	// Code is the exit status: 128+Signal if killed by a signal, 127 if the
	// command was not found, 126 if it could not be started.
	Code int
	// Signal is the signal that killed the command, or 0.
	Signal int
	// Error says why the command could not be started, if it was not.
	Error string
}

// Client is the host side of a connection to one agent. It is safe for
// concurrent use.
type Client struct {
	wmu       sync.Mutex // serializes frames on w
	w         io.WriteCloser
	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	err    error // set once the connection is broken
	closed bool
	nextID uint32
	procs  map[uint32]*Proc
	pings  map[uint32]chan error
}

// NewClient starts talking to an agent whose stdout is r and stdin is w. It
// starts a goroutine that reads r until it ends.
func NewClient(r io.Reader, w io.WriteCloser) *Client {
	c := &Client{w: w, procs: map[uint32]*Proc{}, pings: map[uint32]chan error{}}
	go c.readLoop(bufio.NewReaderSize(r, 64<<10))
	return c
}

// Err returns nil while the connection works, and an error wrapping
// ErrAgentGone once it has broken.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the agent's stdin, which makes it kill all running commands
// and exit. Pending Waits then return their commands' exits or an
// ErrAgentGone error.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.closeW()
}

func (c *Client) closeW() error {
	c.closeOnce.Do(func() { c.closeErr = c.w.Close() })
	return c.closeErr
}

// usable reports why no new request can be made, if so. c.mu must be held.
func (c *Client) usable() error {
	if c.err != nil {
		return c.err
	}
	if c.closed {
		return fmt.Errorf("%w: client closed", ErrAgentGone)
	}
	return nil
}

// Ping makes a round trip to the agent, to check that it is alive.
func (c *Client) Ping(ctx context.Context) error {
	c.mu.Lock()
	if err := c.usable(); err != nil {
		c.mu.Unlock()
		return err
	}
	c.nextID++
	id := c.nextID
	ch := make(chan error, 1)
	c.pings[id] = ch
	c.mu.Unlock()

	if err := c.send(framePing, id, nil); err != nil {
		return err
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pings, id)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Start starts cmd in the container. ctx bounds only the start request, not
// the command. A command that cannot be started still yields a Proc; its
// Wait reports Exit.Code 127 or 126 and Exit.Error.
//
// onOutput, if not nil, receives the command's output as it arrives. It is
// called from the client's single reader goroutine, in the order the data
// was produced on each stream. It owns data. It must return promptly and
// must not call Wait, since all commands' output and exits are delivered by
// that goroutine.
func (c *Client) Start(ctx context.Context, cmd Command, onOutput func(stream int, data []byte)) (*Proc, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(startRequest{
		Argv: cmd.Argv, Env: cmd.Env, Cwd: cmd.Cwd, User: cmd.User,
		HasStdin: cmd.Stdin != nil,
	})
	if err != nil {
		return nil, err
	}
	if len(payload) > maxPayload {
		return nil, errors.New("agent: command line and environment too large")
	}
	p := &Proc{
		c:        c,
		onOutput: onOutput,
		done:     make(chan struct{}),
		credit:   stdinWindow,
		wake:     make(chan struct{}, 1),
	}
	c.mu.Lock()
	if err := c.usable(); err != nil {
		c.mu.Unlock()
		return nil, err
	}
	c.nextID++
	p.id = c.nextID
	c.procs[p.id] = p // before sending, so no output can be missed
	c.mu.Unlock()

	if err := c.send(frameStart, p.id, payload); err != nil {
		return nil, err
	}
	if cmd.Stdin != nil {
		go p.copyStdin(cmd.Stdin)
	}
	return p, nil
}

// send writes one frame to the agent. A write error breaks the connection.
func (c *Client) send(typ byte, id uint32, payload []byte) error {
	c.wmu.Lock()
	err := writeFrame(c.w, typ, id, payload)
	c.wmu.Unlock()
	if err != nil {
		c.fail(err)
		return c.Err()
	}
	return nil
}

func (c *Client) readLoop(r io.Reader) {
	for {
		f, err := readFrame(r)
		if err != nil {
			c.fail(err)
			return
		}
		switch f.typ {
		case frameStdout, frameStderr:
			if p := c.proc(f.id); p != nil && p.onOutput != nil {
				stream := Stdout
				if f.typ == frameStderr {
					stream = Stderr
				}
				p.onOutput(stream, f.payload)
			}
		case frameStdinAck:
			if p := c.proc(f.id); p != nil && len(f.payload) == 4 {
				p.addCredit(int(binary.BigEndian.Uint32(f.payload)))
			}
		case frameExit:
			var st exitStatus
			if err := json.Unmarshal(f.payload, &st); err != nil {
				c.fail(fmt.Errorf("bad exit frame: %v", err))
				return
			}
			c.mu.Lock()
			p := c.procs[f.id]
			delete(c.procs, f.id)
			c.mu.Unlock()
			if p != nil {
				p.exit = Exit{Code: st.ExitCode, Signal: st.Signal, Error: st.Error}
				p.exited = true
				close(p.done)
			}
		case framePong:
			c.mu.Lock()
			ch := c.pings[f.id]
			delete(c.pings, f.id)
			c.mu.Unlock()
			if ch != nil {
				ch <- nil
			}
		}
	}
}

func (c *Client) proc(id uint32) *Proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.procs[id]
}

// fail marks the connection broken and releases everyone waiting on it.
// It also closes the agent's stdin, so an agent we stopped listening to
// (after a protocol error) kills its commands and exits.
func (c *Client) fail(cause error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("%w: %v", ErrAgentGone, cause)
	}
	gone := c.err
	procs, pings := c.procs, c.pings
	c.procs, c.pings = map[uint32]*Proc{}, map[uint32]chan error{}
	c.mu.Unlock()
	for _, p := range procs {
		close(p.done)
	}
	for _, ch := range pings {
		ch <- gone
	}
	_ = c.closeW()
}

// Proc is a command started by Client.Start.
type Proc struct {
	c        *Client
	id       uint32
	onOutput func(stream int, data []byte)

	// done is closed when the exit arrives (exited is then true) or the
	// connection breaks. exit and exited are written before it is closed.
	done   chan struct{}
	exit   Exit
	exited bool

	mu     sync.Mutex
	credit int           // stdin bytes we may still send
	wake   chan struct{} // signalled when credit grows
}

// Signal sends sig to the command's process group, which includes the
// children it started. Signalling a finished command does nothing.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		if p.exited {
			return nil
		}
		return p.c.Err()
	default:
	}
	return p.c.send(frameSignal, p.id, u32(uint32(sig)))
}

// Wait waits for the command to finish. If ctx is done first it returns
// ctx.Err(); the caller may then Signal the command and wait again. If the
// connection breaks it returns an error wrapping ErrAgentGone.
func (p *Proc) Wait(ctx context.Context) (Exit, error) {
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-ctx.Done():
			return Exit{}, ctx.Err()
		}
	}
	if p.exited {
		return p.exit, nil
	}
	return Exit{}, p.c.Err()
}

// copyStdin sends r to the command's stdin within the flow-control window,
// then closes it.
func (p *Proc) copyStdin(r io.Reader) {
	buf := make([]byte, chunkSize)
	for {
		n := p.waitCredit(len(buf))
		if n == 0 {
			return // the command finished or the connection broke
		}
		m, err := r.Read(buf[:n])
		if p.finished() {
			return
		}
		if m > 0 {
			p.mu.Lock()
			p.credit -= m
			p.mu.Unlock()
			if p.c.send(frameStdin, p.id, buf[:m]) != nil {
				return
			}
		}
		if err != nil {
			// Any read error ends the input, as EOF does.
			_ = p.c.send(frameStdinClose, p.id, nil)
			return
		}
	}
}

func (p *Proc) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitCredit blocks until up to max stdin bytes may be sent, returning how
// many, or 0 once the command has finished.
func (p *Proc) waitCredit(max int) int {
	for {
		if p.finished() {
			return 0
		}
		p.mu.Lock()
		n := min(p.credit, max)
		p.mu.Unlock()
		if n > 0 {
			return n
		}
		select {
		case <-p.wake:
		case <-p.done:
			return 0
		}
	}
}

func (p *Proc) addCredit(n int) {
	p.mu.Lock()
	p.credit += n
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}
