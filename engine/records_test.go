package engine

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// The tests in this file need no engine: `make unit` runs them.

func TestPrefixKeepsTheError(t *testing.T) {
	cause := errors.New("cause")
	base := &Error{Kind: ImageNotFound, Message: "no image", Hint: "pull it", Engine: "unix:///x", Err: cause}
	err := Prefix("images.save", base)
	var e *Error
	if !errors.As(err, &e) || e.Kind != ImageNotFound || e.Message != "images.save: no image" || e.Hint != "pull it" || e.Engine != "unix:///x" || !errors.Is(err, cause) {
		t.Errorf("prefixed: %#v", err)
	}
	if base.Message != "no image" {
		t.Error("the original error was changed")
	}
	plain := errors.New("plain")
	if Prefix("x", plain) != plain || Prefix("x", nil) != nil {
		t.Error("an error that is not an *Error, or nil, must come back as it is")
	}
}

func TestValidateEnv(t *testing.T) {
	if err := ValidateEnv(map[string]string{"A": "1", "B_2": "x y"}); err != nil || ValidateEnv(nil) != nil {
		t.Errorf("good env: %v", err)
	}
	for env, want := range map[string]string{"": `invalid variable name ""`, "A B": `invalid variable name "A B"`, "A\x7f": "invalid variable name"} {
		if err := ValidateEnv(map[string]string{env: "v"}); !IsKind(err, InvalidArgument) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v", env, err)
		}
	}
	// names are checked in order, so the same env always gives the same error
	err := ValidateEnv(map[string]string{"Z=": "", "A=": "", "M": "\x00"})
	if err == nil || !strings.Contains(err.Error(), `"A="`) {
		t.Errorf("first bad name: %v", err)
	}
	if err := ValidateEnv(map[string]string{"A": "x\x00"}); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("NUL in a value: %v", err)
	}
}

func TestParseLimit(t *testing.T) {
	for in, want := range map[string]int64{"0": -1, " 0.0 ": -1, "64m": 64 << 20, "1g": 1 << 30} {
		if got, err := ParseLimit(in); err != nil || got != want {
			t.Errorf("%q: %d %v", in, got, err)
		}
	}
	if _, err := ParseLimit("lots"); err == nil {
		t.Error("a word was accepted")
	}
}

func TestFileInfoRecord(t *testing.T) {
	var none *FileInfo
	if none.Record() != nil {
		t.Error("a missing path has a record")
	}
	fi := &FileInfo{Name: "x", Size: 3, Mode: 0o755 | fs.ModeSetuid | fs.ModeSticky, ModTime: time.Unix(10, 5e8)}
	r := fi.Record()
	if r.Name != "x" || r.Type != "file" || r.Size != 3 || r.Mode != 0o5755 || r.MTime != 10.5 || r.Link != "" {
		t.Errorf("record: %+v", r)
	}
	if r := (&FileInfo{Mode: fs.ModeSymlink | 0o777, Link: "/t"}).Record(); r.Type != "link" || r.Link != "/t" || r.Mode != 0o777 {
		t.Errorf("link: %+v", r)
	}
}

func TestExecResultOK(t *testing.T) {
	if !(&ExecResult{}).OK() || (&ExecResult{ExitCode: 1}).OK() || (&ExecResult{TimedOut: true}).OK() {
		t.Error("OK is exit 0 within the timeout")
	}
}
