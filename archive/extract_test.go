package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestExtractNeverWritesOutsideDest(t *testing.T) {
	tests := []struct {
		name string
		// ents builds the archive; outside is a directory next to dest that
		// must not change.
		ents func(outside string) []ent
		// badEntry is the entry the error must name; "" means the archive
		// is accepted (and still must not touch outside).
		badEntry string
	}{
		{"dot-dot name", func(string) []ent { return []ent{{name: "../x", body: "pwn"}} }, "../x"},
		{"dot-dot after a directory", func(string) []ent { return []ent{{name: "a/../../x", body: "pwn"}} }, "a/../../x"},
		{"absolute name", func(string) []ent { return []ent{{name: "/etc/x", body: "pwn"}} }, "/etc/x"},
		{"absolute name into outside", func(o string) []ent { return []ent{{name: o + "/x", body: "pwn"}} }, "/x"},
		{
			"file through symlink to outside",
			func(o string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: o}, {name: "l/evil", body: "pwn"}}
			},
			"l/evil",
		},
		{
			"directory through symlink to outside",
			func(o string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: o}, {name: "l/sub/", typ: tar.TypeDir}}
			},
			"l/sub/",
		},
		{
			"file through symlink to parent",
			func(string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: ".."}, {name: "l/evil", body: "pwn"}}
			},
			"l/evil",
		},
		{
			"file through nested symlink climbing out",
			func(string) []ent {
				return []ent{
					{name: "a/", typ: tar.TypeDir},
					{name: "a/up", typ: tar.TypeSymlink, link: "../../"},
					{name: "a/up/evil", body: "pwn"},
				}
			},
			"a/up/evil",
		},
		{
			// Even a symlink that stays inside dest is not followed.
			"file through symlink to dot",
			func(string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: "."}, {name: "l/x", body: "x"}}
			},
			"l/x",
		},
		{
			"directory replaced by symlink",
			func(o string) []ent {
				return []ent{{name: "d/", typ: tar.TypeDir}, {name: "d", typ: tar.TypeSymlink, link: o}, {name: "d/evil", body: "pwn"}}
			},
			"d",
		},
		{
			"hard link to absolute outside file",
			func(o string) []ent { return []ent{{name: "h", typ: tar.TypeLink, link: o + "/secret"}} },
			"h",
		},
		{
			"hard link with dot-dot",
			func(string) []ent { return []ent{{name: "h", typ: tar.TypeLink, link: "../outside/secret"}} },
			"h",
		},
		{
			"hard link to symlink pointing outside",
			func(o string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: o + "/secret"}, {name: "h", typ: tar.TypeLink, link: "l"}}
			},
			"h",
		},
		{
			"hard link to a file not in the archive",
			func(string) []ent { return []ent{{name: "h", typ: tar.TypeLink, link: "nothere"}} },
			"h",
		},
		{
			"hard link to a file later replaced by a symlink",
			func(o string) []ent {
				return []ent{
					{name: "f", body: "x"},
					{name: "f", typ: tar.TypeSymlink, link: o + "/secret"},
					{name: "h", typ: tar.TypeLink, link: "f"},
				}
			},
			"h",
		},
		{
			"file replacing symlink to outside file",
			func(o string) []ent {
				return []ent{{name: "l", typ: tar.TypeSymlink, link: o + "/secret"}, {name: "l", body: "new"}}
			},
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "dest")
			outside := filepath.Join(parent, "outside")
			for _, d := range []string{dest, outside} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			writeFile(t, filepath.Join(outside, "secret"), "secret", 0o644)
			before := snapshot(t, outside)

			_, err := Extract(bytes.NewReader(makeTar(t, tt.ents(outside)...)), dest, ExtractOptions{})
			switch {
			case tt.badEntry == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.badEntry != "" && err == nil:
				t.Fatalf("archive accepted, want error about %q", tt.badEntry)
			case tt.badEntry != "" && !strings.Contains(err.Error(), tt.badEntry):
				t.Errorf("error %q does not name entry %q", err, tt.badEntry)
			}
			if after := snapshot(t, outside); !reflect.DeepEqual(after, before) {
				t.Errorf("outside changed\nbefore: %v\n after: %v", before, after)
			}
			if got := names(parent); !reflect.DeepEqual(got, []string{"dest", "outside"}) {
				t.Errorf("parent holds %v, want only dest and outside", got)
			}
		})
	}
}

func TestExtractRecreatesSymlinksWithoutFollowing(t *testing.T) {
	dest := t.TempDir()
	tarball := makeTar(t,
		ent{name: "abs", typ: tar.TypeSymlink, link: "/etc/passwd"},
		ent{name: "up", typ: tar.TypeSymlink, link: "../../x"},
	)
	if _, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"abs": "/etc/passwd", "up": "../../x"} {
		if got, err := os.Readlink(filepath.Join(dest, name)); err != nil || got != want {
			t.Errorf("%s -> %q (%v), want %q", name, got, err, want)
		}
	}
}

