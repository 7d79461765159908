package luaapi_test

import "testing"

// pd.json from a script: decode and encode round-trip, null is a sentinel,
// bad text and bad arguments are InvalidArgument errors that say where.
func TestJSONFromLua(t *testing.T) {
	s := newState(t)
	s.run(t, `
local v = pd.json.decode('{"name": "dev", "tags": ["a", null], "empty": [], "obj": {}, "n": 1.5}')
assert(v.name == "dev" and v.n == 1.5)
assert(#v.tags == 2 and v.tags[2] == pd.json.null, "null keeps the array's length")
assert(tostring(pd.json.null) == "pocketdock.json.null")
assert(pd.json.encode(v) == '{"empty":[],"n":1.5,"name":"dev","obj":{},"tags":["a",null]}', pd.json.encode(v))
assert(not pcall(function() pd.json.null.x = 1 end), "null cannot be changed")

local ok, e = pcall(pd.json.decode, '{\n  "a": tru }')
assert(not ok and e.kind == "InvalidArgument", tostring(e))
assert(e.message == 'json.decode: invalid JSON at line 2, column 8 (byte 10): expected a value, got "t"', e.message)
assert(e.hint:find("one JSON value"), e.hint)

ok, e = pcall(pd.json.decode, string.rep("[", 100000))
assert(not ok and e.message:find("nested deeper than 512", 1, true), tostring(e))

ok, e = pcall(pd.json.decode, "[1, 2, 3]", {max_values = 3})
assert(not ok and e.message:find("JSON refused at line 1, column 8 (byte 8): more than 3 values", 1, true), tostring(e))
assert(e.hint:find("max_values", 1, true), e.hint)
assert(#pd.json.decode("[1, 2, 3]", {max_values = 4}) == 3)
assert(#pd.json.decode("[1, 2, 3]", {max_values = 0}) == 3, "0 is no limit")
ok, e = pcall(pd.json.decode, "[]", {max_values = -1})
assert(not ok and e.kind == "InvalidArgument" and e.message:find("max_values"), tostring(e))
ok, e = pcall(pd.json.decode, "[]", {maxvalues = 1})
assert(not ok and e.kind == "InvalidArgument" and e.message:find("maxvalues"), tostring(e))

ok, e = pcall(pd.json.decode, nil)
assert(not ok and e.kind == "InvalidArgument" and e.message:find("must be a string, got nil"), tostring(e))
`)
}
