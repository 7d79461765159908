//go:build !unit

package luaapi

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// A create that fails in a project folder leaves no instance folder behind,
// and a name clash never touches the folder of the sandbox holding the name.
func TestFailedCreateLeavesProjectAlone(t *testing.T) {
	root := t.TempDir()
	yes := true
	if _, err := project.Init(root, project.Config{Name: "failproj", Persist: &yes}, false); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	var stderr bytes.Buffer
	L := lua.NewState()
	m := New(Options{Stderr: &stderr})
	m.Preload(L)
	name := "projfail-" + strings.TrimPrefix(engine.RandomName(), "pd-")
	t.Cleanup(func() {
		L.DoString(`pcall(pocketdock.destroy_container, "` + name + `")`)
		m.Cleanup()
		L.Close()
	})
	inst := filepath.Join(root, ".pocketdock", "instances")
	err := L.DoString(`
local pd = pocketdock
local ok, err = pcall(pd.create_new_container, {name = "` + name + `-img", image = "localhost/no-such-image:1"})
assert(not ok and err.kind == "ImageNotFound", tostring(err))
local c = pd.create_new_container{name = "` + name + `"}
assert(c.persist and c.project == "failproj")
c:run("echo first")
ok, err = pcall(pd.create_new_container, {name = "` + name + `"})
assert(not ok and err.kind == "NameConflict", tostring(err))
-- a name held by a sandbox outside the project
other = pd.create_new_container{name = "` + name + `-other", project = "elsewhere", persist = false}
ok, err = pcall(pd.create_new_container, {name = "` + name + `-other"})
assert(not ok and err.kind == "NameConflict", tostring(err))
other:shutdown()
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, left := range []string{name + "-img", name + "-other"} {
		if _, err := os.Stat(filepath.Join(inst, left)); !os.IsNotExist(err) {
			t.Errorf("a failed create left %s/%s (%v)", inst, left, err)
		}
	}
	hist, err := os.ReadFile(filepath.Join(inst, name, "history.jsonl"))
	if err != nil || !strings.Contains(string(hist), "echo first") {
		t.Errorf("the name holder's history after a clash: %q, %v", hist, err)
	}
	if err := L.DoString(`pocketdock.destroy_container("` + name + `")`); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inst, name)); !os.IsNotExist(err) {
		t.Errorf("destroy kept the instance folder (%v)", err)
	}
}
