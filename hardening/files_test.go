package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Pulled trees cannot write outside their destination: a symlink pulled
// first, then a directory of the same name with a file under it, must not
// put the file where the symlink points.
func TestPullStaysInDestination(t *testing.T) {
	dest, outside := t.TempDir(), t.TempDir()
	s := newState(t, "")
	s.L.SetGlobal("DEST", lstr(dest))
	s.L.SetGlobal("OUTSIDE", lstr(outside))
	s.run(t, `
local c = pocketdock.create_new_container{}
assert(c:run({"sh", "-c", 'mkdir -p /one/t /two/t/esc /two/t/abs && ln -s "$1" /one/t/esc && ln -s "$1" /one/t/abs && ln -s ../../../../.. /one/t/up && echo pwned > /two/t/esc/x && echo pwned > /two/t/abs/y', "sh", OUTSIDE}).ok)
first = c:pull("/one/t", DEST)
local ok, err = pcall(c.pull, c, "/two/t", DEST)
second = ok and "ok" or tostring(err)
c:shutdown()`)
	ents, _ := os.ReadDir(outside)
	var names []string
	filepath.Walk(dest, func(p string, _ os.FileInfo, _ error) error {
		names = append(names, strings.TrimPrefix(p, dest))
		return nil
	})
	t.Logf("FIGURE pull-escape: first pull %s entries, second pull %q; outside dir has %d entries; dest holds %v",
		s.global("first"), firstLine(s.global("second")), len(ents), names)
	if len(ents) != 0 {
		t.Fatalf("a pull wrote outside its destination: %v", ents)
	}
	for _, bad := range goInternals {
		if strings.Contains(s.global("second"), bad) {
			t.Errorf("Go internals in %q", s.global("second"))
		}
	}
}

// Paths never reach a shell: names full of shell syntax are just names, in
// the sandbox and on the host.
func TestPathsNeverReachAShell(t *testing.T) {
	dest := t.TempDir()
	s := newState(t, "")
	s.L.SetGlobal("DEST", lstr(dest))
	s.run(t, `
local c = pocketdock.create_new_container{}
local evil = {
  "/tmp/$(touch /tmp/pwned1)", "/tmp/a;touch /tmp/pwned2", "/tmp/`+"`touch /tmp/pwned3`"+`",
  "/tmp/x' ; touch /tmp/pwned4 ; '", "/tmp/new\nline", "/tmp/-rf", "/tmp/|touch /tmp/pwned5",
}
calls = 0
for _, p in ipairs(evil) do
  c:write_file(p, "data") calls = calls + 1
  assert(c:read_file(p) == "data", p) calls = calls + 1
  assert(c:stat(p).type == "file", p) calls = calls + 1
  c:pull(p, DEST .. "/" .. p:gsub("^/tmp/", ""):gsub("[/\n]", "_")) calls = calls + 1
end
for _, n in ipairs(c:list_files("/tmp")) do listed = (listed or "") .. n .. "|" end
calls = calls + 1
local ok = pcall(c.list_files, c, "/tmp/$(touch /tmp/pwned6)") calls = calls + 1
pwned = c:run("ls /tmp | grep -c '^pwned' || true").stdout
c:shutdown()`)
	hostEnts, _ := os.ReadDir(dest)
	t.Logf("FIGURE no-shell: %s file calls with 7 hostile names; pwned files in the sandbox: %s; host files %d",
		s.global("calls"), strings.TrimSpace(s.global("pwned")), len(hostEnts))
	if strings.TrimSpace(s.global("pwned")) != "0" {
		t.Fatalf("a path reached a shell: %s pwned files", s.global("pwned"))
	}
	if len(hostEnts) != 7 {
		t.Errorf("want 7 pulled files on the host, got %d", len(hostEnts))
	}
	if _, err := os.Stat("/tmp/pwned1"); err == nil {
		t.Errorf("a path reached a host shell")
	}
}
