package luaapi

import (
	_ "embed"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/stdlib"
)

// loadInternal compiles one of the module's own Lua chunks under the name
// CleanTraceback knows, so that tracebacks leave their frames out.
func loadInternal(L *lua.LState, src string) (*lua.LFunction, error) {
	return L.Load(strings.NewReader(src), stdlib.InternalChunk)
}

// moduleLua holds the parts of the module written in Lua: with_container,
// provision and images.build.
//
//go:embed module.lua
var moduleLua string

// provisionLua is the recipe builder behind pd.provision, also
// require("pocketdock.provision") for the provision and image commands.
//
//go:embed provision.lua
var provisionLua string

// preloadProvision registers require("pocketdock.provision").
func preloadProvision(L *lua.LState) {
	L.PreloadModule("pocketdock.provision", func(L *lua.LState) int {
		fn, err := L.Load(strings.NewReader(provisionLua), stdlib.InternalChunk+"/provision.lua")
		if err != nil {
			panic("pocketdock provision.lua: " + err.Error()) // a build defect, caught by every test
		}
		L.Push(fn)
		L.Call(0, 1)
		return 1
	})
}

// wrapped returns fn behind the Lua wrapper that yields pending tokens.
func (m *Module) wrapped(L *lua.LState, fn *lua.LFunction) *lua.LFunction {
	w := m.wrapper(L)
	L.Push(w)
	L.Push(fn)
	L.Call(1, 1)
	out := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	return out
}

// wrapper compiles the prelude once per state, installs the yield-forwarding
// pcall/xpcall and returns the wrap function.
func (m *Module) wrapper(L *lua.LState) *lua.LFunction {
	reg := L.Get(lua.RegistryIndex)
	if w, ok := L.GetField(reg, "pocketdock.wrap").(*lua.LFunction); ok {
		return w
	}
	pmt := L.NewTypeMetatable(pendingMeta)
	fn, err := loadInternal(L, prelude)
	if err != nil {
		panic("pocketdock prelude: " + err.Error()) // a build defect, caught by every test
	}
	L.Push(fn)
	L.Push(pmt)
	L.Call(1, 3)
	w := L.Get(-3).(*lua.LFunction)
	L.SetGlobal("pcall", L.Get(-2))
	L.SetGlobal("xpcall", L.Get(-1))
	L.Pop(3)
	L.SetField(reg, "pocketdock.wrap", w)
	return w
}

// installLua adds the functions written in Lua to a module table.
func (m *Module) installLua(L *lua.LState, t *lua.LTable) {
	fn, err := loadInternal(L, moduleLua)
	if err != nil {
		panic("pocketdock module.lua: " + err.Error())
	}
	L.Push(fn)
	L.Push(t)
	L.Push(L.NewFunction(newError))
	L.Push(L.NewFunction(m.scopeFn))
	L.Call(3, 0)
	m.nameLuaBuiltins(t)
}

// scopeFn(c) marks c as with_container's, so that it is shut down even when
// the Lua after fn never runs (an aborted pd.map, Ctrl-C, os.exit).
func (m *Module) scopeFn(L *lua.LState) int {
	m.reg.Scope(checkContainer(L, 1, "with_container"))
	return 0
}

// newError(kind, message [, hint]) makes an error value from Lua code.
func newError(L *lua.LState) int {
	t := L.NewTable()
	t.RawSetString("kind", L.Get(1))
	t.RawSetString("message", L.Get(2))
	if h := L.Get(3); h != lua.LNil {
		t.RawSetString("hint", h)
	}
	L.SetMetatable(t, L.GetTypeMetatable(errorMeta))
	L.Push(t)
	return 1
}
