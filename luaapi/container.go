package luaapi

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/containers/podman/v5/libpod/define"
	lua "github.com/yuin/gopher-lua"
	luar "layeh.com/gopher-luar"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

const containerMeta = "pocketdock.Container"

// Container is a sandbox handle: it remembers its engine.
type Container struct {
	m        *Module
	eng      *engine.Engine
	ID, Name string
	Image    string
	Persist  bool
	Project  string
	Timeout  time.Duration
	dataPath string
	status   string
	removed  bool

	hooks     struct{ stdout, stderr, exit *lua.LFunction }
	exitFired bool // on_exit runs once: shutdown is idempotent, so is its hook

	mu       sync.Mutex
	channels []func() // closers of sessions and the executor, run on stop/remove
	fast     *fastPath
}

func (c *Container) userdata(L *lua.LState) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = c
	L.SetMetatable(ud, L.GetTypeMetatable(containerMeta))
	return ud
}

// String is how a container prints: <container name status id persist>.
func (c *Container) String() string {
	kind := "ephemeral"
	if c.Persist {
		kind = "persist"
	}
	status := c.status
	if c.removed {
		status = "removed"
	}
	return fmt.Sprintf("<container %s %s %s %s>", c.Name, status, short(c.ID), kind)
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// onClose registers a closer for a channel into the sandbox (a session, the executor).
func (c *Container) onClose(fn func()) {
	c.mu.Lock()
	c.channels = append(c.channels, fn)
	c.mu.Unlock()
}

// closeChannels ends sessions and the executor: before a stop or removal, so
// none of them can hold either up.
func (c *Container) closeChannels() {
	c.mu.Lock()
	fns := c.channels
	c.channels = nil
	c.fast = nil
	c.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func (c *Container) remove(ctx context.Context) error {
	c.closeChannels()
	if err := c.eng.Remove(ctx, c.ID); err != nil {
		return err
	}
	c.removed = true
	c.status = "removed"
	c.m.untrack(c)
	project.RemoveDataPath(c.dataPath)
	return nil
}

func registerContainerType(L *lua.LState, m *Module) {
	mt := L.NewTypeMetatable(containerMeta)
	methods, names := m.methodTable(L, "Container")
	mnames := L.NewTable()
	for _, n := range names {
		mnames.Append(lua.LString(n))
	}
	L.SetField(mt, "__methods", mnames)
	L.SetField(mt, "__index", L.NewFunction(func(L *lua.LState) int {
		c := checkContainer(L, 1, "index")
		key := L.CheckString(2)
		switch key {
		case "id":
			L.Push(lua.LString(c.ID))
		case "name":
			L.Push(lua.LString(c.Name))
		case "persist":
			L.Push(lua.LBool(c.Persist))
		case "project":
			if c.Project == "" {
				L.Push(lua.LNil)
			} else {
				L.Push(lua.LString(c.Project))
			}
		case "image":
			L.Push(lua.LString(c.Image))
		case "engine":
			L.Push(lua.LString(c.eng.URI))
		default:
			L.Push(methods.RawGetString(key))
		}
		return 1
	}))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString(checkContainer(L, 1, "tostring").String()))
		return 1
	}))
	L.SetField(mt, "__eq", L.NewFunction(func(L *lua.LState) int {
		a, b := checkContainer(L, 1, "=="), checkContainer(L, 2, "==")
		L.Push(lua.LBool(a.ID == b.ID))
		return 1
	}))
}

// checkContainer reads argument n as a Container (the method receiver).
func checkContainer(L *lua.LState, n int, method string) *Container {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*Container); ok {
			return c
		}
	}
	argError(L, method, "must be called on a container (use c:%s(...), not c.%s(...)); got %s", method, method, typeName(L.Get(n)))
	return nil
}

func (m *Module) info(L *lua.LState) int {
	c := checkContainer(L, 1, "info")
	optionsArg(L, "info", 2).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.eng.Inspect(ctx, c.ID)
	}, func(L *lua.LState, v any) int {
		d := v.(*defineInspect)
		c.status = d.State.Status
		L.Push(infoTable(L, c, d))
		return 1
	})
}

