package stdlib

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
)

// MaxJSONDepth bounds the nesting of arrays and objects DecodeJSON accepts:
// deeper text is refused before it can exhaust the Go stack.
const MaxJSONDepth = 512

// DefaultJSONValues is how many values (array elements, object members and
// the top value) DecodeJSON makes unless told otherwise. Each costs the host
// up to about 64 bytes, so text of 2 bytes a value ("0,0,0,...") would grow
// 30-fold: 16 MiB of it took 514 MiB. The default keeps a decode under about
// 150 MiB whatever the text.
const DefaultJSONValues = 2 << 20

// JSONOptions say how DecodeJSON builds values.
type JSONOptions struct {
	Null      lua.LValue  // what null becomes
	Arrays    *lua.LTable // the metatable arrays get (nil: none)
	MaxValues int         // at most this many values; 0 = DefaultJSONValues, < 0 = no limit
}

// JSONError is a decoding failure and where it happened.
type JSONError struct {
	Line, Column int // 1-based; the column counts bytes
	Offset       int // 0-based byte offset
	Reason       string
	Limit        bool // refused for its depth or number of values, not its syntax
}

func (e *JSONError) Error() string {
	what := "invalid JSON"
	if e.Limit {
		what = "JSON refused"
	}
	return fmt.Sprintf("%s at line %d, column %d (byte %d): %s", what, e.Line, e.Column, e.Offset+1, e.Reason)
}

// DecodeJSON turns JSON text (RFC 8259, one value, surrounding white space
// allowed) into Lua values: objects become tables with string keys, arrays
// become sequences with the arrays metatable (so that an empty one encodes
// back as []), null becomes the null value, numbers are Lua numbers. Strings
// keep their bytes as they are (Lua strings are bytes); \u escapes become
// UTF-8, a lone surrogate U+FFFD.
func DecodeJSON(L *lua.LState, text string, o JSONOptions) (lua.LValue, error) {
	if o.Null == nil {
		o.Null = lua.LNil
	}
	d := &jsonDecoder{L: L, s: text, null: o.Null, arrays: o.Arrays, left: o.MaxValues}
	if d.left == 0 {
		d.left = DefaultJSONValues
	}
	d.limit = d.left
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i < len(d.s) {
		return nil, d.fail("unexpected %s after the value", d.what())
	}
	return v, nil
}

type jsonDecoder struct {
	L      *lua.LState
	s      string
	i      int
	null   lua.LValue
	arrays *lua.LTable
	left   int // values still allowed; negative: no limit
	limit  int
}

func (d *jsonDecoder) fail(format string, args ...any) error {
	return d.failAt(false, format, args...)
}

func (d *jsonDecoder) limitFail(format string, args ...any) error {
	return d.failAt(true, format, args...)
}

func (d *jsonDecoder) failAt(limit bool, format string, args ...any) error {
	line := 1 + strings.Count(d.s[:d.i], "\n")
	col := d.i + 1
	if nl := strings.LastIndexByte(d.s[:d.i], '\n'); nl >= 0 {
		col = d.i - nl
	}
	return &JSONError{Line: line, Column: col, Offset: d.i, Reason: fmt.Sprintf(format, args...), Limit: limit}
}

