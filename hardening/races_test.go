//go:build !unit

package hardening

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
	"github.com/pocketdock/pocketdock/luaapi"
)

// Ten module states create one name at once: exactly one wins, the others get NameConflict.
func TestConcurrentCreateOneName(t *testing.T) {
	name := uniq("race")
	destroyLater(t, enginetest.Engine(t), name)
	const n = 10
	kinds := make([]string, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		s := newState(t, "")
		wg.Add(1)
		go func(i int, s *state) {
			defer wg.Done()
			<-start
			err := s.L.DoString(`pocketdock.create_new_container{name = "` + name + `"}`)
			var ae *lua.ApiError
			switch {
			case err == nil:
				kinds[i] = "ok"
			case errors.As(err, &ae):
				kinds[i] = luaapi.ErrorKind(ae.Object) + ": " + luaapi.ErrorText(ae.Object)
			default:
				kinds[i] = err.Error()
			}
		}(i, s)
	}
	close(start)
	wg.Wait()
	wins, conflicts := 0, 0
	for _, k := range kinds {
		switch {
		case k == "ok":
			wins++
		case strings.HasPrefix(k, "NameConflict: "):
			conflicts++
		default:
			t.Errorf("unexpected outcome: %s", k)
		}
	}
	t.Logf("FIGURE create-race: %d creates, %d won, %d NameConflict", n, wins, conflicts)
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("want 1 win and %d conflicts, got %v", n-1, kinds)
	}
}

func fdCount() int {
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// ownedBySelf counts managed containers this test process made and still has.
func ownedBySelf(t *testing.T) int {
	list, err := enginetest.Engine(t).List(ctxT(t, 10*time.Second), engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range list {
		if c.Owner == engine.SelfOwner() {
			n++
		}
	}
	return n
}

// cycles is how many create→run→shutdown cycles TestCycles runs (~0.35 s each here).
const cycles = 200

// Many create→run→shutdown cycles in one state leak no containers,
// goroutines or descriptors, and memory stays bounded.
func TestCycles(t *testing.T) {
	s := newState(t, "")
	const one = `local c = pocketdock.create_new_container{} local r = c:run("echo x") assert(r.stdout == "x\n") c:shutdown()`
	s.run(t, one) // warm up: the connection, the reap, lazily made tables
	time.Sleep(200 * time.Millisecond)
	g0, fd0, h0, c0 := runtime.NumGoroutine(), fdCount(), heapAfterGC(), ownedBySelf(t)
	start := time.Now()
	var peak uint64
	for i := 0; i < cycles; i++ {
		s.run(t, one)
		if i%50 == 49 {
			if h := heapAfterGC(); h > peak {
				peak = h
			}
		}
	}
	took := time.Since(start)
	time.Sleep(500 * time.Millisecond) // let closed connections' goroutines end
	g1, fd1, h1, c1 := runtime.NumGoroutine(), fdCount(), heapAfterGC(), ownedBySelf(t)
	t.Logf("FIGURE cycles: %d cycles in %.1f s (%.0f ms each); goroutines %d -> %d; fds %d -> %d; heap %.1f MiB -> %.1f MiB (peak %.1f MiB); own containers %d -> %d",
		cycles, took.Seconds(), took.Seconds()*1000/cycles, g0, g1, fd0, fd1, mib(h0), mib(h1), mib(peak), c0, c1)
	if c1 != c0 {
		t.Errorf("containers leaked: %d before, %d after", c0, c1)
	}
	if g1 > g0+5 {
		t.Errorf("goroutines leaked: %d before, %d after", g0, g1)
	}
	if fd1 > fd0+5 {
		t.Errorf("file descriptors leaked: %d before, %d after", fd0, fd1)
	}
	if h1 > h0+16<<20 {
		t.Errorf("heap grew from %.1f MiB to %.1f MiB", mib(h0), mib(h1))
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// prune in one process while another creates and uses sandboxes: no running
// or freshly created sandbox is ever removed; a stopped one is.
func TestPruneVersusCreate(t *testing.T) {
	eng := enginetest.Engine(t)
	project := uniq("prj")
	fresh, old := uniq("fresh"), uniq("old")
	destroyLater(t, eng, fresh, old)
	t.Cleanup(func() { // whatever the creator left in the project
		list, _ := eng.List(ctxT(t, 20*time.Second), engine.Filter{Project: project})
		for _, c := range list {
			_ = eng.Remove(ctxT(t, 20*time.Second), c.ID)
		}
	})
	ctx := ctxT(t, 30*time.Second)
	// A created, never started sandbox: what another process holds between create and start.
	if _, err := eng.Create(ctx, engine.Spec{Name: fresh, Project: project, Persist: true}); err != nil {
		t.Fatal(err)
	}
	// A stopped persistent sandbox from earlier: prune's proper target.
	id, err := eng.Create(ctx, engine.Spec{Name: old, Project: project, Persist: true})
	if err == nil {
		err = eng.Start(ctx, id)
	}
	if err == nil {
		err = eng.Stop(ctx, id, time.Second)
	}
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 15
	stopFile := filepath.Join(t.TempDir(), "stop")
	creator := startBin(t, script(t, fmt.Sprintf(`
for i = 1, %d do
  local c = pocketdock.create_new_container{project = %q}
  local r = c:run("echo alive")
  assert(r.stdout == "alive\n", "round " .. i .. ": " .. r.stderr)
  assert(c:run("true").ok)
  c:shutdown()
end
print("CREATOR DONE")`, rounds, project)))
	pruner := startBin(t, script(t, fmt.Sprintf(`
local n = 0
repeat
  local _, names = pocketdock.prune{project = %q}
  n = n + 1
  for _, name in ipairs(names) do print("PRUNED " .. name) end
  local f = io.open(%q)
  if f then f:close() end
until f
print("PRUNER DONE " .. n)`, project, stopFile)))
	code := creator.wait(t, 90*time.Second)
	if err := os.WriteFile(stopFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pcode := pruner.wait(t, 30*time.Second)
	out := pruner.stdout.String()
	t.Logf("FIGURE prune-race: %d create/run/shutdown rounds against %s prune calls; pruned: %s",
		rounds, strings.TrimPrefix(lastLine(out), "PRUNER DONE "), strings.Join(prunedNames(out), ","))
	if code != 0 || !strings.Contains(creator.stdout.String(), "CREATOR DONE") {
		t.Fatalf("the creator failed (exit %d) while prune ran:\n%s\n%s", code, creator.stdout, creator.stderr)
	}
	if pcode != 0 {
		t.Fatalf("the pruner failed (exit %d): %s", pcode, pruner.stderr)
	}
	pruned := strings.Join(prunedNames(out), " ")
	if strings.Contains(pruned, fresh) {
		t.Errorf("prune removed the fresh (created, not started) sandbox")
	}
	if !strings.Contains(pruned, old) {
		t.Errorf("prune did not remove the stopped sandbox %s: %s", old, out)
	}
	if ok, _ := exists(t, eng, fresh); !ok {
		t.Errorf("the fresh sandbox is gone")
	}
}

func prunedNames(out string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if n, ok := strings.CutPrefix(l, "PRUNED "); ok {
			names = append(names, n)
		}
	}
	return names
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
