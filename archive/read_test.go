package archive

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
)

func TestListReturnsDirectChildrenSorted(t *testing.T) {
	e := func(name, typ string, size, mode int64, link string) Entry {
		return Entry{Name: name, Type: typ, Size: size, Mode: mode, Link: link, ModTime: testTime}
	}
	tests := []struct {
		name    string
		tarball []byte
		want    []Entry
	}{
		{
			name: "directory as podman sends it",
			tarball: makeTar(t,
				ent{name: "dir/", typ: tar.TypeDir},
				ent{name: "dir/b.sh", body: "#!/bin/sh\n", mode: 0o755},
				ent{name: "dir/sub/", typ: tar.TypeDir, mode: 0o700},
				ent{name: "dir/sub/deep", body: "not listed"},
				ent{name: "dir/a", body: "hello"},
				ent{name: "dir/link", typ: tar.TypeSymlink, link: "/etc/passwd", mode: 0o777},
				ent{name: "dir/hard", typ: tar.TypeLink, link: "dir/a"},
				ent{name: "dir/fifo", typ: tar.TypeFifo},
			),
			want: []Entry{
				e("a", "file", 5, 0o644, ""),
				e("b.sh", "file", 10, 0o755, ""),
				e("fifo", "other", 0, 0o644, ""),
				e("hard", "file", 5, 0o644, "dir/a"),
				e("link", "link", 11, 0o777, "/etc/passwd"), // size: the target's length, as stat gives it
				e("sub", "dir", 0, 0o700, ""),
			},
		},
		{
			name:    "empty directory",
			tarball: makeTar(t, ent{name: "empty/", typ: tar.TypeDir}),
			want:    nil,
		},
		{
			name: "archive rooted at dot",
			tarball: makeTar(t,
				ent{name: "./", typ: tar.TypeDir},
				ent{name: "./x", body: "1"},
				ent{name: "./y/", typ: tar.TypeDir},
				ent{name: "./y/z", body: "2"},
			),
			want: []Entry{e("x", "file", 1, 0o644, ""), e("y", "dir", 0, 0o755, "")},
		},
		{
			name: "deep top directory",
			tarball: makeTar(t,
				ent{name: "usr/share/", typ: tar.TypeDir},
				ent{name: "usr/share/doc/", typ: tar.TypeDir},
				ent{name: "usr/share/doc/README", body: "r"},
			),
			want: []Entry{e("doc", "dir", 0, 0o755, "")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := List(bytes.NewReader(tt.tarball))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestListOfAFileSaysNotADirectory(t *testing.T) {
	_, err := List(bytes.NewReader(makeTar(t, ent{name: "f", body: "x"})))
	if !errors.Is(err, ErrNotDir) {
		t.Fatalf("err = %v, want ErrNotDir", err)
	}
}

func TestListFailsOnEmptyOrCorruptArchive(t *testing.T) {
	for name, in := range map[string][]byte{"empty": nil, "garbage": bytes.Repeat([]byte("x"), 1024)} {
		if _, err := List(bytes.NewReader(in)); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func FuzzList(f *testing.F) {
	f.Add(makeTar(f, ent{name: "dir/", typ: tar.TypeDir}, ent{name: "dir/a", body: "x"}, ent{name: "dir/h", typ: tar.TypeLink, link: "dir/a"}))
	f.Add(makeTar(f, ent{name: "../", typ: tar.TypeDir}, ent{name: "../..", typ: tar.TypeDir}, ent{name: "/abs/x"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := List(bytes.NewReader(data))
		if err != nil {
			return
		}
		for i, e := range entries {
			if e.Name == "" || e.Name == "." || e.Name == ".." || bytes.ContainsRune([]byte(e.Name), '/') {
				t.Errorf("entry %d has name %q, want a base name", i, e.Name)
			}
			if i > 0 && entries[i-1].Name > e.Name {
				t.Errorf("entries not sorted: %q before %q", entries[i-1].Name, e.Name)
			}
		}
	})
}

// A sandbox can make millions of empty files for nothing; listing them
// stops at a bound instead of holding them all.
func TestListStopsAtItsBound(t *testing.T) {
	defer func(n int) { maxListBytes = n }(maxListBytes)
	maxListBytes = 1 << 20
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "d/", Mode: 0o755})
		for i := 0; ; i++ {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("d/sub/%0200d", i), Mode: 0o644}); err != nil {
				return
			}
		}
	}()
	_, err := List(pr)
	pr.Close()
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}
