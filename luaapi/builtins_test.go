package luaapi

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

var update = flag.Bool("update", false, "rewrite docs/LUA_API.md from builtins.go")

// Every builtin has a whole help entry: a signature that names it, a
// summary, what it returns and an example that compiles.
func TestBuiltinDocs(t *testing.T) {
	seen := map[string]bool{}
	L := lua.NewState()
	defer L.Close()
	for _, b := range builtins() {
		if seen[b.Name] {
			t.Errorf("%s: two descriptors", b.Name)
		}
		seen[b.Name] = true
		d := b.Doc
		short := b.Name[strings.LastIndexAny(b.Name, ".:")+1:]
		if !strings.Contains(d.Sig, short) {
			t.Errorf("%s: the signature %q does not name it", b.Name, d.Sig)
		}
		if d.Summary == "" || d.Returns == "" || d.Example == "" {
			t.Errorf("%s: summary, returns and example are all needed: %+v", b.Name, d)
		}
		if _, err := L.LoadString(d.Example); err != nil {
			t.Errorf("%s: the example does not compile: %v", b.Name, err)
		}
		if b.Fn == nil && b.Blocking {
			t.Errorf("%s: written in Lua, so it gets no wrapper: Blocking means nothing", b.Name)
		}
	}
}

// What a script can reach (the module table, pd.images, pd.json and the
// methods of Container, Process and Session values) is exactly the list of
// builtins, and help(fn) finds each function's entry.
func TestHelpCoversEveryExport(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	m := New(Options{})
	m.Preload(L)
	reachable := map[string]bool{}
	fn := func(name string, v lua.LValue) {
		f, ok := v.(*lua.LFunction)
		if !ok {
			return
		}
		reachable[name] = true
		if m.names[f] != name {
			t.Errorf("%s: help(fn) finds %q", name, m.names[f])
		}
	}
	pd := L.GetGlobal("pd").(*lua.LTable)
	pd.ForEach(func(k, v lua.LValue) {
		fn(k.String(), v)
		if sub, ok := v.(*lua.LTable); ok {
			sub.ForEach(func(k2, v2 lua.LValue) { fn(k.String()+"."+k2.String(), v2) })
		}
	})
	for typeName, meta := range map[string]string{"Process": processMeta, "Session": sessionMeta} {
		methods := L.GetField(L.GetTypeMetatable(meta), "__index").(*lua.LTable)
		methods.ForEach(func(k, v lua.LValue) { fn(typeName+":"+k.String(), v) })
	}
	// A Container's __index is a function (fields, then methods): __methods names them.
	cmt := L.GetTypeMetatable(containerMeta)
	L.GetField(cmt, "__methods").(*lua.LTable).ForEach(func(_, v lua.LValue) { reachable["Container:"+v.String()] = true })

	described := map[string]bool{}
	for _, b := range builtins() {
		described[b.Name] = true
	}
	var missing, stale []string
	for n := range reachable {
		if !described[n] {
			missing = append(missing, n)
		}
	}
	for n := range described {
		if !reachable[n] {
			stale = append(stale, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("reachable from Lua without a builtin descriptor: %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("descriptors of nothing a script can reach: %v", stale)
	}
	if len(reachable) < 50 {
		t.Errorf("only %d functions found: the walk missed the module", len(reachable))
	}
}

// docs/LUA_API.md is what builtins.go says.
func TestLuaAPIDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "LUA_API.md")
	want := markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v; make it with: make docs", err)
	}
	if string(got) != want {
		t.Fatalf("docs/LUA_API.md is stale: builtins.go changed since it was made; regenerate it with: make docs (go generate ./luaapi, or go test ./luaapi -run TestLuaAPIDoc -update, with the Makefile's GOFLAGS)")
	}
}

// markdown is docs/LUA_API.md: every builtin's help entry, by section.
// Only TestLuaAPIDoc makes it (go generate runs the test with -update).
func markdown() string {
	var b strings.Builder
	b.WriteString("# The pocketdock Lua API\n\n")
	b.WriteString("<!-- Generated from luaapi/builtins.go by `go generate ./luaapi`; do not edit. -->\n\n")
	b.WriteString("The same entries are in the REPL and scripts: `help()` lists them; `help(pd.create_new_container)`, `help(\"c:run\")` or `help(pd.images)` shows one or a group.\n")
	b.WriteString("Errors are tables with `kind`, `message` and often `hint`; see the README.\n\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "- [%s](#%s)\n", s.title, anchor(s.title))
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", s.title, s.intro)
		for _, bi := range builtins() {
			if section(bi.Name) != s.prefix {
				continue
			}
			d := bi.Doc
			fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", d.Sig, d.Summary)
			if d.Opts != "" {
				fmt.Fprintf(&b, "- options: %s\n", d.Opts)
			}
			fmt.Fprintf(&b, "- returns: %s\n", d.Returns)
			fmt.Fprintf(&b, "\n```lua\n%s\n```\n", d.Example)
		}
	}
	return b.String()
}

// anchor is GitHub's anchor for a heading.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
