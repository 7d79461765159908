//go:build !unit

// Package enginetest is the one Podman engine the integration tests share:
// the engine a script would get (the private service is started when nothing
// else answers) with the default image in it, connected once per test binary.
//
// There is no fake and no skip: without an engine every test that asks for
// it fails, since those tests are the product's contract with Podman. Tests
// of pure logic never ask for it, and `make unit` builds only them: every file
// that needs an engine, this package included, carries `//go:build !unit`, so
// `go test -tags unit` cannot reach an engine even by mistake.
package enginetest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
)

var (
	once   sync.Once
	shared *engine.Engine
	failed error
)

// Engine returns the shared engine, connecting on the first call; when there
// is no engine it fails the test (the same error for every test after the
// first try). The connection is made with the environment of the first
// caller: a test that changes POCKETDOCK_SOCKET, CONTAINER_HOST or
// XDG_STATE_HOME calls Engine before it does.
func Engine(t testing.TB) *engine.Engine {
	t.Helper()
	once.Do(connect)
	if failed != nil {
		t.Fatalf("these tests need a Podman engine: %v", failed)
	}
	return shared
}

func connect() {
	notify := func(s string) { fmt.Fprintln(os.Stderr, s) }
	// Starting the private service and building the default image offline
	// take seconds; a minute means something is wrong.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := engine.Connect(ctx, "", engine.ConnectOptions{Autostart: true, Notify: notify})
	if err == nil {
		err = e.EnsureDefaultImage(ctx, notify)
	}
	if err != nil {
		failed = err
		return
	}
	shared = e
}
