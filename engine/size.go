package engine

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseLimit reads the size of a limit as ParseSize does, except that 0 (in
// any spelling, "0", "0.0") means no limit: -1.
func ParseLimit(s string) (int64, error) {
	if n, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil && n == 0 {
		return -1, nil
	}
	return ParseSize(s)
}

// ParseSize reads a memory size: a number of bytes, or a number with a
// k/m/g/t suffix (binary units, as podman and docker read them).
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	if t == "" {
		return 0, fmt.Errorf("empty size")
	}
	mult := int64(1)
	switch t[len(t)-1] {
	case 'k':
		mult = 1 << 10
	case 'm':
		mult = 1 << 20
	case 'g':
		mult = 1 << 30
	case 't':
		mult = 1 << 40
	}
	if mult > 1 {
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 || n*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	v := int64(n * float64(mult))
	if v < 6<<20 {
		return 0, fmt.Errorf("%q is below the engine's minimum of 6m", s)
	}
	return v, nil
}
