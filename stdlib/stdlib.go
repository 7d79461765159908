// Package stdlib holds the Lua code embedded in pocketdock: the management
// commands and provisioning recipes, written against the public Lua API.
package stdlib

import (
	"embed"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

//go:embed lua/*.lua
var files embed.FS

// Preload registers every embedded file as a module: lua/cli.lua is
// require("pocketdock.cli").
func Preload(L *lua.LState) {
	entries, _ := files.ReadDir("lua")
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".lua")
		path := "lua/" + e.Name()
		L.PreloadModule("pocketdock."+name, func(L *lua.LState) int {
			src, _ := files.ReadFile(path)
			fn, err := L.Load(strings.NewReader(string(src)), "@stdlib/"+path)
			if err != nil {
				L.RaiseError("stdlib %s: %s", path, err.Error())
			}
			L.Push(fn)
			L.Call(0, 1)
			return 1
		})
	}
}

// Source returns an embedded file's text (for tests and tools).
func Source(name string) (string, error) {
	b, err := files.ReadFile("lua/" + name)
	return string(b), err
}
