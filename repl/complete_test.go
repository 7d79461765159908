package repl

import (
	"context"
	"reflect"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// newCompletionState returns an LState with the globals the completion
// tests look at.
func newCompletionState(t *testing.T) *lua.LState {
	t.Helper()
	L := lua.NewState()
	t.Cleanup(L.Close)
	noop := func(*lua.LState) int { return 0 }

	// box: userdata whose methods are the keys of its metatable's __index.
	box := L.NewUserData()
	boxMethods := L.NewTable()
	L.SetField(boxMethods, "greet", L.NewFunction(noop))
	L.SetField(boxMethods, "stop", L.NewFunction(noop))
	L.SetField(boxMethods, "status", L.NewFunction(noop))
	boxMeta := L.NewTable()
	L.SetField(boxMeta, "__index", boxMethods)
	box.Metatable = boxMeta
	L.SetGlobal("box", box)

	// proxy: userdata with an __index function and a __methods list.
	proxy := L.NewUserData()
	proxyMeta := L.NewTable()
	L.SetField(proxyMeta, "__index", L.NewFunction(noop))
	methods := L.NewTable()
	methods.Append(lua.LString("exec"))
	methods.Append(lua.LString("logs"))
	L.SetField(proxyMeta, "__methods", methods)
	proxy.Metatable = proxyMeta
	L.SetGlobal("proxy", proxy)

	if err := L.DoString(`
		pocketdock = {
			resume_container = function() end,
			stop_container = function() end,
			destroy_container = function() end,
			config = {image = "alpine", idle_timeout = 60},
		}
		pd = pocketdock
		str = "text"
		obj = {name = "x", run = function() end}
	`); err != nil {
		t.Fatal(err)
	}
	return L
}

func TestCompletionCandidates(t *testing.T) {
	L := newCompletionState(t)
	names := func(context.Context) []string { return []string{"beta-box", "alpha-box", "alpha-two"} }
	c := &completer{ctx: context.Background(), L: L, names: names}

	tests := []struct {
		name    string
		line    string
		want    []string
		wantLen int
	}{
		{"global", "pri", []string{"print"}, 3},
		{"global inside expression", "x = 1 + tonu", []string{"tonumber"}, 4},
		{"global table", "pocket", []string{"pocketdock"}, 6},
		{"keyword", "func", []string{"function"}, 4},
		{"table field", "pocketdock.re", []string{"resume_container"}, 2},
		{"all fields", "pocketdock.config.", []string{"idle_timeout", "image"}, 0},
		{"nested field after call paren", "print(pocketdock.config.im", []string{"image"}, 2},
		{"field through alias", "pd.st", []string{"stop_container"}, 2},
		{"methods from __index table", "box:", []string{"greet", "status", "stop"}, 0},
		{"method prefix", "box:st", []string{"status", "stop"}, 2},
		{"methods from __methods list", "proxy:", []string{"exec", "logs"}, 0},
		{"string methods", "str:up", []string{"upper"}, 2},
		{"table methods are its functions", "obj:", []string{"run"}, 0},
		{"unknown table", "nosuch.", nil, 0},
		{"field of non-table", "str.x.", nil, 0},
		{"sandbox names", `pocketdock.resume_container("al`, []string{`alpha-box"`, `alpha-two"`}, 2},
		{"sandbox names all", `pocketdock.destroy_container("`, []string{`alpha-box"`, `alpha-two"`, `beta-box"`}, 0},
		{"sandbox names via alias and single quote", `pd.stop_container('b`, []string{`beta-box'`}, 1},
		{"sandbox names via method call", `x:resume_container( "be`, []string{`beta-box"`}, 2},
		{"sandbox names bare function", `destroy_container("alpha-t`, []string{`alpha-two"`}, 7},
		{"no sandbox names outside the string", `pocketdock.resume_container("a")`, nil, 0},
		{"no sandbox names for other functions", `print("al`, nil, 2},
		{"everything on an empty line", "", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := c.complete(tt.line)
			if tt.line == "" {
				if len(got) < 20 {
					t.Errorf("complete(\"\") = %q, want all globals and keywords", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) || n != tt.wantLen {
				t.Errorf("complete(%q) = %q, %d; want %q, %d", tt.line, got, n, tt.want, tt.wantLen)
			}
		})
	}
}

func TestCompletionWithoutNames(t *testing.T) {
	c := &completer{ctx: context.Background(), L: newCompletionState(t)}
	if got, _ := c.complete(`pocketdock.resume_container("`); got != nil {
		t.Errorf("got %q, want no candidates", got)
	}
}

func TestCompleterDoReturnsSuffixes(t *testing.T) {
	c := &completer{ctx: context.Background(), L: newCompletionState(t)}
	line := []rune("x = box:st + 1")
	got, n := c.Do(line, len("x = box:st"))
	want := [][]rune{[]rune("atus"), []rune("op")}
	if !reflect.DeepEqual(got, want) || n != 2 {
		t.Errorf("Do = %q, %d; want %q, 2", got, n, want)
	}
}
