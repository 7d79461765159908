package luaapi

import "github.com/pocketdock/pocketdock/engine"

// recordRun appends a run to a persistent project sandbox's history.
func (m *Module) recordRun(c *Container, argv []string, res *engine.ExecResult) {}
