package repl

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// evalValue runs setup and returns the value of expr, leaving the stack as
// it found it.
func evalValue(t *testing.T, L *lua.LState, expr string) lua.LValue {
	t.Helper()
	top := L.GetTop()
	defer L.SetTop(top)
	if err := L.DoString("return " + expr); err != nil {
		t.Fatalf("evaluating %q: %v", expr, err)
	}
	return L.Get(top + 1)
}

// newContainer returns a userdata that prints like a container handle.
func newContainer(L *lua.LState, name string) *lua.LUserData {
	ud := L.NewUserData()
	mt := L.NewTable()
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("<container " + name + " running 3f2a1c9b persist>"))
		return 1
	}))
	ud.Metatable = mt
	return ud
}

func TestFormat(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("c", newContainer(L, "my-sandbox"))
	if err := L.DoString(`
		cyclic = {name = "loop"}
		cyclic.self = cyclic
		shared = {1}
		pair = {a = shared, b = shared}
		long = {}
		for i = 1, 60 do long[i] = i end
		pretty = setmetatable({}, {__tostring = function() return "<pretty>" end})
		anon = function() end
	`); err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("gofn", L.NewFunction(func(*lua.LState) int { return 0 }))
	anonGo := L.NewFunction(func(*lua.LState) int { return 0 })

	tests := []struct {
		name string
		expr string
		want string
	}{
		{"nil", "nil", "nil"},
		{"boolean", "true", "true"},
		{"integer", "42", "42"},
		{"float", "1.5", "1.5"},
		{"string is quoted", `"hi"`, `"hi"`},
		{"string escapes", `"a\nb\t\"c\""`, `"a\nb\t\"c\""`},
		{"empty table", "{}", "{}"},
		{"array", "{1, 2, 3}", "{1, 2, 3}"},
		{"array of strings", `{"a", "b"}`, `{"a", "b"}`},
		{"keys sorted numbers first then strings", `{b = 2, a = 1, [10] = "x", [2] = true}`, `{[2] = true, [10] = "x", a = 1, b = 2}`},
		{"array then named keys", `{1, 2, n = 2}`, `{1, 2, n = 2}`},
		{"non identifier keys bracketed", `{["a b"] = 1, ["end"] = 2}`, `{["a b"] = 1, ["end"] = 2}`},
		{"nested", `{a = {b = {1}}}`, `{a = {b = {1}}}`},
		{"cycle marked", "cyclic", `{name = "loop", self = <cycle>}`},
		{"shared table is not a cycle", "pair", `{a = {1}, b = {1}}`},
		{"tostring metamethod on table", "pretty", "<pretty>"},
		{"tostring metamethod inside table", "{pretty}", "{<pretty>}"},
		{"container userdata", "c", "<container my-sandbox running 3f2a1c9b persist>"},
		{"named builtin", "print", "function: print"},
		{"builtin in module", "string.format", "function: string.format"},
		{"global Go function", "gofn", "function: gofn"},
		{"global Lua function", "anon", "function: anon"},
		{"anonymous Lua function", "function() end", "function: <string>:1"},
		{"run result", `{exit_code = 0, ok = true, duration_ms = 3, stdout = "hi\n", stderr = ""}`,
			"exit_code = 0   ok = true   duration_ms = 3\nstdout:\nhi"},
		{"run result with stderr", `{exit_code = 2, stdout = "", stderr = "no such file\n"}`,
			"exit_code = 2\nstderr:\nno such file"},
		{"run result output is raw text", `{exit_code = 0, stdout = "a\t\"b\"\nc", stderr = "x"}`,
			"exit_code = 0\nstdout:\na\t\"b\"\nc\nstderr:\nx"},
		{"wide table split over lines", `{alpha = "aaaaaaaaaaaaaaaa", beta = "bbbbbbbbbbbbbbbb", gamma = "cccccccccccccccc", delta = {1, 2}}`,
			"{\n  alpha = \"aaaaaaaaaaaaaaaa\",\n  beta = \"bbbbbbbbbbbbbbbb\",\n  delta = {1, 2},\n  gamma = \"cccccccccccccccc\"\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(L, evalValue(t, L, tt.expr)); got != tt.want {
				t.Errorf("Format(%s) =\n%s\nwant\n%s", tt.expr, got, tt.want)
			}
		})
	}

	t.Run("anonymous Go function", func(t *testing.T) {
		if got := Format(L, anonGo); got != "function: builtin" {
			t.Errorf("got %q, want %q", got, "function: builtin")
		}
	})
}

