//go:build !unit

package hardening

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/luaapi"
	"github.com/pocketdock/pocketdock/stdlib"
)

// binPath is the pocketdock built for the tests.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pd-hardening-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "pocketdock")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if os.Getenv("GOFLAGS") == "" {
		build.Env = append(build.Env, "GOFLAGS=-buildvcs=false -tags=remote,containers_image_openpgp")
	}
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building pocketdock failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// uniq makes a sandbox name no other test uses.
func uniq(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "hard-" + prefix + "-" + hex.EncodeToString(b)
}

// lstr is a Lua string.
func lstr(s string) lua.LString { return lua.LString(s) }

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// destroyLater removes sandboxes by name at the end of the test, whatever happened.
func destroyLater(t *testing.T, e *engine.Engine, names ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range names {
			list, _ := e.List(ctx, engine.Filter{Name: n})
			for _, c := range list {
				_ = e.Remove(ctx, c.ID)
			}
		}
	})
}

// exists reports whether a sandbox with this name is on the engine, and its status.
func exists(t *testing.T, e *engine.Engine, name string) (bool, string) {
	t.Helper()
	list, err := e.List(ctxT(t, 10*time.Second), engine.Filter{Name: name})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list) == 0 {
		return false, ""
	}
	return true, list[0].Status
}

// state is an in-process Lua state with the module, as a script sees it.
type state struct {
	L      *lua.LState
	M      *luaapi.Module
	Stderr *bytes.Buffer
}

func newState(t *testing.T, socket string) *state {
	t.Helper()
	var stderr bytes.Buffer
	L := lua.NewState()
	m := luaapi.New(luaapi.Options{Socket: socket, Stderr: &stderr})
	m.Preload(L)
	stdlib.Preload(L) // as the runner does: the embedded Lua library
	s := &state{L: L, M: m, Stderr: &stderr}
	t.Cleanup(func() { m.Cleanup(); L.Close() })
	return s
}

func (s *state) run(t *testing.T, src string) {
	t.Helper()
	if err := s.L.DoString(src); err != nil {
		t.Fatalf("lua error: %s\n%s", errText(err), src)
	}
}

// global reads a global as a string (results are passed back through globals).
func (s *state) global(name string) string { return lua.LVAsString(s.L.GetGlobal(name)) }

func errText(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return luaapi.ErrorText(ae.Object) + "\n" + ae.StackTrace
	}
	return err.Error()
}

// proc is a running pocketdock process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
	code           int
}

// startBin starts the built binary with args.
func startBin(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binPath, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Stdin = strings.NewReader("")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start pocketdock: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(d):
		t.Fatalf("pocketdock did not exit within %v\nstdout: %s\nstderr: %s", d, p.stdout, p.stderr)
		return -1
	}
}

// waitFor waits until stdout holds marker.
func (p *proc) waitFor(t *testing.T, marker string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.stdout.String(), marker) {
		select {
		case <-p.done:
			t.Fatalf("pocketdock exited (%d) before %q\nstdout: %s\nstderr: %s", p.code, marker, p.stdout, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v\nstdout: %s\nstderr: %s", marker, d, p.stdout, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runBin runs the binary to the end and returns exit code, stdout and stderr.
func runBin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	p := startBin(t, args...)
	code := p.wait(t, d)
	return code, p.stdout.String(), p.stderr.String()
}

// script writes a Lua script to a temp file and returns its path.
func script(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.lua")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// service is a private podman service this test started and may kill.
type service struct {
	uri, sock string
	cmd       *exec.Cmd
	done      chan struct{}
}

// startService starts `podman system service` on sock with pocketdock's containers.conf.
func startService(t *testing.T, sock string) *service {
	t.Helper()
	_ = os.Remove(sock)
	s := &service{uri: "unix://" + sock, sock: sock, done: make(chan struct{})}
	s.cmd = exec.Command("podman", "system", "service", "--time=0", s.uri)
	s.cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+filepath.Join(engine.StateDir(), "containers.conf"))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start podman service: %v", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.kill(t) })
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		e, err := engine.Connect(ctx, s.uri, engine.ConnectOptions{Timeout: 2 * time.Second})
		if err == nil {
			err = e.Ping(ctx)
		}
		cancel()
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("private service on %s did not answer: %v", sock, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// kill ends the service with SIGKILL, as a crash would, and waits for it.
func (s *service) kill(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	_ = os.Remove(s.sock)
}

// stop ends the service gracefully (SIGTERM), as `systemctl stop` would.
func (s *service) stop(t *testing.T) {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.kill(t)
	}
	_ = os.Remove(s.sock)
}

func tempSock(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "/tmp/pd-hard-" + hex.EncodeToString(b) + ".sock"
}
