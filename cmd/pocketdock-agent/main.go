// Command pocketdock-agent runs inside a pocketdock container and executes
// commands on behalf of the host. It speaks the agent protocol on its stdin
// and stdout (nothing else is ever written to stdout) and exits when stdin
// closes, killing the commands it started.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pocketdock/pocketdock/agent"
)

func main() {
	// With SIGPIPE handled, a write to a stdout whose reader has gone fails
	// with EPIPE instead of killing the agent before it kills its commands.
	// Notify rather than Ignore: an ignored signal would stay ignored in
	// the commands, breaking pipelines such as "yes | head".
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)

	if err := agent.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pocketdock-agent:", err)
		os.Exit(1)
	}
}
