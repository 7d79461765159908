package archive

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// fuzzOutside is a fixed absolute directory so that seed archives can hold
// symlinks and names pointing at it; it must stay empty.
var fuzzOutside = filepath.Join(os.TempDir(), "pocketdock-archive-fuzz-outside")

// FuzzExtract extracts arbitrary bytes and checks that nothing appears
// outside dest: not next to it, and not in fuzzOutside. The seed corpus in
// testdata/fuzz/FuzzExtract holds small valid and hostile archives.
func FuzzExtract(f *testing.F) {
	if err := os.MkdirAll(fuzzOutside, 0o755); err != nil {
		f.Fatal(err)
	}
	// os.Remove, not RemoveAll: it only goes if still empty, and other fuzz
	// workers recreate it as needed.
	f.Cleanup(func() { os.Remove(fuzzOutside) })
	f.Fuzz(func(t *testing.T, data []byte, strip bool) {
		parent := t.TempDir()
		dest := filepath.Join(parent, "dest")
		if err := os.Mkdir(dest, 0o755); err != nil {
			t.Fatal(err)
		}
		_, _ = Extract(bytes.NewReader(data), dest, ExtractOptions{StripTop: strip})

		if got := names(parent); !reflect.DeepEqual(got, []string{"dest"}) {
			t.Errorf("parent of dest holds %v", got)
		}
		if got := names(fuzzOutside); got != nil {
			t.Errorf("%s holds %v", fuzzOutside, got)
		}
		if got := names(filepath.Dir(parent)); len(got) != 1 {
			// t.TempDir makes a fresh directory per test; an escape two
			// levels up would show here.
			t.Errorf("%s holds %v", filepath.Dir(parent), got)
		}
	})
}
