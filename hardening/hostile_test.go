package hardening

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// Every wrong type in every argument of every function and method raises
// InvalidArgument naming the function and the argument, with no Go internals.
func TestWrongTypesSweep(t *testing.T) {
	s := newState(t, "")
	if err := s.L.DoFile("testdata/wrong_types.lua"); err != nil {
		t.Fatalf("the sweep itself failed: %s", errText(err))
	}
	res := s.L.GetGlobal("RESULT").(*lua.LTable)
	calls := int(lua.LVAsNumber(res.RawGetString("calls")))
	var failures []string
	res.RawGetString("failures").(*lua.LTable).ForEach(func(_, v lua.LValue) { failures = append(failures, v.String()) })
	t.Logf("FIGURE wrong-types: %d calls, %d bad errors", calls, len(failures))
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls raised a bad error:\n%s", len(failures), calls, strings.Join(failures, "\n"))
	}
}
