package luaapi_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/luaapi"
)

// The tests share one real engine; without one they fail (they are the contract with Podman).
var testEngine *engine.Engine

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	e, err := engine.Connect(ctx, "", engine.ConnectOptions{Autostart: true})
	if err == nil {
		err = e.EnsureDefaultImage(ctx, nil)
	}
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "luaapi tests need a Podman engine:", err)
		os.Exit(1)
	}
	testEngine = e
	os.Exit(m.Run())
}

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
	if ae, ok := err.(*lua.ApiError); ok {
		return ae.Object, err
	}
	return lua.LString(err.Error()), err
}

func errText(err error) string {
	if ae, ok := err.(*lua.ApiError); ok {
		return luaapi.ErrorText(ae.Object) + "\n" + ae.StackTrace
	}
	return err.Error()
}

// TestLuaScenarios runs every testdata/*.lua file in a fresh state. A
// scenario fails by raising an error (assert); `T.name` is the file's name
// and `T.tmpdir` a fresh host directory.
func TestLuaScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.lua")
	if len(files) == 0 {
		t.Fatal("no Lua scenarios found")
	}
	for _, f := range files {
		f := f
		t.Run(strings.TrimSuffix(filepath.Base(f), ".lua"), func(t *testing.T) {
			s := newState(t)
			tt := s.L.NewTable()
			tt.RawSetString("name", lua.LString(filepath.Base(f)))
			tt.RawSetString("tmpdir", lua.LString(t.TempDir()))
			tt.RawSetString("log", s.L.NewFunction(func(L *lua.LState) int {
				t.Log(L.ToString(1))
				return 0
			}))
			s.L.SetGlobal("T", tt)
			if err := s.L.DoFile(f); err != nil {
				t.Fatalf("%s: %s", f, errText(err))
			}
		})
	}
}
