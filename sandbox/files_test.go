//go:build !unit

package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

// Paths are never pasted into a shell: metacharacters are just part of a
// (missing) path.
func TestFilePathsNeverReachAShell(t *testing.T) {
	c := create(t, newRegistry(t), engine.Spec{})
	ctx := context.Background()
	calls := map[string]func() error{
		"list_files": func() error { _, err := c.ListFiles(ctx, "/tmp; touch /tmp/pwned", false); return err },
		"read_file":  func() error { _, err := c.ReadFile(ctx, "/tmp/$(touch /tmp/pwned)", 0); return err },
		"read_file`": func() error { _, err := c.ReadFile(ctx, "/tmp/`touch /tmp/pwned`", 0); return err },
		"pull":       func() error { _, err := c.Pull(ctx, "/tmp/x' && touch /tmp/pwned '", t.TempDir(), 0); return err },
	}
	for name, call := range calls {
		if err := call(); !engine.IsKind(err, engine.FileNotFound) {
			t.Errorf("%s: %v, want FileNotFound", name, err)
		}
	}
	odd := "/tmp/a b; touch /tmp/pwned"
	if err := c.WriteFile(ctx, odd, []byte("x"), sandbox.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if data, err := c.ReadFile(ctx, odd, 0); err != nil || string(data) != "x" {
		t.Fatalf("read back %q, %v", data, err)
	}
	if fi, err := c.Stat(ctx, "/tmp/pwned"); fi != nil || err != nil {
		t.Fatalf("a shell ran: %v %v", fi, err)
	}
	if _, err := c.ReadFile(ctx, "tmp/relative", 0); !engine.IsKind(err, engine.InvalidArgument) {
		t.Errorf("relative path: %v, want InvalidArgument", err)
	}
}

// A file written for a user=1000 sandbox belongs to 1000, parents too, and
// that user can change it; existing directories keep their modes.
func TestWriteFileOwnedBySandboxUser(t *testing.T) {
	c := create(t, newRegistry(t), engine.Spec{User: "1000"})
	ctx := context.Background()
	if err := c.WriteFile(ctx, "/tmp/deep/er/notes.txt", []byte("one\n"), sandbox.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	r := run(t, c, "echo two >> /tmp/deep/er/notes.txt && stat -c '%u:%g %a' /tmp/deep /tmp/deep/er /tmp/deep/er/notes.txt /tmp", sandbox.RunOptions{})
	if string(r.Stdout) != "1000:1000 755\n1000:1000 755\n1000:1000 644\n0:0 1777\n" {
		t.Fatalf("owners and modes: %q %q", r.Stdout, r.Stderr)
	}
	if data, _ := c.ReadFile(ctx, "/tmp/deep/er/notes.txt", 0); string(data) != "one\ntwo\n" {
		t.Errorf("read back %q", data)
	}
	// Owner overrides, by number or by name from the sandbox's /etc/passwd.
	if err := c.WriteFile(ctx, "/tmp/root.txt", []byte("r"), sandbox.WriteOptions{Owner: "0:0", Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile(ctx, "/tmp/named.txt", []byte("n"), sandbox.WriteOptions{Owner: "sandbox"}); err != nil {
		t.Fatal(err)
	}
	if r := run(t, c, "stat -c '%u:%g %a' /tmp/root.txt /tmp/named.txt", sandbox.RunOptions{}); string(r.Stdout) != "0:0 600\n1000:1000 644\n" {
		t.Errorf("overrides: %q", r.Stdout)
	}
	err := c.WriteFile(ctx, "/tmp/x", []byte("x"), sandbox.WriteOptions{Owner: "nobody-here"})
	if !engine.IsKind(err, engine.InvalidArgument) || !strings.Contains(err.Error(), "nobody-here") {
		t.Errorf("an unknown owner: %v", err)
	}
}

// Push keeps the executable bit and puts a file or a tree at the full dest path.
func TestPushKeepsModesAndPlacesAtDest(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "x.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho pushed\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "bin"), 0o750)
	os.Chmod(tree, 0o750)
	os.WriteFile(filepath.Join(tree, "bin", "tool"), []byte("#!/bin/sh\necho tool\n"), 0o700)
	os.WriteFile(filepath.Join(tree, "README"), []byte("r"), 0o600)

	c := create(t, newRegistry(t), engine.Spec{})
	ctx := context.Background()
	if err := c.Push(ctx, script, "/usr/local/bin/x"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, c, "x", sandbox.RunOptions{}); string(r.Stdout) != "pushed\n" {
		t.Errorf("pushed script: %q %q", r.Stdout, r.Stderr)
	}
	if fi, err := c.Stat(ctx, "/usr/local/bin/x"); err != nil || fi.Mode.Perm() != 0o755 {
		t.Errorf("mode %v, %v", fi, err)
	}
	if err := c.Push(ctx, tree, "/opt/dir"); err != nil {
		t.Fatal(err)
	}
	r := run(t, c, "stat -c '%n %a' /opt/dir /opt/dir/bin /opt/dir/bin/tool /opt/dir/README && /opt/dir/bin/tool", sandbox.RunOptions{})
	if string(r.Stdout) != "/opt/dir 750\n/opt/dir/bin 750\n/opt/dir/bin/tool 700\n/opt/dir/README 600\ntool\n" {
		t.Errorf("pushed tree: %q", r.Stdout)
	}
	// A trailing slash: into the directory, base name kept.
	if err := c.Push(ctx, script, "/opt/dir/"); err != nil {
		t.Fatal(err)
	}
	if r := run(t, c, "/opt/dir/x.sh", sandbox.RunOptions{}); string(r.Stdout) != "pushed\n" {
		t.Errorf("into a directory: %q", r.Stdout)
	}
	if err := c.Push(ctx, "/no/such/host/file", "/tmp/x"); !engine.IsKind(err, engine.FileNotFound) {
		t.Errorf("a missing host file: %v", err)
	}
}

// Pull never writes outside its destination: symlinks inside the sandbox
// (to /etc, climbing with ..) are recreated as links, never followed.
func TestPullNeverWritesOutsideDest(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	os.Mkdir(dest, 0o755)
	c := create(t, newRegistry(t), engine.Spec{})
	ctx := context.Background()
	run(t, c, `mkdir -p /tmp/tree/sub && ln -s /etc /tmp/evil && ln -s /etc /tmp/tree/etc &&
		ln -s ../../.. /tmp/tree/sub/up && echo pwn > /tmp/tree/sub/file && ln -s ../../../../../../tmp /tmp/tree/tmp`, sandbox.RunOptions{})
	if n, err := c.Pull(ctx, "/tmp/tree", dest, 0); err != nil || n != 6 {
		t.Errorf("tree entries %d, %v; want 6", n, err)
	}
	if _, err := c.Pull(ctx, "/tmp/evil", dest, 0); err != nil { // a link as src: its target's content, inside dest
		t.Fatal(err)
	}
	for link, want := range map[string]string{"tree/etc": "/etc", "tree/sub/up": "../../..", "tree/tmp": "../../../../../../tmp"} {
		fi, err := os.Lstat(filepath.Join(dest, link))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: not recreated as a symlink (%v)", link, err)
			continue
		}
		if got, _ := os.Readlink(filepath.Join(dest, link)); got != want {
			t.Errorf("%s -> %q, want %q", link, got, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dest, "evil", "passwd")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("evil/passwd should be a regular file inside dest: %v", err)
	}
	var outside []string
	filepath.Walk(parent, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != parent && !strings.HasPrefix(p, dest) {
			outside = append(outside, p)
		}
		return nil
	})
	if len(outside) > 0 {
		t.Errorf("written outside dest: %v", outside)
	}
}

// Pull's destination rules: into an existing directory under the base name,
// else created with src's content; a missing parent is an error.
func TestPullDestinations(t *testing.T) {
	dir := t.TempDir()
	c := create(t, newRegistry(t), engine.Spec{})
	ctx := context.Background()
	if err := c.WriteFile(ctx, "/data/a/one.txt", []byte("1"), sandbox.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		src, dest string
		n         int
	}{{"/data/a/one.txt", dir, 1}, {"/data/a/one.txt", dir + "/renamed.txt", 1}, {"/data/a", dir + "/copy", 2}} {
		if n, err := c.Pull(ctx, p.src, p.dest, 0); err != nil || n != p.n {
			t.Errorf("pull %s %s: %d, %v", p.src, p.dest, n, err)
		}
	}
	if _, err := c.Pull(ctx, "/data/a", dir+"/no/such/parent", 0); !engine.IsKind(err, engine.FileNotFound) {
		t.Errorf("a missing parent: %v", err)
	}
	if _, err := c.Pull(ctx, "/data/missing", dir, 0); !engine.IsKind(err, engine.FileNotFound) || !strings.Contains(err.Error(), "/data/missing") {
		t.Errorf("a missing source: %v", err)
	}
	var got []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	if want := []string{"copy", "copy/one.txt", "one.txt", "renamed.txt"}; !reflect.DeepEqual(got, want) {
		t.Errorf("host holds %v, want %v", got, want)
	}
}

// 8 MiB through WriteFile and ReadFile, and a 48 MiB file pulled, streamed;
// ListFiles names what is there.
func TestLargeFilesAndListing(t *testing.T) {
	c := create(t, newRegistry(t), engine.Spec{})
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 512*1024)
	start := time.Now()
	if err := c.WriteFile(ctx, "/tmp/big.bin", big, sandbox.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	wrote := time.Since(start)
	start = time.Now()
	back, err := c.ReadFile(ctx, "/tmp/big.bin", int64(len(big)))
	if err != nil || !bytes.Equal(back, big) {
		t.Fatalf("round trip differs (%d bytes, %v)", len(back), err)
	}
	t.Logf("8 MiB WriteFile %d ms, ReadFile %d ms", wrote.Milliseconds(), time.Since(start).Milliseconds())
	if _, err := c.ReadFile(ctx, "/tmp/big.bin", 1024); !engine.IsKind(err, engine.InvalidArgument) {
		t.Errorf("over the limit: %v", err)
	}
	entries, err := c.ListFiles(ctx, "/tmp", true)
	if err != nil || len(entries) != 1 || entries[0].Name != "big.bin" || entries[0].Size != int64(len(big)) || entries[0].Type != "file" {
		t.Errorf("listing: %+v, %v", entries, err)
	}

	dest := filepath.Join(t.TempDir(), "huge")
	start = time.Now()
	run(t, c, "head -c 50331648 /dev/zero > /tmp/huge", sandbox.RunOptions{})
	if n, err := c.Pull(ctx, "/tmp/huge", dest, 0); err != nil || n != 1 {
		t.Fatalf("pull: %d, %v", n, err)
	}
	t.Logf("48 MiB create+pull %d ms", time.Since(start).Milliseconds())
	if fi, err := os.Stat(dest); err != nil || fi.Size() != 48<<20 {
		t.Errorf("pulled %v (%v)", fi, err)
	}
}
