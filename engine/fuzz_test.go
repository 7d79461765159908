package engine

import (
	"strings"
	"testing"
)

// userFacing fails when an error message shows Go internals.
// kind: the function raises InvalidArgument itself (ParseSize's caller wraps its errors).
func userFacing(t *testing.T, err error, kind bool) {
	if err == nil {
		return
	}
	msg := err.Error()
	for _, bad := range []string{"*engine.", "goroutine", ".go:", "runtime error", "0xc0"} {
		if strings.Contains(msg, bad) {
			t.Fatalf("Go internals in %q", msg)
		}
	}
	if kind && KindOf(err) != InvalidArgument {
		t.Fatalf("kind %s for a bad argument: %v", KindOf(err), err)
	}
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"256m", "1g", "1.5G", "0", "", "-1", "9999999999999999999t", "1e9", "12kb", " 5m", "NaN", "0x10"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		userFacing(t, err, false)
		if err == nil && n < 6<<20 {
			t.Fatalf("ParseSize(%q) = %d", s, n)
		}
	})
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"dev", "a", "-x", "a/b", strings.Repeat("a", 64), "x y", "név", "a.b_c-d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateName(s)
		userFacing(t, err, true)
		if err == nil && (len(s) > 63 || strings.ContainsAny(s, "/ :\x00")) {
			t.Fatalf("ValidateName accepted %q", s)
		}
	})
}

func FuzzSplitImageRef(f *testing.F) {
	for _, s := range []string{"repo:tag", "localhost:5000/img", "localhost:5000/img:1", "a@sha256:x", ":", "A:b", "x:", "a/b/c:d.e-f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		repo, tag, err := SplitImageRef(s)
		userFacing(t, err, true)
		if err == nil && (repo == "" || tag == "" || strings.ContainsAny(tag, "/:@ ")) {
			t.Fatalf("SplitImageRef(%q) = %q, %q", s, repo, tag)
		}
	})
}
