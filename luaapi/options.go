package luaapi

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

// options decodes one option table argument. Every getter records the key, so
// done() can refuse unknown options; the first type error is kept and raised
// by done() naming the function, the option and the expected type.
type options struct {
	fn   string
	t    *lua.LTable
	seen map[string]bool
	err  error
}

// optionsArg reads argument n as an option table (nil or absent = empty).
func optionsArg(L *lua.LState, fn string, n int) *options {
	o := &options{fn: fn, seen: map[string]bool{}}
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
	case *lua.LTable:
		o.t = v
	default:
		argError(L, fn, "argument #%d must be a table of options, got %s", n, typeName(v))
	}
	return o
}

func (o *options) get(key string) lua.LValue {
	o.seen[key] = true
	if o.t == nil {
		return lua.LNil
	}
	return o.t.RawGetString(key)
}

func (o *options) fail(key, want string, v lua.LValue) {
	if o.err == nil {
		o.err = engine.Errorf(engine.InvalidArgument, "%s: option '%s' must be %s, got %s", o.fn, clipValue(key), want, typeName(v))
	}
}

func (o *options) has(key string) bool { return o.get(key) != lua.LNil }

func (o *options) String(key, def string) string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	case lua.LNumber:
		return v.String()
	default:
		o.fail(key, "a string", v)
		return def
	}
}

// StringOnly reads a string option that a number must not stand in for
// (a name: 123 is more likely a mistake than a name).
func (o *options) StringOnly(key, def string) string {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	default:
		o.fail(key, "a string", v)
		return def
	}
}

func (o *options) Bool(key string, def bool) bool {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LBool:
		return bool(v)
	default:
		o.fail(key, "a boolean", v)
		return def
	}
}

func (o *options) Number(key string, def float64) float64 {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LNumber:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			o.fail(key, "a finite number", v)
			return def
		}
		return float64(v)
	default:
		o.fail(key, "a number", v)
		return def
	}
}

// Int reads a whole number within [lo, hi].
func (o *options) Int(key string, def, lo, hi int64) int64 {
	v := o.get(key)
	n := o.Number(key, float64(def))
	if v == lua.LNil {
		return def
	}
	if n != math.Trunc(n) || n < float64(lo) || n > float64(hi) {
		if o.err == nil {
			o.err = engine.Errorf(engine.InvalidArgument, "%s: option '%s' must be a whole number from %d to %d, got %s", o.fn, key, lo, hi, v.String())
		}
		return def
	}
	return int64(n)
}

// maxSeconds is the longest duration an option takes, about 31 years: far
// beyond any real use and well inside a time.Duration.
const maxSeconds = 1e9

// Seconds reads a duration in seconds (0 = none).
func (o *options) Seconds(key string, def time.Duration) time.Duration {
	v := o.get(key)
	n := o.Number(key, def.Seconds())
	if v == lua.LNil {
		return def
	}
	if n < 0 || n > maxSeconds {
		if o.err == nil {
			o.err = engine.Errorf(engine.InvalidArgument, "%s: option '%s' must be a number of seconds from 0 to %d (0: none), got %s", o.fn, key, int64(maxSeconds), v.String())
		}
		return def
	}
	return time.Duration(n * float64(time.Second))
}

// Timeout reads a timeout in seconds, where 0 means none: -1 to package
// sandbox.
func (o *options) Timeout(key string, def time.Duration) time.Duration {
	if d := o.Seconds(key, def); d != 0 {
		return d
	}
	return -1
}

func (o *options) Func(key string) *lua.LFunction {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LFunction:
		return v
	default:
		o.fail(key, "a function", v)
		return nil
	}
}

func (o *options) Table(key string) *lua.LTable {
	switch v := o.get(key).(type) {
	case *lua.LNilType:
		return nil
	case *lua.LTable:
		return v
	default:
		o.fail(key, "a table", v)
		return nil
	}
}

// StringMap reads a table of string keys to string (or number/boolean) values.
func (o *options) StringMap(key string) map[string]string {
	t := o.Table(key)
	if t == nil {
		return nil
	}
	m := map[string]string{}
	t.ForEach(func(k, v lua.LValue) {
		ks, ok := k.(lua.LString)
		if !ok {
			o.fail(key, "a table of string keys", k)
			return
		}
		switch v.(type) {
		case lua.LString, lua.LNumber, lua.LBool:
			m[string(ks)] = v.String()
		default:
			o.fail(key+"."+string(ks), "a string", v)
		}
	})
	return m
}

// Env reads environment variables: a StringMap that engine.ValidateEnv
// accepts.
func (o *options) Env(key string) map[string]string {
	m := o.StringMap(key)
	if err := engine.ValidateEnv(m); err != nil && o.err == nil {
		o.err = engine.Prefix(o.fn+": option '"+key+"'", err)
	}
	return m
}

// StringList reads an array of strings.
func (o *options) StringList(key string) []string {
	t := o.Table(key)
	if t == nil {
		return nil
	}
	var out []string
	for i := 1; i <= t.Len(); i++ {
		v := t.RawGetInt(i)
		if s, ok := v.(lua.LString); ok {
			out = append(out, string(s))
		} else {
			o.fail(fmt.Sprintf("%s[%d]", key, i), "a string", v)
		}
	}
	return out
}

// done raises the first decoding error, or an error naming unknown options.
func (o *options) done(L *lua.LState) {
	if o.err != nil {
		raise(L, o.err)
	}
	if o.t == nil {
		return
	}
	var unknown []string
	o.t.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); !ok || !o.seen[string(s)] {
			unknown = append(unknown, k.String())
		}
	})
	if len(unknown) > 0 {
		sort.Strings(unknown)
		known := make([]string, 0, len(o.seen))
		for k := range o.seen {
			known = append(known, k)
		}
		sort.Strings(known)
		raise(L, engine.Errorf(engine.InvalidArgument, "%s: unknown option %s", o.fn, strings.Join(quoteAll(unknown), ", ")).
			WithHint("known options: %s", strings.Join(known, ", ")))
	}
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "'" + clipValue(v) + "'"
	}
	return out
}

// maxQuoted is how much of a value an error message repeats: enough to
// recognise it, never the whole of a huge argument.
const maxQuoted = 200

// clipValue cuts s to maxQuoted bytes (on a UTF-8 boundary), saying how much
// was left out.
func clipValue(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s...(%d bytes in all)", s[:cut], len(s))
}

// typeName names a Lua value's type as a script author knows it.
func typeName(v lua.LValue) string {
	if ud, ok := v.(*lua.LUserData); ok {
		switch ud.Value.(type) {
		case *Container:
			return "container"
		}
		return "userdata"
	}
	return v.Type().String()
}

// stringArg reads a required string argument.
func stringArg(L *lua.LState, fn string, n int, what string) string {
	v := L.Get(n)
	s, ok := v.(lua.LString)
	if !ok {
		argError(L, fn, "argument #%d (%s) must be a string, got %s", n, what, typeName(v))
	}
	return string(s)
}
