package repl

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

const (
	maxTableEntries = 50 // entries shown per table before "... (+N more)"
	maxDepth        = 6  // nesting shown before "{...}"
	inlineWidth     = 72 // tables whose one-line form is longer are split over lines
)

// Format renders v for display: strings quoted, tables nested with sorted
// keys, cycles and very long tables marked, values with a __tostring
// metamethod shown through it, and run results (tables with exit_code,
// stdout and stderr) laid out with their output as raw text.
func Format(L *lua.LState, v lua.LValue) string {
	f := &formatter{L: L, seen: map[*lua.LTable]bool{}}
	if t, ok := v.(*lua.LTable); ok && isRunResult(t) {
		if s, ok := f.tostring(v); ok {
			return Escape(s)
		}
		return f.runResult(t)
	}
	return f.value(v, 0)
}

type formatter struct {
	L     *lua.LState
	seen  map[*lua.LTable]bool // tables on the current path, to spot cycles
	names map[*lua.LFunction]string
}

func (f *formatter) value(v lua.LValue, depth int) string {
	switch v := v.(type) {
	case *lua.LNilType:
		return "nil"
	case lua.LBool, lua.LNumber:
		return v.String()
	case lua.LString:
		return Quote(string(v))
	case *lua.LFunction:
		return f.function(v)
	case *lua.LTable:
		if s, ok := f.tostring(v); ok {
			return Escape(s)
		}
		return f.table(v, depth)
	case *lua.LUserData:
		if s, ok := f.tostring(v); ok {
			return Escape(s)
		}
		return v.String()
	}
	return v.String()
}

// tostring calls v's __tostring metamethod, if any, in protected mode.
func (f *formatter) tostring(v lua.LValue) (string, bool) {
	if f.L == nil {
		return "", false
	}
	fn, ok := f.L.GetMetaField(v, "__tostring").(*lua.LFunction)
	if !ok {
		return "", false
	}
	top := f.L.GetTop()
	defer f.L.SetTop(top)
	if err := f.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, v); err != nil {
		return "", false
	}
	s, ok := f.L.Get(-1).(lua.LString)
	return string(s), ok
}

func (f *formatter) function(fn *lua.LFunction) string {
	if name := f.functionName(fn); name != "" {
		return "function: " + name
	}
	if fn.IsG || fn.Proto == nil {
		return "function: builtin"
	}
	return fmt.Sprintf("function: %s:%d", Escape(fn.Proto.SourceName), fn.Proto.LineDefined)
}

// functionName finds the name a function is reachable by from the globals
// (e.g. "print" or "string.format"), the same name help would list it under.
func (f *formatter) functionName(fn *lua.LFunction) string {
	if f.L == nil {
		return ""
	}
	if f.names == nil {
		f.names = map[*lua.LFunction]string{}
		globals := f.L.G.Global
		var modules []string
		globals.ForEach(func(k, v lua.LValue) {
			name, ok := k.(lua.LString)
			if !ok {
				return
			}
			switch v := v.(type) {
			case *lua.LFunction:
				f.names[v] = string(name)
			case *lua.LTable:
				if v != globals {
					modules = append(modules, string(name))
				}
			}
		})
		sort.Strings(modules)
		for _, mod := range modules {
			t := globals.RawGetString(mod).(*lua.LTable)
			t.ForEach(func(k, v lua.LValue) {
				fv, ok := v.(*lua.LFunction)
				name, isStr := k.(lua.LString)
				if ok && isStr {
					if _, dup := f.names[fv]; !dup {
						f.names[fv] = mod + "." + string(name)
					}
				}
			})
		}
	}
	return f.names[fn]
}

