package sandbox

import (
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine"
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

// Validate refuses what the engine would take but must not, naming the option.
func TestCreateOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		spec engine.Spec
		want string // in the message; "" = valid
	}{
		{engine.Spec{}, ""},
		{engine.Spec{Name: "dev-1", UserNS: engine.UserNSAuto, Env: map[string]string{"A": "1"}, Labels: map[string]string{"team": "x"}}, ""},
		{engine.Spec{Name: "bad name"}, "option 'name': invalid sandbox name"},
		{engine.Spec{Env: map[string]string{"A=B": "1"}}, "option 'env': invalid variable name \"A=B\""},
		{engine.Spec{Env: map[string]string{"A": "x\x00y"}}, "option 'env': the value of \"A\" holds a NUL byte"},
		{engine.Spec{UserNS: "private"}, "userns must be \"auto\" or \"host\""},
		{engine.Spec{Labels: map[string]string{"pocketdock.managed": "no"}}, "reserved prefix"},
	} {
		o := CreateOptions{Spec: tc.spec}
		err := o.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tc.spec, err)
			}
			continue
		}
		if !engine.IsKind(err, engine.InvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigkill": syscall.SIGKILL, "Hup": syscall.SIGHUP} {
		if got, ok := ParseSignal(in); !ok || got != want {
			t.Errorf("%s: %v %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "15", "SIG", "NOPE"} {
		if _, ok := ParseSignal(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}
