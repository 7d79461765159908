package memtest

import "testing"

// The peak follows an allocation made after a reset, and a reset brings it
// back down once that memory is gone.
func TestPeakFollowsAllocation(t *testing.T) {
	peak := Since(t)
	base := peak()
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = 1 // touched, so resident
	}
	grown := peak()
	if grown-base < 60 {
		t.Fatalf("peak %.0f MiB after 64 MiB from %.0f", grown, base)
	}
	if Peak(t, 0) < 64<<20 {
		t.Fatalf("Peak says %d bytes", Peak(t, 0))
	}
	_ = buf[len(buf)-1]
}
