package luaapi

import lua "github.com/yuin/gopher-lua"

func (m *Module) writeFile(L *lua.LState) int { return notYet(L, "write_file") }
func (m *Module) readFile(L *lua.LState) int  { return notYet(L, "read_file") }
func (m *Module) listFiles(L *lua.LState) int { return notYet(L, "list_files") }
func (m *Module) stat(L *lua.LState) int      { return notYet(L, "stat") }
func (m *Module) push(L *lua.LState) int      { return notYet(L, "push") }
func (m *Module) pull(L *lua.LState) int      { return notYet(L, "pull") }
