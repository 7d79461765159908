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
	want.Image += ":latest"  // the engine records the full reference
	want.UserNS = UserNSHost // the default
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

// A snapshot carries no pocketdock.* label into the sandboxes made from it,
// and a sandbox made from an image that does carry them (one committed by
// another tool) gets only its own: it is neither listed under the other's
// project nor reaped as the other's orphan, and its data path is not the
// other's history folder.
func TestLabelsComeOnlyFromCreate(t *testing.T) {
	ctx := context.Background()
	orig := sandbox(t, Spec{Name: RandomName(), Project: "labels-snap", Persist: true, DataPath: "/nowhere/.pocketdock/instances/x",
		Owner: "somehost:1:2", Labels: map[string]string{"team": "blue"}})
	ref := "localhost/pd-test-labels:" + RandomName()
	t.Cleanup(func() { testEngine.RemoveImage(context.Background(), ref, true) })
	first, err := testEngine.Commit(ctx, orig, ref, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ims, _ := testEngine.Images(ctx)
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
	foreign := "localhost/pd-test-labels-foreign:" + RandomName()
	t.Cleanup(func() { testEngine.RemoveImage(context.Background(), foreign, true) })
	cmd := exec.Command("podman", "--url", testEngine.URI, "commit", "-q", orig, foreign)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+StateDir()+"/containers.conf")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("podman commit: %v\n%s", err, out)
	}
	var made []string
	for _, image := range []string{ref, foreign} {
		name := RandomName()
		id := sandbox(t, Spec{Name: name, Image: image})
		made = append(made, id)
		d, err := testEngine.Inspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		l := d.Config.Labels
		if l[LabelProject] != "" || l[LabelDataPath] != "" || l[LabelOwner] != "" || l[LabelPersist] != "false" || l[LabelInstance] != name {
			t.Errorf("from %s: labels %v", image, l)
		}
		list, err := testEngine.List(ctx, Filter{Project: "labels-snap"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != orig {
			t.Errorf("from %s: project lists %d sandboxes", image, len(list))
		}
		found, err := testEngine.Find(ctx, name)
		if err != nil || found.Project != "" || found.DataPath != "" || found.Owner != "" {
			t.Errorf("from %s: found %+v, %v", image, found, err)
		}
	}
	// A change may not set pocketdock's labels back.
	for _, change := range []string{"LABEL pocketdock.project=x", `label a=1 "pocketdock.owner=h:1:2"`} {
		if _, err := testEngine.Commit(ctx, orig, ref, CommitOptions{Changes: []string{change}}); !IsKind(err, InvalidArgument) {
			t.Errorf("change %s: %v", change, err)
		}
	}
	for _, id := range made {
		testEngine.Remove(ctx, id)
	}
	// Re-snapshotting to the same tag removes the image it named before.
	second, err := testEngine.Commit(ctx, orig, ref, CommitOptions{Comment: "again"})
	if err != nil || second == first {
		t.Fatalf("second commit %s: %v", second, err)
	}
	if _, err := testEngine.ImageID(ctx, first); !IsKind(err, ImageNotFound) {
		t.Errorf("the replaced image %s is still there (%v)", short(first), err)
	}
	// ... unless a sandbox uses it: then it stays, and nothing fails.
	user := sandbox(t, Spec{Image: ref})
	third, err := testEngine.Commit(ctx, orig, ref, CommitOptions{Comment: "third"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testEngine.ImageID(ctx, second); err != nil {
		t.Errorf("the image sandbox %s uses was removed: %v", short(user), err)
	}
	testEngine.Remove(ctx, user)
	testEngine.RemoveImage(ctx, second, true)
	_ = third
}
