package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containers/podman/v5/libpod/define"
	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/bindings/images"
	"github.com/containers/podman/v5/pkg/specgen"
	spec "github.com/opencontainers/runtime-spec/specs-go"
	nettypes "go.podman.io/common/libnetwork/types"
	storagetypes "go.podman.io/storage/types"

	"github.com/pocketdock/pocketdock/archive"
)

// DefaultImage is the offline image used when none is given.
const DefaultImage = "localhost/pocketdock/minimal"

// DefaultPidsLimit bounds a fork bomb; a sandbox can still be destroyed.
const DefaultPidsLimit = 1024

// AgentDir is a private tmpfs in every sandbox for the command executor: never
// committed into snapshots, gone when the container stops.
const AgentDir = "/.pocketdock"

// Spec describes a sandbox to create.
type Spec struct {
	Name, Image   string
	Persist       bool
	Project       string
	DataPath      string
	Env           map[string]string
	Workdir, User string
	Network       string // "" none, "bridge" the default bridge, else a named network
	Ports         []Port
	Volumes       []Volume
	Devices       []string
	Labels        map[string]string
	ReadOnly      bool
	MemLimit      int64 // bytes; 0 the engine's default (DefaultMemLimit), -1 none
	DiskLimit     int64 // bytes of writable layer; 0 the default where quotas work, -1 none
	CPUPercent    int   // of one core, 0 none
	PidsLimit     int64 // 0 default, -1 none
	Owner         string
	// UserNS is "auto" (a private range of host uids per sandbox: its root is
	// no host uid of consequence) or "host" (root is host root).
	UserNS string
}

// Port publishes a container port on the host.
type Port struct {
	Host, Container uint16
	HostIP          string // default 127.0.0.1
	Protocol        string // default tcp
}

// Volume bind-mounts a host path (or named volume) into the sandbox.
type Volume struct {
	Source, Target string
	ReadOnly       bool
}

// Summary is one managed container as listed. Its json names are the keys
// of pd.list_containers' entries; the fields without one are for Go callers.
type Summary struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	Image     string            `json:"image"`
	CreatedAt string            `json:"created_at"`
	Persist   bool              `json:"persist"`
	Project   string            `json:"project,omitempty"`
	DataPath  string            `json:"data_path,omitempty"`
	Owner     string            `json:"-"`
	Labels    map[string]string `json:"-"`
	Created   time.Time         `json:"-"`
}

// RandomName makes a default sandbox name.
func RandomName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "pd-" + hex.EncodeToString(b)
}

// capDrop are defaults podman grants that a sandbox does not need.
var capDrop = []string{"CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_SYS_CHROOT"}

