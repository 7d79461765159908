package agent

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// pipeLinger is how long output is still collected after a command exits
// while a background child keeps its stdout or stderr open. Without a bound
// such a child would delay the exit report for as long as it lives.
const pipeLinger = 100 * time.Millisecond

// Serve runs the agent side of the protocol, reading requests from r and
// writing replies to w. It returns when r ends or fails, or when writing to w
// fails; either way the host has gone, so it first kills the process group of
// every running command and waits for them. A clean end of r returns nil.
func Serve(r io.Reader, w io.Writer) error {
	s := &server{w: w, broken: make(chan struct{}), cmds: map[uint32]*command{}}
	readErr := make(chan error, 1)
	go func() { readErr <- s.readLoop(bufio.NewReaderSize(r, 64<<10)) }()
	var err error
	select {
	case err = <-readErr:
	case <-s.broken:
		err = s.writeErr
	}
	s.shutdown()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

type server struct {
	wmu      sync.Mutex // serializes frames on w
	w        io.Writer
	broken   chan struct{} // closed on the first write error
	writeErr error

	mu      sync.Mutex
	closing bool
	cmds    map[uint32]*command // running commands by id
	wg      sync.WaitGroup      // command and stdin goroutines
}

type command struct {
	cmd   *exec.Cmd
	stdin *stdinQueue   // nil when the command has no stdin
	fed   chan struct{} // closed when feedStdin has returned
	keep  bool          // leave its leftover processes running
}

// send writes one frame. Once w has failed, frames are dropped: Serve is
// already shutting down.
func (s *server) send(typ byte, id uint32, payload []byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.broken:
		return
	default:
	}
	if err := writeFrame(s.w, typ, id, payload); err != nil {
		s.writeErr = err
		close(s.broken)
	}
}

func (s *server) sendExit(id uint32, st exitStatus) {
	b, _ := json.Marshal(st)
	s.send(frameExit, id, b)
}

// readLoop handles frames until r fails. It never writes to w itself
// (replies go through goroutines), so a slow host reader cannot stop the
// agent from draining its stdin.
func (s *server) readLoop(r io.Reader) error {
	for {
		f, err := readFrame(r)
		if err != nil {
			return err
		}
		switch f.typ {
		case frameStart:
			s.start(f.id, f.payload)
		case frameStdin:
			if c := s.lookup(f.id); c != nil && c.stdin != nil {
				c.stdin.push(f.payload)
			}
		case frameStdinClose:
			if c := s.lookup(f.id); c != nil && c.stdin != nil {
				c.stdin.close()
			}
		case frameSignal:
			if c := s.lookup(f.id); c != nil && len(f.payload) == 4 {
				sig := syscall.Signal(binary.BigEndian.Uint32(f.payload))
				// The negative pid addresses the whole process group.
				_ = syscall.Kill(-c.cmd.Process.Pid, sig)
			}
		case framePing:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.send(framePong, f.id, f.payload)
			}()
		}
		// Frame types meant for the host are ignored.
	}
}

func (s *server) lookup(id uint32) *command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmds[id]
}

// fail reports a command that could not be started.
func (s *server) fail(id uint32, code int, err error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.sendExit(id, exitStatus{ExitCode: code, Error: err.Error()})
	}()
}

func (s *server) start(id uint32, payload []byte) {
	var req startRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		s.fail(id, 126, fmt.Errorf("bad start request: %v", err))
		return
	}
	if len(req.Argv) == 0 {
		s.fail(id, 127, errors.New("exec: no command given"))
		return
	}
	path, err := lookPath(req.Argv[0], req.Env, req.Cwd)
	if err != nil {
		s.fail(id, startErrorCode(err), err)
		return
	}
	env := req.Env
	if env == nil {
		env = []string{} // nil would mean the agent's own environment
	}
	cmd := &exec.Cmd{
		Path:   path,
		Args:   req.Argv,
		Env:    env,
		Dir:    req.Cwd,
		Stdout: &streamWriter{s: s, id: id, typ: frameStdout},
		Stderr: &streamWriter{s: s, id: id, typ: frameStderr},
		// Its own session (and process group, with the same id), so
		// signals reach the command's children and whatever it leaves
		// behind can be found and killed when it ends.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
		WaitDelay:   pipeLinger,
	}
	if req.User != "" {
		cred, err := lookupUser(req.User, "/etc")
		if err != nil {
			s.fail(id, 126, err)
			return
		}
		// Only root may set supplementary groups; without this an
		// unprivileged agent could not even run commands as itself.
		cred.NoSetGroups = os.Getuid() != 0
		cmd.SysProcAttr.Credential = cred
	}
	c := &command{cmd: cmd, keep: req.KeepChildren}
	var stdin io.WriteCloser
	if req.HasStdin {
		if stdin, err = cmd.StdinPipe(); err != nil {
			s.fail(id, 126, err)
			return
		}
		c.stdin, c.fed = newStdinQueue(), make(chan struct{})
	}

	// Starting under the lock keeps shutdown from missing a command.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return
	}
	if _, dup := s.cmds[id]; dup {
		return // the client never reuses ids; a second exit would confuse it
	}
	if err := cmd.Start(); err != nil {
		s.fail(id, startErrorCode(err), cwdError(req.Cwd, err))
		return
	}
	s.cmds[id] = c
	s.wg.Add(1)
	go s.wait(id, c)
	if c.stdin != nil {
		s.wg.Add(1)
		go s.feedStdin(id, c, stdin)
	}
}

