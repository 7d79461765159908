package sandbox

import (
	"context"
	"strings"
	"time"

	"github.com/pocketdock/pocketdock/engine"
)

// Info is a short description of a sandbox, the record c:info() gives
// scripts. Its json names are the Lua keys; an absent part of the engine's
// record leaves its fields nil, so they are left out, while a present but
// empty one (no ports) is kept.
type Info struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Status    string            `json:"status"`
	Running   bool              `json:"running"`
	Image     string            `json:"image"`
	Persist   bool              `json:"persist"`
	Project   string            `json:"project,omitempty"`
	CreatedAt string            `json:"created_at"`
	StartedAt string            `json:"started_at,omitempty"` // RFC 3339, UTC; "" before the first start
	Pid       int               `json:"pid"`
	OOMKilled bool              `json:"oom_killed"`
	Engine    string            `json:"engine"`
	MemLimit  *int64            `json:"mem_limit,omitempty"`
	PidsLimit *int64            `json:"pids_limit,omitempty"`
	ReadOnly  *bool             `json:"read_only,omitempty"`
	Ports     map[string]string `json:"ports"`  // "80/tcp" -> "127.0.0.1:8080"; nil when the engine sent no network settings
	Labels    map[string]string `json:"labels"` // without the pocketdock. labels blanked at create
}

// Info inspects the sandbox and describes it.
func (c *Container) Info(ctx context.Context) (*Info, error) {
	d, err := c.Inspect(ctx)
	if err != nil {
		return nil, err
	}
	in := &Info{ID: d.ID, Name: c.Name, Status: d.State.Status, Running: d.State.Running, Image: d.ImageName,
		Persist: c.Persist, Project: c.Project, CreatedAt: d.Config.Labels[engine.LabelCreatedAt],
		Pid: d.State.Pid, OOMKilled: d.State.OOMKilled, Engine: c.eng.URI, Labels: map[string]string{}}
	if !d.State.StartedAt.IsZero() {
		in.StartedAt = d.State.StartedAt.UTC().Format(time.RFC3339)
	}
	if h := d.HostConfig; h != nil {
		in.MemLimit, in.PidsLimit, in.ReadOnly = &h.Memory, &h.PidsLimit, &h.ReadonlyRootfs
	}
	if d.NetworkSettings != nil {
		in.Ports = map[string]string{}
		for cport, binds := range d.NetworkSettings.Ports {
			for _, b := range binds {
				in.Ports[cport] = b.HostIP + ":" + b.HostPort
			}
		}
	}
	for k, v := range d.Config.Labels {
		if v == "" && strings.HasPrefix(k, "pocketdock.") {
			continue // blanked at create: an image's label this sandbox does not have
		}
		in.Labels[k] = v
	}
	return in, nil
}
