//go:build !unit

package engine_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// The private service (and conmon under it) must not work in the user's
// folder: conmon drops files such as "oom" into its working directory.
func TestPrivateServiceWorksInItsStateDir(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var notices []string
	e, err := engine.StartPrivate(ctx, engine.ConnectOptions{Timeout: 10 * time.Second, Notify: func(s string) { notices = append(notices, s) }})
	if err != nil {
		t.Fatal(err)
	}
	sock := engine.PrivateSocket()
	t.Cleanup(func() { exec.Command("pkill", "-f", "system service --time=600 unix://"+sock).Run() })
	if len(notices) != 1 || !strings.Contains(notices[0], sock) {
		t.Errorf("one notice naming the socket, got %q", notices)
	}
	if err := e.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pgrep", "-f", "system service --time=600 unix://"+sock).Output()
	if err != nil {
		t.Fatalf("service not found: %v", err)
	}
	pid := strings.Fields(string(out))[0]
	cwd, err := os.Readlink("/proc/" + pid + "/cwd")
	if err != nil {
		t.Fatal(err)
	}
	if cwd != filepath.Join(state, "pocketdock") {
		t.Errorf("service works in %s, want its state dir", cwd)
	}
	// A second start finds the running service instead of starting another.
	notices = nil
	if _, err := engine.StartPrivate(ctx, engine.ConnectOptions{Timeout: 10 * time.Second, Notify: func(s string) { notices = append(notices, s) }}); err != nil || len(notices) != 0 {
		t.Errorf("second start: %v, notices %q", err, notices)
	}
}

// A named engine that does not answer is the error: no other engine is used
// in its place, and no private service is started.
func TestNamedEngineIsTheOnlyCandidate(t *testing.T) {
	eng := enginetest.Engine(t)
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, env := range []string{"POCKETDOCK_SOCKET", "CONTAINER_HOST"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, "tcp://127.0.0.1:1")
			e, err := engine.Connect(ctx, "", engine.ConnectOptions{Autostart: true, Timeout: 5 * time.Second})
			if err == nil {
				t.Fatalf("connected to %s", e.URI)
			}
			if !engine.IsKind(err, engine.EngineUnavailable) || !strings.Contains(err.Error(), env) || !strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("error %v", err)
			}
			if _, err := os.Stat(filepath.Join(state, "pocketdock", "podman.sock")); err == nil {
				t.Errorf("a private service was started")
			}
		})
	}
	t.Setenv("POCKETDOCK_SOCKET", "bogus")
	if _, err := engine.Connect(ctx, "", engine.ConnectOptions{}); !engine.IsKind(err, engine.InvalidArgument) || !strings.Contains(err.Error(), "POCKETDOCK_SOCKET") {
		t.Errorf("a bad URI in POCKETDOCK_SOCKET: %v", err)
	}
	// Named explicitly and answering: that one, and it says how it was chosen.
	e, err := engine.Connect(ctx, eng.URI, engine.ConnectOptions{})
	if err != nil || e.URI != eng.URI || e.Source != "socket_path" {
		t.Errorf("explicit: %v %+v", err, e)
	}
}
