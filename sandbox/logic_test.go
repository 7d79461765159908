package sandbox

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pocketdock/pocketdock/archive"
)

// The tests in this file need no engine: `make unit` runs them.

func TestMergeEnvKeepsOrderAndDropsHostname(t *testing.T) {
	base := []string{"PATH=/bin", "HOSTNAME=abc", "HOME=/root"}
	got := mergeEnv(base, []string{"HOME=/tmp", "X=1"})
	want := []string{"PATH=/bin", "HOME=/tmp", "X=1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeEnv = %q, want %q", got, want)
	}
	if got := mergeEnv(base, []string{"HOSTNAME=mine"}); !reflect.DeepEqual(got, []string{"PATH=/bin", "HOSTNAME=mine", "HOME=/root"}) {
		t.Errorf("an explicit HOSTNAME: %q", got)
	}
}

func TestParseListing(t *testing.T) {
	names := "b\x00.a\x00a b\x00\x00"
	if got, want := parseListing([]byte(names), false), []archive.Entry{{Name: ".a"}, {Name: "a b"}, {Name: "b"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("names: %+v", got)
	}
	details := names + "81a4 12\n41ed 4096\na1ff 3\n"
	got := parseListing([]byte(details), true)
	want := []archive.Entry{{Name: ".a", Type: "dir", Mode: 0o755}, {Name: "a b", Type: "link", Mode: 0o777, Size: 3}, {Name: "b", Type: "file", Mode: 0o644, Size: 12}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("details: %+v", got)
	}
	for _, bad := range []string{"no terminator", "a/b\x00\x00", "..\x00\x00", names + "81a4 12\n"} {
		if got := parseListing([]byte(bad), strings.HasPrefix(bad, names)); got != nil {
			t.Errorf("%q was accepted: %+v", bad, got)
		}
	}
}

// endScan passes on exactly the command's output, whatever the chunking,
// and reads the exit code after the marker.
func TestEndScanAnyChunking(t *testing.T) {
	mark := "__pd_end_0123:"
	stream := "out\nno newline" + mark + "7\n"
	for size := 1; size <= len(stream); size++ {
		e := &endScan{mark: []byte(mark)}
		var out strings.Builder
		for i := 0; i < len(stream); i += size {
			out.Write(e.feed([]byte(stream[i:min(i+size, len(stream))])))
		}
		code, ok := e.code()
		if out.String() != "out\nno newline" || !ok || code != 7 {
			t.Fatalf("chunks of %d: output %q, code %d %v", size, out.String(), code, ok)
		}
	}
}

func TestScriptQuotesTheCommand(t *testing.T) {
	s := script(`echo 'it''s' $HOME`, "", "M")
	if !strings.Contains(s, `__pd_c='echo '\''it'\'''\''s'\'' $HOME'`) {
		t.Errorf("the command is not one quoted word:\n%s", s)
	}
	if !strings.Contains(s, "</dev/null") {
		t.Errorf("no stdin should read /dev/null:\n%s", s)
	}
}
