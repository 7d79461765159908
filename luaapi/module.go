// Package luaapi is the Lua `pocketdock` module: its functions, the Container,
// Process and Session values, option decoding, results as plain tables, error
// values and the help registry. Engine work goes through package engine.
package luaapi

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

// Version is pocketdock's version, set at build time.
var Version = "0.1.0"

// Options configure a Module.
type Options struct {
	Socket     string    // engine URI for calls without socket_path; "" = discovery
	Connection string    // a named podman connection (containers.conf)
	Stderr     io.Writer // notices; default os.Stderr
}

// Module is one instance of the pocketdock module, bound to one Lua state. It
// owns the engines it connected to and the ephemeral sandboxes it made, so
// that Cleanup can remove them when the script or REPL ends.
type Module struct {
	opts           Options
	start          time.Time
	mu             sync.Mutex
	engines        map[string]*engine.Engine // by requested URI ("" = default)
	owned          map[string]*Container     // ephemeral sandboxes made here, by id
	scoped         map[*Container]bool       // with_container sandboxes not yet shut down
	reaped         bool
	removedOrphans []string   // what the first connection reaped, for doctor
	sched          *scheduler // non-nil while pd.map / pd.parallel run tasks
	main           *lua.LState
	names          map[*lua.LFunction]string // the help registry's keys
}

// New makes a module instance.
func New(opts Options) *Module {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	return &Module{opts: opts, start: time.Now(), engines: map[string]*engine.Engine{}, owned: map[string]*Container{}, scoped: map[*Container]bool{}, names: map[*lua.LFunction]string{}}
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

func (m *Module) notify(msg string) { fmt.Fprintln(m.opts.Stderr, msg) }

// engineFor returns the engine for a URI ("" = the module's default),
// connecting on first use. The first connection also reaps orphans: ephemeral
// sandboxes whose owning process was killed hard.
func (m *Module) engineFor(ctx context.Context, uri string) (*engine.Engine, error) {
	m.mu.Lock()
	e := m.engines[uri]
	m.mu.Unlock()
	if e != nil {
		return e, nil
	}
	target := uri
	if target == "" {
		target = m.opts.Socket
	}
	e, err := connect(ctx, target, m.opts.Connection, m.notify)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if prev := m.engines[uri]; prev != nil {
		e = prev
	} else {
		m.engines[uri] = e
	}
	first := !m.reaped
	m.reaped = true
	m.mu.Unlock()
	if first {
		m.reap(ctx, e)
	}
	return e, nil
}

// connect resolves a named connection or URI and connects, starting the
// private service only for the default discovery.
func connect(ctx context.Context, uri, connection string, notify func(string)) (*engine.Engine, error) {
	opts := engine.ConnectOptions{Autostart: uri == "" && connection == "", Notify: notify}
	if uri == "" && connection != "" {
		dest, err := engine.NamedConnection(connection)
		if err != nil {
			return nil, err
		}
		uri, opts.Identity = dest.URI, dest.Identity
	}
	return engine.Connect(ctx, uri, opts)
}

// reap removes orphaned ephemeral sandboxes and says so.
func (m *Module) reap(ctx context.Context, e *engine.Engine) {
	orphans, err := e.Orphans(ctx)
	if err != nil {
		return
	}
	for _, o := range orphans {
		if e.Remove(ctx, o.ID) == nil {
			m.notify(fmt.Sprintf("pocketdock: removed %s, an ephemeral sandbox left by a process that was killed", o.Name))
			m.mu.Lock()
			m.removedOrphans = append(m.removedOrphans, o.Name)
			m.mu.Unlock()
		}
	}
}

// Cleanup removes the ephemeral sandboxes this module made and returns their
// names; persistent ones that a with_container never got to shut down are
// stopped. It uses its own context: it runs after the script's was cancelled.
func (m *Module) Cleanup() []string {
	m.shutdownScoped(nil)
	m.mu.Lock()
	owned := make([]*Container, 0, len(m.owned))
	for _, c := range m.owned {
		owned = append(owned, c)
	}
	m.owned = map[string]*Container{}
	m.mu.Unlock()
	var names []string
	var wg sync.WaitGroup
	var nmu sync.Mutex
	for _, c := range owned {
		wg.Add(1)
		go func(c *Container) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer cancel()
			c.closeChannels()
			if c.eng.Remove(ctx, c.ID) == nil {
				nmu.Lock()
				names = append(names, c.Name)
				nmu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	return names
}

// RemovedOrphans lists the orphaned sandboxes this module removed when it
// first connected (doctor reports them: by the time it looks, they are gone).
func (m *Module) RemovedOrphans() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.removedOrphans...)
}

// Owned returns the names of live ephemeral sandboxes made by this module.
func (m *Module) Owned() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for _, c := range m.owned {
		names = append(names, c.Name)
	}
	return names
}

// scope records a with_container sandbox: if its task is abandoned (pd.map
// aborted, Ctrl-C, os.exit) before with_container shuts it down, the module does.
func (m *Module) scope(c *Container) {
	m.mu.Lock()
	m.scoped[c] = true
	m.mu.Unlock()
}

func (m *Module) unscope(c *Container) {
	m.mu.Lock()
	delete(m.scoped, c)
	m.mu.Unlock()
}

// scopedNow returns the with_container sandboxes not yet shut down.
func (m *Module) scopedNow() map[*Container]bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[*Container]bool, len(m.scoped))
	for c := range m.scoped {
		out[c] = true
	}
	return out
}

// shutdownScoped shuts down, concurrently and with a context of its own (the
// caller's was cancelled), the with_container sandboxes that are not in keep.
func (m *Module) shutdownScoped(keep map[*Container]bool) {
	var wg sync.WaitGroup
	for c := range m.scopedNow() {
		if keep[c] {
			continue
		}
		wg.Add(1)
		go func(c *Container) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer cancel()
			_ = c.shutdownNow(ctx, false)
		}(c)
	}
	wg.Wait()
}

// cleanupTimeout bounds one sandbox's removal or stop at the end of a script,
// an aborted pd.map or a shutdown after Ctrl-C.
const cleanupTimeout = 20 * time.Second

func (m *Module) track(c *Container) {
	m.mu.Lock()
	m.owned[c.ID] = c
	m.mu.Unlock()
}

func (m *Module) untrack(c *Container) {
	m.mu.Lock()
	delete(m.owned, c.ID)
	m.mu.Unlock()
}

// Names lists sandbox names on the default engine, for REPL completion.
func (m *Module) Names(ctx context.Context) []string {
	e, err := m.engineFor(ctx, "")
	if err != nil {
		return nil
	}
	list, err := e.List(ctx, engine.Filter{})
	if err != nil {
		return nil
	}
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.Name
	}
	return names
}
