package luaapi

import (
	"context"
	"strings"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

const processMeta = "pocketdock.Process"

// Process is a background command as Lua values hold it.
type Process = sandbox.Process

func (m *Module) spawn(L *lua.LState) int {
	c := checkContainer(L, 1, "spawn")
	explicitTimeout := false
	if t, ok := L.Get(3).(*lua.LTable); ok {
		explicitTimeout = t.RawGetString("timeout") != lua.LNil
		for _, k := range []string{"on_stdout", "on_stderr", "check"} {
			if t.RawGetString(k) != lua.LNil {
				return argError(L, "spawn", "option '%s' is not supported by spawn (read the output with p:read())", k)
			}
		}
	}
	r := decodeRun(L, c, "spawn")
	if !explicitTimeout {
		r.opts.Timeout = -1 // a background process runs until it ends or is killed
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.Spawn(ctx, r.argv, r.opts)
	}, pushUserdata(processMeta))
}

func signalArg(L *lua.LState, n int) syscall.Signal {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return syscall.SIGKILL
	case lua.LNumber:
		if v >= 1 && v <= 64 && float64(v) == float64(int(v)) {
			return syscall.Signal(int(v))
		}
	case lua.LString:
		if s, ok := sandbox.ParseSignal(string(v)); ok {
			return s
		}
	}
	argError(L, "kill", "argument #1 (signal) must be a signal name such as \"TERM\" or a number 1-64, got %s", L.Get(n).String())
	return 0
}

func checkProcess(L *lua.LState, method string) *Process {
	return checkSelf[Process](L, 1, method, "must be called on a process (use p:%s(...))", method)
}

func processRunning(L *lua.LState) int {
	L.Push(lua.LBool(checkProcess(L, "running").Running()))
	return 1
}

func processRead(L *lua.LState) int { return pushBuffered(L, checkProcess(L, "read"), true) }
func processPeek(L *lua.LState) int { return pushBuffered(L, checkProcess(L, "peek"), false) }

func pushBuffered(L *lua.LState, p *Process, drain bool) int {
	out, errs, over := p.Read(drain)
	L.Push(lua.LString(out))
	L.Push(lua.LString(errs))
	L.Push(lua.LBool(over))
	return 3
}

func (m *Module) processWait(L *lua.LState) int {
	p := checkProcess(L, "wait")
	var timeout time.Duration = -1
	if v := L.Get(2); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n < 0 {
			return argError(L, "wait", "argument #1 (timeout) must be a number of seconds >= 0 or nil, got %s", typeName(v))
		}
		timeout = time.Duration(float64(n) * float64(time.Second))
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return p.Wait(ctx, timeout)
	}, func(L *lua.LState, v any) int {
		if res, ok := v.(*engine.ExecResult); ok && res != nil {
			L.Push(resultTable(L, res))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	})
}

func (m *Module) processKill(L *lua.LState) int {
	p := checkProcess(L, "kill")
	sig := signalArg(L, 2)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, p.Kill(ctx, sig)
	}, pushTrue)
}

// registerExtraTypes registers the Process and Session metatables.
func registerExtraTypes(L *lua.LState, m *Module) {
	registerMethods(L, m, processMeta, "Process")
	registerMethods(L, m, sessionMeta, "Session")
}

func registerMethods(L *lua.LState, m *Module, meta, typeName string) {
	mt := L.NewTypeMetatable(meta)
	methods, _ := m.methodTable(L, typeName)
	L.SetField(mt, "__index", methods)
	lower := strings.ToLower(typeName)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("<" + lower + ">"))
		return 1
	}))
}
