package luaapi

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// DefaultTimeout is run()'s default timeout.
const DefaultTimeout = 30 * time.Second

// createRequest is create_new_container's decoded options.
type createRequest struct {
	spec    engine.Spec
	socket  string
	timeout time.Duration
}

func decodeCreate(L *lua.LState, fn string, n int) createRequest {
	o := optionsArg(L, fn, n)
	r := createRequest{}
	s := &r.spec
	s.Image = o.String("image", "")
	s.Name = o.StringOnly("name", "")
	s.Persist = o.Bool("persist", false)
	s.Project = o.String("project", "")
	r.timeout = o.Seconds("timeout", DefaultTimeout)
	s.MemLimit = sizeOption(L, fn, o, "mem_limit")
	s.DiskLimit = sizeOption(L, fn, o, "disk_limit")
	s.CPUPercent = int(o.Int("cpu_percent", 0, 0, 100*1024))
	s.PidsLimit = o.Int("pids_limit", 0, -1, 1<<22)
	s.Env = o.Env("env")
	s.Workdir = o.String("workdir", "")
	s.User = o.String("user", "")
	network := o.get("network")
	switch v := network.(type) {
	case *lua.LNilType:
	case lua.LBool:
		if v {
			s.Network = "bridge"
		}
	case lua.LString:
		s.Network = string(v)
	default:
		o.fail("network", "a boolean or a network name", v)
	}
	s.Ports = decodePorts(L, fn, o)
	// One rule for ports, in scripts and on the command line: ports need a
	// network, so they bring the default bridge when network is not given, and
	// an explicit network = false with ports is a contradiction.
	if len(s.Ports) > 0 && s.Network == "" {
		if network == lua.LFalse {
			raise(L, engine.Errorf(engine.InvalidArgument, "%s: option 'ports' needs a network, and network = false was given", fn).
				WithHint("drop network = false (ports bring the default bridge), or drop ports"))
		}
		s.Network = "bridge"
	}
	s.Volumes = decodeVolumes(L, fn, o)
	s.Devices = o.StringList("devices")
	s.Labels = o.StringMap("labels")
	s.ReadOnly = o.Bool("read_only", false)
	s.UserNS = o.String("userns", "")
	if s.UserNS != "" && s.UserNS != engine.UserNSAuto && s.UserNS != engine.UserNSHost {
		raise(L, engine.Errorf(engine.InvalidArgument, "%s: option 'userns' must be \"auto\" or \"host\", got %q", fn, clipValue(s.UserNS)).
			WithHint("auto: the sandbox gets its own range of host uids; host (the default): its root is host root"))
	}
	r.socket = o.String("socket_path", "")
	o.done(L)
	if s.Name != "" {
		if err := engine.ValidateName(s.Name); err != nil {
			if e, ok := err.(*engine.Error); ok { // say which call and option it was
				e.Message = fn + ": option 'name': " + e.Message
			}
			raise(L, err)
		}
	} else {
		s.Name = engine.RandomName()
	}
	for k := range s.Labels {
		if strings.HasPrefix(k, "pocketdock.") {
			raise(L, engine.Errorf(engine.InvalidArgument, "%s: label %q uses the reserved prefix pocketdock.", fn, k))
		}
	}
	if err := project.Apply(&r.spec, o.has); err != nil {
		raise(L, err)
	}
	return r
}

// sizeOption reads a size option: "256m", "1g", a number of bytes; 0 means
// none (-1 in the spec), absent the engine's default (0 in the spec).
func sizeOption(L *lua.LState, fn string, o *options, key string) int64 {
	if !o.has(key) {
		return 0
	}
	v := o.String(key, "")
	if n, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && n == 0 {
		return -1
	}
	size, err := engine.ParseSize(v)
	if err != nil {
		raise(L, engine.Errorf(engine.InvalidArgument, "%s: option '%s': %v", fn, key, err).WithHint("use a size such as \"256m\" or \"1g\", or 0 for none"))
	}
	return size
}

