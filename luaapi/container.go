package luaapi

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

const containerMeta = "pocketdock.Container"

// Container is a sandbox as Lua values hold it.
type Container = sandbox.Container

// hooks are a Container's callbacks, set by c:on_stdout and the like. They
// are Lua values: only the Lua goroutine touches them.
type hooks struct {
	stdout, stderr, exit *lua.LFunction
	exitFired            bool // on_exit runs once: shutdown is idempotent, so is its hook
}

// hooksOf returns c's hooks, nil when none were ever set.
func (m *Module) hooksOf(c *Container) *hooks { return m.hooks[c] }

func userdata(L *lua.LState, c *Container) *lua.LUserData { return newUserdata(L, c, containerMeta) }

// newUserdata wraps a Go value (a Container, Process or Session) as a Lua
// value of the type meta.
func newUserdata(L *lua.LState, v any, meta string) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = v
	L.SetMetatable(ud, L.GetTypeMetatable(meta))
	return ud
}

// pushUserdata is the finish of a call that makes a value of the type meta.
func pushUserdata(meta string) finish {
	return func(L *lua.LState, v any) int {
		L.Push(newUserdata(L, v, meta))
		return 1
	}
}

// checkSelf reads argument n as the Go value a method is called on; msg
// says how to call it.
func checkSelf[T any](L *lua.LState, n int, method, msg string, args ...any) *T {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if v, ok := ud.Value.(*T); ok {
			return v
		}
	}
	argError(L, method, msg, args...)
	return nil
}

func registerContainerType(L *lua.LState, m *Module) {
	mt := L.NewTypeMetatable(containerMeta)
	methods, names := m.methodTable(L, "Container")
	mnames := L.NewTable()
	for _, n := range names {
		mnames.Append(lua.LString(n))
	}
	L.SetField(mt, "__methods", mnames)
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		c := checkContainer(L, 1, "index")
		key := L.CheckString(2)
		switch key {
		case "id":
			L.Push(lua.LString(c.ID()))
		case "name":
			L.Push(lua.LString(c.Name))
		case "persist":
			L.Push(lua.LBool(c.Persist))
		case "project":
			if c.Project == "" {
				L.Push(lua.LNil)
			} else {
				L.Push(lua.LString(c.Project))
			}
		case "image":
			L.Push(lua.LString(c.Image))
		case "engine":
			L.Push(lua.LString(c.Engine().URI))
		default:
			L.Push(methods.RawGetString(key))
		}
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkContainer(L, 1, "tostring").String()))
		return 1
	}))
	L.SetField(mt, "__eq", L.NewFunction(func(L *lua.LState) int {
		a, b := checkContainer(L, 1, "=="), checkContainer(L, 2, "==")
		L.Push(lua.LBool(a.ID() == b.ID()))
		return 1
	}))
}

// checkContainer reads argument n as a Container (the method receiver).
func checkContainer(L *lua.LState, n int, method string) *Container {
	return checkSelf[Container](L, n, method, "must be called on a container (use c:%s(...), not c.%s(...)); got %s", method, method, typeName(L.Get(n)))
}

func (m *Module) info(L *lua.LState) int {
	c := checkContainer(L, 1, "info")
	optionsArg(L, "info", 2).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.Info(ctx)
	}, pushRecord)
}

// inspect hands scripts the engine's whole record as plain tables, with
// snake_case field names.
func (m *Module) inspect(L *lua.LState) int {
	c := checkContainer(L, 1, "inspect")
	optionsArg(L, "inspect", 2).done(L) // like every method: a stray argument is a mistake
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		d, err := c.Inspect(ctx)
		if err != nil {
			return nil, err
		}
		return d.Full(), nil
	}, func(L *lua.LState, v any) int {
		L.Push(plainValue(L, v))
		return 1
	})
}

// pushRecord pushes Go data (a record, a list of them, a string) as Lua
// values: what encoding/json makes of it, so its json tags name the keys,
// omitempty leaves a key out, and a nil map, slice or pointer is nil. Records are small and rare; a run's result,
// the one on every command's path, is built by hand (resultTable).
func pushRecord(L *lua.LState, v any) int {
	var x any
	b, err := json.Marshal(v)
	if err == nil {
		err = json.Unmarshal(b, &x)
	}
	if err != nil {
		panic("pocketdock: a record that is not JSON: " + err.Error()) // a type defect, caught by its test
	}
	L.Push(plainValue(L, x))
	return 1
}

