package engine

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// A fresh reboot recreates a sandbox from its record: every option must survive.
func TestSpecFromInspectKeepsOptions(t *testing.T) {
	dir := t.TempDir()
	want := Spec{
		Name: RandomName(), Image: DefaultImage, Persist: true, Project: "spec-test",
		Env: map[string]string{"A": "1"}, Workdir: "/tmp", User: "1000", Network: "bridge",
		Ports:   []Port{{Host: 18777, Container: 80, HostIP: "127.0.0.1", Protocol: "tcp"}},
		Volumes: []Volume{{Source: dir, Target: "/data", ReadOnly: true}},
		Labels:  map[string]string{"team": "blue"}, ReadOnly: true,
		MemLimit: 64 << 20, CPUPercent: 50, PidsLimit: 200,
	}
	id := sandbox(t, want)
	d, err := testEngine.Inspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := SpecFromInspect(d)
	if got.Env["A"] != "1" || got.Env["PATH"] == "" {
		t.Errorf("env: %v", got.Env)
	}
	got.Env, want.Env = nil, nil
	want.Image += ":latest" // the engine records the full reference
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rebuilt spec differs:\n got %+v\nwant %+v", got, want)
	}
}

// The labels are the Python SDK's, readable by any tool: here, podman's own CLI.
func TestLabelsReadableByPodmanCLI(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman CLI missing")
	}
	name := RandomName()
	sandbox(t, Spec{Name: name, Project: "labels-test"})
	cmd := exec.Command("podman", "--url", testEngine.URI, "ps", "--filter", "label=pocketdock.managed=true",
		"--filter", "label=pocketdock.instance="+name, "--format",
		`{{.Names}} {{index .Labels "pocketdock.persist"}} {{index .Labels "pocketdock.project"}} {{index .Labels "pocketdock.created-at"}}`)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+StateDir()+"/containers.conf")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman ps: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 4 || f[0] != name || f[1] != "false" || f[2] != "labels-test" || !strings.HasSuffix(f[3], "Z") {
		t.Fatalf("podman sees %q", out)
	}
}
