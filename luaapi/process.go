package luaapi

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
)

const processMeta = "pocketdock.Process"

// processBuffer bounds what a spawned process keeps per stream until read.
const processBuffer = 1 << 20

// Process is a command running in the background. Its goroutine fills the
// buffers under mu; Lua values are made only on the Lua goroutine.
type Process struct {
	c    *Container
	argv []string
	done chan struct{} // closed when the command has ended

	mu         sync.Mutex
	out, err   bytes.Buffer
	overflowed bool
	pid        string // plain path: the pid inside the container
	res        *engine.ExecResult
	runErr     error

	proc   *agent.Proc        // agent path
	cancel context.CancelFunc // plain path: ends the exec
	start  time.Time
}

func (p *Process) add(stream int, data []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := &p.out
	if stream == 2 {
		b = &p.err
	}
	if room := processBuffer - b.Len(); len(data) > room {
		data = data[:max(room, 0)]
		p.overflowed = true
	}
	b.Write(data)
}

func (p *Process) setPID(pid string) {
	p.mu.Lock()
	p.pid = pid
	p.mu.Unlock()
}

func (p *Process) finish(res *engine.ExecResult, err error) {
	if err == nil && res != nil {
		rec := *res
		rec.Duration = time.Since(p.start)
		p.c.m.recordRun(p.c, p.argv, &rec)
	}
	p.mu.Lock()
	p.res, p.runErr = res, err
	p.mu.Unlock()
	close(p.done)
}

func (p *Process) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (m *Module) spawn(L *lua.LState) int {
	c := checkContainer(L, 1, "spawn")
	explicitTimeout := false
	if t, ok := L.Get(3).(*lua.LTable); ok {
		explicitTimeout = t.RawGetString("timeout") != lua.LNil
		for _, k := range []string{"on_stdout", "on_stderr", "check"} {
			if t.RawGetString(k) != lua.LNil {
				return argError(L, "spawn", "option '%s' is not supported by spawn (read the output with p:read())", k)
			}
		}
	}
	r := decodeRun(L, c, "spawn")
	if !explicitTimeout {
		r.spec.Timeout = 0 // a background process runs until it ends or is killed
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.spawn(ctx, &r)
	}, func(L *lua.LState, v any) int {
		ud := L.NewUserData()
		ud.Value = v
		L.SetMetatable(ud, L.GetTypeMetatable(processMeta))
		L.Push(ud)
		return 1
	})
}

func (c *Container) spawn(ctx context.Context, r *runRequest) (*Process, error) {
	if c.removed {
		return nil, engine.Errorf(engine.ContainerNotFound, "sandbox %q was shut down", c.Name)
	}
	p := &Process{c: c, argv: r.spec.Argv, done: make(chan struct{}), start: time.Now()}
	if !r.isolated {
		f := c.fastPath()
		if client := f.get(ctx, 0); client != nil {
			cmd := f.command(&r.spec)
			cmd.KeepChildren = true // what a background process starts is its own business
			proc, err := client.Start(ctx, cmd, p.add)
			if err == nil {
				p.proc = proc
				go p.waitAgent(r.spec.Timeout)
				return p, nil
			}
		}
	}
	spec := r.spec
	spec.OnOutput = p.add
	spec.OnStart = p.setPID
	bg, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	c.onClose(cancel)
	go func() {
		res, err := c.eng.Exec(bg, c.ID, spec)
		if engine.IsKind(err, engine.Interrupted) && res != nil {
			res.ExitCode, err = 137, nil // ended by p:kill or shutdown
		}
		p.finish(res, err)
	}()
	return p, nil
}

func (p *Process) waitAgent(timeout time.Duration) {
	timedOut := false
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() {
			p.mu.Lock()
			timedOut = true
			p.mu.Unlock()
			_ = p.proc.Signal(syscall.SIGKILL)
		})
		defer t.Stop()
	}
	exit, err := p.proc.Wait(context.Background())
	res := &engine.ExecResult{ExitCode: exit.Code}
	if err != nil {
		res.ExitCode = 137 // the executor died, and the command with it
		err = p.c.whyLost(context.Background())
	}
	p.mu.Lock()
	res.TimedOut = timedOut
	p.mu.Unlock()
	p.finish(res, err)
}

// result is what p:wait returns: the output not yet read and how it ended.
func (p *Process) result() (*engine.ExecResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.runErr != nil {
		return nil, p.runErr
	}
	res := *p.res
	res.Stdout = append([]byte(nil), p.out.Bytes()...)
	res.Stderr = append([]byte(nil), p.err.Bytes()...)
	res.Truncated = res.Truncated || p.overflowed
	res.Duration = time.Since(p.start)
	return &res, nil
}