func decodePorts(L *lua.LState, fn string, o *options) []engine.Port {
	t := o.Table("ports")
	if t == nil {
		return nil
	}
	var out []engine.Port
	t.ForEach(func(k, v lua.LValue) {
		host, ok1 := portNumber(k)
		p := engine.Port{Host: host}
		switch cv := v.(type) {
		case lua.LNumber:
			c, ok := portNumber(cv)
			if !ok {
				ok1 = false
			}
			p.Container = c
		case *lua.LTable: // {port=80, host_ip="0.0.0.0", protocol="udp"}
			c, ok := portNumber(cv.RawGetString("port"))
			if !ok {
				ok1 = false
			}
			p.Container = c
			p.HostIP = lua.LVAsString(cv.RawGetString("host_ip"))
			p.Protocol = lua.LVAsString(cv.RawGetString("protocol"))
		default:
			ok1 = false
		}
		if !ok1 {
			o.fail("ports", "a table of host port = container port (1-65535)", v)
			return
		}
		out = append(out, p)
	})
	return out
}

func portNumber(v lua.LValue) (uint16, bool) {
	var n float64
	switch x := v.(type) {
	case lua.LNumber:
		n = float64(x)
	case lua.LString:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		n = f
	default:
		return 0, false
	}
	if n < 1 || n > 65535 || n != float64(int(n)) {
		return 0, false
	}
	return uint16(n), true
}

func decodeVolumes(L *lua.LState, fn string, o *options) []engine.Volume {
	t := o.Table("volumes")
	if t == nil {
		return nil
	}
	var out []engine.Volume
	t.ForEach(func(k, v lua.LValue) {
		var vol engine.Volume
		switch kv := k.(type) {
		case lua.LString: // ["/host"] = "/ctr"
			tv, ok := v.(lua.LString)
			if !ok {
				o.fail("volumes", "a table of host path = container path", v)
				return
			}
			vol = engine.Volume{Source: string(kv), Target: string(tv)}
		case lua.LNumber: // {source=, target=, readonly=}
			tv, ok := v.(*lua.LTable)
			if !ok {
				o.fail("volumes", "a table of {source=, target=, readonly=} entries", v)
				return
			}
			vol = engine.Volume{Source: lua.LVAsString(tv.RawGetString("source")), Target: lua.LVAsString(tv.RawGetString("target")),
				ReadOnly: lua.LVAsBool(tv.RawGetString("readonly"))}
		default:
			o.fail("volumes", "a table", k)
			return
		}
		if vol.Source == "" || !strings.HasPrefix(vol.Target, "/") {
			o.fail("volumes", "entries with a source and an absolute target", v)
			return
		}
		out = append(out, vol)
	})
	return out
}

func (h *handle) create(L *lua.LState) int {
	req := decodeCreate(L, "create_new_container", 1)
	req.spec.Owner = engine.SelfOwner()
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.createContainer(ctx, h, req)
	}, pushContainer)
}

// createContainer creates and starts a sandbox. An ephemeral one is tracked
// before it starts, so an interruption at any point cannot leak it.
func (m *Module) createContainer(ctx context.Context, h *handle, req createRequest) (*Container, error) {
	e, err := h.eng(ctx, req.socket)
	if err != nil {
		return nil, err
	}
	if req.spec.Image == "" {
		req.spec.Image = engine.DefaultImage
	}
	id, err := e.Create(ctx, req.spec)
	if engine.IsKind(err, engine.ImageNotFound) && req.spec.Image == engine.DefaultImage {
		if err = e.EnsureDefaultImage(ctx, m.notify); err == nil {
			id, err = e.Create(ctx, req.spec)
		}
	}
	if err != nil {
		return nil, err
	}
	// A project instance's folder is made only once the engine has the
	// sandbox: a failed create (a bad image, a name that is taken by another
	// sandbox, whose folder this is) must leave the project as it was.
	var madeDir bool
	if dir := req.spec.DataPath; dir != "" {
		_, statErr := os.Stat(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
			defer cancel()
			_ = e.Remove(rctx, id)
			return nil, engine.Errorf(engine.InvalidArgument, "cannot create %s: %v", dir, err)
		}
		madeDir = statErr != nil
	}
	c := &Container{m: m, eng: e, ID: id, Name: req.spec.Name, Image: req.spec.Image, Persist: req.spec.Persist,
		Project: req.spec.Project, Timeout: req.timeout, status: "created", dataPath: req.spec.DataPath}
	if !c.Persist {
		m.track(c)
	}
	if err := e.Start(ctx, id); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
		defer cancel()
		_ = e.Remove(rctx, id)
		m.untrack(c)
		if madeDir {
			os.RemoveAll(req.spec.DataPath)
		}
		return nil, err
	}
	c.status = "running"
	return c, nil
}