func TestFormatLongTableIsCut(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	got := Format(L, evalValue(t, L, "(function() local t = {} for i = 1, 60 do t[i] = i end return t end)()"))
	if !strings.HasSuffix(got, "  ... (+10 more)\n}") {
		t.Errorf("long table not cut with a count:\n%s", got)
	}
	if !strings.Contains(got, "  50,\n") || strings.Contains(got, "51") {
		t.Errorf("long table should show exactly the first 50 entries:\n%s", got)
	}
}

func TestFormatNestedIndentation(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	got := Format(L, evalValue(t, L, `{outer = {alpha = "aaaaaaaaaaaaaaaaaaaa", beta = "bbbbbbbbbbbbbbbbbbbb", gamma = "cccccccccccccccccccc"}}`))
	want := "{\n  outer = {\n    alpha = \"aaaaaaaaaaaaaaaaaaaa\",\n    beta = \"bbbbbbbbbbbbbbbbbbbb\",\n    gamma = \"cccccccccccccccccccc\"\n  }\n}"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestFormatKeepsStackBalanced(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	v := evalValue(t, L, `{setmetatable({}, {__tostring = function() return "x" end}), setmetatable({}, {__tostring = function() error("bad") end})}`)
	top := L.GetTop()
	Format(L, v)
	if L.GetTop() != top {
		t.Errorf("stack top changed from %d to %d", top, L.GetTop())
	}
}

// Terminal control sequences in values and command output are shown as Lua
// escapes, never sent to the terminal; long values are cut to a screenful.
func TestFormatEscapesControlCharacters(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct{ name, expr, want string }{
		{"OSC 52 in a string", `"\27]52;c;SGk=\7"`, `"\27]52;c;SGk=\7"`},
		{"escape before a digit", `"\0271"`, `"\0271"`},
		{"CR and DEL", `"a\rb\127"`, `"a\rb\127"`},
		{"C1 CSI and bidi override", `"x\194\155y\226\128\174z"`, `"x\194\155y\226\128\174z"`},
		{"invalid UTF-8", `"\255"`, `"\255"`},
		{"unicode stays", `"héllo ✓"`, `"héllo ✓"`},
		{"key", `{["\27[2J"] = 1}`, `{["\27[2J"] = 1}`},
		{"run output", `{exit_code = 0, stdout = "a\27[2J\n\tb\n", stderr = "\27]0;title\7"}`,
			"exit_code = 0\nstdout:\na\\27[2J\n\tb\nstderr:\n\\27]0;title\\7"},
		{"tostring result", `setmetatable({}, {__tostring = function() return "\27[31mred" end})`, `\27[31mred`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(L, evalValue(t, L, tt.expr)); got != tt.want {
				t.Errorf("Format(%s) =\n%s\nwant\n%s", tt.expr, got, tt.want)
			}
		})
	}
	// what Quote shows reads back as the same bytes
	for _, s := range []string{"\x1b]52;c;SGk=\a", "\x1b1", "a\"b\\c\n", "\xff\xfe9", "x\u202ey"} {
		if err := L.DoString("return " + Quote(s)); err != nil {
			t.Fatalf("Quote(%q) = %s does not parse: %v", s, Quote(s), err)
		}
		if got := L.Get(-1).String(); got != s {
			t.Errorf("Quote(%q) = %s reads back as %q", s, Quote(s), got)
		}
		L.Pop(1)
	}
}

func TestFormatCutsLongValues(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	got := Format(L, evalValue(t, L, `string.rep("a", 1000000)`))
	if len(got) > maxShownBytes+100 || !strings.HasSuffix(got, "... (991808 more bytes not shown)") {
		t.Errorf("a 1 MB string shows as %d bytes ending %q", len(got), got[len(got)-60:])
	}
	got = Format(L, evalValue(t, L, `{exit_code = 0, stdout = string.rep("line\n", 200000), stderr = ""}`))
	if len(got) > maxShownBytes+200 || !strings.Contains(got, "more bytes not shown") {
		t.Errorf("1 MB of output shows as %d bytes", len(got))
	}
	lines := clipLines(strings.Repeat("x\n", 1000))
	if n := strings.Count(lines, "\n"); n != maxShownLines || !strings.HasSuffix(lines, "(941 more lines not shown)") {
		t.Errorf("1000 lines show as %d: ...%q", n, lines[len(lines)-40:])
	}
}
