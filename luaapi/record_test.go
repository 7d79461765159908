package luaapi

import (
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/sandbox"
)

// The tests in this file need no engine: `make unit` runs them.

// pushRecord keeps json's rules: tag names, omitempty, nil as absent, and an
// empty (not nil) map as an empty table; numbers stay numbers.
func TestPushRecord(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	limit := int64(64 << 20)
	pushRecord(L, &sandbox.Info{ID: "abc", Pid: 7, Running: true, MemLimit: &limit, Labels: map[string]string{}})
	tb := L.Get(-1).(*lua.LTable)
	if tb.RawGetString("id") != lua.LString("abc") || tb.RawGetString("pid") != lua.LNumber(7) || tb.RawGetString("running") != lua.LTrue ||
		tb.RawGetString("mem_limit") != lua.LNumber(64<<20) || tb.RawGetString("persist") != lua.LFalse {
		t.Errorf("fields: %v %v %v %v", tb.RawGetString("id"), tb.RawGetString("pid"), tb.RawGetString("running"), tb.RawGetString("mem_limit"))
	}
	for _, absent := range []string{"project", "started_at", "pids_limit", "ports", "ID", "Pid"} {
		if v := tb.RawGetString(absent); v != lua.LNil {
			t.Errorf("%s is %v, want absent", absent, v)
		}
	}
	if labels, ok := tb.RawGetString("labels").(*lua.LTable); !ok || labels.Len() != 0 {
		t.Errorf("empty labels: %v", tb.RawGetString("labels"))
	}
	pushRecord(L, nil)
	if L.Get(-1) != lua.LNil {
		t.Errorf("nil is %v", L.Get(-1))
	}
}
