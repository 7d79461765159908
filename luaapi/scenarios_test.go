//go:build !unit

package luaapi_test

import (
	"path/filepath"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// TestLuaScenarios runs every testdata/*.lua file in a fresh state. A
// scenario fails by raising an error (assert); `T.name` is the file's name
// and `T.tmpdir` a fresh host directory.
func TestLuaScenarios(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.lua")
	if len(files) == 0 {
		t.Fatal("no Lua scenarios found")
	}
	enginetest.Engine(t) // the scenarios drive sandboxes: no engine fails them here, once
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
