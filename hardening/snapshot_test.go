//go:build !unit

package hardening

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// writer runs in the sandbox: each round writes a=i, then b=i, then the file n<i>.
// a and b are replaced by rename, so a pause never catches one half-written.
// At any instant N <= B <= A <= N+1 with n1..nN all present (N = their count).
// It is spawned: a run ends what it leaves behind, a spawn does not.
const writer = `setsid sh -c 'i=0; while :; do i=$((i+1)); echo $i > /data/.a; mv /data/.a /data/a; echo $i > /data/.b; mv /data/.b /data/b; : > /data/n$i; done' </dev/null >/dev/null 2>&1 &`

// check prints "A B N MAX" from a copy of the writer's directory.
const check = `cd /data && echo "$(cat a) $(cat b) $(ls | grep -c '^n') $(ls | grep '^n' | sed 's/^n//' | sort -n | tail -1)"`

// A snapshot of a running container is consistent: the commit pauses it, so
// the image holds one instant of the writer; pause=false also works.
func TestSnapshotConsistent(t *testing.T) {
	s := newState(t, "")
	tag := strings.ToLower(uniq("snap"))
	refs := []string{"localhost/" + tag + ":paused", "localhost/" + tag + ":live"}
	t.Cleanup(func() {
		for _, r := range refs {
			_ = enginetest.Engine(t).RemoveImage(ctxT(t, 30*time.Second), r, true)
		}
	})
	s.run(t, fmt.Sprintf(`
local c = pocketdock.create_new_container{}
assert(c:run("mkdir /data").ok)
c:spawn(%q) -- spawned: what a run leaves behind ends with it
pocketdock.clock()
local t0 = pocketdock.clock()
while pocketdock.clock() - t0 < 800 do end -- let it write for a while
local t1 = pocketdock.clock()
paused_id = c:snapshot(%q)
paused_ms = pocketdock.clock() - t1
t1 = pocketdock.clock()
live_id = c:snapshot(%q, {pause = false})
live_ms = pocketdock.clock() - t1
local function look(ref)
  local s = pocketdock.create_new_container{image = ref}
  local r = s:run(%q)
  s:shutdown()
  return r.stdout
end
paused_state = look(%q)
live_state = look(%q)
c:shutdown()`, writer, refs[0], refs[1], check, refs[0], refs[1]))
	var a, b, n, max int
	if _, err := fmt.Sscan(s.global("paused_state"), &a, &b, &n, &max); err != nil {
		t.Fatalf("reading the paused snapshot %q: %v", s.global("paused_state"), err)
	}
	t.Logf("FIGURE snapshot: paused commit %s ms holds a=%d b=%d files=%d (max n%d); pause=false commit %s ms holds %q",
		s.global("paused_ms"), a, b, n, max, s.global("live_ms"), strings.TrimSpace(s.global("live_state")))
	if n == 0 || n != max || b < n || a < b || a > n+1 {
		t.Fatalf("inconsistent paused snapshot: a=%d b=%d files=%d max=%d", a, b, n, max)
	}
	if s.global("live_id") == "" || strings.TrimSpace(s.global("live_state")) == "" {
		t.Fatalf("pause=false snapshot failed")
	}
}

// A sandbox made from a project sandbox's snapshot, outside the project, is
// not listed under it, and destroying it leaves the original's history alone.
func TestSnapshotCarriesNoProject(t *testing.T) {
	eng := enginetest.Engine(t)
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, ".pocketdock"), 0o755)
	os.WriteFile(filepath.Join(root, ".pocketdock", "pocketdock.yaml"), []byte("name: snapproj\npersist: true\n"), 0o644)
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	orig, copyName := uniq("snaporig"), uniq("snapcopy")
	ref := "localhost/" + uniq("snapproj") + ":1"
	destroyLater(t, eng, orig, copyName)
	t.Cleanup(func() { _ = eng.RemoveImage(ctxT(t, 30*time.Second), ref, true) })
	s := newState(t, "")
	s.run(t, fmt.Sprintf(`
local c = pocketdock.create_new_container{name = %q}
assert(c.project == "snapproj" and c.persist)
c:run("echo hello > /root/x")
c:snapshot(%q)
c:shutdown()`, orig, ref))
	hist := filepath.Join(root, ".pocketdock", "instances", orig, "history.jsonl")
	if _, err := os.Stat(hist); err != nil {
		t.Fatalf("no history for the project sandbox: %v", err)
	}
	if err := os.Chdir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	s.run(t, fmt.Sprintf(`
local c = pocketdock.create_new_container{name = %q, image = %q, persist = true}
copy_file = c:run("cat /root/x").stdout
local info = c:info()
copy_labels = tostring(info.labels["pocketdock.project"]) .. "|" .. tostring(info.labels["pocketdock.data-path"]) .. "|" .. tostring(info.labels["pocketdock.owner"])
listed = 0
for _, x in ipairs(pocketdock.list_containers{project = "snapproj"}) do listed = listed + 1 end
pocketdock.destroy_container(%q)`, copyName, ref, copyName))
	t.Logf("FIGURE snapshot of a project sandbox: copy reads %q, its project|data-path|owner labels %q, project lists %s",
		strings.TrimSpace(s.global("copy_file")), s.global("copy_labels"), s.global("listed"))
	if s.global("copy_file") != "hello\n" || s.global("copy_labels") != "nil|nil|nil" || s.global("listed") != "1" {
		t.Errorf("copy: file %q labels %q listed %s", s.global("copy_file"), s.global("copy_labels"), s.global("listed"))
	}
	if _, err := os.Stat(hist); err != nil {
		t.Errorf("destroying the copy removed the original's history: %v", err)
	}
}
