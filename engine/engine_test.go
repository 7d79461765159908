//go:build !unit

package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// sandbox creates and starts a throw-away container for one test.
func sandbox(t *testing.T, s engine.Spec) string {
	eng := enginetest.Engine(t)
	t.Helper()
	ctx := context.Background()
	if s.Name == "" {
		s.Name = engine.RandomName()
	}
	id, err := eng.Create(ctx, s)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { eng.Remove(context.Background(), id) })
	if err := eng.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	return id
}

func TestExecSeparatesStreamsAndExitCode(t *testing.T) {
	id := sandbox(t, engine.Spec{})
	res, err := enginetest.Engine(t).Exec(context.Background(), id, engine.ExecSpec{Argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}})
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 3 {
		t.Fatalf("got %+v", res)
	}
}

func TestExecTimeoutKillsCommandAndKeepsOutput(t *testing.T) {
	eng := enginetest.Engine(t)
	id := sandbox(t, engine.Spec{})
	start := time.Now()
	res, err := eng.Exec(context.Background(), id, engine.ExecSpec{
		Argv: []string{"sh", "-c", "echo started; sleep 30 & sleep 30; echo never"}, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.TimedOut || string(res.Stdout) != "started\n" || time.Since(start) > 5*time.Second {
		t.Fatalf("got %+v after %v", res, time.Since(start))
	}
	ps, err := eng.Exec(context.Background(), id, engine.ExecSpec{Argv: []string{"sh", "-c", "ps -o pid,args | grep 'sleep 30' | grep -v grep || true"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(ps.Stdout)) != "" {
		t.Fatalf("sleep still running:\n%s", ps.Stdout)
	}
}

// Every sandbox gets a memory limit unless it asks for none; a disk limit is
// refused where the engine's storage has no quotas (ext4 here) and applied
// where it has.
func TestDefaultLimits(t *testing.T) {
	eng := enginetest.Engine(t)
	ctx := context.Background()
	for _, c := range []struct {
		spec engine.Spec
		want int64
	}{{engine.Spec{}, eng.DefaultMemLimit()}, {engine.Spec{MemLimit: -1}, 0}, {engine.Spec{MemLimit: 64 << 20}, 64 << 20}} {
		id := sandbox(t, c.spec)
		d, err := eng.Inspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.HostConfig.Memory != c.want {
			t.Errorf("MemLimit %d: engine has %d, want %d", c.spec.MemLimit, d.HostConfig.Memory, c.want)
		}
	}
	if m := eng.DefaultMemLimit(); m <= 0 || m > 1<<30 || (engine.HostMemTotal() >= 4<<30 && m != 1<<30) {
		t.Errorf("default memory limit %d on a host with %d", m, engine.HostMemTotal())
	}
	id, err := eng.Create(ctx, engine.Spec{Name: engine.RandomName(), DiskLimit: 1 << 30})
	if err == nil {
		eng.Remove(ctx, id)
	}
	if eng.DiskQuotas() {
		if err != nil {
			t.Errorf("disk_limit on a storage with quotas: %v", err)
		}
	} else if !engine.IsKind(err, engine.InvalidArgument) {
		t.Errorf("disk_limit without quotas: %v, want InvalidArgument", err)
	}
	t.Logf("FIGURE limits: default memory %d MiB (host %d MiB); disk quotas %v", eng.DefaultMemLimit()>>20, engine.HostMemTotal()>>20, eng.DiskQuotas())
}
