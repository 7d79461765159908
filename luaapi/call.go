package luaapi

import (
	"context"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/sandbox"
)

// work is the engine part of a blocking builtin. It may run on another
// goroutine, so it must not touch Lua values; post runs a function (a Lua
// callback) on the Lua goroutine, in order.
type work func(ctx context.Context, post func(func())) (any, error)

// finish turns work's result into Lua values on the Lua goroutine.
type finish func(L *lua.LState, v any) int

// block runs a blocking builtin. Outside pd.map / pd.parallel it simply runs
// the work here, honouring L's context (Ctrl-C, script timeout). Inside a
// scheduled task it starts the work on its own goroutine and returns a
// pending token that the builtin's Lua wrapper yields to the scheduler.
func (m *Module) block(L *lua.LState, w work, f finish) int {
	if s := m.sched; s != nil && L != m.main {
		L.Push(s.start(L, w, f))
		return 1
	}
	v, err := w(luaContext(L), func(fn func()) { fn() })
	if err != nil {
		return raise(L, err)
	}
	return f(L, v)
}

// blockCleanup is block for calls that release resources (shutdown): they
// must still happen after Ctrl-C or a pd.map abort cancelled the context, so
// they run on a context that keeps its values but not its cancellation,
// bounded by sandbox.CleanupTimeout.
func (m *Module) blockCleanup(L *lua.LState, w work, f finish) int {
	return m.block(L, func(ctx context.Context, post func(func())) (any, error) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sandbox.CleanupTimeout)
		defer cancel()
		return w(cctx, post)
	}, f)
}

func luaContext(L *lua.LState) context.Context {
	if ctx := L.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// prelude wraps the Go builtins so a pending token is yielded from Lua (a Go
// builtin's own yield is lost behind pcall or a tail call in gopher-lua), and
// replaces pcall/xpcall with versions that pass yields through (coxpcall).
const prelude = `
local pending_mt = ...
local yield, create, resume, status = coroutine.yield, coroutine.create, coroutine.resume, coroutine.status
local select, error, getmetatable = select, error, getmetatable

local function pack(...) return {n = select("#", ...), ...} end

local function wrap(f)
  return function(...)
    local r = pack(f(...))
    if r.n == 1 and getmetatable(r[1]) == pending_mt then
      local back = pack(yield(r[1]))
      if not back[1] then error(back[2], 0) end
      return unpack(back, 2, back.n)
    end
    return unpack(r, 1, r.n)
  end
end

local function copcall(f, ...)
  local co = create(function(...) return f(...) end)
  local function step(ok, ...)
    if status(co) == "dead" then return ok, ... end
    return step(resume(co, yield(...)))
  end
  return step(resume(co, ...))
end

local function coxpcall(f, handler, ...)
  local r = pack(copcall(f, ...))
  if not r[1] then return false, handler(r[2]) end
  return unpack(r, 1, r.n)
end

return wrap, copcall, coxpcall
`
