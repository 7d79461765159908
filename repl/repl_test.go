package repl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// fakeReader is a lineReader that plays back scripted input. An entry equal
// to ctrlC stands for Ctrl-C; after the last entry it reports end of input.
type fakeReader struct {
	input   []string
	prompts []string
	history []string
	closed  bool
}

const ctrlC = "\x03"

func (f *fakeReader) ReadLine(prompt string) (string, error) {
	f.prompts = append(f.prompts, prompt)
	if len(f.input) == 0 {
		return "", io.EOF
	}
	line := f.input[0]
	f.input = f.input[1:]
	if line == ctrlC {
		return "", errInterrupt
	}
	return line, nil
}

func (f *fakeReader) AddHistory(entry string) { f.history = append(f.history, entry) }
func (f *fakeReader) Close() error            { f.closed = true; return nil }

type session struct {
	reader         *fakeReader
	stdout, stderr bytes.Buffer
	exits          int
	err            error
}

// play runs the loop over input in L and returns what happened.
func play(t *testing.T, L *lua.LState, historyPath string, input ...string) *session {
	t.Helper()
	s := &session{reader: &fakeReader{input: input}}
	opts := withDefaults(Options{
		Stdout: &s.stdout,
		Stderr: &s.stderr,
		OnExit: func(w io.Writer) { s.exits++; io.WriteString(w, "[exit]\n") },
	})
	s.err = runLoop(context.Background(), L, s.reader, opts, historyPath)
	return s
}

func TestLoopPrintsValues(t *testing.T) {
	tests := []struct {
		name  string
		input []string
		want  string
	}{
		{"expression", []string{"1+1"}, "2\n"},
		{"several values are tab separated", []string{"return 1, 'a', nil"}, "1\t\"a\"\tnil\n"},
		{"equals shorthand", []string{"=3*3"}, "9\n"},
		{"function call with results", []string{"string.rep('ab', 2)"}, "\"abab\"\n"},
		{"statement prints nothing", []string{"x = 5"}, ""},
		{"state persists", []string{"x = 5", "x * 2"}, "10\n"},
		{"call without results prints nothing", []string{"print_nothing = function() end", "print_nothing()"}, ""},
		{"table", []string{"{b = 1, a = {1, 2}}"}, "{a = {1, 2}, b = 1}\n"},
		{"blank lines are ignored", []string{"", "   ", "7"}, "7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			s := play(t, L, "", tt.input...)
			if got := strings.TrimSuffix(s.stdout.String(), "[exit]\n"); got != tt.want {
				t.Errorf("stdout = %q, want %q", got, tt.want)
			}
			if s.stderr.Len() != 0 {
				t.Errorf("stderr = %q", s.stderr.String())
			}
		})
	}
}

func TestLoopMultiLineBlockIsOneHistoryEntry(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	hist := filepath.Join(t.TempDir(), "state", "pocketdock", "history")
	s := play(t, L, hist, "function f()", "  return 7", "end", "f()")
	if got := s.stdout.String(); got != "7\n[exit]\n" {
		t.Errorf("stdout = %q", got)
	}
	wantPrompts := []string{"> ", ">> ", ">> ", "> ", "> "}
	if !reflect.DeepEqual(s.reader.prompts, wantPrompts) {
		t.Errorf("prompts = %q, want %q", s.reader.prompts, wantPrompts)
	}
	wantHistory := []string{"function f()\n  return 7\nend", "f()"}
	if !reflect.DeepEqual(s.reader.history, wantHistory) {
		t.Errorf("history = %q, want %q", s.reader.history, wantHistory)
	}
	if got := loadHistory(hist); !reflect.DeepEqual(got, wantHistory) {
		t.Errorf("history file holds %q, want %q", got, wantHistory)
	}
	info, err := os.Stat(filepath.Dir(hist))
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("history directory: %v, mode %v; want 0700", err, info.Mode().Perm())
	}
}

func TestLoopMultiLineConstructs(t *testing.T) {
	tests := []struct {
		name  string
		input []string
		want  string
	}{
		{"table constructor", []string{"t = {", "1,", "2}", "#t"}, "2\n"},
		{"do block", []string{"do", "local y = 3", "z = y", "end", "z"}, "3\n"},
		{"long string", []string{"s = [[one", "two]]", "s"}, "\"one\\ntwo\"\n"},
		{"long comment", []string{"--[[ note", "still a note ]] v = 4", "v"}, "4\n"},
		{"unfinished expression", []string{"1 +", "2"}, "3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			s := play(t, L, "", tt.input...)
			if got := strings.TrimSuffix(s.stdout.String(), "[exit]\n"); got != tt.want || s.stderr.Len() != 0 {
				t.Errorf("stdout = %q, stderr = %q; want stdout %q", got, s.stderr.String(), tt.want)
			}
		})
	}
}

