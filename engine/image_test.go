//go:build !unit

package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// SaveFile writes through a .partial file renamed into place, LoadFile reads
// it back; an error about the host file wraps its *fs.PathError and leaves
// no file behind.
func TestSaveFileLoadFile(t *testing.T) {
	eng := enginetest.Engine(t)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "minimal.tar")
	if err := eng.SaveFile(ctx, []string{engine.DefaultImage}, path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("saved file: %v", err)
	}
	if _, err := os.Stat(path + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the partial file is left: %v", err)
	}
	names, err := eng.LoadFile(ctx, path)
	if err != nil || len(names) == 0 || !strings.Contains(strings.Join(names, " "), "pocketdock/minimal") {
		t.Fatalf("loaded %q: %v", names, err)
	}

	var pe *fs.PathError
	err = eng.SaveFile(ctx, []string{engine.DefaultImage}, filepath.Join(dir, "no", "such", "x.tar"))
	if !engine.IsKind(err, engine.InvalidArgument) || !errors.As(err, &pe) || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("save to a missing folder: %v", err)
	}
	bad := filepath.Join(dir, "bad.tar")
	if err := eng.SaveFile(ctx, []string{"localhost/pd-test-none:x"}, bad); err == nil || errors.As(err, &pe) {
		t.Errorf("save of a missing image: %v", err)
	}
	if _, err := os.Stat(bad + ".partial"); !os.IsNotExist(err) {
		t.Errorf("a failed save left its partial file: %v", err)
	}
	_, err = eng.LoadFile(ctx, filepath.Join(dir, "none.tar"))
	if !engine.IsKind(err, engine.FileNotFound) || !errors.As(err, &pe) {
		t.Errorf("load of a missing file: %v", err)
	}
}

// Images' json names are pd.images.list's keys: created is UTC to the
// second, tags a list even for an untagged image.
func TestImagesRecord(t *testing.T) {
	list, err := enginetest.Engine(t).Images(context.Background())
	if err != nil || len(list) == 0 {
		t.Fatalf("images: %v", err)
	}
	for _, im := range list {
		b, _ := json.Marshal(im)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		created, _ := m["created"].(string)
		if _, ok := m["tags"].([]any); !ok || len(m) != 4 || !strings.HasSuffix(created, "Z") || strings.Contains(created, ".") {
			t.Errorf("image record %s", b)
		}
	}
}