// wait reports the command's exit once it has finished and its output has
// been sent.
func (s *server) wait(id uint32, c *command) {
	defer s.wg.Done()
	err := c.cmd.Wait()
	if !c.keep {
		defer killLeftovers(c.cmd.Process.Pid)()
	}
	var st exitStatus
	if c.cmd.ProcessState == nil {
		st.ExitCode, st.Error = 126, fmt.Sprint("wait: ", err)
	} else if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			st.Signal = int(ws.Signal())
			st.ExitCode = 128 + st.Signal
		} else {
			st.ExitCode = ws.ExitStatus()
		}
	} else {
		st.ExitCode = c.cmd.ProcessState.ExitCode()
	}
	s.mu.Lock()
	delete(s.cmds, id)
	s.mu.Unlock()
	if c.stdin != nil {
		// No stdin ack may follow the exit frame: the host takes a frame
		// for a finished command as a protocol error, or ignores it only
		// for a while. Wait has closed the command's stdin, so the feeder
		// returns at once.
		c.stdin.close()
		<-c.fed
	}
	s.sendExit(id, st)
}

// feedStdin copies queued stdin data into the command. It runs per command
// so that one that never reads its stdin only blocks itself.
func (s *server) feedStdin(id uint32, c *command, w io.WriteCloser) {
	defer s.wg.Done()
	defer close(c.fed)
	defer w.Close()
	q := c.stdin
	failed := false
	for {
		b, ok := q.next()
		if !ok {
			return
		}
		if failed {
			continue // the command is gone or closed its stdin; discard
		}
		if _, err := w.Write(b); err != nil {
			// No ack: the host stops sending once its window is used up,
			// and gives up entirely when the exit frame arrives.
			failed = true
			continue
		}
		s.send(frameStdinAck, id, u32(uint32(len(b))))
	}
}

// cwdError says that the working directory is missing when that is why a
// start failed: the error from the kernel names only the program.
func cwdError(cwd string, err error) error {
	if cwd == "" {
		return err
	}
	if fi, serr := os.Stat(cwd); serr != nil {
		return fmt.Errorf("working directory %s does not exist", cwd)
	} else if !fi.IsDir() {
		return fmt.Errorf("working directory %s is not a directory", cwd)
	}
	return err
}

func (s *server) shutdown() {
	s.mu.Lock()
	s.closing = true
	for _, c := range s.cmds {
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		// The leader too, in case it moved itself to another group: Serve
		// waits for every leader to exit.
		_ = c.cmd.Process.Kill()
		if c.stdin != nil {
			c.stdin.close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// streamWriter turns a command's stdout or stderr into frames as the data
// arrives, without extra buffering.
type streamWriter struct {
	s   *server
	id  uint32
	typ byte
}

func (w *streamWriter) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		n := min(len(rest), chunkSize)
		w.s.send(w.typ, w.id, rest[:n])
		rest = rest[n:]
	}
	return len(p), nil
}

// stdinQueue holds stdin data between the read loop, which must never
// block, and the command's feeder goroutine. The host's flow-control window
// bounds its size.
type stdinQueue struct {
	mu     sync.Mutex
	bufs   [][]byte
	closed bool
	wake   chan struct{}
}

func newStdinQueue() *stdinQueue { return &stdinQueue{wake: make(chan struct{}, 1)} }

func (q *stdinQueue) push(b []byte) {
	q.mu.Lock()
	if !q.closed && len(b) > 0 {
		q.bufs = append(q.bufs, b)
	}
	q.mu.Unlock()
	q.notify()
}

func (q *stdinQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.notify()
}

func (q *stdinQueue) notify() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// next returns the next chunk, blocking until there is one. It reports
// false once the queue is closed and drained.
func (q *stdinQueue) next() ([]byte, bool) {
	for {
		q.mu.Lock()
		if len(q.bufs) > 0 {
			b := q.bufs[0]
			q.bufs[0] = nil
			q.bufs = q.bufs[1:]
			q.mu.Unlock()
			return b, true
		}
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		q.mu.Unlock()
		<-q.wake
	}
}
