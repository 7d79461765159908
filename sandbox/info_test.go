//go:build !unit

package sandbox_test

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"testing"

	"github.com/pocketdock/pocketdock/engine"
)

// Info describes the sandbox from the engine's record, and its json names
// are the keys c:info() gives scripts: the limits and ports are there (ports
// even when none is published), project and started_at only when set.
func TestContainerInfo(t *testing.T) {
	reg := newRegistry(t)
	c := create(t, reg, engine.Spec{Labels: map[string]string{"team": "blue"}, MemLimit: 64 << 20, PidsLimit: 300})
	in, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != c.ID() || in.Name != c.Name || in.Status != "running" || !in.Running || in.Pid == 0 || in.Engine != c.Engine().URI {
		t.Errorf("info: %+v", in)
	}
	if in.MemLimit == nil || *in.MemLimit != 64<<20 || in.PidsLimit == nil || *in.PidsLimit != 300 || in.ReadOnly == nil || *in.ReadOnly {
		t.Errorf("limits: %v %v %v", in.MemLimit, in.PidsLimit, in.ReadOnly)
	}
	if in.Labels["team"] != "blue" || in.Labels[engine.LabelInstance] != c.Name || in.CreatedAt == "" || in.StartedAt == "" {
		t.Errorf("labels %v, created %q, started %q", in.Labels, in.CreatedAt, in.StartedAt)
	}
	for k, v := range in.Labels {
		if v == "" {
			t.Errorf("blanked label %s is listed", k)
		}
	}
	var m map[string]any
	b, _ := json.Marshal(in)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"created_at", "engine", "id", "image", "labels", "mem_limit", "name", "oom_killed", "persist", "pid", "pids_limit", "ports", "read_only", "running", "started_at", "status"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %v, want %v", keys, want)
	}
	if p, ok := m["ports"].(map[string]any); !ok || len(p) != 0 {
		t.Errorf("ports with none published: %#v", m["ports"])
	}
}

// Diagnose's json names are pd.doctor()'s keys: the engine's part is there
// when it answered, with empty lists rather than none.
func TestDiagnoseReport(t *testing.T) {
	reg := newRegistry(t)
	d := reg.Diagnose(context.Background(), "")
	if !d.OK || d.Err != nil || d.EngineReport == nil || d.StateDir != engine.StateDir() {
		t.Fatalf("diagnosis: %+v", d)
	}
	var m map[string]any
	b, _ := json.Marshal(d)
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ok", "state_dir", "engine", "engine_source", "sockets_tried", "engine_version", "userns", "sandboxes", "default_image", "orphans", "removed_orphans"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %s in %s", k, b)
		}
	}
	if _, ok := m["error"]; ok {
		t.Errorf("error in a good report: %s", b)
	}
	tried := d.Tried
	if len(tried) == 0 || tried[len(tried)-1] != d.URI+" (answered)" {
		t.Errorf("sockets tried: %q", tried)
	}

	bad := reg.Diagnose(context.Background(), "unix:///nonexistent/pd-test.sock")
	b, _ = json.Marshal(bad)
	m = nil
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if bad.OK || bad.Err == nil || len(m) != 3 || m["error"] != bad.Err.Error() {
		t.Errorf("unreachable engine: %s", b)
	}
}
