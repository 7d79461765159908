package luaapi_test

import (
	"bytes"
	"errors"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/luaapi"
)

// The helpers here need no engine: a state reaches one only when its Lua
// code does. The tests that do are built without the unit tag and share the
// engine of internal/enginetest.

// state is a Lua state with the module, as scripts see it, cleaned up after the test.
type state struct {
	L      *lua.LState
	M      *luaapi.Module
	Stderr *bytes.Buffer
}

func newState(t *testing.T) *state {
	t.Helper()
	var stderr bytes.Buffer
	L := lua.NewState()
	m := luaapi.New(luaapi.Options{Stderr: &stderr})
	m.Preload(L)
	s := &state{L: L, M: m, Stderr: &stderr}
	t.Cleanup(func() { m.Cleanup(); L.Close() })
	return s
}

// run executes Lua code and fails the test on a Lua error.
func (s *state) run(t *testing.T, src string) {
	t.Helper()
	if err := s.L.DoString(src); err != nil {
		t.Fatalf("lua error: %s\n%s", errText(err), src)
	}
}

// eval runs Lua code and returns its error value (nil when it succeeded).
func (s *state) eval(src string) (lua.LValue, error) {
	err := s.L.DoString(src)
	if err == nil {
		return nil, nil
	}
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return ae.Object, err
	}
	return lua.LString(err.Error()), err
}

func errText(err error) string {
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		return luaapi.ErrorText(ae.Object) + "\n" + ae.StackTrace
	}
	return err.Error()
}
