package luaapi

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// nameFunction records the help name of a registered function.
func (m *Module) nameFunction(fn *lua.LFunction, name string) { m.names[fn] = name }

// methodPrefixes map the receiver names the docs use to help's names.
var methodPrefixes = map[string]string{"c:": "Container:", "p:": "Process:", "s:": "Session:"}

// help(fn | "name" | table | container | nil) prints a help entry, the
// module overview (help() or help(pd)), or the entries of a table of
// functions such as pd.images.
func (m *Module) help(L *lua.LState) int {
	var name string
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		L.Push(lua.LString(m.overview()))
		return printHelp(L)
	case *lua.LFunction:
		name = m.names[v]
	case lua.LString:
		name = strings.TrimPrefix(strings.TrimPrefix(string(v), "pocketdock."), "pd.")
		if p, ok := methodPrefixes[name[:min(2, len(name))]]; ok {
			name = p + name[2:]
		}
	case *lua.LTable:
		if _, ok := v.RawGetString("create_new_container").(*lua.LFunction); ok {
			L.Push(lua.LString(m.overview()))
			return printHelp(L)
		}
		held := map[string]bool{}
		v.ForEach(func(_, f lua.LValue) {
			if fn, ok := f.(*lua.LFunction); ok {
				if n, ok := m.names[fn]; ok {
					held[n] = true
				}
			}
		})
		var names []string // in the builtins' order: a table's is its hash's
		for _, b := range allBuiltins() {
			if held[b.Name] {
				names = append(names, b.Name)
			}
		}
		if len(names) > 0 {
			L.Push(lua.LString(listing(names)))
			return printHelp(L)
		}
	case *lua.LUserData:
		if _, ok := v.Value.(*Container); ok {
			var names []string
			for _, b := range allBuiltins() {
				if section(b.Name) == "Container:" {
					names = append(names, b.Name)
				}
			}
			L.Push(lua.LString(listing(names)))
			return printHelp(L)
		}
	}
	b := findBuiltin(name)
	if b == nil {
		L.Push(lua.LString("no help for that; help() lists everything"))
		return printHelp(L)
	}
	L.Push(lua.LString(formatDoc(b.Doc)))
	return printHelp(L)
}

// listing is one line per entry: its name and summary.
func listing(names []string) string {
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-24s %s\n", n, findBuiltin(n).Doc.Summary)
	}
	return strings.TrimRight(b.String(), "\n")
}

func printHelp(L *lua.LState) int {
	fmt.Println(L.Get(-1).String())
	return 0
}

func formatDoc(d doc) string {
	var b strings.Builder
	b.WriteString(d.Sig + "\n  " + d.Summary + "\n")
	if d.Opts != "" {
		b.WriteString("  options: " + d.Opts + "\n")
	}
	b.WriteString("  returns: " + d.Returns + "\n")
	b.WriteString("  example: " + d.Example)
	return b.String()
}

func (m *Module) overview() string {
	var names []string
	for _, b := range allBuiltins() {
		names = append(names, b.Name)
	}
	return "pocketdock " + Version + " — container sandboxes from Lua (Lua 5.1). help(pd.NAME) or help(\"c:run\") for details.\n" + listing(names)
}
