// Package memtest measures peak resident memory (VmHWM) for tests that
// assert a limit holds in the host process, not just in its results.
package memtest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Reset starts this process's peak resident size again from its current
// resident size, so a test measures its own peak rather than an earlier one's.
func Reset(t testing.TB) {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("cannot reset the peak RSS: %v", err)
	}
}

// Peak is the peak resident size (VmHWM) of process pid, 0 for this one, in bytes.
func Peak(t testing.TB, pid int) int64 {
	t.Helper()
	proc := "self"
	if pid != 0 {
		proc = strconv.Itoa(pid)
	}
	b, err := os.ReadFile("/proc/" + proc + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/" + proc + "/status")
	return 0
}

// Since resets the peak and returns a function that reads it, in MiB.
func Since(t testing.TB) func() float64 {
	t.Helper()
	Reset(t)
	return func() float64 { return float64(Peak(t, 0)) / (1 << 20) }
}
