package luaapi

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

const pendingMeta = "pocketdock.pending"

// pending is the token of one blocking call started inside a task.
type pending struct {
	co     *lua.LState
	finish finish
	val    any
	err    error
}

// scheduler runs pd.map / pd.parallel tasks as coroutines on the Lua
// goroutine; their blocking calls run on goroutines of their own and report
// back through events, so Lua values are only touched here.
type scheduler struct {
	ctx    context.Context
	cancel context.CancelFunc
	events chan func()
	active int
	state  *runState
}

func (s *scheduler) start(co *lua.LState, w work, f finish) lua.LValue {
	p := &pending{co: co, finish: f}
	s.active++
	go func() {
		post := func(fn func()) { s.events <- fn }
		p.val, p.err = w(s.ctx, post)
		s.events <- func() { s.done(p) }
	}()
	ud := co.NewUserData()
	ud.Value = p
	co.SetMetatable(ud, co.GetTypeMetatable(pendingMeta))
	return ud
}

// task is one coroutine and where its result goes.
type task struct {
	co    *lua.LState
	index int
	done  bool
}

type runState struct {
	L        *lua.LState
	sched    *scheduler
	tasks    map[*lua.LState]*task
	results  []lua.LValue
	firstErr lua.LValue
	errIndex int
}

func (s *scheduler) done(p *pending) {
	s.active--
	rs := s.state
	t := rs.tasks[p.co]
	if t == nil {
		return
	}
	var args []lua.LValue
	if p.err != nil {
		args = []lua.LValue{lua.LFalse, errorValue(rs.L, p.err)}
	} else {
		top := rs.L.GetTop()
		n := p.finish(rs.L, p.val)
		args = append(args, lua.LTrue)
		for i := 1; i <= n; i++ {
			args = append(args, rs.L.Get(top+i))
		}
		rs.L.SetTop(top)
	}
	rs.resume(t, nil, args...)
}

// resume runs a task until it yields a pending token, returns or fails.
func (rs *runState) resume(t *task, fn *lua.LFunction, args ...lua.LValue) {
	st, err, values := rs.L.Resume(t.co, fn, args...)
	switch st {
	case lua.ResumeYield:
		if len(values) == 1 {
			if ud, ok := values[0].(*lua.LUserData); ok {
				if p, ok := ud.Value.(*pending); ok {
					// A pcall inside the task runs in a nested coroutine: the call
					// was made there, but its result resumes this task.
					rs.tasks[p.co] = t
					return // its work is under way
				}
			}
		}
		rs.fail(t, engine.Errorf(engine.InvalidArgument, "coroutine.yield is not allowed directly inside pd.map / pd.parallel tasks"))
	case lua.ResumeOK:
		t.done = true
		if len(values) > 0 {
			rs.results[t.index-1] = values[0]
		}
	case lua.ResumeError:
		t.done = true
		var v lua.LValue = lua.LString(err.Error())
		var le *lua.ApiError
		if errors.As(err, &le) {
			v = le.Object
		}
		rs.failValue(t, v)
	}
}

func (rs *runState) fail(t *task, err error) {
	t.done = true
	rs.failValue(t, errorValue(rs.L, err))
}

func (rs *runState) failValue(t *task, v lua.LValue) {
	if rs.firstErr != nil {
		return
	}
	if tbl, ok := v.(*lua.LTable); ok && tbl.RawGetString("kind") != lua.LNil {
		tbl.RawSetString("index", lua.LNumber(t.index))
	} else {
		et := errorValue(rs.L, engine.Errorf(engine.CommandFailed, "%s", lua.LVAsString(v)))
		et.RawSetString("kind", lua.LString("LuaError"))
		et.RawSetString("index", lua.LNumber(t.index))
		v = et
	}
	rs.firstErr, rs.errIndex = v, t.index
	rs.sched.cancel() // the others' in-flight calls end as Interrupted
}

// runTasks runs fns[i](args[i]) concurrently and returns their first results in order.
func (m *Module) runTasks(L *lua.LState, name string, fns []*lua.LFunction, args []lua.LValue) int {
	if m.sched != nil {
		return argError(L, name, "cannot be nested inside another pd.map or pd.parallel")
	}
	ctx, cancel := context.WithCancel(luaContext(L))
	s := &scheduler{ctx: ctx, cancel: cancel, events: make(chan func(), 64)}
	rs := &runState{L: L, sched: s, tasks: map[*lua.LState]*task{}, results: make([]lua.LValue, len(fns))}
	s.state = rs
	m.sched = s
	defer func() { m.sched = nil; cancel() }()
	keep := m.reg.Scoped() // with_container sandboxes from outside this map
	for i, fn := range fns {
		if rs.firstErr != nil {
			break // an earlier task already failed: start no more
		}
		co, _ := L.NewThread()
		t := &task{co: co, index: i + 1}
		rs.tasks[co] = t
		var a []lua.LValue
		if args != nil {
			a = []lua.LValue{args[i]}
		}
		rs.resume(t, fn, a...)
	}
	for s.active > 0 {
		select {
		case ev := <-s.events:
			ev()
		case <-luaContext(L).Done():
			cancel()
			for s.active > 0 {
				(<-s.events)()
			}
		}
	}
	if rs.firstErr != nil || luaContext(L).Err() != nil {
		// Tasks that were cut short, or could not run their Lua again after
		// Ctrl-C, leave with_container sandboxes behind: shut them down now,
		// before the error reaches the caller.
		m.reg.ShutdownScoped(keep)
	}
	if rs.firstErr != nil {
		L.Error(rs.firstErr, 0)
	}
	if err := luaContext(L).Err(); err != nil {
		return raise(L, err)
	}
	out := L.CreateTable(len(fns), 0)
	for i, v := range rs.results {
		if v == nil {
			v = lua.LNil
		}
		out.RawSetInt(i+1, v)
	}
	L.Push(out)
	return 1
}

func (m *Module) luaMap(L *lua.LState) int {
	list, ok := L.Get(1).(*lua.LTable)
	if !ok {
		return argError(L, "map", "argument #1 (list) must be a table, got %s", typeName(L.Get(1)))
	}
	fn, ok := L.Get(2).(*lua.LFunction)
	if !ok {
		return argError(L, "map", "argument #2 (fn) must be a function, got %s", typeName(L.Get(2)))
	}
	n := list.Len()
	fns := make([]*lua.LFunction, n)
	args := make([]lua.LValue, n)
	for i := 1; i <= n; i++ {
		fns[i-1], args[i-1] = fn, list.RawGetInt(i)
	}
	return m.runTasks(L, "map", fns, args)
}

func (m *Module) luaParallel(L *lua.LState) int {
	var fns []*lua.LFunction
	for i := 1; i <= L.GetTop(); i++ {
		fn, ok := L.Get(i).(*lua.LFunction)
		if !ok {
			return argError(L, "parallel", "argument #%d must be a function, got %s", i, typeName(L.Get(i)))
		}
		fns = append(fns, fn)
	}
	return m.runTasks(L, "parallel", fns, nil)
}
