package project

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestFindProjectSearchesUpward(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	os.MkdirAll(deep, 0o755)
	if p, err := Find(deep); p != nil || err != nil {
		t.Fatalf("no project yet: %v %v", p, err)
	}
	yes := true
	if _, err := Init(root, Config{Image: "tools:1", Persist: &yes}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(root, Config{}, false); err == nil {
		t.Fatal("a second init overwrote the file")
	}
	p, err := Find(deep)
	if err != nil || p == nil {
		t.Fatalf("project not found from a subfolder: %v", err)
	}
	if p.Root != root || p.Config.Name != filepath.Base(root) || p.Config.Image != "tools:1" || p.Config.Persist == nil || !*p.Config.Persist {
		t.Fatalf("project %+v", p)
	}
	os.WriteFile(filepath.Join(root, projectDir, projectFile), []byte("name: [unclosed"), 0o644)
	if _, err := Find(deep); err == nil {
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
		if got := UnderInstances(path); got != want {
			t.Errorf("UnderInstances(%s) = %v, want %v", path, got, want)
		}
	}
	RemoveDataPath(filepath.Join(inst, "link"))
	RemoveDataPath(outside)
	if _, err := os.Stat(outside); err != nil {
		t.Fatal("a folder outside instances/ was removed")
	}
	RemoveDataPath(good)
	if _, err := os.Stat(good); !os.IsNotExist(err) {
		t.Fatal("the instance folder was kept")
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"1": true, "TRUE": true, "yes": true, "0": false, "false": false, "off": false} {
		if got, ok := ParseBool(in); !ok || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := ParseBool("maybe"); ok {
		t.Error("ParseBool accepted maybe")
	}
}

// Info is what pd.project() shows: no image key without an image, persist
// false when unset, and an empty list, not none, before any instance.
func TestProjectInfo(t *testing.T) {
	root := t.TempDir()
	p := &Project{Root: root, Config: Config{Name: "app"}}
	b, _ := json.Marshal(p.Info())
	if string(b) != `{"name":"app","root":"`+root+`","persist":false,"instances":[]}` {
		t.Errorf("bare project: %s", b)
	}
	os.MkdirAll(filepath.Join(root, projectDir, instanceDir, "box"), 0o755)
	yes := true
	p.Config.Image, p.Config.Persist = "tools:1", &yes
	if in := p.Info(); in.Image != "tools:1" || !in.Persist || len(in.Instances) != 1 || in.Instances[0] != "box" {
		t.Errorf("project with an instance: %+v", in)
	}
}
