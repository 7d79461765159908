//go:build !unit

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
	"github.com/pocketdock/pocketdock/internal/memtest"
)

// screen collects what a pty shows, for waiting on text.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitText waits until the screen shows want after position from; returns the new position.
func (s *screen) waitText(t *testing.T, from int, want string, limit time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		text := s.String()
		if i := strings.Index(text[from:], want); i >= 0 {
			return from + i + len(want)
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %q; screen:\n%s", limit, want, text[from:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The REPL against the real engine: Ctrl-C cancels an in-flight c:run, the
// session stays usable, and Ctrl-D removes the session's ephemeral sandbox.
func TestREPLInterruptsEngineCallAndCleansUp(t *testing.T) {
	e := enginetest.Engine(t)
	name := uniqueName("repl")
	scr, send, pos, cmd := startREPL(t)

	send("c = pocketdock.create_new_container{name = '" + name + "'}\r")
	pos = scr.waitText(t, pos, "> ", 20*time.Second)
	send("c\r")
	pos = scr.waitText(t, pos, "<container "+name+" running", 5*time.Second)
	send("r = c:run('sleep 30')\r")
	time.Sleep(700 * time.Millisecond)
	start := time.Now()
	send("\x03")
	pos = scr.waitText(t, pos, "Interrupted", 3*time.Second)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Ctrl-C took %v to end c:run", d)
	}
	send("print(c:run('echo still' .. 'alive').stdout)\r")
	pos = scr.waitText(t, pos, "stillalive", 10*time.Second)
	if !exists(t, e, name) {
		t.Fatal("the sandbox went away after Ctrl-C")
	}
	send("\x04")
	scr.waitText(t, pos, "removed ephemeral sandboxes: "+name, 20*time.Second)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("REPL exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("REPL did not exit on Ctrl-D")
	}
	if exists(t, e, name) {
		t.Errorf("ephemeral %s left after the REPL ended", name)
	}
}

// startREPL runs pocketdock's REPL on a pseudo-terminal, with a history
// file of its own, and waits for its first prompt. It returns the screen,
// a way to type, the prompt's position and the process, which is killed when
// the test ends.
func startREPL(t *testing.T) (scr *screen, send func(string), pos int, cmd *exec.Cmd) {
	t.Helper()
	cmd = pocketdockCmd()
	cmd.Env = append(cmd.Env, "XDG_STATE_HOME="+stateDirKeepingEngine(t))
	tty, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); tty.Close() }) // a test may Wait for it itself
	scr = &screen{}
	go func() { _, _ = copyAll(scr, tty) }()
	pos = scr.waitText(t, 0, "> ", 10*time.Second)
	return scr, func(s string) { tty.Write([]byte(s)) }, pos, cmd
}

// stateDirKeepingEngine gives the REPL its own history file while it still
// finds the private engine through its socket.
func stateDirKeepingEngine(t *testing.T) string {
	dir := t.TempDir()
	home, _ := os.UserHomeDir()
	real := home + "/.local/state/pocketdock"
	if v := os.Getenv("XDG_STATE_HOME"); v != "" {
		real = v + "/pocketdock"
	}
	os.MkdirAll(dir+"/pocketdock", 0o700)
	os.Symlink(real+"/podman.sock", dir+"/pocketdock/podman.sock")
	return dir
}

func copyAll(dst *screen, src *os.File) (int64, error) {
	buf := make([]byte, 4096)
	var n int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			dst.Write(buf[:k])
			n += int64(k)
		}
		if err != nil {
			return n, err
		}
	}
}

