package luaapi

import (
	"context"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

const sessionMeta = "pocketdock.Session"

// Session is a shell session as Lua values hold it.
type Session = sandbox.Session

func (m *Module) session(L *lua.LState) int {
	c := checkContainer(L, 1, "session")
	o := optionsArg(L, "session", 2)
	spec := sandbox.SessionOptions{Env: envList(o.Env("env")), Cwd: o.String("cwd", ""), User: o.String("user", "")}
	o.done(L)
	if spec.Cwd != "" && !strings.HasPrefix(spec.Cwd, "/") {
		return argError(L, "session", "option 'cwd' must be an absolute path, got %q", spec.Cwd)
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.Session(ctx, spec)
	}, pushUserdata(sessionMeta))
}

func checkSession(L *lua.LState, method string) *Session {
	return checkSelf[Session](L, 1, method, "must be called on a session (use s:%s(...))", method)
}

func (m *Module) sessionRun(L *lua.LState) int {
	s := checkSession(L, "run")
	cmd := stringArg(L, "run", 2, "command")
	o := optionsArg(L, "run", 3)
	var ro sandbox.SessionRunOptions
	ro.Timeout = o.Timeout("timeout", s.Container().Timeout())
	if o.has("stdin") {
		ro.Stdin = []byte(o.String("stdin", ""))
	}
	check := o.Bool("check", false)
	ro.MaxOutput = int(o.Int("max_output", 0, 0, 1<<40))
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return s.Run(ctx, cmd, ro)
	}, func(L *lua.LState, v any) int {
		return pushResult(L, sandbox.Shell(cmd), check, v.(*engine.ExecResult))
	})
}

func (m *Module) sessionClose(L *lua.LState) int {
	checkSession(L, "close").Close()
	L.Push(lua.LTrue)
	return 1
}
