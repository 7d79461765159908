//go:build !unit

package engine_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

func execOut(t *testing.T, id, script string) string {
	t.Helper()
	res, err := enginetest.Engine(t).Exec(context.Background(), id, engine.ExecSpec{Argv: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	return string(res.Stdout)
}

func TestStatDescribesPathsWithoutFollowingLinks(t *testing.T) {
	eng := enginetest.Engine(t)
	id := sandbox(t, engine.Spec{})
	execOut(t, id, "echo hi > /tmp/f; ln -s /etc /tmp/l; ln -s nothere /tmp/dangling; mkdir /tmp/d; chmod 700 /tmp/d")
	ctx := context.Background()
	tests := []struct {
		path, typ, link string
		isDir           bool
		perm            string
	}{
		{"/tmp/f", "file", "", false, "-rw-r--r--"},
		{"/tmp/d", "dir", "", true, "drwx------"},
		{"/tmp/l", "link", "/etc", true, "Lrwxrwxrwx"},
		{"/tmp/dangling", "link", "/tmp/nothere", false, "Lrwxrwxrwx"},
	}
	for _, tt := range tests {
		fi, err := eng.Stat(ctx, id, tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if fi.Type() != tt.typ || fi.Link != tt.link || fi.IsDir != tt.isDir || fi.Mode.String() != tt.perm {
			t.Errorf("%s: got %+v type %s", tt.path, fi, fi.Type())
		}
		if want := tt.path[strings.LastIndex(tt.path, "/")+1:]; fi.Name != want {
			t.Errorf("%s: name %q, want %q", tt.path, fi.Name, want)
		}
	}
	// A path is never a shell string: this is just a missing file.
	if _, err := eng.Stat(ctx, id, "/tmp; touch /tmp/pwned"); !engine.IsKind(err, engine.FileNotFound) {
		t.Errorf("injection path: %v, want FileNotFound", err)
	}
	if out := execOut(t, id, "ls /tmp/pwned 2>&1 || true"); !strings.Contains(out, "No such file") {
		t.Errorf("shell ran: %q", out)
	}
	if _, err := eng.Stat(ctx, "pd-no-such-container", "/tmp"); !engine.IsKind(err, engine.ContainerNotFound) {
		t.Errorf("missing container: %v, want ContainerNotFound", err)
	}
}

func TestCopyInKeepsArchiveOwnersAndCopyOutStreams(t *testing.T) {
	eng := enginetest.Engine(t)
	id := sandbox(t, engine.Spec{})
	ctx := context.Background()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MiB
	if err := tw.WriteHeader(&tar.Header{Name: "big", Mode: 0o750, Size: int64(len(data)), Uid: 1000, Gid: 1000}); err != nil {
		t.Fatal(err)
	}
	tw.Write(data)
	tw.Close()
	tarball := buf.Bytes()
	if err := eng.CopyIn(ctx, id, "/tmp", bytes.NewReader(tarball)); err != nil {
		t.Fatal(err)
	}
	if out := execOut(t, id, "stat -c '%u:%g %a %s' /tmp/big"); out != "1000:1000 750 16777216\n" {
		t.Errorf("stat: %q", out)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(eng.CopyOut(ctx, id, "/tmp/big", pw)) }()
	tr := tar.NewReader(pr)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, tr)
	if err != nil || hdr.Name != "big" || n != int64(len(data)) {
		t.Errorf("copy out: %q %d bytes, %v", hdr.Name, n, err)
	}

	// Errors keep the engine's words and their kind.
	err = eng.CopyIn(ctx, id, "/tmp/big", bytes.NewReader(tarball))
	t.Logf("copy into a file: %v", err)
	if err == nil || engine.IsKind(err, engine.FileNotFound) {
		t.Errorf("copy into a file: %v", err)
	}
	if err := eng.CopyOut(ctx, id, "/nope", io.Discard); !engine.IsKind(err, engine.FileNotFound) || !strings.Contains(err.Error(), "/nope") {
		t.Errorf("copy out missing: %v", err)
	}
}
