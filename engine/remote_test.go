//go:build !unit

package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
	"github.com/pocketdock/pocketdock/internal/remotetest"
)

// A second Podman service on tcp://127.0.0.1:PORT is a full engine: create,
// exec and remove through it, and its errors name it once it is gone.
func TestRemoteTCPEngine(t *testing.T) {
	eng := enginetest.Engine(t)
	ctx := context.Background()
	svc := remotetest.StartPodmanTCP(t, filepath.Join(engine.StateDir(), "containers.conf"))
	e, err := engine.Connect(ctx, svc.URI, engine.ConnectOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("connect %s: %v\n%s", svc.URI, err, svc.Log())
	}
	if e.URI != svc.URI || e.Local() || e.Version() == "" {
		t.Fatalf("engine %q local=%v version=%q", e.URI, e.Local(), e.Version())
	}
	id, err := e.Create(ctx, engine.Spec{Name: engine.RandomName()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Remove(context.Background(), id) // the services share storage
	if err := e.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"sh", "-c", "echo over tcp; exit 4"}})
	if err != nil || string(res.Stdout) != "over tcp\n" || res.ExitCode != 4 {
		t.Fatalf("exec over tcp: %+v %v", res, err)
	}

	svc.Stop()
	err = e.Ping(ctx)
	var pe *engine.Error
	if !engine.IsKind(err, engine.EngineUnavailable) || !errors.As(err, &pe) || pe.Engine != svc.URI {
		t.Fatalf("ping of a stopped tcp engine: %v", err)
	}
	// The default engine is untouched by the other one going away.
	if err := eng.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// Connecting to an explicit URI that does not answer names that URI and
// nothing else: no discovery, no private service.
func TestConnectExplicitURIFailsNamingIt(t *testing.T) {
	uri := "tcp://127.0.0.1:" + itoa(remotetest.FreePort(t))
	_, err := engine.Connect(context.Background(), uri, engine.ConnectOptions{Timeout: 2 * time.Second, Autostart: true})
	if !engine.IsKind(err, engine.EngineUnavailable) || !strings.Contains(err.Error(), uri) || strings.Contains(err.Error(), "private service") {
		t.Fatalf("got %v", err)
	}
	for _, bad := range []string{"ftp://127.0.0.1/x", "127.0.0.1:2375"} {
		_, err := engine.Connect(context.Background(), bad, engine.ConnectOptions{Timeout: time.Second})
		if !engine.IsKind(err, engine.InvalidArgument) {
			t.Fatalf("%s: got %v", bad, err)
		}
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
