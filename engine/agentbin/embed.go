// Package agentbin holds the in-container executor binary, built and
// gzip-compressed by `make agent` into this directory. A build without it
// still works: Compressed then reports nothing and every command takes the
// plain exec path.
package agentbin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/hex"
	"io"
	"sync"
)

// The pattern always matches (this file at least), so the package compiles
// whether or not the binary was built.
//
//go:embed *
var files embed.FS

// Name is the binary's file name stem, here and inside the sandbox.
const Name = "pocketdock-agent"

// Compressed returns the embedded agent, gzip-compressed, or nil when the
// build has none. (The embedded file is copied out once, not per call.)
var Compressed = sync.OnceValue(func() []byte {
	b, err := files.ReadFile(Name + ".gz")
	if err != nil || len(b) < 18 { // a gzip header and trailer at least
		return nil
	}
	return b
})

// Binary returns the agent uncompressed, or nil when the build has none.
var Binary = sync.OnceValue(func() []byte {
	z, err := gzip.NewReader(bytes.NewReader(Compressed()))
	if err != nil {
		return nil
	}
	b, err := io.ReadAll(z)
	if err != nil {
		return nil
	}
	return b
})

// Size is the agent's uncompressed size, read from the gzip trailer (the
// binary is far below the 4 GiB it wraps at), without decompressing it.
func Size() int {
	b := Compressed()
	if b == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(b[len(b)-4:]))
}

// FileName names this build's agent inside a sandbox: a digest of the
// binary keeps two builds' executors apart, so one that is there can be
// reused as it is.
var FileName = sync.OnceValue(func() string {
	sum := sha256.Sum256(Compressed())
	return Name + "-" + hex.EncodeToString(sum[:6])
})