func infoTable(L *lua.LState, c *Container, d *defineInspect) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("id", lua.LString(d.ID))
	t.RawSetString("name", lua.LString(c.Name))
	t.RawSetString("status", lua.LString(d.State.Status))
	t.RawSetString("running", lua.LBool(d.State.Running))
	t.RawSetString("image", lua.LString(d.ImageName))
	t.RawSetString("persist", lua.LBool(c.Persist))
	if c.Project != "" {
		t.RawSetString("project", lua.LString(c.Project))
	}
	t.RawSetString("created_at", lua.LString(d.Config.Labels[engine.LabelCreatedAt]))
	if !d.State.StartedAt.IsZero() {
		t.RawSetString("started_at", lua.LString(d.State.StartedAt.UTC().Format(time.RFC3339)))
	}
	t.RawSetString("pid", lua.LNumber(d.State.Pid))
	t.RawSetString("oom_killed", lua.LBool(d.State.OOMKilled))
	t.RawSetString("engine", lua.LString(c.eng.URI))
	if d.HostConfig != nil {
		t.RawSetString("mem_limit", lua.LNumber(d.HostConfig.Memory))
		t.RawSetString("pids_limit", lua.LNumber(d.HostConfig.PidsLimit))
		t.RawSetString("read_only", lua.LBool(d.HostConfig.ReadonlyRootfs))
	}
	if d.NetworkSettings != nil {
		ports := L.NewTable()
		for cport, binds := range d.NetworkSettings.Ports {
			for _, b := range binds {
				ports.RawSetString(cport, lua.LString(b.HostIP+":"+b.HostPort))
			}
		}
		t.RawSetString("ports", ports)
	}
	labels := L.NewTable()
	for k, v := range d.Config.Labels {
		if v == "" && strings.HasPrefix(k, "pocketdock.") {
			continue // blanked at create: an image's label this sandbox does not have
		}
		labels.RawSetString(k, lua.LString(v))
	}
	t.RawSetString("labels", labels)
	return t
}

// inspect hands scripts the engine's whole record through gopher-luar, with
// snake_case field names.
func (m *Module) inspect(L *lua.LState) int {
	c := checkContainer(L, 1, "inspect")
	optionsArg(L, "inspect", 2).done(L) // like every method: a stray argument is a mistake
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.eng.Inspect(ctx, c.ID)
	}, func(L *lua.LState, v any) int {
		cfg := luar.GetConfig(L)
		cfg.FieldNames = snakeNames
		cfg.MethodNames = noMethods
		L.Push(luar.New(L, v))
		return 1
	})
}

// snakeNames maps Go field names to snake_case ("HostConfig" -> "host_config", "ID" -> "id").
func snakeNames(_ reflect.Type, f reflect.StructField) []string {
	return []string{snake(f.Name)}
}

// noMethods hides Go methods from scripts: the record is data.
func noMethods(reflect.Type, reflect.Method) []string { return nil }

type defineInspect = define.InspectContainerData

func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			if prevLower || (nextLower && rs[i-1] >= 'A' && rs[i-1] <= 'Z') {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m *Module) snapshot(L *lua.LState) int {
	c := checkContainer(L, 1, "snapshot")
	ref := stringArg(L, "snapshot", 2, "image")
	o := optionsArg(L, "snapshot", 3)
	opts := engine.CommitOptions{Comment: o.String("comment", ""), Changes: o.StringList("changes"), NoPause: !o.Bool("pause", true)}
	o.done(L)
	if _, _, err := engine.SplitImageRef(ref); err != nil {
		return raise(L, err)
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.eng.Commit(ctx, c.ID, ref, opts)
	}, pushString)
}

func pushString(L *lua.LState, v any) int {
	L.Push(lua.LString(v.(string)))
	return 1
}

func (m *Module) stopMethod(L *lua.LState) int {
	c := checkContainer(L, 1, "stop")
	o := optionsArg(L, "stop", 2)
	grace := o.Seconds("timeout", 5*time.Second)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c.closeChannels()
		if err := c.eng.Stop(ctx, c.ID, grace); err != nil {
			return nil, err
		}
		c.status = "exited"
		return nil, nil
	}, pushTrue)
}

