package luaapi

import (
	"context"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

// handle is the set of module functions bound to one engine: the module
// itself (uri "" = discovery) or what pd.connect returns.
type handle struct {
	m   *Module
	uri string
}

// handleTable is a module table bound to one engine: the builtins of
// builtins.go, and the parts of the module written in Lua.
func (m *Module) handleTable(L *lua.LState, uri string) *lua.LTable {
	h := &handle{m: m, uri: uri}
	t := L.NewTable()
	m.setBuiltins(L, t, "", h)
	images := L.NewTable()
	m.setBuiltins(L, images, "images.", h)
	t.RawSetString("images", images)
	t.RawSetString("engine", lua.LString(uri))
	m.installLua(L, t)
	return t
}

// engineOpt reads the socket_path option: the engine a call names, else
// (absent or "") the handle's.
func (h *handle) engineOpt(o *options) string {
	if s := o.String("socket_path", ""); s != "" {
		return s
	}
	return h.uri
}

func (m *Module) version(L *lua.LState) int {
	L.Push(lua.LString(Version))
	return 1
}

// clock is monotonic milliseconds since the module was made.
func (m *Module) clock(L *lua.LState) int {
	L.Push(lua.LNumber(float64(time.Since(m.start).Microseconds()) / 1000))
	return 1
}

func (m *Module) connectFn(L *lua.LState) int {
	uri := stringArg(L, "connect", 1, "uri")
	o := optionsArg(L, "connect", 2)
	identity := o.String("identity", "")
	timeout := o.Seconds("timeout", 10*time.Second)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return m.reg.Connect(ctx, uri, identity, timeout)
	}, func(L *lua.LState, v any) int {
		e := v.(*engine.Engine)
		L.Push(m.handleTable(L, e.URI))
		return 1
	})
}
