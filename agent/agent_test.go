package agent

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var testEnv = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}

// harness runs Serve in-process over a pair of pipes.
type harness struct {
	c        *Client
	toAgent  *io.PipeReader // agent's stdin
	toHost   *io.PipeWriter // agent's stdout
	serveErr chan error
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	h := &harness{toAgent: inR, toHost: outW, serveErr: make(chan error, 1)}
	go func() {
		err := Serve(inR, outW)
		outW.Close()
		h.serveErr <- err
	}()
	h.c = NewClient(outR, inW)
	t.Cleanup(func() {
		h.c.Close()
		// As the engine's connection does: once the host stops reading, the
		// agent's writes fail rather than block.
		outR.Close()
		select {
		case <-h.serveErr:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return h
}

// output collects a command's output; safe to read after Wait.
type output struct {
	mu             sync.Mutex
	stdout, stderr bytes.Buffer
}

func (o *output) add(stream int, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if stream == Stdout {
		o.stdout.Write(data)
	} else {
		o.stderr.Write(data)
	}
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stdout.String()
}

func waitCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func run(t testing.TB, c *Client, cmd Command) (stdout, stderr string, exit Exit) {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = testEnv
	}
	var out output
	p, err := c.Start(context.Background(), cmd, out.add)
	if err != nil {
		t.Fatalf("Start %q: %v", cmd.Argv, err)
	}
	exit, err = p.Wait(waitCtx(t, 20*time.Second))
	if err != nil {
		t.Fatalf("Wait %q: %v", cmd.Argv, err)
	}
	return out.stdout.String(), out.stderr.String(), exit
}

func sh(script string) Command { return Command{Argv: []string{"/bin/sh", "-c", script}} }

func TestEcho(t *testing.T) {
	h := newHarness(t)
	stdout, stderr, exit := run(t, h.c, sh("echo out; echo err >&2; echo out2"))
	if stdout != "out\nout2\n" || stderr != "err\n" || exit != (Exit{}) {
		t.Fatalf("got stdout %q stderr %q exit %+v", stdout, stderr, exit)
	}
}

func TestPing(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 3; i++ {
		if err := h.c.Ping(waitCtx(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExitCodes(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	noExec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cmd     Command
		code    int
		signal  int
		wantErr bool
	}{
		{"zero", sh("exit 0"), 0, 0, false},
		{"three", sh("exit 3"), 3, 0, false},
		{"not in PATH", Command{Argv: []string{"pocketdock-no-such-command"}}, 127, 0, true},
		{"missing path", Command{Argv: []string{"/no/such/file"}}, 127, 0, true},
		{"not executable", Command{Argv: []string{noExec}}, 126, 0, true},
		{"not executable in PATH", Command{Argv: []string{"noexec"}, Env: []string{"PATH=" + dir}}, 126, 0, true},
		{"directory", Command{Argv: []string{dir}}, 126, 0, true},
		{"empty argv", Command{}, 127, 0, true},
		{"bad cwd", Command{Argv: []string{"/bin/true"}, Cwd: "/no/such/dir"}, 127, 0, true},
		{"killed", sh("kill -TERM $$"), 128 + 15, 15, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, exit := run(t, h.c, tc.cmd)
			if exit.Code != tc.code || exit.Signal != tc.signal || (exit.Error != "") != tc.wantErr {
				t.Fatalf("got %+v, want code %d signal %d error %v", exit, tc.code, tc.signal, tc.wantErr)
			}
		})
	}
}

func TestEnvAndCwd(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mytool"), []byte("#!/bin/sh\necho tool $FOO\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := sh("echo $FOO; pwd; echo ${HOME-unset}; mytool")
	cmd.Env = []string{"FOO=bar baz", "PATH=" + dir + ":/usr/bin:/bin"}
	cmd.Cwd = dir
	stdout, stderr, exit := run(t, h.c, cmd)
	want := fmt.Sprintf("bar baz\n%s\nunset\ntool bar baz\n", dir)
	if stdout != want || exit.Code != 0 {
		t.Fatalf("got %q (stderr %q, exit %+v), want %q", stdout, stderr, exit, want)
	}
}

func TestStdin(t *testing.T) {
	h := newHarness(t)
	// Larger than the flow-control window, so acks must work.
	in := make([]byte, 3*stdinWindow+12345)
	rand.Read(in)
	cmd := Command{Argv: []string{"cat"}, Stdin: bytes.NewReader(in)}
	stdout, _, exit := run(t, h.c, cmd)
	if exit.Code != 0 || stdout != string(in) {
		t.Fatalf("exit %+v, got %d bytes back, want %d", exit, len(stdout), len(in))
	}

	// No Stdin means empty stdin.
	stdout, _, _ = run(t, h.c, Command{Argv: []string{"wc", "-c"}})
	if strings.TrimSpace(stdout) != "0" {
		t.Fatalf("wc -c of empty stdin: %q", stdout)
	}
}

// endless is an infinite stdin.
type endless struct{}

func (endless) Read(p []byte) (int, error) { return len(p), nil }

func TestStdinNotRead(t *testing.T) {
	h := newHarness(t)
	p, err := h.c.Start(context.Background(), Command{Argv: []string{"sleep", "1"}, Env: testEnv, Stdin: endless{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Another command must not be held up meanwhile.
	if stdout, _, _ := run(t, h.c, Command{Argv: []string{"echo", "hi"}}); stdout != "hi\n" {
		t.Fatalf("echo: %q", stdout)
	}
	if p.finished() {
		t.Error("echo was held up until the command ignoring its stdin exited")
	}
	exit, err := p.Wait(waitCtx(t, 5*time.Second))
	if err != nil || exit.Code != 0 {
		t.Fatalf("Wait: %+v, %v", exit, err)
	}
}

func TestConcurrent(t *testing.T) {
	h := newHarness(t)
	const n = 20
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stdout, _, exit := run(t, h.c, sh(fmt.Sprintf("sleep 0.5; echo %d", i)))
			if stdout != fmt.Sprintf("%d\n", i) || exit.Code != 0 {
				t.Errorf("command %d: %q %+v", i, stdout, exit)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%d concurrent half-second commands took %v", n, d)
	}
}

// readPID waits for the first line of out to be a pid.
func readPID(t *testing.T, out *output) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			pid, err := strconv.Atoi(line)
			if err != nil {
				t.Fatalf("bad pid line %q", line)
			}
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no pid printed")
	return 0
}

// waitGone waits until pid has exited (a zombie counts as exited, since
// whoever inherited it may not reap it promptly).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Fatalf("process %d still running", pid)
}

func TestSignalKillsGroup(t *testing.T) {
	h := newHarness(t)
	var out output
	p, err := h.c.Start(context.Background(), Command{
		Argv: []string{"/bin/sh", "-c", "sleep 100 & echo $!; sleep 100"}, Env: testEnv,
	}, out.add)
	if err != nil {
		t.Fatal(err)
	}
	child := readPID(t, &out)

	// Wait honours its context; the command keeps running.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with expired context: %v", err)
	}

	start := time.Now()
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait(waitCtx(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if exit.Signal != int(syscall.SIGKILL) || exit.Code != 128+9 {
		t.Fatalf("exit %+v", exit)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Wait after SIGKILL took %v", d)
	}
	waitGone(t, child)
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("Signal after exit: %v", err)
	}
}

func TestOutputFlood(t *testing.T) {
	h := newHarness(t)
	const size = 50_000_000
	var mu sync.Mutex
	got := 0
	flood, err := h.c.Start(context.Background(), sh(fmt.Sprintf("yes | head -c %d", size)), func(_ int, data []byte) {
		mu.Lock()
		got += len(data)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if stdout, _, _ := run(t, h.c, Command{Argv: []string{"echo", "hi"}}); stdout != "hi\n" {
		t.Fatalf("echo during flood: %q", stdout)
	}
	t.Logf("echo during flood took %v", time.Since(start))
	exit, err := flood.Wait(waitCtx(t, 30*time.Second))
	if err != nil || exit.Code != 0 {
		t.Fatalf("flood: %+v %v", exit, err)
	}
	if got != size {
		t.Fatalf("flood delivered %d bytes, want %d", got, size)
	}
}

func TestAgentDeath(t *testing.T) {
	h := newHarness(t)
	var out output
	p, err := h.c.Start(context.Background(), sh("echo $$; exec sleep 100"), out.add)
	if err != nil {
		t.Fatal(err)
	}
	pid := readPID(t, &out)

	// The agent's end of both pipes goes away, as when it is killed.
	h.toHost.CloseWithError(errors.New("agent killed"))
	h.toAgent.CloseWithError(errors.New("agent killed"))

	start := time.Now()
	_, err = p.Wait(waitCtx(t, 5*time.Second))
	if !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Wait: %v, want ErrAgentGone", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Wait took %v", d)
	}
	if !errors.Is(h.c.Err(), ErrAgentGone) {
		t.Fatalf("Err: %v", h.c.Err())
	}
	if _, err := h.c.Start(context.Background(), sh("true"), nil); !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Start after death: %v", err)
	}
	if err := h.c.Ping(context.Background()); !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Ping after death: %v", err)
	}
	// The in-process agent saw its stdin fail and killed the command.
	waitGone(t, pid)
}

func TestCloseKillsCommands(t *testing.T) {
	h := newHarness(t)
	var out output
	p, err := h.c.Start(context.Background(), sh("echo $$; exec sleep 100"), out.add)
	if err != nil {
		t.Fatal(err)
	}
	pid := readPID(t, &out)
	if err := h.c.Close(); err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait(waitCtx(t, 5*time.Second))
	if err == nil && exit.Signal != int(syscall.SIGKILL) {
		t.Fatalf("Wait after Close: %+v", exit)
	} else if err != nil && !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Wait after Close: %v", err)
	}
	waitGone(t, pid)
	select {
	case err := <-h.serveErr:
		h.serveErr <- err // for the cleanup
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	if _, err := h.c.Start(context.Background(), sh("true"), nil); !errors.Is(err, ErrAgentGone) {
		t.Fatalf("Start after Close: %v", err)
	}
}

func TestRunAsUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users")
	}
	h := newHarness(t)
	cmd := Command{Argv: []string{"/bin/sh", "-c", "id -u; id -g; id -G"}, User: "12345:54321"}
	stdout, stderr, exit := run(t, h.c, cmd)
	if stdout != "12345\n54321\n54321\n" || exit.Code != 0 {
		t.Fatalf("got %q (stderr %q, exit %+v)", stdout, stderr, exit)
	}
	_, _, exit = run(t, h.c, Command{Argv: []string{"true"}, User: "pocketdock-no-such-user"})
	if exit.Code != 126 || exit.Error == "" {
		t.Fatalf("unknown user: %+v", exit)
	}
}

// TestAgentBinary runs the real agent executable as a subprocess.
func TestAgentBinary(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "pocketdock-agent")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/pocketdock/pocketdock/cmd/pocketdock-agent")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	startAgent := func(t *testing.T) (*exec.Cmd, *Client) {
		cmd := exec.Command(bin)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		c := NewClient(stdout, stdin)
		if err := c.Ping(waitCtx(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		return cmd, c
	}

	t.Run("run and close", func(t *testing.T) {
		agent, c := startAgent(t)
		stdout, stderr, exit := run(t, c, Command{Argv: []string{"sh", "-c", "echo hi; echo oops >&2; exit 5"}})
		if stdout != "hi\n" || stderr != "oops\n" || exit.Code != 5 {
			t.Fatalf("got %q %q %+v", stdout, stderr, exit)
		}
		stdout, _, _ = run(t, c, Command{Argv: []string{"cat"}, Stdin: strings.NewReader("piped")})
		if stdout != "piped" {
			t.Fatalf("cat: %q", stdout)
		}
		var out output
		p, err := c.Start(context.Background(), Command{Argv: []string{"sh", "-c", "echo $$; exec sleep 100"}, Env: testEnv}, out.add)
		if err != nil {
			t.Fatal(err)
		}
		pid := readPID(t, &out)
		c.Close()
		done := make(chan error, 1)
		go func() { done <- agent.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("agent exit: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("agent did not exit when its stdin closed")
		}
		if _, err := p.Wait(waitCtx(t, 5*time.Second)); err != nil && !errors.Is(err, ErrAgentGone) {
			t.Fatal(err)
		}
		waitGone(t, pid)
	})

	t.Run("agent killed", func(t *testing.T) {
		agent, c := startAgent(t)
		var out output
		p, err := c.Start(context.Background(), Command{Argv: []string{"sh", "-c", "echo $$; exec sleep 100"}, Env: testEnv}, out.add)
		if err != nil {
			t.Fatal(err)
		}
		pid := readPID(t, &out)
		// A SIGKILLed agent cannot clean up; the orphan is ours to kill.
		defer syscall.Kill(pid, syscall.SIGKILL)
		agent.Process.Kill()
		start := time.Now()
		if _, err := p.Wait(waitCtx(t, 5*time.Second)); !errors.Is(err, ErrAgentGone) {
			t.Fatalf("Wait: %v, want ErrAgentGone", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Wait took %v", d)
		}
	})
}

// BenchmarkPing measures the protocol round trip alone.
func BenchmarkPing(b *testing.B) {
	h := newHarness(b)
	ctx := context.Background()
	for b.Loop() {
		if err := h.c.Ping(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunTrue measures a whole command; most of it is fork and exec.
func BenchmarkRunTrue(b *testing.B) {
	h := newHarness(b)
	cmd := Command{Argv: []string{"/bin/true"}, Env: testEnv}
	ctx := context.Background()
	for b.Loop() {
		p, err := h.c.Start(ctx, cmd, nil)
		if err != nil {
			b.Fatal(err)
		}
		if exit, err := p.Wait(ctx); err != nil || exit.Code != 0 {
			b.Fatal(exit, err)
		}
	}
}