func pushContainer(L *lua.LState, v any) int {
	L.Push(v.(*Container).userdata(L))
	return 1
}

// nameOpts reads (name, {socket_path=...}) arguments.
func nameOpts(L *lua.LState, fn string) (string, *options) {
	name := stringArg(L, fn, 1, "name")
	if err := engine.ValidateName(name); err != nil {
		raise(L, err)
	}
	return name, optionsArg(L, fn, 2)
}

func (h *handle) resume(L *lua.LState) int {
	name, o := nameOpts(L, "resume_container")
	socket := o.String("socket_path", "")
	timeout := o.Seconds("timeout", DefaultTimeout)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c, err := h.find(ctx, socket, name)
		if err != nil {
			return nil, err
		}
		c.Timeout = timeout
		if !engine.Running(c.status) {
			if err := c.eng.Start(ctx, c.ID); err != nil {
				return nil, err
			}
			c.status = "running"
		}
		return c, nil
	}, pushContainer)
}

// find returns a Container for a sandbox found by name on the engine a call names.
func (h *handle) find(ctx context.Context, socket, name string) (*Container, error) {
	e, err := h.eng(ctx, socket)
	if err != nil {
		return nil, err
	}
	return h.m.find(ctx, e, name)
}

// find returns a Container for a sandbox found by name.
func (m *Module) find(ctx context.Context, e *engine.Engine, name string) (*Container, error) {
	s, err := e.Find(ctx, name)
	if err != nil {
		return nil, err
	}
	return m.fromSummary(e, s), nil
}

func (m *Module) fromSummary(e *engine.Engine, s *engine.Summary) *Container {
	m.mu.Lock()
	owned := m.owned[s.ID]
	m.mu.Unlock()
	if owned != nil {
		owned.status = s.Status
		return owned
	}
	return &Container{m: m, eng: e, ID: s.ID, Name: s.Name, Image: s.Image, Persist: s.Persist,
		Project: s.Project, Timeout: DefaultTimeout, status: s.Status, dataPath: s.DataPath}
}

func (h *handle) list(L *lua.LState) int {
	o := optionsArg(L, "list_containers", 1)
	project := o.String("project", "")
	socket := o.String("socket_path", "")
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		e, err := h.eng(ctx, socket)
		if err != nil {
			return nil, err
		}
		return e.List(ctx, engine.Filter{Project: project})
	}, func(L *lua.LState, v any) int {
		list := v.([]engine.Summary)
		t := L.CreateTable(len(list), 0)
		for _, s := range list {
			t.Append(summaryTable(L, &s))
		}
		L.Push(t)
		return 1
	})
}

func summaryTable(L *lua.LState, s *engine.Summary) *lua.LTable {
	t := L.CreateTable(0, 8)
	t.RawSetString("id", lua.LString(s.ID))
	t.RawSetString("name", lua.LString(s.Name))
	t.RawSetString("status", lua.LString(s.Status))
	t.RawSetString("image", lua.LString(s.Image))
	t.RawSetString("created_at", lua.LString(s.CreatedAt))
	t.RawSetString("persist", lua.LBool(s.Persist))
	if s.Project != "" {
		t.RawSetString("project", lua.LString(s.Project))
	}
	if s.DataPath != "" {
		t.RawSetString("data_path", lua.LString(s.DataPath))
	}
	return t
}

