package luaapi

import (
	"errors"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// createKeys are create_new_container's options, plus keys it must refuse.
var createKeys = []string{"image", "name", "persist", "project", "timeout", "mem_limit", "cpu_percent", "pids_limit",
	"env", "workdir", "user", "network", "ports", "volumes", "devices", "labels", "read_only", "socket_path", "bogus", ""}

// fuzzValue makes a Lua value of one of seven shapes from the fuzzer's bytes.
func fuzzValue(L *lua.LState, kind uint8, s string, n float64) lua.LValue {
	switch kind % 8 {
	case 0:
		return lua.LNil
	case 1:
		return lua.LBool(n > 0)
	case 2:
		return lua.LNumber(n)
	case 3:
		return lua.LString(s)
	case 4:
		t := L.NewTable()
		t.Append(lua.LString(s))
		t.Append(lua.LNumber(n))
		return t
	case 5:
		t := L.NewTable()
		t.RawSetString(s, lua.LNumber(n))
		t.RawSet(lua.LNumber(n), lua.LString(s))
		return t
	case 6:
		t := L.NewTable()
		t.RawSetString("source", lua.LString(s))
		t.RawSetString("target", lua.LString(s))
		t.RawSetString("host_ip", lua.LNumber(n))
		return t
	default:
		return L.NewFunction(func(*lua.LState) int { return 0 })
	}
}

func fuzzKey(k uint8, s string) string {
	if int(k) < len(createKeys)*4 {
		return createKeys[int(k)%len(createKeys)]
	}
	return s
}

// FuzzCreateOptions feeds random option tables to create_new_container's
// decoder: it either accepts them or raises an InvalidArgument error table
// whose text shows no Go internals; it never panics.
func FuzzCreateOptions(f *testing.F) {
	f.Add(uint8(0), uint8(3), uint8(1), uint8(2), "img", 1.0)
	f.Add(uint8(5), uint8(3), uint8(7), uint8(2), "256m", 50.0)
	f.Add(uint8(12), uint8(5), uint8(13), uint8(4), "8080", 80.0)
	f.Add(uint8(13), uint8(6), uint8(11), uint8(1), "/tmp", -1.0)
	f.Add(uint8(15), uint8(5), uint8(1), uint8(3), "pocketdock.x", 1e300)
	f.Add(uint8(200), uint8(3), uint8(8), uint8(2), "weird key", 0.5)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 uint8, s string, n float64) {
		L := lua.NewState()
		defer L.Close()
		registerErrorType(L)
		opts := L.NewTable()
		opts.RawSetString(fuzzKey(k1, s), fuzzValue(L, v1, s, n))
		opts.RawSetString(fuzzKey(k2, s), fuzzValue(L, v2, s+"x", n*7))
		fn := L.NewFunction(func(L *lua.LState) int {
			decodeCreate(L, "create_new_container", 1)
			return 0
		})
		L.Push(fn)
		L.Push(opts)
		err := L.PCall(1, 0, nil)
		if err == nil {
			return
		}
		var ae *lua.ApiError
		if !errors.As(err, &ae) || ErrorKind(ae.Object) != "InvalidArgument" {
			t.Fatalf("not an InvalidArgument error: %v", err)
		}
		text := ErrorText(ae.Object)
		for _, bad := range []string{"*lua.", "luaapi.", "goroutine", ".go:", "runtime error", "0xc0"} {
			if strings.Contains(text, bad) {
				t.Fatalf("Go internals in %q", text)
			}
		}
		if !strings.HasPrefix(lua.LVAsString(ae.Object.(*lua.LTable).RawGetString("message")), "create_new_container") {
			t.Fatalf("the message does not name the function: %q", text)
		}
	})
}