func (s *Spec) generator() *specgen.SpecGenerator {
	g := specgen.NewSpecGenerator(s.Image, false)
	g.Name = s.Name
	g.Labels = s.labels()
	g.Env = s.Env
	g.WorkDir = s.Workdir
	g.User = s.User
	// sleep under catatonit: SIGTERM stops the sandbox at once, any image with sleep works.
	g.Entrypoint = []string{"sleep"}
	g.Command = []string{"infinity"}
	yes, no := true, false
	g.Init = &yes
	g.NoNewPrivileges = &yes
	g.CapDrop = capDrop
	g.Terminal, g.Stdin = &no, &no
	stop := uint(5)
	g.StopTimeout = &stop
	if s.ReadOnly {
		g.ReadOnlyFilesystem = &yes
		// Explicit tmpfs mounts keep /tmp, /var/tmp and /run writable: Podman 4.3
		// ignores the spec's read_write_tmpfs (its CLI adds these mounts itself).
		for _, dir := range []string{"/tmp", "/var/tmp", "/run"} {
			if !s.mounts(dir) {
				g.Mounts = append(g.Mounts, spec.Mount{Type: "tmpfs", Source: "tmpfs", Destination: dir,
					Options: []string{"rw", "nosuid", "nodev"}})
			}
		}
	}
	switch s.Network {
	case "":
		g.NetNS = specgen.Namespace{NSMode: specgen.NoNetwork}
	case "bridge":
		g.NetNS = specgen.Namespace{NSMode: specgen.Bridge}
	default:
		g.NetNS = specgen.Namespace{NSMode: specgen.Bridge}
		g.Networks = map[string]nettypes.PerNetworkOptions{s.Network: {}}
	}
	for _, p := range s.Ports {
		ip, proto := p.HostIP, p.Protocol
		if ip == "" {
			ip = "127.0.0.1"
		}
		if proto == "" {
			proto = "tcp"
		}
		g.PortMappings = append(g.PortMappings, nettypes.PortMapping{HostIP: ip, HostPort: p.Host, ContainerPort: p.Container, Protocol: proto})
	}
	g.Mounts = append(g.Mounts, spec.Mount{Type: "tmpfs", Source: "tmpfs", Destination: AgentDir,
		Options: []string{"rw", "exec", "nosuid", "nodev", "mode=0700", "size=65536k"}})
	for _, v := range s.Volumes {
		opts := []string{"rbind"}
		if v.ReadOnly {
			opts = append(opts, "ro")
		}
		if strings.HasPrefix(v.Source, "/") {
			g.Mounts = append(g.Mounts, spec.Mount{Type: "bind", Source: v.Source, Destination: v.Target, Options: opts})
		} else {
			var o []string
			if v.ReadOnly {
				o = []string{"ro"}
			}
			g.Volumes = append(g.Volumes, &specgen.NamedVolume{Name: v.Source, Dest: v.Target, Options: o})
		}
	}
	for _, d := range s.Devices {
		g.Devices = append(g.Devices, spec.LinuxDevice{Path: d})
	}
	g.ResourceLimits = s.resources()
	if s.UserNS == UserNSAuto {
		g.UserNS = specgen.Namespace{NSMode: specgen.Auto, Value: fmt.Sprintf("size=%d", autoUserNSSize)}
		g.IDMappings = &storagetypes.IDMappingOptions{AutoUserNs: true, AutoUserNsOpts: storagetypes.AutoUserNsOptions{Size: autoUserNSSize}}
	}
	if s.DiskLimit > 0 {
		g.StorageOpts = map[string]string{"size": strconv.FormatInt(s.DiskLimit, 10)}
	}
	return g
}

// mounts reports whether a volume targets dir.
func (s *Spec) mounts(dir string) bool {
	for _, v := range s.Volumes {
		if strings.TrimSuffix(v.Target, "/") == dir {
			return true
		}
	}
	return false
}

func (s *Spec) resources() *spec.LinuxResources {
	r := &spec.LinuxResources{}
	pids := s.PidsLimit
	if pids == 0 {
		pids = DefaultPidsLimit
	}
	if pids > 0 {
		r.Pids = &spec.LinuxPids{Limit: pids}
	}
	if s.MemLimit > 0 {
		m := s.MemLimit
		r.Memory = &spec.LinuxMemory{Limit: &m, Swap: &m}
	}
	if s.CPUPercent > 0 {
		period := uint64(100000)
		quota := int64(s.CPUPercent) * 1000
		r.CPU = &spec.LinuxCPU{Period: &period, Quota: &quota}
	}
	return r
}

func (s *Spec) labels() map[string]string {
	l := make(map[string]string, len(s.Labels)+7)
	for k, v := range s.Labels {
		l[k] = v
	}
	l[LabelManaged] = "true"
	l[LabelInstance] = s.Name
	l[LabelPersist] = fmt.Sprint(s.Persist)
	l[LabelCreatedAt] = time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if s.Project != "" {
		l[LabelProject] = s.Project
	}
	if s.DataPath != "" {
		l[LabelDataPath] = s.DataPath
	}
	if s.Owner != "" && !s.Persist {
		l[LabelOwner] = s.Owner
	}
	return l
}

// Create makes the container (not started) and returns its id. Its
// pocketdock.* labels are the spec's only: labels of the same prefix that the
// image carries (a snapshot of another sandbox, an image made by another tool)
// are set to "" (the engine has no way to drop an inherited label), and ""
// reads as absent everywhere.
func (e *Engine) Create(ctx context.Context, s Spec) (string, error) {
	if s.Image == "" {
		s.Image = DefaultImage
	}
	if err := ValidateName(s.Name); err != nil {
		return "", err
	}
	if err := e.applyLimits(&s); err != nil {
		return "", err
	}
	if err := e.applyUserNS(&s); err != nil {
		return "", err
	}
	inherited, err := e.imageLabels(ctx, s.Image)
	if err != nil {
		return "", e.createError(err, s)
	}
	g := s.generator()
	for k, v := range inherited {
		if _, own := g.Labels[k]; !own && v != "" && strings.HasPrefix(k, LabelPrefix) {
			g.Labels[k] = ""
		}
	}
	resp, err := containers.CreateWithSpec(e.ctx(ctx), g, nil)
	if err != nil {
		return "", e.createError(err, s)
	}
	return resp.ID, nil
}