func (h *handle) stop(L *lua.LState) int {
	name, o := nameOpts(L, "stop_container")
	socket := o.String("socket_path", "")
	grace := o.Seconds("timeout", 5*time.Second)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c, err := h.find(ctx, socket, name)
		if err != nil {
			return nil, err
		}
		c.closeChannels()
		if err := c.eng.Stop(ctx, c.ID, grace); err != nil {
			return nil, err
		}
		c.status = "exited"
		return nil, nil
	}, pushTrue)
}

func (h *handle) destroy(L *lua.LState) int {
	name, o := nameOpts(L, "destroy_container")
	socket := o.String("socket_path", "")
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c, err := h.find(ctx, socket, name)
		if err != nil {
			return nil, err
		}
		return c, c.remove(ctx)
	}, pushTrue)
}

func pushTrue(L *lua.LState, _ any) int {
	L.Push(lua.LTrue)
	return 1
}

func (h *handle) prune(L *lua.LState) int {
	o := optionsArg(L, "prune", 1)
	project := o.String("project", "")
	dry := o.Bool("dry_run", false)
	socket := o.String("socket_path", "")
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		e, err := h.eng(ctx, socket)
		if err != nil {
			return nil, err
		}
		return e.Prune(ctx, project, dry)
	}, func(L *lua.LState, v any) int {
		names := v.([]string)
		t := L.CreateTable(len(names), 0)
		for _, n := range names {
			t.Append(lua.LString(n))
		}
		L.Push(lua.LNumber(len(names)))
		L.Push(t)
		return 2
	})
}

func (h *handle) doctor(L *lua.LState) int {
	o := optionsArg(L, "doctor", 1)
	socket := o.String("socket_path", "")
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.diagnose(ctx, h, socket), nil
	}, func(L *lua.LState, v any) int {
		L.Push(v.(func(*lua.LState) *lua.LTable)(L))
		return 1
	})
}

// diagnose reports on the engine; it never raises, the report says what failed.
func (m *Module) diagnose(ctx context.Context, h *handle, socket string) func(*lua.LState) *lua.LTable {
	e, err := h.eng(ctx, socket)
	var orphans []engine.Summary
	var count int
	var imageOK bool
	if err == nil {
		orphans, _ = e.Orphans(ctx)
		list, _ := e.List(ctx, engine.Filter{})
		count = len(list)
		imageOK, _ = e.ImageExists(ctx, engine.DefaultImage)
	}
	return func(L *lua.LState) *lua.LTable {
		t := L.NewTable()
		t.RawSetString("ok", lua.LBool(err == nil))
		t.RawSetString("version", lua.LString(Version))
		t.RawSetString("state_dir", lua.LString(engine.StateDir()))
		if err != nil {
			t.RawSetString("error", lua.LString(err.Error()))
			return t
		}
		t.RawSetString("engine", lua.LString(e.URI))
		t.RawSetString("engine_source", lua.LString(e.Source))
		tried := L.NewTable()
		for _, s := range e.Tried {
			tried.Append(lua.LString(s))
		}
		tried.Append(lua.LString(e.URI + " (answered)"))
		t.RawSetString("sockets_tried", tried)
		t.RawSetString("engine_version", lua.LString(e.Version()))
		userns := "host (the default); userns = \"auto\" available: "
		if ok, why := e.AutoUserNS(); ok {
			userns += "yes"
		} else {
			userns += "no, " + why
		}
		t.RawSetString("userns", lua.LString(userns))
		t.RawSetString("sandboxes", lua.LNumber(count))
		t.RawSetString("default_image", lua.LBool(imageOK))
		ot := L.NewTable()
		for _, o := range orphans {
			ot.Append(lua.LString(o.Name))
		}
		t.RawSetString("orphans", ot)
		rt := L.NewTable()
		for _, n := range m.RemovedOrphans() {
			rt.Append(lua.LString(n))
		}
		t.RawSetString("removed_orphans", rt)
		return t
	}
}
