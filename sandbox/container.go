package sandbox

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// DefaultTimeout is a command's timeout when neither the call nor the
// sandbox says otherwise.
const DefaultTimeout = 30 * time.Second

// Container is a sandbox: a handle that remembers its engine. Its mutable
// state (id, status, timeout) is behind a lock, so a Container may be used
// from several goroutines at once.
type Container struct {
	reg      *Registry
	eng      *engine.Engine
	Name     string
	Image    string
	Persist  bool
	Project  string
	dataPath string

	mu       sync.Mutex
	id       string
	status   string
	removed  bool
	timeout  time.Duration
	channels []func() // closers of sessions and the executor, run on stop/remove
	fast     *fastPath
	owners   map[string][2]int // by container id: the configured user as uid:gid
}

// ID is the engine's id of the container (a fresh reboot changes it).
func (c *Container) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// Status is the last status seen: created, running, exited, removed, ...
func (c *Container) Status() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return "removed"
	}
	return c.status
}

func (c *Container) setStatus(s string) {
	c.mu.Lock()
	c.status = s
	c.mu.Unlock()
}

// Removed reports whether the sandbox was shut down or destroyed through this handle.
func (c *Container) Removed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removed
}

func (c *Container) setRemoved() {
	c.mu.Lock()
	c.removed, c.status = true, "removed"
	c.mu.Unlock()
}

// Timeout is the default timeout of the sandbox's commands (< 0: none).
func (c *Container) Timeout() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.timeout
}

// Engine is the engine that holds the sandbox.
func (c *Container) Engine() *engine.Engine { return c.eng }