// what names the byte at the current position for an error message.
func (d *jsonDecoder) what() string {
	if d.i >= len(d.s) {
		return "end of text"
	}
	c := d.s[d.i]
	if c >= 0x20 && c < 0x7f {
		return strconv.Quote(string(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (d *jsonDecoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (lua.LValue, error) {
	if d.i >= len(d.s) {
		return nil, d.fail("expected a value, got end of text")
	}
	if d.left == 0 {
		return nil, d.limitFail("more than %d values", d.limit)
	}
	d.left--
	switch c := d.s[d.i]; {
	case c == '{' || c == '[':
		if depth >= MaxJSONDepth {
			return nil, d.limitFail("nested deeper than %d arrays and objects", MaxJSONDepth)
		}
		if c == '{' {
			return d.object(depth + 1)
		}
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		return lua.LString(s), err
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return lua.LTrue, nil
	case strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return lua.LFalse, nil
	case strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return d.null, nil
	}
	return nil, d.fail("expected a value, got %s", d.what())
}

func (d *jsonDecoder) object(depth int) (lua.LValue, error) {
	t := d.L.NewTable()
	d.i++ // {
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return t, nil
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.fail("expected a string key, got %s", d.what())
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.fail("expected ':' after an object key, got %s", d.what())
		}
		d.i++
		d.space()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		t.RawSetString(k, v)
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
			d.space()
			continue
		}
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return t, nil
		}
		return nil, d.fail("expected ',' or '}' after an object value, got %s", d.what())
	}
}

func (d *jsonDecoder) array(depth int) (lua.LValue, error) {
	t := d.L.NewTable()
	if d.arrays != nil {
		t.Metatable = d.arrays
	}
	d.i++ // [
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return t, nil
	}
	for n := 1; ; n++ {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		t.RawSetInt(n, v)
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ',' {
			d.i++
			d.space()
			continue
		}
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return t, nil
		}
		return nil, d.fail("expected ',' or ']' after an array element, got %s", d.what())
	}
}

// number reads the JSON number grammar exactly (no leading zeros, no '+',
// digits on both sides of '.'), then converts it.
func (d *jsonDecoder) number() (lua.LValue, error) {
	start := d.i
	digits := func() int {
		n := 0
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
			n++
		}
		return n
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	if d.i < len(d.s) && d.s[d.i] == '0' {
		d.i++
	} else if digits() == 0 {
		return nil, d.fail("expected a digit, got %s", d.what())
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return nil, d.fail("expected a digit after '.', got %s", d.what())
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return nil, d.fail("expected a digit in the exponent, got %s", d.what())
		}
	}
	text := d.s[start:d.i]
	f, err := strconv.ParseFloat(text, 64)
	if err != nil { // only out of range can fail after the grammar check
		d.i = start
		if len(text) > 40 {
			text = text[:40] + "..."
		}
		return nil, d.fail("number %s is out of range", text)
	}
	return lua.LNumber(f), nil
}

// str reads a string at d.i (the opening quote).
func (d *jsonDecoder) str() (string, error) {
	d.i++
	start := d.i
	// The common case, no escapes: the text itself.
	for d.i < len(d.s) {
		c := d.s[d.i]
		if c == '"' {
			d.i++
			return d.s[start : d.i-1], nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		d.i++
	}
	var b strings.Builder
	b.WriteString(d.s[start:d.i])
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			return b.String(), nil
		case c < 0x20:
			return "", d.fail("control character 0x%02x in a string (write it as \\u%04x)", c, c)
		case c != '\\':
			b.WriteByte(c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			d.i++
			return "", d.fail("unterminated escape in a string")
		}
		e := d.s[d.i+1]
		if r, ok := simpleEscapes[e]; ok {
			b.WriteByte(r)
			d.i += 2
			continue
		}
		if e != 'u' {
			d.i++
			return "", d.fail("unknown escape in a string: %s after a backslash", d.what())
		}
		r, ok := hex4(d.s, d.i+2)
		if !ok {
			d.i += 2
			return "", d.fail("\\u needs four hex digits, got %q", d.s[d.i:min(d.i+4, len(d.s))])
		}
		d.i += 6
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if strings.HasPrefix(d.s[d.i:], `\u`) {
				if x, ok := hex4(d.s, d.i+2); ok {
					r2 = x
				}
			}
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				r = dec
				d.i += 6
			} else {
				r = utf8.RuneError
			}
		}
		b.WriteRune(r)
	}
	return "", d.fail("unterminated string (it starts at byte %d)", start)
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hex4 reads the four hex digits of a \u escape at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 16)
	return rune(n), err == nil
}
