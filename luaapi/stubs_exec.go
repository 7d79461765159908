package luaapi

import lua "github.com/yuin/gopher-lua"

func registerExtraTypes(L *lua.LState, m *Module) {}

func (m *Module) spawn(L *lua.LState) int   { return notYet(L, "spawn") }
func (m *Module) session(L *lua.LState) int { return notYet(L, "session") }
