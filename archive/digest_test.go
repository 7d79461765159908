package archive

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A digest changes exactly when what a push would send changes: content,
// names and modes, not the time a file was written.
func TestDigestFollowsContentNamesAndModes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a"), []byte("one"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "b"), []byte("two"), 0o600)
	digest := func() string {
		t.Helper()
		sum, st, err := Digest(dir)
		if err != nil || !st.IsDir() {
			t.Fatalf("Digest: %v", err)
		}
		return sum
	}
	first := digest()
	longAgo := time.Unix(1e9, 0)
	os.Chtimes(filepath.Join(dir, "a"), longAgo, longAgo)
	if digest() != first {
		t.Fatal("a new mtime changed the digest")
	}
	steps := []struct {
		what   string
		change func()
	}{
		{"content", func() { os.WriteFile(filepath.Join(dir, "a"), []byte("One"), 0o644) }},
		{"mode", func() { os.Chmod(filepath.Join(dir, "sub", "b"), 0o644) }},
		{"name", func() { os.Rename(filepath.Join(dir, "sub", "b"), filepath.Join(dir, "sub", "c")) }},
	}
	prev := first
	for _, s := range steps {
		s.change()
		if got := digest(); got == prev {
			t.Errorf("changing the %s kept the digest", s.what)
		} else {
			prev = got
		}
	}
	// What a push leaves out changes nothing: a fifo, a setuid bit.
	before := digest()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, "a"), 0o644|os.ModeSetuid)
	if digest() != before {
		t.Error("a fifo or a setuid bit, which a push does not send, changed the digest")
	}
	if _, _, err := Digest(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("a missing path: %v", err)
	}
	sum, st, err := Digest(filepath.Join(dir, "a"))
	if err != nil || st.IsDir() || sum == "" {
		t.Errorf("a file: %q %v", sum, err)
	}
}
