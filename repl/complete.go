package repl

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// containerArg matches a line ending inside the string argument of a call
// that takes a sandbox name, e.g. `pocketdock.resume_container("my-s` or
// `pd:stop_container('`. Group 1 is the quote, group 2 the partial name.
var containerArg = regexp.MustCompile(`(?:^|[^\w])(?:[\w.:]*[.:])?(?:resume|stop|destroy)_container\s*\(\s*(["'])([^"']*)$`)

// namesTimeout bounds how long completion waits for the sandbox names.
const namesTimeout = 2 * time.Second

type completer struct {
	ctx   context.Context
	L     *lua.LState
	names func(ctx context.Context) []string
}

// complete returns the full candidate words for the text before the cursor
// and the length in bytes of the partial word they would replace.
func (c *completer) complete(before string) ([]string, int) {
	if m := containerArg.FindStringSubmatch(before); m != nil {
		return c.sandboxNames(m[2], m[1]), len(m[2])
	}
	word := trailingWord(before)
	sep := strings.LastIndexAny(word, ".:")
	if sep < 0 {
		if word == "" && strings.TrimSpace(before) != "" {
			return nil, 0 // nothing typed to complete, e.g. after ")"
		}
		return c.globals(word), len(word)
	}
	path, prefix := word[:sep], word[sep+1:]
	if strings.Contains(path, ":") {
		return nil, 0 // "a:b.c" names nothing
	}
	v := c.lookup(path)
	if v == lua.LNil {
		return nil, 0
	}
	var cands []string
	if word[sep] == ':' {
		cands = c.methods(v)
	} else {
		cands = c.fields(v)
	}
	return withPrefix(cands, prefix), len(prefix)
}

// trailingWord returns the dotted name the cursor is at the end of, e.g.
// "a.b.c" for "print(a.b.c".
func trailingWord(s string) string {
	i := len(s)
	for i > 0 {
		ch := s[i-1]
		if ch == '_' || ch == '.' || ch == ':' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' {
			i--
			continue
		}
		break
	}
	return s[i:]
}

func (c *completer) sandboxNames(prefix, quote string) []string {
	if c.names == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, namesTimeout)
	defer cancel()
	var out []string
	for _, n := range withPrefix(c.names(ctx), prefix) {
		out = append(out, n+quote)
	}
	return out
}

func (c *completer) globals(prefix string) []string {
	names := keyNames(c.L.G.Global)
	for k := range luaKeywords {
		names = append(names, k)
	}
	return withPrefix(names, prefix)
}

// lookup resolves a dotted path such as "pocketdock.config" from the
// globals without calling any metamethod functions.
func (c *completer) lookup(path string) lua.LValue {
	var v lua.LValue = c.L.G.Global
	for _, part := range strings.Split(path, ".") {
		if part == "" {
			return lua.LNil
		}
		v = c.rawField(v, part)
		if v == lua.LNil {
			return lua.LNil
		}
	}
	return v
}

// rawField looks a field up in v and then along its __index tables.
func (c *completer) rawField(v lua.LValue, name string) lua.LValue {
	for range maxDepth {
		if t, ok := v.(*lua.LTable); ok {
			if f := t.RawGetString(name); f != lua.LNil {
				return f
			}
		}
		mt, ok := c.L.GetMetatable(v).(*lua.LTable)
		if !ok {
			return lua.LNil
		}
		v = mt.RawGetString("__index")
	}
	return lua.LNil
}

// fields lists the names reachable with "v.": its own keys and those of
// its __index tables.
func (c *completer) fields(v lua.LValue) []string {
	var names []string
	for range maxDepth {
		if t, ok := v.(*lua.LTable); ok {
			names = append(names, keyNames(t)...)
		}
		mt, ok := c.L.GetMetatable(v).(*lua.LTable)
		if !ok {
			break
		}
		v = mt.RawGetString("__index")
	}
	return names
}

// methods lists the names callable with "v:": the function fields of v (if
// a table), the keys of its metatable's __index tables, and the names in
// the metatable's __methods list.
func (c *completer) methods(v lua.LValue) []string {
	var names []string
	if t, ok := v.(*lua.LTable); ok {
		t.ForEach(func(k, fv lua.LValue) {
			if s, ok := k.(lua.LString); ok && fv.Type() == lua.LTFunction && isIdentifier(string(s)) {
				names = append(names, string(s))
			}
		})
	}
	for range maxDepth {
		mt, ok := c.L.GetMetatable(v).(*lua.LTable)
		if !ok {
			break
		}
		names = append(names, methodList(mt)...)
		idx, ok := mt.RawGetString("__index").(*lua.LTable)
		if !ok {
			break
		}
		names = append(names, keyNames(idx)...)
		v = idx
	}
	return names
}

// methodList reads a metatable's __methods field: a list of names, or a
// table keyed by name.
func methodList(mt *lua.LTable) []string {
	t, ok := mt.RawGetString("__methods").(*lua.LTable)
	if !ok {
		return nil
	}
	var names []string
	t.ForEach(func(k, v lua.LValue) {
		if s, ok := v.(lua.LString); ok && isIdentifier(string(s)) {
			names = append(names, string(s))
		} else if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) {
			names = append(names, string(s))
		}
	})
	return names
}

func keyNames(t *lua.LTable) []string {
	var names []string
	t.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok && isIdentifier(string(s)) {
			names = append(names, string(s))
		}
	})
	return names
}

// withPrefix returns the distinct names that start with
// prefix, sorted; names starting with "__" only when asked for.
func withPrefix(names []string, prefix string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if seen[n] || !strings.HasPrefix(n, prefix) {
			continue
		}
		if strings.HasPrefix(n, "__") && !strings.HasPrefix(prefix, "_") {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Do implements readline.AutoCompleter: it returns the rest of each
// candidate after the partial word and the partial word's length in runes.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	cands, n := c.complete(before)
	partial := before[len(before)-n:]
	out := make([][]rune, 0, len(cands))
	for _, cand := range cands {
		out = append(out, []rune(strings.TrimPrefix(cand, partial)))
	}
	return out, len([]rune(partial))
}
