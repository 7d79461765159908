package engine

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testEngine is the one real engine the package's tests share. A missing
// engine fails the tests: they are the product's contract with Podman.
var testEngine *Engine

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e, err := Connect(ctx, "", ConnectOptions{Autostart: true, Notify: func(s string) { fmt.Fprintln(os.Stderr, s) }})
	if err == nil {
		err = e.EnsureDefaultImage(ctx, func(s string) { fmt.Fprintln(os.Stderr, s) })
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "engine tests need a Podman engine:", err)
		os.Exit(1)
	}
	testEngine = e
	os.Exit(m.Run())
}

// sandbox creates and starts a throw-away container for one test.
func sandbox(t *testing.T, s Spec) string {
	t.Helper()
	ctx := context.Background()
	if s.Name == "" {
		s.Name = RandomName()
	}
	id, err := testEngine.Create(ctx, s)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { testEngine.Remove(context.Background(), id) })
	if err := testEngine.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	return id
}

func TestExecSeparatesStreamsAndExitCode(t *testing.T) {
	id := sandbox(t, Spec{})
	res, err := testEngine.Exec(context.Background(), id, ExecSpec{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
		t.Fatalf("got %+v", res)
	}
}

func TestExecTimeoutKillsCommandAndKeepsOutput(t *testing.T) {
	id := sandbox(t, Spec{})
	start := time.Now()
	res, err := testEngine.Exec(context.Background(), id, ExecSpec{
		Argv: []string{"sh", "-c", "echo started; sleep 30 & sleep 30; echo never"}, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || string(res.Stdout) != "started\n" || time.Since(start) > 5*time.Second {
		t.Fatalf("got %+v after %v", res, time.Since(start))
	}
	ps, err := testEngine.Exec(context.Background(), id, ExecSpec{Argv: []string{"sh", "-c", "ps -o pid,args | grep 'sleep 30' | grep -v grep || true"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(ps.Stdout)) != "" {
		t.Fatalf("sleep still running:\n%s", ps.Stdout)
	}
}
