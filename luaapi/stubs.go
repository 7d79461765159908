package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/containers/podman/v5/libpod/define"
	"github.com/pocketdock/pocketdock/engine"
)

func notYet(L *lua.LState, name string) int {
	return raise(L, engine.Errorf(engine.InvalidArgument, "%s is not available yet", name))
}

// specFromInspect rebuilds a create spec from a container's record, for reboot{fresh=true}.
func specFromInspect(d *define.InspectContainerData, c *Container) engine.Spec {
	labels := map[string]string{}
	for k, v := range d.Config.Labels {
		labels[k] = v
	}
	return engine.Spec{Name: c.Name, Image: d.ImageName, Persist: c.Persist, Project: c.Project, Labels: nil,
		Env: nil, Workdir: d.Config.WorkingDir, User: d.Config.User, Owner: labels[engine.LabelOwner]}
}
