package repl

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func TestIncomplete(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want bool
	}{
		{"open function", "function f()", true},
		{"open function with body", "function f(a)\n  return a", true},
		{"open do block", "do", true},
		{"open if", "if x then", true},
		{"open for loop", "for i = 1, 3 do", true},
		{"open while loop", "while true do", true},
		{"open repeat", "repeat", true},
		{"open table constructor", "t = {", true},
		{"open table with entries", "t = {1, 2,", true},
		{"open call", "print(", true},
		{"dangling operator", "x = 1 +", true},
		{"open long string", "s = [[first line", true},
		{"open long string with level", "s = [==[text ]] still open", true},
		{"open long comment", "--[[ a comment", true},
		{"complete statement", "x = 1", false},
		{"complete block", "do x = 1 end", false},
		{"unexpected symbol", "x = = 1", false},
		{"stray end", "end", false},
		{"bad local name", "local 1 = 2", false},
		{"extra closing paren", "print(1))", false},
		{"unterminated short string", `x = "abc`, false},
		{"error before the end", "x = = 1\nfunction f()", false},
	}
	L := lua.NewState()
	defer L.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := L.Load(strings.NewReader(tt.src+"\n"), "stdin")
			if got := Incomplete(err); got != tt.want {
				t.Errorf("Incomplete(%q) = %v, want %v (err: %v)", tt.src, got, tt.want, err)
			}
		})
	}
}

func TestIncompleteIgnoresOtherErrors(t *testing.T) {
	for _, err := range []error{nil, errors.New("at EOF: syntax error"), &lua.ApiError{Type: lua.ApiErrorRun, Object: lua.LString("boom")}} {
		if Incomplete(err) {
			t.Errorf("Incomplete(%v) = true, want false", err)
		}
	}
}

func TestCompileChunk(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		wantErr    bool
		incomplete bool
	}{
		{"expression", "1 + 1", false, false},
		{"statement", "x = 1", false, false},
		{"equals shorthand", "=1 + 1", false, false},
		{"unfinished expression", "{1,", true, true},
		{"unfinished sum", "1 +", true, true},
		{"unfinished statement", "local t = {", true, true},
		{"syntax error", "x = = 1", true, false},
	}
	L := lua.NewState()
	defer L.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileChunk(L, tt.src)
			if (err != nil) != tt.wantErr || Incomplete(err) != tt.incomplete {
				t.Errorf("compileChunk(%q) err = %v, want error %v, incomplete %v", tt.src, err, tt.wantErr, tt.incomplete)
			}
		})
	}
}

func TestSyntaxMessageIsOneLine(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	_, err := compileChunk(L, "x = = 1")
	if got, want := syntaxMessage(err), "stdin:1: syntax error near '='"; got != want {
		t.Errorf("syntaxMessage = %q, want %q", got, want)
	}
}