// String is how a container prints: <container name status id persist>.
func (c *Container) String() string {
	kind := "ephemeral"
	if c.Persist {
		kind = "persist"
	}
	return fmt.Sprintf("<container %s %s %s %s>", c.Name, c.Status(), short(c.ID()), kind)
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// shutDown is the error for a handle whose sandbox this program removed.
func (c *Container) shutDown() error {
	return engine.Errorf(engine.ContainerNotFound, "sandbox %q was shut down", c.Name).
		WithHint("create a new one, or resume a persistent one with resume_container")
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

// CreateOptions say what to create. Spec.Name defaults to a random name,
// Spec.Image to engine.DefaultImage, Spec.Owner to this process (so a
// later program reaps the sandbox if this one is killed).
type CreateOptions struct {
	Spec    engine.Spec
	Engine  string        // engine URI; "" = the registry's default
	Timeout time.Duration // default timeout of its commands; 0 = DefaultTimeout, < 0 = none
}

// Validate checks the options the engine would take but must not: the
// name, environment variables, the userns mode and labels under the reserved
// prefix. Its errors name the option; Create calls it first.
func (o *CreateOptions) Validate() error {
	s := &o.Spec
	if s.Name != "" {
		if err := engine.ValidateName(s.Name); err != nil {
			return engine.Prefix("option 'name'", err)
		}
	}
	if err := engine.ValidateEnv(s.Env); err != nil {
		return engine.Prefix("option 'env'", err)
	}
	if err := engine.ValidateUserNS(s.UserNS); err != nil {
		return err // it names the option
	}
	for k := range s.Labels {
		if strings.HasPrefix(k, engine.LabelPrefix) {
			return engine.Errorf(engine.InvalidArgument, "label %q uses the reserved prefix %s", k, engine.LabelPrefix).
				WithHint("pocketdock sets its own labels; pick another prefix")
		}
	}
	return nil
}

// Create creates and starts a sandbox. An ephemeral one is tracked before it
// starts, so an interruption at any point cannot leak it.
func (r *Registry) Create(ctx context.Context, o CreateOptions) (*Container, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	e, err := r.Engine(ctx, o.Engine)
	if err != nil {
		return nil, err
	}
	spec := o.Spec
	if spec.Image == "" {
		spec.Image = engine.DefaultImage
	}
	if spec.Name == "" {
		spec.Name = engine.RandomName()
	}
	if spec.Owner == "" {
		spec.Owner = engine.SelfOwner()
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	id, err := e.Create(ctx, spec)
	if engine.IsKind(err, engine.ImageNotFound) && spec.Image == engine.DefaultImage {
		if err = e.EnsureDefaultImage(ctx, r.notify); err == nil {
			id, err = e.Create(ctx, spec)
		}
	}
	if err != nil {
		return nil, err
	}
	// A project instance's folder is made only once the engine has the
	// sandbox: a failed create (a bad image, a name that is taken by another
	// sandbox, whose folder this is) must leave the project as it was.
	var madeDir bool
	if dir := spec.DataPath; dir != "" {
		_, statErr := os.Stat(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
			defer cancel()
			_ = e.Remove(rctx, id)
			return nil, engine.Errorf(engine.InvalidArgument, "cannot create %s: %v", dir, err)
		}
		madeDir = statErr != nil
	}
	c := &Container{reg: r, eng: e, id: id, Name: spec.Name, Image: spec.Image, Persist: spec.Persist,
		Project: spec.Project, timeout: o.Timeout, status: "created", dataPath: spec.DataPath}
	if !c.Persist {
		r.track(c)
	}
	if err := e.Start(ctx, id); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
		defer cancel()
		_ = e.Remove(rctx, id)
		r.untrack(c)
		if madeDir {
			os.RemoveAll(spec.DataPath)
		}
		return nil, err
	}
	c.setStatus("running")
	return c, nil
}

// Find returns the sandbox of that name on the engine at uri ("" = default).
// For a sandbox this registry made, it is the same Container.
func (r *Registry) Find(ctx context.Context, uri, name string) (*Container, error) {
	e, err := r.Engine(ctx, uri)
	if err != nil {
		return nil, err
	}
	s, err := e.Find(ctx, name)
	if err != nil {
		return nil, err
	}
	if c := r.ownedByID(s.ID); c != nil {
		c.setStatus(s.Status)
		return c, nil
	}
	return &Container{reg: r, eng: e, id: s.ID, Name: s.Name, Image: s.Image, Persist: s.Persist,
		Project: s.Project, timeout: DefaultTimeout, status: s.Status, dataPath: s.DataPath}, nil
}

// Resume finds a sandbox by name and starts it if it is not running;
// timeout is its commands' default (0 = DefaultTimeout, < 0 = none).
func (r *Registry) Resume(ctx context.Context, uri, name string, timeout time.Duration) (*Container, error) {
	c, err := r.Find(ctx, uri, name)
	if err != nil {
		return nil, err
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	c.mu.Lock()
	c.timeout = timeout
	running := engine.Running(c.status)
	c.mu.Unlock()
	if !running {
		if err := c.Start(ctx); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// List returns the sandboxes on the engine at uri, of one project when
// project is not "".
func (r *Registry) List(ctx context.Context, uri, project string) ([]engine.Summary, error) {
	e, err := r.Engine(ctx, uri)
	if err != nil {
		return nil, err
	}
	return e.List(ctx, engine.Filter{Project: project})
}

// Prune removes stopped sandboxes (of one project when project is not "")
// and returns their names; dry only names them.
func (r *Registry) Prune(ctx context.Context, uri, project string, dry bool) ([]string, error) {
	e, err := r.Engine(ctx, uri)
	if err != nil {
		return nil, err
	}
	return e.Prune(ctx, project, dry)
}

// Start starts a stopped sandbox.
func (c *Container) Start(ctx context.Context) error {
	if err := c.eng.Start(ctx, c.ID()); err != nil {
		return err
	}
	c.setStatus("running")
	return nil
}

// Stop stops the sandbox, giving its processes grace to end; it is kept.
func (c *Container) Stop(ctx context.Context, grace time.Duration) error {
	c.closeChannels()
	if err := c.eng.Stop(ctx, c.ID(), grace); err != nil {
		return err
	}
	c.setStatus("exited")
	return nil
}

// Destroy removes the sandbox, with its project instance folder.
func (c *Container) Destroy(ctx context.Context) error {
	c.closeChannels()
	if err := c.eng.Remove(ctx, c.ID()); err != nil {
		return err
	}
	c.setRemoved()
	c.reg.untrack(c)
	project.RemoveDataPath(c.dataPath)
	return nil
}

// Shutdown ends the sandbox as its kind says: an ephemeral one is removed,
// a persistent one stopped and kept (force removes it too). It is
// idempotent: a sandbox already gone counts as done.
func (c *Container) Shutdown(ctx context.Context, force bool) error {
	if c.Removed() {
		return nil
	}
	var err error
	if c.Persist && !force {
		err = c.Stop(ctx, 5*time.Second)
	} else {
		err = c.Destroy(ctx)
	}
	if engine.IsKind(err, engine.ContainerNotFound) {
		c.setRemoved()
		c.reg.untrack(c)
		err = nil
	}
	if err == nil {
		c.reg.unscope(c)
	}
	return err
}

// Reboot restarts the sandbox; fresh recreates it from its image with the
// same options (its files are gone, its id changes).
func (c *Container) Reboot(ctx context.Context, fresh bool) error {
	c.closeChannels()
	if !fresh {
		if err := c.eng.Stop(ctx, c.ID(), 5*time.Second); err != nil {
			return err
		}
		return c.Start(ctx)
	}
	spec, err := c.eng.SpecOf(ctx, c.ID())
	if err != nil {
		return err
	}
	spec.Owner = engine.SelfOwner()
	if err := c.eng.Remove(ctx, c.ID()); err != nil {
		return err
	}
	c.reg.untrack(c)
	id, err := c.eng.Create(ctx, spec)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.id = id
	c.mu.Unlock()
	if !c.Persist {
		c.reg.track(c)
	}
	return c.Start(ctx)
}

// Snapshot commits the sandbox's filesystem as image ref and returns its id.
func (c *Container) Snapshot(ctx context.Context, ref string, opts engine.CommitOptions) (string, error) {
	if _, _, err := engine.SplitImageRef(ref); err != nil {
		return "", err
	}
	return c.eng.Commit(ctx, c.ID(), ref, opts)
}

// Inspect returns the engine's record of the sandbox, and notes its status.
func (c *Container) Inspect(ctx context.Context) (*engine.Record, error) {
	d, err := c.eng.Inspect(ctx, c.ID())
	if err != nil {
		return nil, err
	}
	c.setStatus(d.State.Status)
	return d, nil
}