func (e *Engine) createError(err error, s Spec) error {
	werr := e.wrap(err, fmt.Sprintf("create %q", s.Name), ImageNotFound)
	var pe *Error
	if errors.As(werr, &pe) {
		switch pe.Kind {
		case NameConflict:
			return pe.reworded(fmt.Sprintf("a container named %q already exists", s.Name),
				"pick another name, resume it with resume_container, or destroy it first")
		case ImageNotFound:
			return pe.reworded(fmt.Sprintf("image %q not found", s.Image),
				"pull it (pocketdock image pull), build it, or snapshot a sandbox into it")
		}
	}
	return werr
}

// imageLabels returns the labels an image gives every container made from it.
func (e *Engine) imageLabels(ctx context.Context, ref string) (map[string]string, error) {
	im, err := images.GetImage(e.ctx(ctx), ref, nil)
	if err != nil {
		return nil, err
	}
	if im.Config != nil && len(im.Config.Labels) > 0 {
		return im.Config.Labels, nil
	}
	return im.Labels, nil
}

// Start starts a created or stopped container; starting a running one is a no-op.
func (e *Engine) Start(ctx context.Context, id string) error {
	err := containers.Start(e.ctx(ctx), id, nil)
	return e.wrap(err, "start "+short(id), ContainerNotFound)
}

// Stop stops a container gracefully (SIGTERM, then SIGKILL after timeout).
func (e *Engine) Stop(ctx context.Context, id string, timeout time.Duration) error {
	err := containers.Stop(e.ctx(ctx), id, new(containers.StopOptions).WithTimeout(uint(timeout.Seconds())))
	return e.wrap(err, "stop "+short(id), ContainerNotFound)
}

