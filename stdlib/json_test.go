package stdlib_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/internal/memtest"
	"github.com/pocketdock/pocketdock/stdlib"
)

// jsonState is a Lua state with the json table; decode gives Lua values and
// encode turns them back into text with the module's encoder.
type jsonState struct {
	L      *lua.LState
	t      *lua.LTable
	arrays *lua.LTable
}

func newJSONState(t testing.TB) *jsonState {
	L := lua.NewState()
	t.Cleanup(L.Close)
	j := stdlib.JSON(L)
	return &jsonState{L: L, t: j, arrays: stdlib.JSONArrays(L)}
}

func (s *jsonState) decode(text string) (lua.LValue, error) {
	return stdlib.DecodeJSON(s.L, text, stdlib.JSONOptions{Null: s.t.RawGetString("null"), Arrays: s.arrays})
}

func (s *jsonState) encode(t testing.TB, v lua.LValue) string {
	t.Helper()
	if err := s.L.CallByParam(lua.P{Fn: s.t.RawGetString("encode"), NRet: 1, Protect: true}, v); err != nil {
		t.Fatal(err)
	}
	out := lua.LVAsString(s.L.Get(-1))
	s.L.Pop(1)
	return out
}

func TestJSONDecode(t *testing.T) {
	s := newJSONState(t)
	good := []struct{ in, out string }{
		{`{"b": [1, 2.5, -0.125e2, 1E3], "a": "x", "c": {}, "d": [], "e": null, "f": [null, true, false]}`,
			`{"a":"x","b":[1,2.5,-12.5,1000],"c":{},"d":[],"e":null,"f":[null,true,false]}`},
		{` "tab\tquote\" slash\/ \u00e9 \ud83d\ude00 lone \ud800 end" `, `"tab\tquote\" slash/ é 😀 lone ` + "\uFFFD" + ` end"`},
		{`{"1": "one", "": "empty"}`, `{"":"empty","1":"one"}`},
		{`[[[]]]`, `[[[]]]`},
		{"\"raw \xff byte\"", "\"raw \xff byte\""}, // Lua strings are bytes: kept as they are
		{`{"k": 1, "k": 2}`, `{"k":2}`},            // the last of a repeated key wins
		{`0`, `0`},
	}
	for _, c := range good {
		v, err := s.decode(c.in)
		if err != nil {
			t.Errorf("decode %q: %v", c.in, err)
			continue
		}
		if got := s.encode(t, v); got != c.out {
			t.Errorf("decode %q then encode: %s, want %s", c.in, got, c.out)
		}
	}
	bad := []struct {
		in        string
		line, col int
		reason    string
	}{
		{``, 1, 1, "expected a value, got end of text"},
		{`{"a": 1,}`, 1, 9, `expected a string key, got "}"`},
		{"[1,\n 2\n 3]", 3, 2, `expected ',' or ']' after an array element, got "3"`},
		{`{"a" 1}`, 1, 6, `expected ':' after an object key`},
		{`[1] x`, 1, 5, `unexpected "x" after the value`},
		{`01`, 1, 2, `unexpected "1" after the value`},
		{`-`, 1, 2, `expected a digit, got end of text`},
		{`1.`, 1, 3, `expected a digit after '.'`},
		{`1e400`, 1, 1, `number 1e400 is out of range`},
		{`"abc`, 1, 5, `unterminated string`},
		{"\"a\nb\"", 1, 3, `control character 0x0a in a string`},
		{`"\q"`, 1, 3, `unknown escape in a string: "q" after a backslash`},
		{`"\u12G4"`, 1, 4, `\u needs four hex digits, got "12G4"`},
		{`tru`, 1, 1, `expected a value, got "t"`},
		{`NaN`, 1, 1, `expected a value, got "N"`},
		{"\xef\xbb\xbf{}", 1, 1, `expected a value, got byte 0xef`},
		{strings.Repeat("[", stdlib.MaxJSONDepth+1), 1, stdlib.MaxJSONDepth + 1, "nested deeper than 512"},
	}
	for _, c := range bad {
		_, err := s.decode(c.in)
		var je *stdlib.JSONError
		if !errors.As(err, &je) {
			t.Errorf("decode %q: %v, want a JSONError", c.in, err)
			continue
		}
		if je.Line != c.line || je.Column != c.col || !strings.Contains(je.Reason, c.reason) {
			t.Errorf("decode %q: %v; want line %d column %d: %s", c.in, err, c.line, c.col, c.reason)
		}
	}
	// At most MaxValues values: a limit, not a syntax error.
	for _, c := range []struct {
		in   string
		max  int
		fail bool
	}{{`[1,2]`, 3, false}, {`[1,2,3]`, 3, true}, {`{"a":{"b":1}}`, 3, false}, {`{"a":{"b":1,"c":2}}`, 3, true}, {`[1,2,3]`, -1, false}} {
		_, err := stdlib.DecodeJSON(s.L, c.in, stdlib.JSONOptions{MaxValues: c.max})
		var je *stdlib.JSONError
		if c.fail != (err != nil) || c.fail && (!errors.As(err, &je) || !je.Limit || !strings.Contains(err.Error(), "JSON refused at")) {
			t.Errorf("decode %s with at most %d values: %v", c.in, c.max, err)
		}
	}
	// Exactly the depth limit is fine.
	deep := strings.Repeat("[", stdlib.MaxJSONDepth) + strings.Repeat("]", stdlib.MaxJSONDepth)
	if _, err := s.decode(deep); err != nil {
		t.Errorf("%d levels: %v", stdlib.MaxJSONDepth, err)
	}
}

