package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/internal/remotetest"
)

// A second Podman service on tcp://127.0.0.1:PORT is a full engine: create,
// exec and remove through it, and its errors name it once it is gone.
func TestRemoteTCPEngine(t *testing.T) {
	ctx := context.Background()
	svc := remotetest.StartPodmanTCP(t, filepath.Join(StateDir(), "containers.conf"))
	e, err := Connect(ctx, svc.URI, ConnectOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("connect %s: %v\n%s", svc.URI, err, svc.Log())
	}
	if e.URI != svc.URI || e.Local() || e.Version() == "" {
		t.Fatalf("engine %q local=%v version=%q", e.URI, e.Local(), e.Version())
	}
	id, err := e.Create(ctx, Spec{Name: RandomName()})
	if err != nil {
		t.Fatal(err)
	}
	defer testEngine.Remove(context.Background(), id) // the services share storage
	if err := e.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	res, err := e.Exec(ctx, id, ExecSpec{Argv: []string{"sh", "-c", "echo over tcp; exit 4"}})
	if err != nil || string(res.Stdout) != "over tcp\n" || res.ExitCode != 4 {
		t.Fatalf("exec over tcp: %+v %v", res, err)
	}

	svc.Stop()
	err = e.Ping(ctx)
	var pe *Error
	if !IsKind(err, EngineUnavailable) || !asError(err, &pe) || pe.Engine != svc.URI {
		t.Fatalf("ping of a stopped tcp engine: %v", err)
	}
	// The default engine is untouched by the other one going away.
	if err := testEngine.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func asError(err error, pe **Error) bool {
	e, ok := err.(*Error)
	*pe = e
	return ok
}

// Connecting to an explicit URI that does not answer names that URI and
// nothing else: no discovery, no private service.
func TestConnectExplicitURIFailsNamingIt(t *testing.T) {
	uri := "tcp://127.0.0.1:" + itoa(remotetest.FreePort(t))
	_, err := Connect(context.Background(), uri, ConnectOptions{Timeout: 2 * time.Second, Autostart: true})
	if !IsKind(err, EngineUnavailable) || !strings.Contains(err.Error(), uri) || strings.Contains(err.Error(), "private service") {
		t.Fatalf("got %v", err)
	}
	for _, bad := range []string{"ftp://127.0.0.1/x", "127.0.0.1:2375"} {
		_, err := Connect(context.Background(), bad, ConnectOptions{Timeout: time.Second})
		if !IsKind(err, InvalidArgument) {
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
