package luaapi

import (
	"context"
	"errors"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

// runRequest is a decoded run or spawn.
type runRequest struct {
	argv  []string
	opts  sandbox.RunOptions
	check bool
	onOut *lua.LFunction
	onErr *lua.LFunction
}

// commandArg reads a command: a string runs through sh -c, a table is argv.
func commandArg(L *lua.LState, fn string, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return []string{"/bin/sh", "-c", string(v)}
	case *lua.LTable:
		var argv []string
		for i := 1; i <= v.Len(); i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				argError(L, fn, "argument #%d (command) must hold only strings; item %d is %s", n, i, typeName(v.RawGetInt(i)))
			}
			argv = append(argv, string(s))
		}
		if len(argv) == 0 {
			argError(L, fn, "argument #%d (command) is an empty argv table", n)
		}
		return argv
	default:
		argError(L, fn, "argument #%d (command) must be a string or an argv table, got %s", n, typeName(v))
		return nil
	}
}

func decodeRun(L *lua.LState, c *Container, fn string) runRequest {
	argv := commandArg(L, fn, 2)
	o := optionsArg(L, fn, 3)
	r := runRequest{argv: argv}
	r.opts.Timeout = o.Timeout("timeout", c.Timeout())
	r.opts.Env = envList(o.Env("env"))
	r.opts.Cwd = o.String("cwd", "")
	r.opts.User = o.String("user", "")
	if o.has("stdin") {
		r.opts.Stdin = strings.NewReader(o.String("stdin", ""))
	}
	r.opts.MaxOutput = int(o.Int("max_output", 0, 0, 1<<40))
	r.onOut = o.Func("on_stdout")
	r.onErr = o.Func("on_stderr")
	r.check = o.Bool("check", false)
	r.opts.Isolated = o.Bool("isolated", false)
	o.done(L)
	if r.opts.Cwd != "" && !strings.HasPrefix(r.opts.Cwd, "/") {
		argError(L, fn, "option 'cwd' must be an absolute path, got %q", r.opts.Cwd)
	}
	return r
}

func envList(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// outputHandler feeds chunks to the run's and the container's callbacks on the
// Lua goroutine. A callback that fails stops being called; its error is raised
// when the command has finished.
type outputHandler struct {
	L   *lua.LState
	fns [3][]*lua.LFunction
	err error
}

func (m *Module) newOutputHandler(L *lua.LState, c *Container, r *runRequest) *outputHandler {
	h := &outputHandler{L: L}
	if m.sched != nil {
		h.L = m.main // posted callbacks run on the main thread, not a suspended task
	}
	hk := m.hooksOf(c)
	if hk == nil {
		hk = &hooks{}
	}
	for _, f := range []*lua.LFunction{r.onOut, hk.stdout} {
		if f != nil {
			h.fns[1] = append(h.fns[1], f)
		}
	}
	for _, f := range []*lua.LFunction{r.onErr, hk.stderr} {
		if f != nil {
			h.fns[2] = append(h.fns[2], f)
		}
	}
	return h
}

func (h *outputHandler) empty() bool { return len(h.fns[1])+len(h.fns[2]) == 0 }

// install sets the options' OnOutput to post each chunk to the Lua goroutine.
func (h *outputHandler) install(o *sandbox.RunOptions, post func(func())) {
	if h.empty() {
		return
	}
	o.OnOutput = func(stream int, data []byte) {
		chunk := string(data)
		post(func() {
			if h.err != nil {
				return
			}
			for _, fn := range h.fns[stream] {
				if err := h.L.CallByParam(lua.P{Fn: fn, Protect: true}, lua.LString(chunk)); err != nil {
					h.err = err
					return
				}
			}
		})
	}
}

func (m *Module) run(L *lua.LState) int {
	c := checkContainer(L, 1, "run")
	r := decodeRun(L, c, "run")
	out := m.newOutputHandler(L, c, &r)
	return m.block(L, func(ctx context.Context, post func(func())) (any, error) {
		out.install(&r.opts, post)
		return c.Run(ctx, r.argv, r.opts)
	}, func(L *lua.LState, v any) int {
		if out.err != nil {
			var ae *lua.ApiError
			if errors.As(out.err, &ae) {
				L.Error(ae.Object, 0)
			}
			return raise(L, out.err)
		}
		return pushResult(L, r.argv, r.check, v.(*engine.ExecResult))
	})
}

// pushResult pushes a command's result table; with check, a failed command
// raises CommandFailed instead.
func pushResult(L *lua.LState, argv []string, check bool, res *engine.ExecResult) int {
	if check && !res.OK() {
		return raise(L, sandbox.CommandFailed(argv, res))
	}
	L.Push(resultTable(L, res))
	return 1
}

// resultTable is a run's result as a plain table.
func resultTable(L *lua.LState, res *engine.ExecResult) *lua.LTable {
	t := L.CreateTable(0, 7)
	t.RawSetString("exit_code", lua.LNumber(res.ExitCode))
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	t.RawSetString("ok", lua.LBool(res.OK()))
	t.RawSetString("timed_out", lua.LBool(res.TimedOut))
	t.RawSetString("truncated", lua.LBool(res.Truncated))
	t.RawSetString("duration_ms", lua.LNumber(float64(res.Duration.Microseconds())/1000))
	if res.ExitCode == 137 && !res.TimedOut && !res.Truncated {
		t.RawSetString("hint", lua.LString("exit code 137: the command was killed (SIGKILL), often by the memory limit; see c:info().oom_killed"))
	}
	return t
}
