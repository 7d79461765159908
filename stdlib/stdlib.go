// Package stdlib holds the Lua code embedded in pocketdock: the management
// commands and JSON, written against the public Lua API, with the Go they
// need (the JSON decoder, the list of commands for the binary) and the
// traceback cleaning that hides pocketdock's own frames.
package stdlib

import (
	"embed"
	"errors"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

//go:embed lua/*.lua
var files embed.FS

// InternalChunk starts the names of pocketdock's own Lua chunks (these files,
// and the module's Lua in package luaapi): tracebacks leave their frames out,
// as they say nothing about the script that called into them.
const InternalChunk = "[pocketdock]"

// Preload registers every embedded file as a module: lua/cli.lua is
// require("pocketdock.cli").
func Preload(L *lua.LState) {
	entries, _ := files.ReadDir("lua")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		if name == "json" {
			L.PreloadModule("pocketdock.json", func(L *lua.LState) int {
				L.Push(JSON(L))
				return 1
			})
			continue
		}
		L.PreloadModule("pocketdock."+name, func(L *lua.LState) int {
			L.Push(load(L, e.Name()))
			L.Call(0, 1)
			return 1
		})
	}
}

// load compiles an embedded file under an InternalChunk name.
func load(L *lua.LState, file string) *lua.LFunction {
	src, _ := files.ReadFile("lua/" + file)
	fn, err := L.Load(strings.NewReader(string(src)), InternalChunk+"/"+file)
	if err != nil {
		L.RaiseError("stdlib %s: %s", file, err.Error()) // a build defect, caught by every test
	}
	return fn
}

// Commands lists the management commands, in the order help shows them:
// require("pocketdock.cli").commands, so that lua/cli.lua, which defines
// them, is the one list. L must have the pocketdock module preloaded (cli.lua
// requires it); the command that runs next finds cli.lua loaded.
func Commands(L *lua.LState) ([]string, error) {
	if err := L.CallByParam(lua.P{Fn: L.GetGlobal("require"), NRet: 1, Protect: true}, lua.LString("pocketdock.cli")); err != nil {
		return nil, err
	}
	cli, _ := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	if cli == nil {
		return nil, errors.New("pocketdock.cli is not a table")
	}
	list, ok := cli.RawGetString("commands").(*lua.LTable)
	if !ok {
		return nil, errors.New("pocketdock.cli has no commands list")
	}
	names := make([]string, 0, list.Len())
	for i := 1; i <= list.Len(); i++ {
		names = append(names, list.RawGetInt(i).String())
	}
	return names, nil
}

// JSON returns the state's pocketdock.json table (made once; the module's
// pd.json is the same table): encode, array and null from lua/json.lua.
// decode is added by whoever raises its errors (package luaapi), with
// DecodeJSON and the arrays metatable JSONArrays returns.
func JSON(L *lua.LState) *lua.LTable {
	reg := L.Get(lua.RegistryIndex)
	if t, ok := L.GetField(reg, "pocketdock.json").(*lua.LTable); ok {
		return t
	}
	L.Push(load(L, "json.lua"))
	L.Call(0, 2)
	t, arrays := L.CheckTable(-2), L.CheckTable(-1)
	L.Pop(2)
	L.SetField(reg, "pocketdock.json", t)
	L.SetField(reg, "pocketdock.json.arrays", arrays)
	return t
}

// JSONArrays returns the metatable that marks a table as a JSON array.
func JSONArrays(L *lua.LState) *lua.LTable {
	JSON(L)
	t, _ := L.GetField(L.Get(lua.RegistryIndex), "pocketdock.json.arrays").(*lua.LTable)
	return t
}

// CleanTraceback keeps the frames of a Lua traceback that speak about the
// script: Go frames, the module's own Lua (chunks named InternalChunk...)
// and the tail-call markers they leave are taken out. An empty string means
// nothing is left worth showing.
func CleanTraceback(tb string) string {
	var keep []string
	for _, line := range strings.Split(tb, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.Contains(t, "<G") || strings.HasPrefix(t, "[G]") || strings.Contains(t, ".go:") ||
			strings.HasPrefix(t, InternalChunk) || strings.HasPrefix(t, "(tailcall)") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) <= 1 {
		return ""
	}
	return strings.Join(keep, "\n")
}
