package agent

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Frames written into the agent's stdout by someone else (root in the
// sandbox can open /proc/<agent>/fd/1) name ids the client never issued:
// the connection ends with a protocol error, and no forged output or exit
// reaches the command waiting on it.
func TestForgedFramesEndTheConnection(t *testing.T) {
	h := newHarness(t)
	var out output
	p, err := h.c.Start(context.Background(), Command{Argv: []string{"/bin/sh", "-c", "sleep 2; exit 3"}, Env: testEnv}, out.add)
	if err != nil {
		t.Fatal(err)
	}
	// Ids were sequential from 1: forge the first hundred. The writes block
	// once the client stops reading (it gives up, as it should), so they
	// run apart.
	go func() {
		for id := uint32(1); id <= 100; id++ {
			if writeFrame(h.toHost, frameStdout, id, []byte("FORGED-OUTPUT")) != nil ||
				writeFrame(h.toHost, frameExit, id, []byte(`{"exit_code":0}`)) != nil {
				return
			}
		}
	}()
	exit, err := p.Wait(waitCtx(t, 5*time.Second))
	if !errors.Is(err, ErrProtocol) || !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Wait after forged frames: exit %+v, err %v; want a protocol error", exit, err)
	}
	if strings.Contains(out.String(), "FORGED") {
		t.Fatalf("forged output was delivered: %q", out.String())
	}
	if h.c.Err() == nil {
		t.Fatal("the connection is still in use")
	}
}

// fakeAgent plays an agent that reads frames and answers with reply (nil:
// never answers), as a script put at the agent's path might.
func fakeAgent(t *testing.T, reply func(f frame, w io.Writer)) *Client {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	go func() {
		defer outW.Close()
		for {
			f, err := readFrame(inR)
			if err != nil {
				return
			}
			if reply != nil {
				reply(f, outW)
			}
		}
	}()
	c := NewClient(outR, inW)
	t.Cleanup(func() { c.Close() })
	return c
}

// A pong must echo the ping's nonce: a program that merely answers is not
// taken for the agent.
func TestPongMustEchoNonce(t *testing.T) {
	c := fakeAgent(t, func(f frame, w io.Writer) {
		if f.typ == framePing {
			_ = writeFrame(w, framePong, f.id, []byte("not the nonce"))
		}
	})
	if err := c.Ping(waitCtx(t, 5*time.Second)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Ping with a wrong pong: %v, want a protocol error", err)
	}
}

// Ping honours its context against an agent that never answers, and a
// silent agent is given up by KeepAlive while a command waits on it.
func TestKeepAliveGivesUpSilentAgent(t *testing.T) {
	c := fakeAgent(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping to a silent agent: %v", err)
	}
	p, err := c.Start(context.Background(), Command{Argv: []string{"true"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.KeepAlive(50*time.Millisecond, 200*time.Millisecond)
	start := time.Now()
	_, err = p.Wait(waitCtx(t, 5*time.Second))
	if !errors.Is(err, ErrUnresponsive) {
		t.Fatalf("Wait on a silent agent: %v, want ErrUnresponsive", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("giving up took %v", d)
	}
}

// A host that takes a command's output slowly holds the reader back, and
// with it the pongs: that is no dead agent, and the command ends normally.
func TestKeepAliveSparesASlowHost(t *testing.T) {
	h := newHarness(t)
	h.c.KeepAlive(50*time.Millisecond, 200*time.Millisecond)
	slow := func(int, []byte) { time.Sleep(300 * time.Millisecond) }
	p, err := h.c.Start(context.Background(), Command{Argv: []string{"/bin/sh", "-c", "for i in 1 2 3 4 5 6; do echo $i; sleep 0.1; done"}, Env: testEnv}, slow)
	if err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait(waitCtx(t, 30*time.Second))
	if err != nil || exit.Code != 0 {
		t.Fatalf("a command whose output the host took slowly: %+v, %v", exit, err)
	}
}

// What a command leaves running is killed when it ends, unless it asked to
// keep its children; a missing working directory is named as such.
func TestLeftoversKilled(t *testing.T) {
	h := newHarness(t)
	for _, keep := range []bool{false, true} {
		// The child moves to a process group of its own: the sweep of the
		// session still finds it.
		stdout, _, exit := run(t, h.c, Command{Argv: []string{"/bin/sh", "-c", "sleep 300 & echo $!; (set -m; sleep 300 & echo $!)"}, KeepChildren: keep})
		if exit.Code != 0 {
			t.Fatalf("exit %+v", exit)
		}
		for _, line := range strings.Fields(stdout) {
			pid, _ := strconv.Atoi(line)
			if keep {
				if err := syscall.Kill(pid, 0); err != nil {
					t.Errorf("KeepChildren: child %d was killed", pid)
				}
				syscall.Kill(pid, syscall.SIGKILL)
				continue
			}
			waitGone(t, pid)
		}
	}
	_, _, exit := run(t, h.c, Command{Argv: []string{"/bin/sh", "-c", "true"}, Cwd: "/nonexistent-dir"})
	if !strings.Contains(exit.Error, "working directory /nonexistent-dir does not exist") {
		t.Errorf("missing cwd: %+v", exit)
	}
}
