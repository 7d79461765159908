package repl

import (
	"errors"
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

const chunkName = "stdin"

// Incomplete reports whether err is a parse error at the end of the input,
// i.e. the chunk is not wrong yet, just unfinished (an open function, do
// block, table constructor, long string or long comment).
func Incomplete(err error) bool {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Cause != nil {
		err = apiErr.Cause
	}
	var parseErr *parse.Error
	return errors.As(err, &parseErr) && parseErr.Pos.Line == parse.EOF
}

// compileChunk compiles src as typed at the prompt. An expression is compiled
// as "return <src>" so that its values are printed; "=expr" is shorthand for
// that. Otherwise src is compiled as a statement. When compilation fails the
// error says whether more input could complete it (see Incomplete).
func compileChunk(L *lua.LState, src string) (*lua.LFunction, error) {
	// The trailing newline ends a short string or line comment, so that
	// only genuinely open constructs reach the end of the input.
	if rest, ok := strings.CutPrefix(src, "="); ok {
		return L.Load(strings.NewReader("return "+rest+"\n"), chunkName)
	}
	fn, exprErr := L.Load(strings.NewReader("return "+src+"\n"), chunkName)
	if exprErr == nil {
		return fn, nil
	}
	fn, stmtErr := L.Load(strings.NewReader(src+"\n"), chunkName)
	if stmtErr == nil {
		return fn, nil
	}
	if !Incomplete(stmtErr) && Incomplete(exprErr) {
		return nil, exprErr // e.g. "{1," or "1 +": an unfinished expression
	}
	return nil, stmtErr
}

// syntaxMessage turns a compile error into a one-line message such as
// "stdin:1: syntax error near 'x'".
func syntaxMessage(err error) string {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Cause != nil {
		err = apiErr.Cause
	}
	var parseErr *parse.Error
	if errors.As(err, &parseErr) {
		if parseErr.Pos.Line == parse.EOF {
			return fmt.Sprintf("%s: %s at end of input", chunkName, parseErr.Message)
		}
		msg := fmt.Sprintf("%s:%d: %s", chunkName, parseErr.Pos.Line, parseErr.Message)
		if parseErr.Token != "" {
			msg += fmt.Sprintf(" near '%s'", parseErr.Token)
		}
		return msg
	}
	return strings.TrimSpace(err.Error())
}
