package agent

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrAgentGone is wrapped by the errors returned once the connection to the
// agent is broken: the agent died, the container stopped, or the client was
// closed. Callers can then fall back to a plain exec.
var ErrAgentGone = errors.New("agent connection closed")

// ErrUnresponsive is wrapped (with ErrAgentGone) when the connection was
// given up because the agent stopped answering pings: stopped, wedged, or
// something else holding its pipes.
var ErrUnresponsive = errors.New("the executor stopped answering")

// ErrProtocol is wrapped (with ErrAgentGone) when the agent's output broke
// the protocol, for example a frame for a command that does not exist. Such
// output is either corrupt or forged by something else writing to the
// agent's stdout, so nothing more on the connection is believed.
var ErrProtocol = errors.New("executor protocol error")

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
	// KeepChildren leaves the processes the command started running after
	// it ends. Without it the agent kills everything left in the command's
	// session, so a command cannot leave work (or a fork bomb) behind.
	KeepChildren bool
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
	err    error         // set once the connection is broken
	gone   chan struct{} // closed when err is set
	closed bool
	procs  map[uint32]*Proc
	pings  map[uint32]*pending
	// Ids are random, so that a frame forged into the agent's stdout cannot
	// name a live command except by a 1 in 2^32 guess, and a frame for an id
	// never issued is a protocol error. Recently finished ids are kept:
	// output a lingering child wrote as the command exited, or the pong of
	// a ping that timed out, may still come for them.
	retired    map[uint32]bool
	retiredLog []uint32

	// What the reader is doing, for KeepAlive: a pong late behind output
	// the host has not taken yet (a command's consumer lags, and its queue
	// holds the reader back) is no sign of a dead agent.
	frames     atomic.Uint64 // frames read so far
	delivering atomic.Bool   // handing a frame to the host side
}

// pending is a ping waiting for its pong, which must echo nonce.
type pending struct {
	nonce []byte
	ch    chan error
}

// maxRetired is how many finished ids are remembered.
const maxRetired = 1024

// NewClient starts talking to an agent whose stdout is r and stdin is w. It
// starts a goroutine that reads r until it ends.
func NewClient(r io.Reader, w io.WriteCloser) *Client {
	c := &Client{w: w, gone: make(chan struct{}), procs: map[uint32]*Proc{}, pings: map[uint32]*pending{}, retired: map[uint32]bool{}}
	go c.readLoop(bufio.NewReaderSize(r, 64<<10))
	return c
}

// newID picks an unused random id. c.mu must be held.
func (c *Client) newID() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		id := binary.BigEndian.Uint32(b[:])
		if id != 0 && c.procs[id] == nil && c.pings[id] == nil && !c.retired[id] {
			return id
		}
	}
}

// retire remembers a finished id for a while. c.mu must be held.
func (c *Client) retire(id uint32) {
	if len(c.retiredLog) >= maxRetired {
		delete(c.retired, c.retiredLog[0])
		c.retiredLog = c.retiredLog[1:]
	}
	c.retired[id] = true
	c.retiredLog = append(c.retiredLog, id)
}

// KeepAlive checks, every interval while commands run, that the agent still
// answers a ping within within; if it does not, the connection is given up
// (ErrUnresponsive), which releases every Wait. A stopped or wedged agent
// would otherwise hold a command without a timeout forever. An agent whose
// frames keep coming, or whose reader waits on the host, is alive. It returns at
// once; the checking ends with the connection.
func (c *Client) KeepAlive(interval, within time.Duration) {
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.gone:
				return
			case <-t.C:
			}
			c.mu.Lock()
			idle := len(c.procs) == 0
			c.mu.Unlock()
			if idle {
				continue
			}
			seen := c.frames.Load()
			ctx, cancel := context.WithTimeout(context.Background(), within)
			err := c.Ping(ctx)
			cancel()
			busy := c.frames.Load() != seen || c.delivering.Load()
			if errors.Is(err, context.DeadlineExceeded) && !busy {
				c.fail(fmt.Errorf("%w (no answer to a ping within %v)", ErrUnresponsive, within))
				return
			}
		}
	}()
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