// Remove removes a container, killing it first if it runs. A missing container is not an error.
// A removal the engine answers with "device or resource busy" (its shm mount,
// still held for a moment after the kill; seen with userns=auto) is tried again.
func (e *Engine) Remove(ctx context.Context, id string) error {
	for try := 0; ; try++ {
		_, err := containers.Remove(e.ctx(ctx), id, new(containers.RemoveOptions).WithForce(true).WithVolumes(true).WithTimeout(0).WithIgnore(true))
		if err == nil || try == 3 || !strings.Contains(err.Error(), "resource busy") {
			return e.wrap(err, "remove "+short(id), ContainerNotFound)
		}
		select {
		case <-ctx.Done():
			return e.wrap(ctx.Err(), "remove "+short(id), ContainerNotFound)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Inspect returns the engine's full record of a container.
func (e *Engine) Inspect(ctx context.Context, id string) (*Record, error) {
	data, err := e.inspect(ctx, id)
	if err != nil {
		return nil, err
	}
	return newRecord(data), nil
}

func (e *Engine) inspect(ctx context.Context, id string) (*define.InspectContainerData, error) {
	data, err := containers.Inspect(e.ctx(ctx), id, nil)
	if err != nil {
		return nil, e.wrap(err, "inspect "+short(id), ContainerNotFound)
	}
	return data, nil
}

// SpecOf rebuilds the create spec of a managed container (see SpecFromInspect).
func (e *Engine) SpecOf(ctx context.Context, id string) (Spec, error) {
	r, err := e.Inspect(ctx, id)
	if err != nil {
		return Spec{}, err
	}
	return SpecFromInspect(r), nil
}

// Filter selects managed containers.
type Filter struct {
	Project string
	Name    string
}

// List returns managed containers (running or not), oldest first.
func (e *Engine) List(ctx context.Context, f Filter) ([]Summary, error) {
	labels := []string{LabelManaged + "=true"}
	if f.Project != "" {
		labels = append(labels, LabelProject+"="+f.Project)
	}
	if f.Name != "" {
		labels = append(labels, LabelInstance+"="+f.Name)
	}
	list, err := containers.List(e.ctx(ctx), new(containers.ListOptions).WithAll(true).WithFilters(map[string][]string{"label": labels}))
	if err != nil {
		return nil, e.wrap(err, "list containers", EngineError)
	}
	out := make([]Summary, 0, len(list))
	for _, c := range list {
		out = append(out, summarize(c.ID, c.Names, c.Image, c.State, c.Created, c.Labels))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

func summarize(id string, names []string, image, state string, created time.Time, labels map[string]string) Summary {
	name := labels[LabelInstance]
	if name == "" && len(names) > 0 {
		name = names[0]
	}
	createdAt := labels[LabelCreatedAt]
	if createdAt == "" {
		createdAt = created.UTC().Format(time.RFC3339)
	}
	return Summary{
		ID: id, Name: name, Image: image, Status: state, CreatedAt: createdAt, Created: created,
		Persist: labels[LabelPersist] == "true", Project: labels[LabelProject],
		DataPath: labels[LabelDataPath], Owner: labels[LabelOwner], Labels: labels,
	}
}

// Find looks a sandbox up by its pocketdock.instance label (so containers the
// Python SDK made under a random engine name are found too).
func (e *Engine) Find(ctx context.Context, name string) (*Summary, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	list, err := e.List(ctx, Filter{Name: name})
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, (&Error{Kind: ContainerNotFound, Message: fmt.Sprintf("no sandbox named %q", name), Engine: e.URI}).
			WithHint("list them with pocketdock list (or pd.list_containers())")
	}
	return &list[len(list)-1], nil
}

// Running reports whether a listed status is the running state.
func Running(status string) bool { return status == "running" }

// Stopped reports whether a listed status is a stopped state.
func Stopped(status string) bool {
	switch status {
	case "exited", "stopped", "created", "configured", "dead":
		return true
	}
	return false
}

// pruneGrace keeps prune from removing a container another process has just
// created and not yet started.
const pruneGrace = 60 * time.Second

// Prune removes stopped managed containers (persistent ones too) and returns their names.
func (e *Engine) Prune(ctx context.Context, project string, dryRun bool) ([]string, error) {
	list, err := e.List(ctx, Filter{Project: project})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, c := range list {
		if !Stopped(c.Status) || (c.Status != "exited" && time.Since(c.Created) < pruneGrace) {
			continue
		}
		if !dryRun {
			if err := e.Remove(ctx, c.ID); err != nil {
				return names, err
			}
		}
		names = append(names, c.Name)
	}
	return names, nil
}

// Orphans lists ephemeral containers whose owning process is gone.
func (e *Engine) Orphans(ctx context.Context) ([]Summary, error) {
	list, err := e.List(ctx, Filter{})
	if err != nil {
		return nil, err
	}
	var out []Summary
	for _, c := range list {
		if !c.Persist && c.Owner != "" && !OwnerAlive(c.Owner) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CommitOptions tune a snapshot.
type CommitOptions struct {
	Comment string
	Changes []string // Dockerfile-style: "ENV A=1", "CMD ..."
	NoPause bool
}

// Commit snapshots a container's filesystem into image ref and returns the image id.
// The image does not carry the container's pocketdock.* labels: they are
// blanked (one LABEL change each; podman misreads several empty values in one),
// so a sandbox made from the image is nobody's project instance or orphan.
// The image ref named before is removed when nothing else holds it (no other
// tag, no container), so a re-snapshot leaves no dangling image behind.
func (e *Engine) Commit(ctx context.Context, id, ref string, o CommitOptions) (string, error) {
	repo, tag, err := SplitImageRef(ref)
	if err != nil {
		return "", err
	}
	for _, c := range o.Changes {
		f := strings.Fields(c)
		if len(f) < 2 || !strings.EqualFold(f[0], "LABEL") {
			continue
		}
		for _, kv := range f[1:] {
			if strings.HasPrefix(strings.Trim(kv, `"'`), LabelPrefix) {
				return "", Errorf(InvalidArgument, "snapshot: change %s sets a label with the reserved prefix %s", archive.QuoteName(c), LabelPrefix).
					WithHint("pocketdock sets its own labels on every sandbox it creates; use another label name")
			}
		}
	}
	d, err := e.inspect(ctx, id)
	if err != nil {
		return "", err
	}
	if h := d.HostConfig; h != nil && h.IDMappings != nil && len(h.IDMappings.UIDMap) > 0 {
		return "", Errorf(InvalidArgument, "cannot snapshot %s: it has its own user namespace (userns = \"auto\"), and this Podman would record host uids in the image", d.Name).
			WithHint("snapshot a sandbox created without userns = \"auto\"")
	}
	changes := append([]string{}, o.Changes...)
	var own []string
	var labels map[string]string
	if d.Config != nil {
		labels = d.Config.Labels
	}
	for k, v := range labels {
		if strings.HasPrefix(k, LabelPrefix) && v != "" {
			own = append(own, "LABEL "+k+"=")
		}
	}
	sort.Strings(own)
	changes = append(changes, own...)
	old, _ := e.ImageID(ctx, ref)
	opts := new(containers.CommitOptions).WithRepo(repo).WithTag(tag).WithPause(!o.NoPause).WithFormat("docker")
	if o.Comment != "" {
		opts = opts.WithComment(o.Comment)
	}
	if len(changes) > 0 {
		opts = opts.WithChanges(changes)
	}
	resp, err := containers.Commit(e.ctx(ctx), id, opts)
	if err != nil {
		return "", e.wrap(err, fmt.Sprintf("snapshot %s into %s", short(id), ref), ContainerNotFound)
	}
	if old != "" && old != resp.ID {
		// Without force the engine refuses while a container uses it or
		// another tag names it: then it is not dangling.
		_ = e.RemoveImage(ctx, old, false)
	}
	return resp.ID, nil
}

// ImageExists reports whether an image is present on the engine.
func (e *Engine) ImageExists(ctx context.Context, ref string) (bool, error) {
	ok, err := images.Exists(e.ctx(ctx), ref, nil)
	return ok, e.wrap(err, "look up image "+ref, EngineError)
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// SpecFromInspect rebuilds the create spec of a managed container from its
// record, so it can be made again from its image (reboot{fresh=true}).
func SpecFromInspect(r *Record) Spec {
	d := r.raw
	l := d.Config.Labels
	s := Spec{
		Name: l[LabelInstance], Image: d.ImageName, Persist: l[LabelPersist] == "true",
		Project: l[LabelProject], DataPath: l[LabelDataPath], Owner: l[LabelOwner],
		Workdir: d.Config.WorkingDir, User: d.Config.User, Env: map[string]string{}, Labels: map[string]string{},
	}
	if s.Name == "" {
		s.Name = strings.TrimPrefix(d.Name, "/")
	}
	for _, kv := range d.Config.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			s.Env[k] = v
		}
	}
	for k, v := range l {
		if !strings.HasPrefix(k, LabelPrefix) {
			s.Labels[k] = v
		}
	}
	if h := d.HostConfig; h != nil {
		switch h.NetworkMode {
		case "none", "":
		case "bridge", "default":
			s.Network = "bridge"
		default:
			s.Network = h.NetworkMode
		}
		for cport, binds := range h.PortBindings {
			num, proto, _ := strings.Cut(cport, "/")
			c, err := strconv.ParseUint(num, 10, 16)
			if err != nil {
				continue
			}
			for _, b := range binds {
				hp, err := strconv.ParseUint(b.HostPort, 10, 16)
				if err == nil {
					s.Ports = append(s.Ports, Port{Host: uint16(hp), Container: uint16(c), HostIP: b.HostIP, Protocol: proto})
				}
			}
		}
		s.UserNS = UserNSHost
		if h.IDMappings != nil && len(h.IDMappings.UIDMap) > 0 {
			s.UserNS = UserNSAuto
		}
		s.ReadOnly = h.ReadonlyRootfs
		s.MemLimit = h.Memory
		if s.MemLimit == 0 {
			s.MemLimit = -1 // none was set
		}
		s.PidsLimit = h.PidsLimit
		if s.PidsLimit == 0 {
			s.PidsLimit = -1 // none was set
		}
		if h.CpuQuota > 0 {
			s.CPUPercent = int(h.CpuQuota / 1000)
		}
		for _, dev := range h.Devices {
			s.Devices = append(s.Devices, dev.PathOnHost)
		}
	}
	for _, m := range d.Mounts {
		switch m.Type {
		case "bind":
			s.Volumes = append(s.Volumes, Volume{Source: m.Source, Target: m.Destination, ReadOnly: !m.RW})
		case "volume":
			s.Volumes = append(s.Volumes, Volume{Source: m.Name, Target: m.Destination, ReadOnly: !m.RW})
		}
	}
	return s
}
