package luaapi

import (
	"errors"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/stdlib"
)

// jsonTable is pd.json, the table require("pocketdock.json") also gives:
// stdlib's encode, array and null, plus the json builtins written in Go.
func (m *Module) jsonTable(L *lua.LState) *lua.LTable {
	t := stdlib.JSON(L)
	m.setBuiltins(L, t, "json.", nil)
	return t
}

// jsonDecode is pd.json.decode: bad input is an InvalidArgument that says where.
func jsonDecode(L *lua.LState) int {
	text := stringArg(L, "json.decode", 1, "text")
	o := optionsArg(L, "json.decode", 2)
	limit := o.Int("max_values", stdlib.DefaultJSONValues, 0, math.MaxInt32)
	o.done(L)
	if limit == 0 {
		limit = -1 // none
	}
	null, arrays := stdlib.JSON(L).RawGetString("null"), stdlib.JSONArrays(L)
	v, err := stdlib.DecodeJSON(L, text, stdlib.JSONOptions{Null: null, Arrays: arrays, MaxValues: int(limit)})
	if err != nil {
		hint := "the text must be one JSON value (object, array, string, number, true, false or null)"
		var je *stdlib.JSONError
		if errors.As(err, &je) && je.Limit {
			hint = fmt.Sprintf("nesting stops at %d levels, and at max_values values (default %d, as each costs the host memory); for trusted text pass a larger max_values (0: none)", stdlib.MaxJSONDepth, stdlib.DefaultJSONValues)
		}
		return raise(L, &engine.Error{Kind: engine.InvalidArgument, Message: "json.decode: " + err.Error(), Hint: hint})
	}
	L.Push(v)
	return 1
}
