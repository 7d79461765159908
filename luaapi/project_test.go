package luaapi

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

func TestFindProjectSearchesUpward(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	os.MkdirAll(deep, 0o755)
	if p, err := FindProject(deep); p != nil || err != nil {
		t.Fatalf("no project yet: %v %v", p, err)
	}
	yes := true
	if _, err := InitProject(root, ProjectConfig{Image: "tools:1", Persist: &yes}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := InitProject(root, ProjectConfig{}, false); err == nil {
		t.Fatal("a second init overwrote the file")
	}
	p, err := FindProject(deep)
	if err != nil || p == nil {
		t.Fatalf("project not found from a subfolder: %v", err)
	}
	if p.Root != root || p.Config.Name != filepath.Base(root) || p.Config.Image != "tools:1" || p.Config.Persist == nil || !*p.Config.Persist {
		t.Fatalf("project %+v", p)
	}
	os.WriteFile(filepath.Join(root, projectDir, projectFile), []byte("name: [unclosed"), 0o644)
	if _, err := FindProject(deep); err == nil {
		t.Fatal("a broken file was accepted")
	}
}

func TestUnderInstances(t *testing.T) {
	root := t.TempDir()
	inst := filepath.Join(root, ".pocketdock", "instances")
	good := filepath.Join(inst, "box")
	os.MkdirAll(good, 0o755)
	outside := filepath.Join(root, "elsewhere")
	os.MkdirAll(outside, 0o755)
	os.Symlink(outside, filepath.Join(inst, "link"))
	cases := map[string]bool{
		good:                               true,
		inst:                               false,
		filepath.Join(inst, "link"):        false, // leads out of instances/
		outside:                            false,
		filepath.Join(inst, "missing"):     false,
		"relative/.pocketdock/instances/x": false,
		filepath.Join(good, "..", "..", "instances", "box"): true,
	}
	for path, want := range cases {
		if got := underInstances(path); got != want {
			t.Errorf("underInstances(%s) = %v, want %v", path, got, want)
		}
	}
	removeDataPath(filepath.Join(inst, "link"))
	removeDataPath(outside)
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("a folder outside instances/ was removed")
	}
	removeDataPath(good)
	if _, err := os.Stat(good); !os.IsNotExist(err) {
		t.Fatal("the instance folder was kept")
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "TRUE": true, "yes": true, "0": false, "false": false, "off": false} {
		if got, ok := parseBool(in); !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := parseBool("maybe"); ok {
		t.Error("parseBool accepted maybe")
	}
}

// A create that fails in a project folder leaves no instance folder behind,
// and a name clash never touches the folder of the sandbox holding the name.
func TestFailedCreateLeavesProjectAlone(t *testing.T) {
	root := t.TempDir()
	yes := true
	if _, err := InitProject(root, ProjectConfig{Name: "failproj", Persist: &yes}, false); err != nil {
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
