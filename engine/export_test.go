package engine

// Hooks for the package's external tests (package engine_test): internals
// they check, kept out of the real API.

var (
	AgentPath     = agentPath
	HostMemTotal  = hostMemTotal
	StartPrivate  = startPrivate
	PrivateSocket = privateSocket
)

// SetAgentMachine makes the executor's start look for another CPU
// architecture, as on a host the build has no executor for; the returned
// function restores this build's own.
func SetAgentMachine(m string) (restore func()) {
	old := agentMachine
	agentMachine = m
	return func() { agentMachine = old }
}

// Local reports whether the engine runs on this host.
func (e *Engine) Local() bool { return e.local }