func TestExtractReplacesFilesAndKeepsDirectories(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	if err := os.MkdirAll(filepath.Join(dest, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dest, "dir", "old"), "kept", 0o644)
	writeFile(t, filepath.Join(dest, "file"), "old content", 0o600)
	// A file sharing its inode with one outside dest must be replaced, not
	// rewritten in place.
	writeFile(t, filepath.Join(parent, "shared"), "shared", 0o644)
	if err := os.Link(filepath.Join(parent, "shared"), filepath.Join(dest, "linked")); err != nil {
		t.Fatal(err)
	}
	tarball := makeTar(t,
		ent{name: "dir/", typ: tar.TypeDir, mode: 0o750},
		ent{name: "dir/new", body: "new"},
		ent{name: "file", body: "new content", mode: 0o644},
		ent{name: "linked", body: "replaced"},
	)
	if _, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		".":       "drwxr-xr-x",
		"dir":     "drwxr-x---",
		"dir/old": "-rw-r--r-- kept",
		"dir/new": "-rw-r--r-- new",
		"file":    "-rw-r--r-- new content",
		"linked":  "-rw-r--r-- replaced",
	}
	if got := snapshot(t, dest); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "shared")); string(b) != "shared" {
		t.Errorf("file outside dest rewritten through a hard link: %q", b)
	}
}