func (m *Module) startMethod(L *lua.LState) int {
	c := checkContainer(L, 1, "start")
	optionsArg(L, "start", 2).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		if err := c.eng.Start(ctx, c.ID); err != nil {
			return nil, err
		}
		c.status = "running"
		return nil, nil
	}, pushTrue)
}

// reboot restarts the sandbox; fresh = true recreates it from its image.
func (m *Module) reboot(L *lua.LState) int {
	c := checkContainer(L, 1, "reboot")
	o := optionsArg(L, "reboot", 2)
	fresh := o.Bool("fresh", false)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c.closeChannels()
		if !fresh {
			if err := c.eng.Stop(ctx, c.ID, 5*time.Second); err != nil {
				return nil, err
			}
			return nil, c.eng.Start(ctx, c.ID)
		}
		d, err := c.eng.Inspect(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		spec := engine.SpecFromInspect(d)
		spec.Owner = engine.SelfOwner()
		if err := c.eng.Remove(ctx, c.ID); err != nil {
			return nil, err
		}
		c.m.untrack(c)
		id, err := c.eng.Create(ctx, spec)
		if err != nil {
			return nil, err
		}
		c.ID = id
		if !c.Persist {
			c.m.track(c)
		}
		return nil, c.eng.Start(ctx, id)
	}, func(L *lua.LState, _ any) int {
		c.status = "running"
		L.Push(lua.LTrue)
		return 1
	})
}

// shutdown: ephemeral -> removed; persistent -> stopped and kept (force removes
// it too). Idempotent, and never held up by a dead session. It runs even after
// an interruption (see blockCleanup), so with_container's cleanup happens when
// a pd.map aborts. The on_exit hook fires once, on the first shutdown.
func (m *Module) shutdown(L *lua.LState) int {
	c := checkContainer(L, 1, "shutdown")
	o := optionsArg(L, "shutdown", 2)
	force := o.Bool("force", false)
	o.done(L)
	return m.blockCleanup(L, func(ctx context.Context, post func(func())) (any, error) {
		return nil, c.shutdownNow(ctx, force)
	}, func(L *lua.LState, _ any) int {
		if c.hooks.exit != nil && !c.exitFired {
			c.exitFired = true
			L.CallByParam(lua.P{Fn: c.hooks.exit, Protect: false}, c.userdata(L))
		}
		L.Push(lua.LTrue)
		return 1
	})
}

// shutdownNow is shutdown's engine part: remove an ephemeral sandbox (or any
// with force), stop a persistent one. A sandbox already gone counts as done.
func (c *Container) shutdownNow(ctx context.Context, force bool) error {
	if c.removed {
		return nil
	}
	var err error
	if c.Persist && !force {
		c.closeChannels()
		err = c.eng.Stop(ctx, c.ID, 5*time.Second)
		if err == nil {
			c.status = "exited"
		}
	} else {
		err = c.remove(ctx)
	}
	if engine.IsKind(err, engine.ContainerNotFound) {
		c.removed, err = true, nil
		c.m.untrack(c)
	}
	if err == nil {
		c.m.unscope(c)
	}
	return err
}

func (m *Module) onStdout(L *lua.LState) int {
	return setHook(L, "on_stdout", func(c *Container) **lua.LFunction { return &c.hooks.stdout })
}
func (m *Module) onStderr(L *lua.LState) int {
	return setHook(L, "on_stderr", func(c *Container) **lua.LFunction { return &c.hooks.stderr })
}
func (m *Module) onExit(L *lua.LState) int {
	return setHook(L, "on_exit", func(c *Container) **lua.LFunction { return &c.hooks.exit })
}

func setHook(L *lua.LState, name string, slot func(*Container) **lua.LFunction) int {
	c := checkContainer(L, 1, name)
	switch v := L.Get(2).(type) {
	case *lua.LFunction:
		*slot(c) = v
	case *lua.LNilType:
		*slot(c) = nil
	default:
		return argError(L, name, "argument #1 must be a function or nil, got %s", typeName(v))
	}
	return 0
}
