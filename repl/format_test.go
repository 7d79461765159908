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
