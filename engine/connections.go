package engine

import (
	"go.podman.io/common/pkg/config"
)

// Destination is a named engine from podman's own configuration.
type Destination struct {
	Name, URI, Identity string
}

// NamedConnection looks up one of podman's named connections
// (containers.conf service_destinations or podman-connections.json).
func NamedConnection(name string) (*Destination, error) {
	cfg, err := config.Default()
	if err != nil {
		return nil, Errorf(InvalidArgument, "cannot read podman's configuration: %v", err)
	}
	c, err := cfg.GetConnection(name, false)
	if err != nil || c == nil {
		return nil, Errorf(InvalidArgument, "no podman connection named %q", name).
			WithHint("list them with `podman system connection list`, or pass a URI")
	}
	return &Destination{Name: c.Name, URI: c.URI, Identity: c.Identity}, nil
}
