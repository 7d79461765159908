// Package agentbin holds the in-container executor binary, built by
// `make agent` into this directory. A build without it still works: Binary
// then reports nothing and every command takes the plain exec path.
package agentbin

import "embed"

// The pattern always matches (this file at least), so the package compiles
// whether or not the binary was built.
//
//go:embed *
var files embed.FS

// Name is the binary's file name, here and inside the sandbox.
const Name = "pocketdock-agent"

// Binary returns the embedded agent, or nil when the build has none.
func Binary() []byte {
	b, err := files.ReadFile(Name)
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}