// plainValue builds Lua values from plain data (maps, slices, strings,
// numbers, booleans), map keys in sorted order.
func plainValue(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t := L.CreateTable(0, len(x))
		for _, k := range keys {
			t.RawSetString(k, plainValue(L, x[k]))
		}
		return t
	case []any:
		t := L.CreateTable(len(x), 0)
		for _, e := range x {
			t.Append(plainValue(L, e))
		}
		return t
	case string:
		return lua.LString(x)
	case float64:
		return lua.LNumber(x)
	case bool:
		return lua.LBool(x)
	}
	return lua.LNil
}

func (m *Module) snapshot(L *lua.LState) int {
	c := checkContainer(L, 1, "snapshot")
	ref := stringArg(L, "snapshot", 2, "image")
	o := optionsArg(L, "snapshot", 3)
	opts := engine.CommitOptions{Comment: o.String("comment", ""), Changes: o.StringList("changes"), NoPause: !o.Bool("pause", true)}
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.Snapshot(ctx, ref, opts) // it checks ref before it asks the engine
	}, pushString)
}

func pushString(L *lua.LState, v any) int {
	L.Push(lua.LString(v.(string)))
	return 1
}

func (m *Module) stopMethod(L *lua.LState) int {
	c := checkContainer(L, 1, "stop")
	o := optionsArg(L, "stop", 2)
	grace := o.Seconds("timeout", 5*time.Second)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, c.Stop(ctx, grace)
	}, pushTrue)
}

func (m *Module) startMethod(L *lua.LState) int {
	c := checkContainer(L, 1, "start")
	optionsArg(L, "start", 2).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, c.Start(ctx)
	}, pushTrue)
}

// reboot restarts the sandbox; fresh = true recreates it from its image.
func (m *Module) reboot(L *lua.LState) int {
	c := checkContainer(L, 1, "reboot")
	o := optionsArg(L, "reboot", 2)
	fresh := o.Bool("fresh", false)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, c.Reboot(ctx, fresh)
	}, pushTrue)
}

// shutdown: ephemeral -> removed; persistent -> stopped and kept (force removes
// it too). Idempotent, and never held up by a dead session. It runs even after
// an interruption (see blockCleanup), so with_container's cleanup happens when
// a pd.map aborts. The on_exit hook fires once, on the first shutdown.
func (m *Module) shutdown(L *lua.LState) int {
	c := checkContainer(L, 1, "shutdown")
	o := optionsArg(L, "shutdown", 2)
	force := o.Bool("force", false)
	o.done(L)
	return m.blockCleanup(L, func(ctx context.Context, post func(func())) (any, error) {
		return nil, c.Shutdown(ctx, force)
	}, func(L *lua.LState, _ any) int {
		if h := m.hooksOf(c); h != nil && h.exit != nil && !h.exitFired {
			h.exitFired = true
			L.CallByParam(lua.P{Fn: h.exit, Protect: false}, userdata(L, c))
		}
		L.Push(lua.LTrue)
		return 1
	})
}

func (m *Module) onStdout(L *lua.LState) int {
	return m.setHook(L, "on_stdout", func(h *hooks) **lua.LFunction { return &h.stdout })
}
func (m *Module) onStderr(L *lua.LState) int {
	return m.setHook(L, "on_stderr", func(h *hooks) **lua.LFunction { return &h.stderr })
}
func (m *Module) onExit(L *lua.LState) int {
	return m.setHook(L, "on_exit", func(h *hooks) **lua.LFunction { return &h.exit })
}

func (m *Module) setHook(L *lua.LState, name string, slot func(*hooks) **lua.LFunction) int {
	c := checkContainer(L, 1, name)
	h := m.hooks[c]
	if h == nil {
		h = &hooks{}
		m.hooks[c] = h
	}
	switch v := L.Get(2).(type) {
	case *lua.LFunction:
		*slot(h) = v
	case *lua.LNilType:
		*slot(h) = nil
	default:
		return argError(L, name, "argument #1 must be a function or nil, got %s", typeName(v))
	}
	return 0
}