// A deeply nested document is refused at the limit, before it costs memory or stack.
func TestJSONDecodeDepthBoundsMemory(t *testing.T) {
	s := newJSONState(t)
	text := strings.Repeat(`{"a":[`, 8<<20) // 48 MiB of nesting
	memtest.Reset(t)
	before := memtest.Peak(t, 0)
	_, err := s.decode(text)
	grew := memtest.Peak(t, 0) - before
	var je *stdlib.JSONError
	if !errors.As(err, &je) || !je.Limit || !strings.Contains(err.Error(), "nested deeper than") {
		t.Fatalf("got %v", err)
	}
	t.Logf("decoding 48 MiB of nesting: refused, peak RSS +%d KiB", grew>>10)
	if grew > 8<<20 {
		t.Errorf("peak RSS grew by %d MiB", grew>>20)
	}
}

// Wide text is refused at the value limit: the default keeps a decode of text
// that costs 2 bytes a value ("0,0,0,...") to about 120 MiB of host memory.
func TestJSONDecodeValueLimitBoundsMemory(t *testing.T) {
	s := newJSONState(t)
	text := "[" + strings.Repeat("0,", 16<<20) + "0]" // 32 MiB, 16 Mi values
	memtest.Reset(t)
	before := memtest.Peak(t, 0)
	_, err := s.decode(text)
	grew := memtest.Peak(t, 0) - before
	var je *stdlib.JSONError
	if !errors.As(err, &je) || !je.Limit || !strings.Contains(err.Error(), "more than 2097152 values") {
		t.Fatalf("got %v", err)
	}
	t.Logf("decoding 16 Mi values: refused at %d, peak RSS +%d MiB", stdlib.DefaultJSONValues, grew>>20)
	if grew > 200<<20 {
		t.Errorf("peak RSS grew by %d MiB", grew>>20)
	}
}

// FuzzJSONDecode: any input is decoded or refused with a JSONError, never a
// panic; it is refused exactly when encoding/json finds it invalid (or deeper
// than the limit, or a number out of range); and what is decoded encodes back
// to the same document.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":null}],"c":"\u00e9\ud83d\ude00"}`, `[]`, `{}`, `"\ud800x"`, `-0.5e-3`,
		`[1,]`, `{"a"}`, "\"\x00\"", `1e999`, `[[[[[[[[[[]]]]]]]]]]`, `"\\u"`, " \t\n\r true "} {
		f.Add(s)
	}
	s := newJSONState(f)
	f.Fuzz(func(t *testing.T, text string) {
		v, err := s.decode(text)
		var want any
		werr := json.Unmarshal([]byte(text), &want)
		if err != nil {
			var je *stdlib.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("decode %q: %v is not a JSONError", text, err)
			}
			if je.Offset < 0 || je.Offset > len(text) {
				t.Fatalf("decode %q: offset %d outside the text", text, je.Offset)
			}
			deepOrHuge := je.Limit || strings.Contains(je.Reason, "out of range")
			if werr == nil && !deepOrHuge {
				t.Fatalf("decode %q: %v, but encoding/json accepts it", text, err)
			}
			return
		}
		if werr != nil {
			t.Fatalf("decode %q succeeded, encoding/json says %v", text, werr)
		}
		var got any
		again := s.encode(t, v)
		if err := json.Unmarshal([]byte(again), &got); err != nil {
			t.Fatalf("decode %q then encode: %q is not JSON: %v", text, again, err)
		}
		if !sameJSON(got, want) {
			t.Fatalf("decode %q then encode: %s", text, again)
		}
	})
}

// sameJSON compares decoded documents; numbers to the encoder's 14 digits.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.Abs(x-y) <= 1e-13*math.Max(math.Abs(x), math.Abs(y)))
	default:
		return a == b
	}
}
