//go:build !unit

package engine_test

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// A fresh reboot recreates a sandbox from its record: every option must survive.
func TestSpecFromInspectKeepsOptions(t *testing.T) {
	dir := t.TempDir()
	want := engine.Spec{
		Name: engine.RandomName(), Image: engine.DefaultImage, Persist: true, Project: "spec-test",
		Env: map[string]string{"A": "1"}, Workdir: "/tmp", User: "1000", Network: "bridge",
		Ports:   []engine.Port{{Host: 18777, Container: 80, HostIP: "127.0.0.1", Protocol: "tcp"}},
		Volumes: []engine.Volume{{Source: dir, Target: "/data", ReadOnly: true}},
		Labels:  map[string]string{"team": "blue"}, ReadOnly: true,
		MemLimit: 64 << 20, CPUPercent: 50, PidsLimit: 200,
	}
	id := sandbox(t, want)
	d, err := enginetest.Engine(t).Inspect(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := engine.SpecFromInspect(d)
	if got.Env["A"] != "1" || got.Env["PATH"] == "" {
		t.Errorf("env: %v", got.Env)
	}
	got.Env, want.Env = nil, nil
	want.Image += ":latest"         // the engine records the full reference
	want.UserNS = engine.UserNSHost // the default
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rebuilt spec differs:\n got %+v\nwant %+v", got, want)
	}
}

// The labels are the Python SDK's, readable by any tool: here, podman's own CLI.
func TestLabelsReadableByPodmanCLI(t *testing.T) {
	if _, err := exec.LookPath("podman"); err != nil {
		t.Fatal("podman CLI missing")
	}
	name := engine.RandomName()
	sandbox(t, engine.Spec{Name: name, Project: "labels-test"})
	cmd := exec.Command("podman", "--url", enginetest.Engine(t).URI, "ps", "--filter", "label=pocketdock.managed=true",
		"--filter", "label=pocketdock.instance="+name, "--format",
		`{{.Names}} {{index .Labels "pocketdock.persist"}} {{index .Labels "pocketdock.project"}} {{index .Labels "pocketdock.created-at"}}`)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+engine.StateDir()+"/containers.conf")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman ps: %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 4 || f[0] != name || f[1] != "false" || f[2] != "labels-test" || !strings.HasSuffix(f[3], "Z") {
		t.Fatalf("podman sees %q", out)
	}
}

// A snapshot carries no pocketdock.* label into the sandboxes made from it,
// and a sandbox made from an image that does carry them (one committed by
// another tool) gets only its own: it is neither listed under the other's
// project nor reaped as the other's orphan, and its data path is not the
// other's history folder.
func TestLabelsComeOnlyFromCreate(t *testing.T) {
	eng := enginetest.Engine(t)
	ctx := context.Background()
	orig := sandbox(t, engine.Spec{Name: engine.RandomName(), Project: "labels-snap", Persist: true, DataPath: "/nowhere/.pocketdock/instances/x",
		Owner: "somehost:1:2", Labels: map[string]string{"team": "blue"}})
	ref := "localhost/pd-test-labels:" + engine.RandomName()
	t.Cleanup(func() { eng.RemoveImage(context.Background(), ref, true) })
	first, err := eng.Commit(ctx, orig, ref, engine.CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ims, _ := eng.Images(ctx)
	for _, im := range ims {
		if im.ID == first {
			for k, v := range im.Labels {
				if strings.HasPrefix(k, "pocketdock.") && v != "" {
					t.Errorf("snapshot carries %s=%q", k, v)
				}
			}
			if im.Labels["team"] != "blue" {
				t.Errorf("snapshot lost the user's label: %v", im.Labels)
			}
		}
	}
	// The old way: an image committed with the labels (podman's CLI keeps them).
	foreign := "localhost/pd-test-labels-foreign:" + engine.RandomName()
	t.Cleanup(func() { eng.RemoveImage(context.Background(), foreign, true) })
	cmd := exec.Command("podman", "--url", eng.URI, "commit", "-q", orig, foreign)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+engine.StateDir()+"/containers.conf")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("podman commit: %v\n%s", err, out)
	}
	var made []string
	for _, image := range []string{ref, foreign} {
		name := engine.RandomName()
		id := sandbox(t, engine.Spec{Name: name, Image: image})
		made = append(made, id)
		d, err := eng.Inspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		l := d.Config.Labels
		if l[engine.LabelProject] != "" || l[engine.LabelDataPath] != "" || l[engine.LabelOwner] != "" || l[engine.LabelPersist] != "false" || l[engine.LabelInstance] != name {
			t.Errorf("from %s: labels %v", image, l)
		}
		list, err := eng.List(ctx, engine.Filter{Project: "labels-snap"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != orig {
			t.Errorf("from %s: project lists %d sandboxes", image, len(list))
		}
		found, err := eng.Find(ctx, name)
		if err != nil || found.Project != "" || found.DataPath != "" || found.Owner != "" {
			t.Errorf("from %s: found %+v, %v", image, found, err)
		}
	}
	// A change may not set pocketdock's labels back.
	for _, change := range []string{"LABEL pocketdock.project=x", `label a=1 "pocketdock.owner=h:1:2"`} {
		if _, err := eng.Commit(ctx, orig, ref, engine.CommitOptions{Changes: []string{change}}); !engine.IsKind(err, engine.InvalidArgument) {
			t.Errorf("change %s: %v", change, err)
		}
	}
	for _, id := range made {
		eng.Remove(ctx, id)
	}
	// Re-snapshotting to the same tag removes the image it named before.
	second, err := eng.Commit(ctx, orig, ref, engine.CommitOptions{Comment: "again"})
	if err != nil || second == first {
		t.Fatalf("second commit %s: %v", second, err)
	}
	if _, err := eng.ImageID(ctx, first); !engine.IsKind(err, engine.ImageNotFound) {
		t.Errorf("the replaced image %s is still there (%v)", first, err)
	}
	// ... unless a sandbox uses it: then it stays, and nothing fails.
	user := sandbox(t, engine.Spec{Image: ref})
	third, err := eng.Commit(ctx, orig, ref, engine.CommitOptions{Comment: "third"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eng.ImageID(ctx, second); err != nil {
		t.Errorf("the image sandbox %s uses was removed: %v", user, err)
	}
	eng.Remove(ctx, user)
	eng.RemoveImage(ctx, second, true)
	_ = third
}