func TestLoopReportsErrorsAndContinues(t *testing.T) {
	tests := []struct {
		name          string
		input         []string
		wantStderr    string
		wantTraceback bool
	}{
		{"syntax error reported at once", []string{"x = = 1"}, "stdin:1: syntax error near '='\n", false},
		{"syntax error inside a block", []string{"function f()", "return = 1"}, "stdin:2: syntax error near '='\n", false},
		{"runtime error", []string{"error('boom')"}, "stdin:1: boom\n", false},
		{"arithmetic on nil", []string{"nothing + 1"}, "stdin:1: cannot perform add operation between nil and number\n", false},
		{"error from nested function has traceback", []string{"function inner() error('deep') end", "function outer() inner() end", "outer()"}, "stdin:1: deep\n", true},
		{"error table with __tostring", []string{"error(setmetatable({}, {__tostring = function() return 'custom failure' end}))"}, "custom failure\n", false},
		{"error value that is a plain table", []string{"error({code = 2})"}, "{code = 2}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			L := lua.NewState()
			defer L.Close()
			s := play(t, L, "", append(tt.input, "'still here'")...)
			stderr := s.stderr.String()
			if !strings.HasPrefix(stderr, tt.wantStderr) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, tt.wantStderr)
			}
			if got := strings.Contains(stderr, "stack traceback:"); got != tt.wantTraceback {
				t.Errorf("traceback shown = %v, want %v:\n%s", got, tt.wantTraceback, stderr)
			}
			if !strings.Contains(s.stdout.String(), `"still here"`) {
				t.Errorf("the REPL did not continue after the error; stdout = %q", s.stdout.String())
			}
		})
	}
}

func TestLoopInterruptAtPromptDiscardsBlock(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	s := play(t, L, "", "function f()", ctrlC, "1+1")
	if got := s.stdout.String(); got != "2\n[exit]\n" {
		t.Errorf("stdout = %q", got)
	}
	wantPrompts := []string{"> ", ">> ", "> ", "> "}
	if !reflect.DeepEqual(s.reader.prompts, wantPrompts) {
		t.Errorf("prompts = %q, want %q", s.reader.prompts, wantPrompts)
	}
	if s.stderr.Len() != 0 {
		t.Errorf("stderr = %q", s.stderr.String())
	}
}

func TestLoopEndOfInputCallsOnExitOnce(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	s := play(t, L, "", "1")
	if s.err != nil || s.exits != 1 || !s.reader.closed {
		t.Errorf("err = %v, OnExit calls = %d, reader closed = %v; want nil, 1, true", s.err, s.exits, s.reader.closed)
	}
}

func TestLoopStopsWhenContextIsCancelled(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exits := 0
	opts := withDefaults(Options{Stdout: io.Discard, Stderr: io.Discard, OnExit: func(io.Writer) { exits++ }})
	err := runLoop(ctx, L, &fakeReader{input: []string{"1"}}, opts, "")
	if !errors.Is(err, context.Canceled) || exits != 1 {
		t.Errorf("err = %v, OnExit calls = %d; want context.Canceled, 1", err, exits)
	}
}

func TestLoopRestoresContext(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	var seen context.Context
	L.SetGlobal("grab", L.NewFunction(func(L *lua.LState) int { seen = L.Context(); return 0 }))
	play(t, L, "", "grab()")
	if seen == nil {
		t.Error("chunks should run with a context")
	}
	if L.Context() != nil {
		t.Error("the context should be removed after evaluation")
	}
}

func TestLoopKeepsStackBalanced(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	inputs := []string{"1+1", "return 1, 2, 3", "x = {1, 2}", "error('e')", "nosuch()", "x = = 1", "do", "end", "setmetatable({}, {__tostring = function() return 't' end})"}
	var input []string
	for len(input) < 5000 {
		input = append(input, inputs...)
	}
	top := L.GetTop()
	s := play(t, L, "", input[:5000]...)
	if L.GetTop() != top {
		t.Errorf("stack top grew from %d to %d", top, L.GetTop())
	}
	if s.err != nil {
		t.Errorf("err = %v", s.err)
	}
}

func TestHistoryFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	entries := []string{"print('a\\nb')", "function f()\n  return 1\nend", `s = "back\\slash"`}
	for _, e := range entries {
		if err := appendHistory(path, e); err != nil {
			t.Fatal(err)
		}
	}
	if got := loadHistory(path); !reflect.DeepEqual(got, entries) {
		t.Errorf("loadHistory = %q, want %q", got, entries)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("history file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
}

func TestHistoryFileIsCompacted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history")
	var b strings.Builder
	for i := range 2*historyLimit + 5 {
		b.WriteString(strings.Repeat("x", i%7+1) + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := len(loadHistory(path)); got != historyLimit {
		t.Errorf("loaded %d entries, want %d", got, historyLimit)
	}
	if got := len(loadHistory(path)); got != historyLimit {
		t.Errorf("after compaction loaded %d entries, want %d", got, historyLimit)
	}
}

func TestDefaultHistoryPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if got := DefaultHistoryPath(); got != "/state/pocketdock/history" {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/someone")
	if got := DefaultHistoryPath(); got != "/home/someone/.local/state/pocketdock/history" {
		t.Errorf("without XDG_STATE_HOME: %q", got)
	}
}

func TestRunWithoutTerminalReadsPlainLines(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		io.WriteString(w, "x = 20\nfunction f()\nreturn x + 1\nend\nf()\n")
		w.Close()
	}()
	L := lua.NewState()
	defer L.Close()
	var stdout, stderr bytes.Buffer
	hist := filepath.Join(t.TempDir(), "history")
	exits := 0
	err = Run(context.Background(), L, Options{
		HistoryPath: hist,
		Stdin:       r,
		Stdout:      &stdout,
		Stderr:      &stderr,
		OnExit:      func(io.Writer) { exits++ },
	})
	if err != nil || exits != 1 {
		t.Fatalf("Run = %v, OnExit calls = %d", err, exits)
	}
	if !strings.Contains(stdout.String(), "21\n") || stderr.Len() != 0 {
		t.Errorf("stdout = %q, stderr = %q", stdout.String(), stderr.String())
	}
	if _, err := os.Stat(hist); !os.IsNotExist(err) {
		t.Errorf("history written for non-terminal input (stat: %v)", err)
	}
}
