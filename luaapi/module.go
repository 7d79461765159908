// Package luaapi is the Lua `pocketdock` module as bindings: it decodes
// arguments, calls package sandbox (and project, engine for images), builds
// Lua values from the results, schedules pd.map / pd.parallel tasks and
// holds help. Lua values are touched only on the state's own goroutine.
package luaapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/sandbox"
)

// Version is pocketdock's version, set at build time.
var Version = "0.1.0"

// Options configure a Module.
type Options struct {
	Socket     string    // engine URI for calls without socket_path; "" = discovery
	Connection string    // a named podman connection (containers.conf)
	Stderr     io.Writer // notices; default os.Stderr
}

// Module is one instance of the pocketdock module, bound to one Lua state.
// Its registry owns the engines it connected to and the ephemeral sandboxes
// it made, so that Cleanup can remove them when the script or REPL ends.
type Module struct {
	opts  Options
	start time.Time
	reg   *sandbox.Registry
	sched *scheduler // non-nil while pd.map / pd.parallel run tasks
	main  *lua.LState
	names map[*lua.LFunction]string // the help registry's keys
	hooks map[*Container]*hooks     // Lua goroutine only
}

// New makes a module instance.
func New(opts Options) *Module {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	reg := sandbox.New(sandbox.Options{Socket: opts.Socket, Connection: opts.Connection, Notify: opts.Stderr})
	return &Module{opts: opts, start: time.Now(), reg: reg, names: map[*lua.LFunction]string{}, hooks: map[*Container]*hooks{}}
}

// Preload registers the module for require("pocketdock") and sets the globals
// `pocketdock` and `pd` (the name the docs, hints and help use; a script's own
// `local pd` simply shadows it), plus `help`.
func (m *Module) Preload(L *lua.LState) {
	m.main = L
	L.PreloadModule("pocketdock", m.Loader)
	mod := m.load(L)
	L.SetGlobal("pocketdock", mod)
	L.SetGlobal("pd", mod)
	L.SetGlobal("help", L.NewFunction(m.help))
}

// Loader is the module loader for L.PreloadModule.
func (m *Module) Loader(L *lua.LState) int {
	L.Push(m.load(L))
	return 1
}

func (m *Module) load(L *lua.LState) lua.LValue {
	if v := L.GetField(L.Get(lua.RegistryIndex), "pocketdock.module"); v != lua.LNil {
		return v
	}
	registerErrorType(L)
	preloadProvision(L)
	registerContainerType(L, m)
	registerExtraTypes(L, m)
	mod := m.handleTable(L, "")
	mod.RawSetString("json", m.jsonTable(L))
	m.nameLuaBuiltins(mod)
	L.SetField(L.Get(lua.RegistryIndex), "pocketdock.module", mod)
	return mod
}

// Cleanup removes the ephemeral sandboxes this module made and returns their
// names; persistent ones that a with_container never got to shut down are
// stopped.
func (m *Module) Cleanup() []string { return m.reg.Cleanup() }

// RemovedOrphans lists the orphaned sandboxes this module removed when it
// first connected (doctor reports them: by the time it looks, they are gone).
func (m *Module) RemovedOrphans() []string { return m.reg.RemovedOrphans() }

// Names lists sandbox names on the default engine, for REPL completion.
func (m *Module) Names(ctx context.Context) []string { return m.reg.Names(ctx) }

func (m *Module) notify(msg string) { fmt.Fprintln(m.opts.Stderr, msg) }