// signal sends sig to the process and its children.
func (p *Process) signal(ctx context.Context, sig syscall.Signal) error {
	if !p.running() {
		return nil
	}
	if p.proc != nil {
		return p.proc.Signal(sig)
	}
	p.mu.Lock()
	pid := p.pid
	p.mu.Unlock()
	if sig == syscall.SIGKILL {
		p.cancel() // the exec's watcher kills the whole tree inside the sandbox
		return nil
	}
	if pid == "" {
		return nil
	}
	_, err := p.c.eng.Exec(ctx, p.c.ID, engine.ExecSpec{Argv: []string{"kill", "-" + strconv.Itoa(int(sig)), pid}, User: "0", Timeout: 10 * time.Second})
	return err
}

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "STOP": syscall.SIGSTOP,
	"CONT": syscall.SIGCONT, "ALRM": syscall.SIGALRM, "PIPE": syscall.SIGPIPE,
}

func signalArg(L *lua.LState, n int) syscall.Signal {
	switch v := L.Get(n).(type) {
	case *lua.LNilType:
		return syscall.SIGKILL
	case lua.LNumber:
		if v >= 1 && v <= 64 && float64(v) == float64(int(v)) {
			return syscall.Signal(int(v))
		}
	case lua.LString:
		if s, ok := signalNames[strings.TrimPrefix(strings.ToUpper(string(v)), "SIG")]; ok {
			return s
		}
	}
	argError(L, "kill", "argument #1 (signal) must be a signal name such as \"TERM\" or a number 1-64, got %s", L.Get(n).String())
	return 0
}

func checkProcess(L *lua.LState, method string) *Process {
	if ud, ok := L.Get(1).(*lua.LUserData); ok {
		if p, ok := ud.Value.(*Process); ok {
			return p
		}
	}
	argError(L, method, "must be called on a process (use p:%s(...))", method)
	return nil
}

func processRunning(L *lua.LState) int {
	L.Push(lua.LBool(checkProcess(L, "running").running()))
	return 1
}

func processRead(L *lua.LState) int { return pushBuffered(L, checkProcess(L, "read"), true) }
func processPeek(L *lua.LState) int { return pushBuffered(L, checkProcess(L, "peek"), false) }

func pushBuffered(L *lua.LState, p *Process, drain bool) int {
	p.mu.Lock()
	out, errs, over := p.out.String(), p.err.String(), p.overflowed
	if drain {
		p.out.Reset()
		p.err.Reset()
		p.overflowed = false
	}
	p.mu.Unlock()
	L.Push(lua.LString(out))
	L.Push(lua.LString(errs))
	L.Push(lua.LBool(over))
	return 3
}

func (m *Module) processWait(L *lua.LState) int {
	p := checkProcess(L, "wait")
	var timeout time.Duration = -1
	if v := L.Get(2); v != lua.LNil {
		n, ok := v.(lua.LNumber)
		if !ok || n < 0 {
			return argError(L, "wait", "argument #1 (timeout) must be a number of seconds >= 0 or nil, got %s", typeName(v))
		}
		timeout = time.Duration(float64(n) * float64(time.Second))
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		var timer <-chan time.Time
		if timeout >= 0 {
			t := time.NewTimer(timeout)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-p.done:
			return p.result()
		case <-timer:
			return nil, nil
		case <-ctx.Done():
			return nil, &engine.Error{Kind: engine.Interrupted, Message: "waiting for the process was interrupted", Err: ctx.Err()}
		}
	}, func(L *lua.LState, v any) int {
		if v == nil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(resultTable(L, v.(*engine.ExecResult)))
		return 1
	})
}

func (m *Module) processKill(L *lua.LState) int {
	p := checkProcess(L, "kill")
	sig := signalArg(L, 2)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		if err := p.signal(ctx, sig); err != nil {
			return nil, err
		}
		if sig == syscall.SIGKILL { // it really ends: wait for it, briefly
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
			case <-ctx.Done():
			}
		}
		return nil, nil
	}, pushTrue)
}

// registerExtraTypes registers the Process and Session metatables.
func registerExtraTypes(L *lua.LState, m *Module) {
	registerMethods(L, m, processMeta, "Process")
	registerMethods(L, m, sessionMeta, "Session")
}

func registerMethods(L *lua.LState, m *Module, meta, typeName string) {
	mt := L.NewTypeMetatable(meta)
	methods, _ := m.methodTable(L, typeName)
	L.SetField(mt, "__index", methods)
	lower := strings.ToLower(typeName)
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("<" + lower + ">"))
		return 1
	}))
}
