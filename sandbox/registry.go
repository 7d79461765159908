// Package sandbox is pocketdock's sandbox core as a Go library, with no Lua:
// containers and their lifecycle, the registry of engines and of the
// ephemeral sandboxes a program made (removed at its end, and reaped by the
// next program when it was killed), command execution (through the
// in-container executor when it can, else a plain engine exec), background
// processes, shell sessions and files.
//
// A Registry is one program's view: it connects to engines on first use and
// owns the ephemeral sandboxes it creates until Cleanup. All methods are
// safe for concurrent use; callbacks such as RunOptions.OnOutput run on the
// goroutine that runs the command.
package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pocketdock/pocketdock/engine"
)

// Options configure a Registry.
type Options struct {
	Socket     string    // engine URI for calls that name none; "" = discovery
	Connection string    // a named podman connection (containers.conf)
	Notify     io.Writer // notices (a private service started, orphans removed); default os.Stderr
}

// Registry holds the engines a program connected to and the ephemeral
// sandboxes it made, so that Cleanup can remove them when the program ends.
type Registry struct {
	opts           Options
	mu             sync.Mutex
	engines        map[string]*engine.Engine // by requested URI ("" = default)
	owned          map[*Container]bool       // ephemeral sandboxes made here
	scoped         map[*Container]bool       // scoped sandboxes not yet shut down
	reaped         bool
	removedOrphans []string // what the first connection reaped
}

// New makes a registry; it connects to nothing until a call needs an engine.
func New(opts Options) *Registry {
	if opts.Notify == nil {
		opts.Notify = os.Stderr
	}
	return &Registry{opts: opts, engines: map[string]*engine.Engine{}, owned: map[*Container]bool{}, scoped: map[*Container]bool{}}
}

func (r *Registry) notify(msg string) { fmt.Fprintln(r.opts.Notify, msg) }

// Engine returns the engine for a URI ("" = the registry's default),
// connecting on first use. The first connection also reaps orphans:
// ephemeral sandboxes whose owning process was killed hard.
func (r *Registry) Engine(ctx context.Context, uri string) (*engine.Engine, error) {
	r.mu.Lock()
	e := r.engines[uri]
	r.mu.Unlock()
	if e != nil {
		return e, nil
	}
	target := uri
	if target == "" {
		target = r.opts.Socket
	}
	e, err := connect(ctx, target, r.opts.Connection, r.notify)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if prev := r.engines[uri]; prev != nil {
		e = prev
	} else {
		r.engines[uri] = e
	}
	first := !r.reaped
	r.reaped = true
	r.mu.Unlock()
	if first {
		r.reap(ctx, e)
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

// Connect connects to a URI or a named podman connection, once: later calls
// with the same uri, or the URI it resolved to, share the engine.
func (r *Registry) Connect(ctx context.Context, uri, identity string, timeout time.Duration) (*engine.Engine, error) {
	r.mu.Lock()
	e := r.engines[uri]
	r.mu.Unlock()
	if e != nil {
		return e, nil
	}
	target := uri
	if !hasScheme(uri) && !isPath(uri) {
		dest, err := engine.NamedConnection(uri)
		if err != nil {
			return nil, err
		}
		target = dest.URI
		if identity == "" {
			identity = dest.Identity
		}
	}
	e, err := engine.Connect(ctx, target, engine.ConnectOptions{Identity: identity, Timeout: timeout})
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.engines[uri] = e
	r.engines[e.URI] = e
	r.mu.Unlock()
	return e, nil
}

func hasScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return i > 0 && i+2 < len(s) && s[i+1] == '/' && s[i+2] == '/'
		}
	}
	return false
}

func isPath(s string) bool { return len(s) > 0 && s[0] == '/' }

// reap removes orphaned ephemeral sandboxes and says so.
func (r *Registry) reap(ctx context.Context, e *engine.Engine) {
	orphans, err := e.Orphans(ctx)
	if err != nil {
		return
	}
	for _, o := range orphans {
		if e.Remove(ctx, o.ID) == nil {
			r.notify(fmt.Sprintf("pocketdock: removed %s, an ephemeral sandbox left by a process that was killed", o.Name))
			r.mu.Lock()
			r.removedOrphans = append(r.removedOrphans, o.Name)
			r.mu.Unlock()
		}
	}
}

// CleanupTimeout bounds one sandbox's removal or stop at the end of a
// program, or when a scoped sandbox is shut down after an interruption.
const CleanupTimeout = 20 * time.Second

// Cleanup removes the ephemeral sandboxes this registry made and returns
// their names; persistent scoped ones not yet shut down are stopped. It uses
// its own context: it runs after the program's was cancelled.
func (r *Registry) Cleanup() []string {
	r.ShutdownScoped(nil)
	r.mu.Lock()
	owned := make([]*Container, 0, len(r.owned))
	for c := range r.owned {
		owned = append(owned, c)
	}
	r.owned = map[*Container]bool{}
	r.mu.Unlock()
	var names []string
	var wg sync.WaitGroup
	var nmu sync.Mutex
	for _, c := range owned {
		wg.Add(1)
		go func(c *Container) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
			defer cancel()
			c.closeChannels()
			if c.eng.Remove(ctx, c.ID()) == nil {
				nmu.Lock()
				names = append(names, c.Name)
				nmu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	return names
}

// RemovedOrphans lists the orphaned sandboxes removed when the registry
// first connected (doctor reports them: by the time it looks, they are gone).
func (r *Registry) RemovedOrphans() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.removedOrphans...)
}

