package luaapi

import (
	"context"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
	"github.com/pocketdock/pocketdock/sandbox"
)

func decodeCreate(L *lua.LState, fn string, n int) sandbox.CreateOptions {
	o := optionsArg(L, fn, n)
	r := sandbox.CreateOptions{}
	s := &r.Spec
	s.Image = o.String("image", "")
	s.Name = o.StringOnly("name", "")
	s.Persist = o.Bool("persist", false)
	s.Project = o.String("project", "")
	r.Timeout = o.Timeout("timeout", sandbox.DefaultTimeout)
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
	r.Engine = o.String("socket_path", "")
	o.done(L)
	if err := r.Validate(); err != nil {
		raise(L, engine.Prefix(fn, err))
	}
	if s.Name == "" {
		s.Name = engine.RandomName()
	}
	if err := project.Apply(&r.Spec, o.has); err != nil {
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
	size, err := engine.ParseLimit(o.String(key, ""))
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
		host, ok := portNumber(k)
		p, cport := engine.Port{Host: host}, v
		switch cv := v.(type) {
		case lua.LNumber:
		case *lua.LTable: // {port=80, host_ip="0.0.0.0", protocol="udp"}
			cport = cv.RawGetString("port")
			p.HostIP = lua.LVAsString(cv.RawGetString("host_ip"))
			p.Protocol = lua.LVAsString(cv.RawGetString("protocol"))
		default:
			ok = false
		}
		c, okc := portNumber(cport)
		if !ok || !okc {
			o.fail("ports", "a table of host port = container port (1-65535)", v)
			return
		}
		p.Container = c
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
	if req.Engine == "" {
		req.Engine = h.uri
	}
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.Create(ctx, req)
	}, pushContainer)
}

var pushContainer = pushUserdata(containerMeta)

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
	uri := h.engineOpt(o)
	timeout := o.Timeout("timeout", sandbox.DefaultTimeout)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.Resume(ctx, uri, name, timeout)
	}, pushContainer)
}

func (h *handle) list(L *lua.LState) int {
	o := optionsArg(L, "list_containers", 1)
	project := o.String("project", "")
	uri := h.engineOpt(o)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.List(ctx, uri, project)
	}, pushRecord)
}

func (h *handle) stop(L *lua.LState) int {
	name, o := nameOpts(L, "stop_container")
	uri := h.engineOpt(o)
	grace := o.Seconds("timeout", 5*time.Second)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c, err := h.m.reg.Find(ctx, uri, name)
		if err != nil {
			return nil, err
		}
		return nil, c.Stop(ctx, grace)
	}, pushTrue)
}

func (h *handle) destroy(L *lua.LState) int {
	name, o := nameOpts(L, "destroy_container")
	uri := h.engineOpt(o)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		c, err := h.m.reg.Find(ctx, uri, name)
		if err != nil {
			return nil, err
		}
		return c, c.Destroy(ctx)
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
	uri := h.engineOpt(o)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.Prune(ctx, uri, project, dry)
	}, func(L *lua.LState, v any) int {
		names := v.([]string)
		L.Push(lua.LNumber(len(names)))
		L.Push(stringList(L, names))
		return 2
	})
}

func (h *handle) doctor(L *lua.LState) int {
	o := optionsArg(L, "doctor", 1)
	uri := h.engineOpt(o)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.Diagnose(ctx, uri), nil
	}, func(L *lua.LState, v any) int {
		pushRecord(L, v)
		L.Get(-1).(*lua.LTable).RawSetString("version", lua.LString(Version)) // pocketdock's, which only the binary knows
		return 1
	})
}

// stringList is a list of strings as a Lua array.
func stringList(L *lua.LState, list []string) *lua.LTable {
	t := L.CreateTable(len(list), 0)
	for _, s := range list {
		t.Append(lua.LString(s))
	}
	return t
}
