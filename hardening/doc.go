// Package hardening holds pocketdock's reliability tests: faults injected by
// stopping a private engine service, races between processes, hostile input
// and the sandbox's safe defaults, each checked against a real Podman engine.
// docs/RELIABILITY.md lists the cases and the figures they measured.
package hardening