func TestExtractRefusesToReplaceDirectoryWithFile(t *testing.T) {
	dest := t.TempDir()
	if err := os.Mkdir(filepath.Join(dest, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Extract(bytes.NewReader(makeTar(t, ent{name: "d", body: "x"})), dest, ExtractOptions{}); err == nil {
		t.Fatal("want error")
	}
}

func TestExtractAppliesModesAndTimes(t *testing.T) {
	dest := t.TempDir()
	tarball := makeTar(t,
		ent{name: "ro/", typ: tar.TypeDir, mode: 0o555},
		ent{name: "ro/exe", body: "x", mode: 0o4755},
		ent{name: "ro/group", body: "x", mode: 0o2640},
		ent{name: "ro/sticky/", typ: tar.TypeDir, mode: 0o1777},
	)
	if _, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		mode os.FileMode
	}{
		{"ro", os.ModeDir | 0o555},
		{"ro/exe", 0o755},
		{"ro/group", 0o640},
		{"ro/sticky", os.ModeDir | 0o777},
	}
	for _, tt := range tests {
		fi, err := os.Lstat(filepath.Join(dest, tt.path))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != tt.mode {
			t.Errorf("%s: mode %v, want %v", tt.path, fi.Mode(), tt.mode)
		}
		if !fi.ModTime().Equal(testTime) {
			t.Errorf("%s: mtime %v, want %v", tt.path, fi.ModTime(), testTime)
		}
	}
}

func TestExtractHardLinksToEarlierFile(t *testing.T) {
	dest := t.TempDir()
	tarball := makeTar(t,
		ent{name: "top/", typ: tar.TypeDir},
		ent{name: "top/a", body: "data"},
		ent{name: "top/b", typ: tar.TypeLink, link: "top/a"},
		ent{name: "top/c", typ: tar.TypeLink, link: "top/b"},
	)
	if _, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{StripTop: true}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.Stat(filepath.Join(dest, "a"))
	for _, name := range []string{"b", "c"} {
		fi, err := os.Stat(filepath.Join(dest, name))
		if err != nil || !os.SameFile(a, fi) {
			t.Errorf("%s is not a hard link to a (%v)", name, err)
		}
	}
}

func TestExtractCountsWrittenEntriesAndSkipsSpecialFiles(t *testing.T) {
	tests := []struct {
		name string
		opts ExtractOptions
		want []string
		n    int
	}{
		{"as is", ExtractOptions{}, []string{"etc"}, 3},
		{"strip top", ExtractOptions{StripTop: true}, []string{"hosts", "sub"}, 2},
		{"rename top", ExtractOptions{Rename: "cfg"}, []string{"cfg"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dest := t.TempDir()
			tarball := makeTar(t,
				ent{name: "etc/", typ: tar.TypeDir},
				ent{name: "etc/hosts", body: "127.0.0.1 localhost\n"},
				ent{name: "etc/null", typ: tar.TypeChar},
				ent{name: "etc/disk", typ: tar.TypeBlock},
				ent{name: "etc/pipe", typ: tar.TypeFifo},
				ent{name: "etc/sub/", typ: tar.TypeDir},
			)
			n, err := Extract(bytes.NewReader(tarball), dest, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.n {
				t.Errorf("n = %d, want %d", n, tt.n)
			}
			if got := names(dest); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("dest holds %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExtractRejectsBadOptionsAndMissingDest(t *testing.T) {
	tarball := makeTar(t, ent{name: "f", body: "x"})
	tests := []struct {
		name string
		dest string
		opts ExtractOptions
	}{
		{"strip and rename", t.TempDir(), ExtractOptions{StripTop: true, Rename: "x"}},
		{"rename with slash", t.TempDir(), ExtractOptions{Rename: "a/b"}},
		{"rename to dot-dot", t.TempDir(), ExtractOptions{Rename: ".."}},
		{"missing dest", filepath.Join(t.TempDir(), "nope"), ExtractOptions{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Extract(bytes.NewReader(tarball), tt.dest, tt.opts); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestExtractRefusesSparseFiles(t *testing.T) {
	// archive/tar will not write GNU sparse records, so write look-alikes
	// and rename them in the PAX body, which no checksum covers.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := &tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX,
		PAXRecords: map[string]string{"XXX.sparse.major": "0", "XXX.sparse.minor": "1",
			"XXX.sparse.realsize": "1099511627776", "XXX.sparse.map": "0,0", "XXX.sparse.numblocks": "1"}}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	// A 1 TiB file, all hole, from one kilobyte of archive.
	tarball := bytes.ReplaceAll(buf.Bytes(), []byte("XXX.sparse."), []byte("GNU.sparse."))
	dest := t.TempDir()
	if _, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{}); err == nil || !strings.Contains(err.Error(), "sparse") {
		t.Fatalf("err = %v, want sparse refusal", err)
	}
	if got := names(dest); got != nil {
		t.Errorf("dest holds %v", got)
	}
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestExtractStreamsLargeFiles(t *testing.T) {
	const size = 64 << 20
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(WriteSingle(pw, "big", zeros{}, size, 0o644, 0, 0))
	}()
	dest := t.TempDir()

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := Extract(pr, dest, ExtractOptions{})
	runtime.ReadMemStats(&after)
	if err != nil || n != 1 {
		t.Fatalf("n = %d, err = %v", n, err)
	}
	// TotalAlloc counts every allocation, freed or not, so it bounds heap
	// growth from both extraction and archive generation.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/8 {
		t.Errorf("allocated %d bytes to extract a %d byte file", alloc, size)
	}
	if fi, err := os.Stat(filepath.Join(dest, "big")); err != nil || fi.Size() != size {
		t.Errorf("extracted file: %v, %v", fi, err)
	}
}

// MaxBytes counts every regular file of the archive: the entry that would
// pass it is refused before it is written, and what the call created goes
// again, while files that were already in dest stay.
func TestExtractMaxBytesRefusesAndRemovesWhatItCreated(t *testing.T) {
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, "before"), "old", 0o644)
	tarball := makeTar(t,
		ent{name: "top/", typ: tar.TypeDir},
		ent{name: "top/a", body: "12345"},
		ent{name: "top/sub/", typ: tar.TypeDir},
		ent{name: "top/sub/b", body: "67890"},
		ent{name: "top/sub/c", body: "x"},
	)
	n, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{MaxBytes: 10})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), `"top/sub/c"`) {
		t.Fatalf("n=%d err=%v, want ErrTooLarge naming top/sub/c", n, err)
	}
	if got := names(dest); !reflect.DeepEqual(got, []string{"before"}) {
		t.Errorf("dest holds %v after a refused extract, want only the file that was there", got)
	}
	// At the limit exactly: everything is written.
	if n, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{MaxBytes: 11}); err != nil || n != 5 {
		t.Fatalf("at the limit: n=%d err=%v", n, err)
	}
}

// Names with control characters would reach whoever lists dest: refused,
// and shown escaped in the error.
func TestExtractRefusesControlCharactersInNames(t *testing.T) {
	for _, name := range []string{"top/evil\x1b]52;c;cHduZWQ=\a", "top/new\nline", "top/del\x7f", "top/c1\u009b2J"} {
		dest := t.TempDir()
		tarball := makeTar(t, ent{name: "top/", typ: tar.TypeDir}, ent{name: "top/ok", body: "1"}, ent{name: name, body: "x"})
		_, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{})
		if err == nil || !strings.Contains(err.Error(), "control characters") {
			t.Fatalf("%q: err = %v, want a refusal", name, err)
		}
		if strings.ContainsAny(err.Error(), "\x1b\n\a\x7f") || strings.Contains(err.Error(), "\u009b") {
			t.Errorf("the message carries the raw name: %q", err.Error())
		}
		if got := names(dest); got != nil {
			t.Errorf("%q: dest holds %v", name, got)
		}
	}
}

// A file system failure reads as the reason, without Go's operation names.
func TestExtractErrorsInPlainWords(t *testing.T) {
	dest := t.TempDir()
	writeFile(t, filepath.Join(dest, "top"), "a file", 0o644)
	long := strings.Repeat("n", 300) // past NAME_MAX: the file system call itself fails
	for _, tarball := range [][]byte{
		makeTar(t, ent{name: "top/x", body: "1"}),
		makeTar(t, ent{name: long + "/x", body: "1"}),
		makeTar(t, ent{name: long, body: "1"}),
	} {
		_, err := Extract(bytes.NewReader(tarball), dest, ExtractOptions{})
		if err == nil {
			t.Fatal("want an error")
		}
		for _, bad := range []string{"statat", "openat", "mkdirat", dest} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("%q in %q", bad, err.Error())
			}
		}
	}
}
