package luaapi

import (
	"context"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// runRequest is a decoded run/spawn/session command.
type runRequest struct {
	spec     engine.ExecSpec
	check    bool
	isolated bool
	onOut    *lua.LFunction
	onErr    *lua.LFunction
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
	r := runRequest{spec: engine.ExecSpec{Argv: argv}}
	r.spec.Timeout = o.Seconds("timeout", c.Timeout)
	r.spec.Env = envList(o.Env("env"))
	r.spec.Cwd = o.String("cwd", "")
	r.spec.User = o.String("user", "")
	if o.has("stdin") {
		r.spec.Stdin = strings.NewReader(o.String("stdin", ""))
	}
	r.spec.MaxOutput = int(o.Int("max_output", 0, 0, 1<<40))
	r.onOut = o.Func("on_stdout")
	r.onErr = o.Func("on_stderr")
	r.check = o.Bool("check", false)
	r.isolated = o.Bool("isolated", false)
	o.done(L)
	if r.spec.Cwd != "" && !strings.HasPrefix(r.spec.Cwd, "/") {
		argError(L, fn, "option 'cwd' must be an absolute path, got %q", r.spec.Cwd)
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
	for _, f := range []*lua.LFunction{r.onOut, c.hooks.stdout} {
		if f != nil {
			h.fns[1] = append(h.fns[1], f)
		}
	}
	for _, f := range []*lua.LFunction{r.onErr, c.hooks.stderr} {
		if f != nil {
			h.fns[2] = append(h.fns[2], f)
		}
	}
	return h
}

func (h *outputHandler) empty() bool { return len(h.fns[1])+len(h.fns[2]) == 0 }

// install sets the spec's OnOutput to post each chunk to the Lua goroutine.
func (h *outputHandler) install(spec *engine.ExecSpec, post func(func())) {
	if h.empty() {
		return
	}
	spec.OnOutput = func(stream int, data []byte) {
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
		out.install(&r.spec, post)
		return c.exec(ctx, &r)
	}, func(L *lua.LState, v any) int {
		if out.err != nil {
			if ae, ok := out.err.(*lua.ApiError); ok {
				L.Error(ae.Object, 0)
			}
			return raise(L, out.err)
		}
		res := v.(*engine.ExecResult)
		if r.check && (res.ExitCode != 0 || res.TimedOut) {
			return raise(L, commandFailed(r.spec.Argv, res))
		}
		L.Push(resultTable(L, res))
		return 1
	})
}

// exec runs a command on the fast path when it can, else through a plain engine exec.
func (c *Container) exec(ctx context.Context, r *runRequest) (*engine.ExecResult, error) {
	if c.removed {
		return nil, engine.Errorf(engine.ContainerNotFound, "sandbox %q was shut down", c.Name).
			WithHint("create a new one, or resume a persistent one with resume_container")
	}
	var res *engine.ExecResult
	var err error
	if !r.isolated {
		res, err = c.fastExec(ctx, r)
	}
	if res == nil && err == nil {
		res, err = c.eng.Exec(ctx, c.ID, r.spec)
	}
	if err == nil {
		c.m.recordRun(c, r.spec.Argv, res)
	}
	return res, err
}

// recordRun adds a run to a persistent project sandbox's history.
func (m *Module) recordRun(c *Container, argv []string, res *engine.ExecResult) {
	if c.Persist {
		project.RecordRun(c.dataPath, argv, res)
	}
}

func commandFailed(argv []string, res *engine.ExecResult) error {
	cmd := engine.CommandText(argv)
	msg := "command failed with exit code " + itoa(res.ExitCode) + ": " + cmd
	if res.TimedOut {
		msg = "command timed out: " + cmd
	}
	if s := strings.TrimSpace(string(res.Stderr)); s != "" {
		if len(s) > 500 {
			s = s[len(s)-500:]
		}
		msg += "\n" + s
	}
	return &engine.Error{Kind: engine.CommandFailed, Message: msg}
}

func itoa(n int) string { return lua.LNumber(n).String() }

// resultTable is a run's result as a plain table.
func resultTable(L *lua.LState, res *engine.ExecResult) *lua.LTable {
	t := L.CreateTable(0, 7)
	t.RawSetString("exit_code", lua.LNumber(res.ExitCode))
	t.RawSetString("stdout", lua.LString(res.Stdout))
	t.RawSetString("stderr", lua.LString(res.Stderr))
	t.RawSetString("ok", lua.LBool(res.ExitCode == 0 && !res.TimedOut))
	t.RawSetString("timed_out", lua.LBool(res.TimedOut))
	t.RawSetString("truncated", lua.LBool(res.Truncated))
	t.RawSetString("duration_ms", lua.LNumber(float64(res.Duration.Microseconds())/1000))
	if res.ExitCode == 137 && !res.TimedOut && !res.Truncated {
		t.RawSetString("hint", lua.LString("exit code 137: the command was killed (SIGKILL), often by the memory limit; see c:info().oom_killed"))
	}
	return t
}
