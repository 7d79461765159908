package luaapi

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

// errorMeta is the registry name of the error values' metatable.
const errorMeta = "pocketdock.Error"

// raise turns a Go error into a Lua error value and raises it. This is the one
// place where Go errors become Lua errors: a table with kind, message, hint and
// engine whose tostring reads well.
func raise(L *lua.LState, err error) int {
	L.Error(errorValue(L, err), 1)
	return 0
}

func errorValue(L *lua.LState, err error) *lua.LTable {
	var e *engine.Error
	if !errors.As(err, &e) {
		kind, msg := engine.KindOf(err), err.Error()
		if kind == engine.Interrupted {
			msg = "interrupted" // not the context's "context canceled"
		}
		e = &engine.Error{Kind: kind, Message: msg}
	}
	t := L.NewTable()
	t.RawSetString("kind", lua.LString(e.Kind))
	t.RawSetString("message", lua.LString(clipQuoted(e.Message)))
	if e.Hint != "" {
		t.RawSetString("hint", lua.LString(clipQuoted(e.Hint)))
	}
	if e.Engine != "" {
		t.RawSetString("engine", lua.LString(e.Engine))
	}
	L.SetMetatable(t, L.GetTypeMetatable(errorMeta))
	return t
}

// clipQuoted cuts every double-quoted value in a message ("...", as %q makes
// them, wherever the message was built) to about maxQuoted bytes: an error
// about a huge argument must not carry the argument.
func clipQuoted(msg string) string {
	if len(msg) <= maxQuoted {
		return msg
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '"')
		if i < 0 {
			b.WriteString(msg)
			return b.String()
		}
		j := i + 1 // the closing quote: the next one not escaped
		for j < len(msg) && msg[j] != '"' {
			if msg[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(msg) {
			b.WriteString(msg)
			return b.String()
		}
		inner := msg[i+1 : j]
		b.WriteString(msg[:i+1])
		if len(inner) > maxQuoted {
			cut := maxQuoted
			for k := cut - 1; k >= cut-10 && k >= 0; k-- { // not inside an escape
				if inner[k] == '\\' {
					cut = k
					break
				}
			}
			for cut > 0 && !utf8.RuneStart(inner[cut]) {
				cut--
			}
			fmt.Fprintf(&b, `%s..."(%d bytes in all)`, inner[:cut], len(inner))
		} else {
			b.WriteString(inner + `"`)
		}
		msg = msg[j+1:]
	}
}

// argError raises an InvalidArgument error about one argument.
func argError(L *lua.LState, fn, format string, args ...any) int {
	return raise(L, engine.Errorf(engine.InvalidArgument, "%s: %s", fn, fmt.Sprintf(format, args...)))
}

func registerErrorType(L *lua.LState) {
	mt := L.NewTypeMetatable(errorMeta)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(errorString(L.CheckTable(1))))
		return 1
	}))
	L.SetField(mt, "__concat", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(concatPart(L.Get(1)) + concatPart(L.Get(2))))
		return 1
	}))
}

func concatPart(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok {
		return errorString(t)
	}
	return v.String()
}

// errorString renders an error table: "Kind: message (engine uri)\nhint: ...".
func errorString(t *lua.LTable) string {
	var b strings.Builder
	if k := t.RawGetString("kind"); k != lua.LNil {
		b.WriteString(k.String() + ": ")
	}
	b.WriteString(lua.LVAsString(t.RawGetString("message")))
	if i := t.RawGetString("index"); i != lua.LNil {
		fmt.Fprintf(&b, " (in item %s)", i.String())
	}
	if e := t.RawGetString("engine"); e != lua.LNil {
		fmt.Fprintf(&b, " (engine %s)", e.String())
	}
	if h := t.RawGetString("hint"); h != lua.LNil {
		b.WriteString("\nhint: " + h.String())
	}
	return b.String()
}

// ErrorText renders any Lua error value for people: error tables through
// their tostring, strings as they are.
func ErrorText(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok && t.RawGetString("kind") != lua.LNil {
		return errorString(t)
	}
	return lua.LVAsString(v)
}

// ErrorKind returns the kind of a Lua error value, "" when it has none.
func ErrorKind(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok {
		return lua.LVAsString(t.RawGetString("kind"))
	}
	return ""
}