func (f *formatter) table(t *lua.LTable, depth int) string {
	if f.seen[t] {
		return "<cycle>"
	}
	if depth >= maxDepth {
		return "{...}"
	}
	f.seen[t] = true
	defer delete(f.seen, t)

	keys, seqLen := sortedKeys(t)
	if len(keys) == 0 {
		return "{}"
	}
	var entries []string
	multiline := false
	for i, k := range keys {
		if i == maxTableEntries {
			entries = append(entries, fmt.Sprintf("... (+%d more)", len(keys)-i))
			break
		}
		s := f.value(t.RawGet(k), depth+1)
		if i >= seqLen {
			s = formatKey(k) + " = " + s
		}
		if strings.Contains(s, "\n") {
			multiline = true
		}
		entries = append(entries, s)
	}
	oneLine := "{" + strings.Join(entries, ", ") + "}"
	if !multiline && len(oneLine) <= inlineWidth {
		return oneLine
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, e := range entries {
		b.WriteString("  ")
		b.WriteString(strings.ReplaceAll(e, "\n", "\n  "))
		if i < len(entries)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}")
	return b.String()
}

// sortedKeys returns t's keys in display order: the sequence 1..n first
// (n is returned too), then other numbers, then strings, then the rest.
func sortedKeys(t *lua.LTable) ([]lua.LValue, int) {
	var nums []float64
	var strs []string
	var others []lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		switch k := k.(type) {
		case lua.LNumber:
			nums = append(nums, float64(k))
		case lua.LString:
			strs = append(strs, string(k))
		default:
			others = append(others, k)
		}
	})
	sort.Float64s(nums)
	sort.Strings(strs)
	sort.SliceStable(others, func(i, j int) bool { return others[i].String() < others[j].String() })

	seqLen := 0
	for seqLen < len(nums) && nums[seqLen] == float64(seqLen+1) {
		seqLen++
	}
	keys := make([]lua.LValue, 0, len(nums)+len(strs)+len(others))
	for _, n := range nums {
		keys = append(keys, lua.LNumber(n))
	}
	for _, s := range strs {
		keys = append(keys, lua.LString(s))
	}
	return append(keys, others...), seqLen
}

func formatKey(k lua.LValue) string {
	switch k := k.(type) {
	case lua.LString:
		if isIdentifier(string(k)) {
			return string(k)
		}
		return "[" + Quote(string(k)) + "]"
	}
	return "[" + k.String() + "]"
}

var luaKeywords = map[string]bool{
	"and": true, "break": true, "do": true, "else": true, "elseif": true,
	"end": true, "false": true, "for": true, "function": true, "goto": true,
	"if": true, "in": true, "local": true, "nil": true, "not": true, "or": true,
	"repeat": true, "return": true, "then": true, "true": true, "until": true,
	"while": true,
}

func isIdentifier(s string) bool {
	if s == "" || luaKeywords[s] {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isRunResult reports whether t looks like the result of running a command.
func isRunResult(t *lua.LTable) bool {
	for _, k := range []string{"exit_code", "stdout", "stderr"} {
		if t.RawGetString(k) == lua.LNil {
			return false
		}
	}
	return true
}

// runResult lays a run result out as its scalar fields on one line followed
// by the non-empty stdout and stderr as raw text:
//
//	exit_code = 0   ok = true   duration_ms = 3
//	stdout:
//	hi
func (f *formatter) runResult(t *lua.LTable) string {
	fields := []string{"exit_code", "ok"}
	keys, _ := sortedKeys(t)
	for _, k := range keys {
		s, ok := k.(lua.LString)
		if ok && s != "exit_code" && s != "ok" && s != "stdout" && s != "stderr" {
			fields = append(fields, string(s))
		}
	}
	var parts []string
	for _, k := range fields {
		if v := t.RawGetString(k); v != lua.LNil {
			parts = append(parts, k+" = "+f.value(v, 1))
		}
	}
	lines := []string{strings.Join(parts, "   ")}
	for _, k := range []string{"stdout", "stderr"} {
		v := t.RawGetString(k)
		text, ok := v.(lua.LString)
		if !ok {
			lines = append(lines, k+": "+f.value(v, 1))
			continue
		}
		if text != "" {
			// output is shown as text, with its control characters escaped
			lines = append(lines, k+":", strings.TrimSuffix(Escape(string(text)), "\n"))
		}
	}
	return strings.Join(lines, "\n")
}
