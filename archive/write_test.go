package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestSingleRoundTripsThroughReadSingle(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		mode     int64
		uid, gid int
	}{
		{"hello.txt", []byte("hello\n"), 0o644, 1000, 1000},
		{"empty", nil, 0o600, 0, 0},
		{"run.sh", []byte("#!/bin/sh\necho hi\n"), 0o755, 0, 0},
		{"binary", []byte{0, 1, 2, 255, 0}, 0o640, 33, 44},
		{"exactly-a-block", bytes.Repeat([]byte("x"), 512), 0o644, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tarball, err := Single(tt.name, tt.data, tt.mode, tt.uid, tt.gid)
			if err != nil {
				t.Fatal(err)
			}
			hdr, data, err := ReadSingle(bytes.NewReader(tarball), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Name != tt.name || hdr.Mode != tt.mode || hdr.Uid != tt.uid || hdr.Gid != tt.gid {
				t.Errorf("header = %q %o %d:%d, want %q %o %d:%d",
					hdr.Name, hdr.Mode, hdr.Uid, hdr.Gid, tt.name, tt.mode, tt.uid, tt.gid)
			}
			if !bytes.Equal(data, tt.data) && len(data)+len(tt.data) > 0 {
				t.Errorf("data = %q, want %q", data, tt.data)
			}
		})
	}
}

func TestSingleRefusesNamesThatAreNotBaseNames(t *testing.T) {
	for _, name := range []string{"", ".", "..", "a/b", "/etc", "nul\x00"} {
		if _, err := Single(name, nil, 0o644, 0, 0); err == nil {
			t.Errorf("Single(%q) succeeded", name)
		}
	}
}

func TestWriteSingleFailsWhenSourceIsShort(t *testing.T) {
	err := WriteSingle(io.Discard, "f", strings.NewReader("abc"), 10, 0o644, 0, 0)
	if err == nil {
		t.Fatal("want error for a reader shorter than size")
	}
}

func TestReadSingleRejectsWhatIsNotARegularFile(t *testing.T) {
	tests := []struct {
		name    string
		tarball []byte
		limit   int64
		want    error
	}{
		{"directory", makeTar(t, ent{name: "etc/", typ: tar.TypeDir}), 100, ErrIsDir},
		{"symlink", makeTar(t, ent{name: "l", typ: tar.TypeSymlink, link: "x"}), 100, ErrNotRegular},
		{"over limit", makeTar(t, ent{name: "f", body: "12345"}), 4, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadSingle(bytes.NewReader(tt.tarball), tt.limit)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadSingleAcceptsFileAtLimitAndWithoutLimit(t *testing.T) {
	tarball := makeTar(t, ent{name: "f", body: "12345"})
	for _, limit := range []int64{5, -1} {
		_, data, err := ReadSingle(bytes.NewReader(tarball), limit)
		if err != nil || string(data) != "12345" {
			t.Errorf("limit %d: data %q, err %v", limit, data, err)
		}
	}
}

func TestReadSingleFailsOnEmptyOrTruncatedArchive(t *testing.T) {
	full := makeTar(t, ent{name: "f", body: strings.Repeat("x", 2000)})
	for name, in := range map[string][]byte{"empty": nil, "truncated": full[:1024]} {
		if _, _, err := ReadSingle(bytes.NewReader(in), -1); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

// hostTree creates a tree with the kinds of entries push has to carry.
func hostTree(t *testing.T) string {
	src := filepath.Join(t.TempDir(), "src")
	for _, d := range []string{"src", "src/nested/deeper", "src/empty"} {
		if err := os.MkdirAll(filepath.Join(filepath.Dir(src), d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(src, "plain.txt"), "plain", 0o644)
	writeFile(t, filepath.Join(src, "tool.sh"), "#!/bin/sh\n", 0o755)
	writeFile(t, filepath.Join(src, "private"), "secret", 0o600)
	writeFile(t, filepath.Join(src, "nested/deeper/leaf"), "leaf", 0o640)
	if err := os.Chmod(filepath.Join(src, "nested"), 0o750); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{"rel-link": "plain.txt", "abs-link": "/nonexistent/target", "dir-link": "nested"} {
		if err := os.Symlink(target, filepath.Join(src, link)); err != nil {
			t.Fatal(err)
		}
	}
	return src
}

func TestTreeThenExtractKeepsTheTree(t *testing.T) {
	src := hostTree(t)
	// A fifo must be skipped, not break the archive.
	if err := syscall.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)
	delete(want, "fifo")

	tests := []struct {
		name string
		opts ExtractOptions
		sub  string // where the tree should land inside dest
	}{
		{"top entry kept", ExtractOptions{}, "top"},
		{"top entry stripped", ExtractOptions{StripTop: true}, "."},
		{"top entry renamed", ExtractOptions{Rename: "other"}, "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Tree(&buf, src, "top", -1, -1); err != nil {
				t.Fatal(err)
			}
			dest := t.TempDir()
			if _, err := Extract(&buf, dest, tt.opts); err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, filepath.Join(dest, tt.sub))
			if tt.sub == "." {
				// dest itself is not replaced by the stripped top entry.
				got["."] = want["."]
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("extracted tree differs\n got: %v\nwant: %v", got, want)
			}
		})
	}
}

func TestTreeOfASingleFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, "data", 0o755)
	var buf bytes.Buffer
	if err := Tree(&buf, src, "renamed", -1, -1); err != nil {
		t.Fatal(err)
	}
	hdr, data, err := ReadSingle(&buf, -1)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Name != "renamed" || hdr.Mode != 0o755 || string(data) != "data" {
		t.Errorf("got %q mode %o data %q", hdr.Name, hdr.Mode, data)
	}
}

func TestTreeSetsOwnerUnlessMinusOne(t *testing.T) {
	src := hostTree(t)
	hostUID, hostGID := os.Getuid(), os.Getgid()
	tests := []struct {
		name             string
		uid, gid         int
		wantUID, wantGID int
	}{
		{"owner given", 1234, 5678, 1234, 5678},
		{"host owner kept", -1, -1, hostUID, hostGID},
		{"only uid given", 42, -1, 42, hostGID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Tree(&buf, src, "top", tt.uid, tt.gid); err != nil {
				t.Fatal(err)
			}
			tr := tar.NewReader(&buf)
			for {
				hdr, err := tr.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if hdr.Uid != tt.wantUID || hdr.Gid != tt.wantGID {
					t.Errorf("%s: owner %d:%d, want %d:%d", hdr.Name, hdr.Uid, hdr.Gid, tt.wantUID, tt.wantGID)
				}
				if !strings.HasPrefix(hdr.Name, "top") {
					t.Errorf("entry %q not under top", hdr.Name)
				}
			}
		})
	}
}

func TestTreeDropsSetuidBits(t *testing.T) {
	src := filepath.Join(t.TempDir(), "f")
	writeFile(t, src, "x", 0o755|os.ModeSetuid)
	var buf bytes.Buffer
	if err := Tree(&buf, src, "f", -1, -1); err != nil {
		t.Fatal(err)
	}
	hdr, _, err := ReadSingle(&buf, -1)
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Mode != 0o755 {
		t.Errorf("mode %o, want 755", hdr.Mode)
	}
}