// Scope records a sandbox whose user shuts it down when done (a
// with_container block): if that user is abandoned (an aborted batch,
// Ctrl-C) before it does, ShutdownScoped or Cleanup does.
func (r *Registry) Scope(c *Container) {
	r.mu.Lock()
	r.scoped[c] = true
	r.mu.Unlock()
}

func (r *Registry) unscope(c *Container) {
	r.mu.Lock()
	delete(r.scoped, c)
	r.mu.Unlock()
}

// Scoped returns the scoped sandboxes not yet shut down.
func (r *Registry) Scoped() map[*Container]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[*Container]bool, len(r.scoped))
	for c := range r.scoped {
		out[c] = true
	}
	return out
}

// ShutdownScoped shuts down, concurrently and with a context of its own (the
// caller's was cancelled), the scoped sandboxes that are not in keep.
func (r *Registry) ShutdownScoped(keep map[*Container]bool) {
	var wg sync.WaitGroup
	for c := range r.Scoped() {
		if keep[c] {
			continue
		}
		wg.Add(1)
		go func(c *Container) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
			defer cancel()
			_ = c.Shutdown(ctx, false)
		}(c)
	}
	wg.Wait()
}

func (r *Registry) track(c *Container) {
	r.mu.Lock()
	r.owned[c] = true
	r.mu.Unlock()
}

func (r *Registry) untrack(c *Container) {
	r.mu.Lock()
	delete(r.owned, c)
	r.mu.Unlock()
}

// ownedByID returns the tracked sandbox with that engine id, if any.
func (r *Registry) ownedByID(id string) *Container {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.owned {
		if c.ID() == id {
			return c
		}
	}
	return nil
}

// Names lists sandbox names on the default engine (for completion); nil
// when the engine cannot be reached.
func (r *Registry) Names(ctx context.Context) []string {
	e, err := r.Engine(ctx, "")
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

// Diagnosis is what Diagnose found out about an engine. Its json names are
// the keys of pd.doctor()'s table.
type Diagnosis struct {
	OK            bool   `json:"ok"`              // the engine answered
	StateDir      string `json:"state_dir"`       // engine.StateDir()
	Err           error  `json:"-"`               // why it did not answer
	Error         string `json:"error,omitempty"` // Err's message
	*EngineReport        // nil when the engine did not answer
}

// EngineReport is what Diagnose found out about an engine that answered.
type EngineReport struct {
	URI          string   `json:"engine"`
	Source       string   `json:"engine_source"`  // how it was found
	Tried        []string `json:"sockets_tried"`  // sockets tried before it, with why each failed, then it: "URI (answered)"
	Version      string   `json:"engine_version"` // the engine's version
	AutoUserNS   bool     `json:"-"`              // userns = "auto" works here
	NoAutoUserNS string   `json:"-"`              // why it does not
	UserNS       string   `json:"userns"`         // the two above, in a sentence
	Sandboxes    int      `json:"sandboxes"`
	DefaultImage bool     `json:"default_image"`   // engine.DefaultImage is present
	Orphans      []string `json:"orphans"`         // ephemeral sandboxes whose owner is gone
	Removed      []string `json:"removed_orphans"` // orphans removed when the registry first connected
}

// Diagnose reports on the engine at uri; it never fails, the report says what did.
func (r *Registry) Diagnose(ctx context.Context, uri string) *Diagnosis {
	d := &Diagnosis{StateDir: engine.StateDir()}
	e, err := r.Engine(ctx, uri)
	if err != nil {
		d.Err, d.Error = err, err.Error()
		return d
	}
	d.OK = true
	rep := &EngineReport{URI: e.URI, Source: e.Source, Tried: append(append([]string(nil), e.Tried...), e.URI+" (answered)"),
		Version: e.Version(), Orphans: []string{}, Removed: append([]string{}, r.RemovedOrphans()...)}
	d.EngineReport = rep
	rep.AutoUserNS, rep.NoAutoUserNS = e.AutoUserNS()
	rep.UserNS = "host (the default); userns = \"auto\" available: yes"
	if !rep.AutoUserNS {
		rep.UserNS = "host (the default); userns = \"auto\" available: no, " + rep.NoAutoUserNS
	}
	orphans, _ := e.Orphans(ctx)
	for _, o := range orphans {
		rep.Orphans = append(rep.Orphans, o.Name)
	}
	list, _ := e.List(ctx, engine.Filter{})
	rep.Sandboxes = len(list)
	rep.DefaultImage, _ = e.ImageExists(ctx, engine.DefaultImage)
	return d
}