// Ping makes a round trip to the agent, to check that it is alive. The
// ping carries a fresh random nonce that the pong must echo: only a program
// that speaks the protocol passes, not whatever else sits at the agent's
// path. ctx bounds the whole round trip, the send included.
func (c *Client) Ping(ctx context.Context) error {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	c.mu.Lock()
	if err := c.usable(); err != nil {
		c.mu.Unlock()
		return err
	}
	id := c.newID()
	pg := &pending{nonce: nonce, ch: make(chan error, 1)}
	c.pings[id] = pg
	c.mu.Unlock()

	// The send runs apart: a wedged agent that stopped reading its stdin
	// can block a write, and ctx must still end the wait.
	sent := make(chan error, 1)
	go func() { sent <- c.send(framePing, id, nonce) }()
	select {
	case err := <-pg.ch:
		return err
	case err := <-sent:
		if err != nil {
			return err
		}
		select {
		case err := <-pg.ch:
			return err
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	c.mu.Lock()
	if c.pings[id] == pg {
		delete(c.pings, id)
		c.retire(id) // its pong may still come
	}
	c.mu.Unlock()
	return ctx.Err()
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
		HasStdin: cmd.Stdin != nil, KeepChildren: cmd.KeepChildren,
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
	p.id = c.newID()
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
		if err == nil {
			c.frames.Add(1)
			c.delivering.Store(true)
			err = c.handle(f)
			c.delivering.Store(false)
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// handle delivers one frame from the agent. A frame that names no command
// or ping this client issued, or that the agent never sends, is an error:
// the connection is not believed any further.
func (c *Client) handle(f frame) error {
	c.mu.Lock()
	p, pg, retired := c.procs[f.id], c.pings[f.id], c.retired[f.id]
	c.mu.Unlock()
	switch f.typ {
	case frameStdout, frameStderr, frameStdinAck, frameExit:
		if p == nil {
			if retired && f.typ != frameExit {
				return nil // output racing the exit
			}
			return fmt.Errorf("%w: %s frame for unknown command %08x (corrupt or forged output)", ErrProtocol, frameName(f.typ), f.id)
		}
	case framePong:
		if pg == nil {
			if retired {
				return nil // its ping timed out
			}
			return fmt.Errorf("%w: pong for unknown ping %08x", ErrProtocol, f.id)
		}
	default:
		return fmt.Errorf("%w: unexpected %s frame from the executor", ErrProtocol, frameName(f.typ))
	}
	switch f.typ {
	case frameStdout, frameStderr:
		if p.onOutput != nil {
			stream := Stdout
			if f.typ == frameStderr {
				stream = Stderr
			}
			p.onOutput(stream, f.payload)
		}
	case frameStdinAck:
		if len(f.payload) == 4 {
			p.addCredit(int(binary.BigEndian.Uint32(f.payload)))
		}
	case frameExit:
		var st exitStatus
		if err := json.Unmarshal(f.payload, &st); err != nil {
			return fmt.Errorf("%w: bad exit frame: %v", ErrProtocol, err)
		}
		c.mu.Lock()
		if c.procs[f.id] != p { // fail released it meanwhile
			c.mu.Unlock()
			return nil
		}
		delete(c.procs, f.id)
		c.retire(f.id)
		c.mu.Unlock()
		p.exit = Exit{Code: st.ExitCode, Signal: st.Signal, Error: st.Error}
		p.exited = true
		close(p.done)
	case framePong:
		if !bytes.Equal(f.payload, pg.nonce) {
			return fmt.Errorf("%w: a pong did not echo its ping", ErrProtocol)
		}
		c.mu.Lock()
		if c.pings[f.id] != pg { // fail released it meanwhile
			c.mu.Unlock()
			return nil
		}
		delete(c.pings, f.id)
		c.retire(f.id)
		c.mu.Unlock()
		pg.ch <- nil
	}
	return nil
}

// fail marks the connection broken and releases everyone waiting on it.
// It also closes the agent's stdin, so an agent we stopped listening to
// (after a protocol error) kills its commands and exits.
func (c *Client) fail(cause error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = fmt.Errorf("%w: %w", ErrAgentGone, cause)
		close(c.gone)
	}
	gone := c.err
	procs, pings := c.procs, c.pings
	c.procs, c.pings = map[uint32]*Proc{}, map[uint32]*pending{}
	c.mu.Unlock()
	for _, p := range procs {
		close(p.done)
	}
	for _, pg := range pings {
		pg.ch <- gone
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