// Ctrl-C during a pd.map of with_container tasks: every task's sandbox is shut
// down at once (ephemeral removed, persistent stopped), while the REPL goes on.
func TestREPLCtrlCDuringMapShutsDownTasks(t *testing.T) {
	e := enginetest.Engine(t)
	prefix := uniqueName("mapint")
	t.Cleanup(func() {
		if s, err := e.Find(context.Background(), prefix+"-5"); err == nil {
			e.Remove(context.Background(), s.ID)
		}
	})
	scr, send, pos, _ := startREPL(t)
	send("n = 0; r = pd.map({1, 2, 3, 4, 5}, function(i) return pd.with_container({name = '" + prefix + "-' .. i, persist = i == 5}, " +
		"function(c) n = n + 1; c:run('sleep 30') end) end)\r")
	waitFor(t, func() bool {
		list, _ := e.List(context.Background(), engine.Filter{})
		k := 0
		for _, s := range list {
			if strings.HasPrefix(s.Name, prefix) && s.Status == "running" {
				k++
			}
		}
		return k == 5
	}, 30*time.Second)
	time.Sleep(500 * time.Millisecond) // the sleeps are under way
	start := time.Now()
	send("\x03")
	pos = scr.waitText(t, pos, "Interrupted", 25*time.Second)
	took := time.Since(start)
	list, err := e.List(context.Background(), engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if !strings.HasPrefix(s.Name, prefix) {
			continue
		}
		if s.Name != prefix+"-5" {
			t.Errorf("%s (ephemeral) still there after Ctrl-C: %s", s.Name, s.Status)
		} else if s.Status == "running" {
			t.Errorf("%s (persistent) still running after Ctrl-C", s.Name)
		}
	}
	t.Logf("Ctrl-C during a map of 5 with_container tasks: back at the prompt with them shut down in %v", took)
	send("print('still' .. 'here')\r")
	scr.waitText(t, pos, "stillhere", 10*time.Second)
}

// Escape sequences from a sandbox (command output, error messages) reach the
// REPL's terminal as visible \27 text, and a 100 MB value shows a screenful,
// quickly and without copies of itself.
func TestREPLEscapesAndCutsWhatItShows(t *testing.T) {
	scr, send, pos, cmd := startREPL(t)

	send(`c = pd.create_new_container{}` + "\r")
	pos = scr.waitText(t, pos, "> ", 30*time.Second)
	send(`c:run([[printf '\033]52;c;SGVsbG8=\007\033[2J\033]0;owned\007done']])` + "\r")
	pos = scr.waitText(t, pos, `\27]52;c;SGVsbG8=\7\27[2J\27]0;owned\7done`, 10*time.Second)
	send(`c:run([[printf 'x\033]0;owned\007' >&2; exit 3]], {check = true})` + "\r")
	pos = scr.waitText(t, pos, `x\27]0;owned\7`, 10*time.Second)
	send(`"\27]0;owned\7"` + "\r")
	pos = scr.waitText(t, pos, `"\27]0;owned\7"`, 10*time.Second)
	if s := scr.String(); strings.Contains(s, "\x1b]52") || strings.Contains(s, "\x1b]0;owned") {
		t.Fatalf("a raw escape sequence reached the terminal: %q", s)
	}

	send(`s = string.rep("line\n", 20 * 1024 * 1024)` + "\r")
	pos = scr.waitText(t, pos, "> ", 30*time.Second)
	before := len(scr.String())
	start := time.Now()
	send("s\r")
	pos = scr.waitText(t, pos, "more bytes not shown", 10*time.Second)
	pos = scr.waitText(t, pos, "> ", 10*time.Second)
	took := time.Since(start)
	shown := len(scr.String()) - before
	hwm := memtest.Peak(t, cmd.Process.Pid)
	t.Logf("a 100 MiB string in the REPL: %d bytes shown in %v; REPL peak RSS %d MiB", shown, took, hwm>>20)
	if shown > 20<<10 {
		t.Errorf("showed %d bytes of a 100 MiB string", shown)
	}
	if took > 2*time.Second {
		t.Errorf("showing it took %v", took)
	}
	if hwm > 200<<20 {
		t.Errorf("peak RSS %d MiB: showing the value copied it", hwm>>20)
	}
}
