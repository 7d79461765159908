//go:build !unit

package hardening

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/internal/memtest"
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

// diskUsage is what the files under dir take on disk, in bytes.
func diskUsage(t *testing.T, dir string) (n int64, paths []string) {
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			paths = append(paths, strings.TrimPrefix(p, dir))
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n, paths
}

// Sparse files cost the sandbox no disk but would cost the host memory or
// disk in full: read_file refuses past its cap before copying anything,
// pull stops at its cap and removes what it wrote, and list_files reads
// no contents at all.
func TestSparseFilesCannotFillTheHost(t *testing.T) {
	dest := t.TempDir()
	s := newState(t, "")
	s.L.SetGlobal("DEST", lstr(dest))
	s.run(t, `
c = pocketdock.create_new_container{}
assert(c:run("mkdir /big && dd if=/dev/zero of=/big/one bs=1 count=0 seek=1G 2>/dev/null && dd if=/dev/zero of=/big/two bs=1 count=0 seek=2G 2>/dev/null").ok)
assert(c:run("mkdir /pair && head -c 3145728 /dev/zero > /pair/a && head -c 3145728 /dev/zero > /pair/b").ok)
c:list_files("/")  -- the executor is up, as for any sandbox in use`)
	defer s.run(t, `c:shutdown()`)

	memtest.Reset(t)
	before := memtest.Peak(t, 0) >> 10
	start := time.Now()
	s.run(t, `local ok, err = pcall(c.read_file, c, "/big/one"); read = tostring(err); assert(not ok)`)
	readTook := time.Since(start)
	readPeak := memtest.Peak(t, 0)>>10 - before

	start = time.Now()
	s.run(t, `names = table.concat(c:list_files("/big"), ",")
		for _, e in ipairs(c:list_files("/big", {details = true})) do sizes = (sizes or "") .. e.name .. "=" .. e.size .. " " end`)
	listTook := time.Since(start)

	memtest.Reset(t)
	before = memtest.Peak(t, 0) >> 10
	start = time.Now()
	s.run(t, `local ok, err = pcall(c.pull, c, "/big/two", DEST); pulled = tostring(err); assert(not ok)`)
	pullTook := time.Since(start)
	pullPeak := memtest.Peak(t, 0)>>10 - before
	used, left := diskUsage(t, dest)

	// Under the cap a file is read once into one buffer of its size.
	s.run(t, `assert(c:run("head -c 50331648 /dev/zero > /tmp/48m").ok)`)
	memtest.Reset(t)
	before = memtest.Peak(t, 0) >> 10
	s.run(t, `local data = c:read_file("/tmp/48m"); got48 = #data; data = nil`)
	readOK := memtest.Peak(t, 0)>>10 - before
	if s.global("got48") != "50331648" || readOK > 64<<10 {
		t.Errorf("read_file of 48 MiB: got %s bytes, VmHWM +%d KiB", s.global("got48"), readOK)
	}

	// A tree past the cap: its first file was written before the second
	// passed it, and goes again.
	s.run(t, `local ok, err = pcall(c.pull, c, "/pair", DEST, {max_bytes = 4194304}); pair = tostring(err); assert(not ok)`)
	_, leftPair := diskUsage(t, dest)

	t.Logf("FIGURE sparse: read_file 1 GiB refused in %d ms, host VmHWM +%d KiB; list_files+details of 1+2 GiB in %d ms; pull 2 GiB refused in %d ms, VmHWM +%d KiB, %d bytes left on host disk; read_file of 48 MiB: VmHWM +%d KiB",
		readTook.Milliseconds(), readPeak, listTook.Milliseconds(), pullTook.Milliseconds(), pullPeak, used, readOK)
	if !strings.HasPrefix(s.global("read"), "InvalidArgument: ") || !strings.Contains(s.global("read"), "over the limit of 67108864 bytes") {
		t.Errorf("read_file: %s", s.global("read"))
	}
	if readPeak > 16<<10 || readTook > 3*time.Second {
		t.Errorf("read_file refusal cost %d KiB of peak RSS and %v", readPeak, readTook)
	}
	if s.global("names") != "one,two" || s.global("sizes") != "one=1073741824 two=2147483648 " {
		t.Errorf("list_files: %q %q", s.global("names"), s.global("sizes"))
	}
	if listTook > time.Second {
		t.Errorf("list_files took %v: contents were copied?", listTook)
	}
	if !strings.HasPrefix(s.global("pulled"), "InvalidArgument: ") || !strings.Contains(s.global("pulled"), "limit of 1073741824 bytes") {
		t.Errorf("pull: %s", s.global("pulled"))
	}
	if pullPeak > 16<<10 || pullTook > 3*time.Second || used != 0 || len(left) != 0 {
		t.Errorf("pull refusal: peak +%d KiB, %v, host holds %v (%d bytes)", pullPeak, pullTook, left, used)
	}
	if !strings.Contains(s.global("pair"), "limit of 4194304 bytes") || len(leftPair) != 0 {
		t.Errorf("pull of a tree past the cap: %s; host holds %v", s.global("pair"), leftPair)
	}
}

// list_files reads a listing from a command in the sandbox; when that
// command is missing, lies in a shape not understood, or cannot run (the
// sandbox is stopped), the archive API gives the same answer.
func TestListFilesFallsBack(t *testing.T) {
	s := newState(t, "")
	s.run(t, `
c = pocketdock.create_new_container{}
assert(c:run("mkdir -p /l/d && echo hi > /l/f && ln -s f /l/s && chmod 640 /l/f").ok)
function listing()
  local out = {}
  for _, e in ipairs(c:list_files("/l", {details = true})) do
    out[#out + 1] = e.name .. ":" .. e.type .. ":" .. e.size .. ":" .. string.format("%o", e.mode)
  end
  return table.concat(out, ",")
end
want = listing()
assert(c:run("rm /bin/stat").ok)
missing = listing()
assert(c:write_file("/bin/stat", "#!/bin/sh\necho garbage\n", {mode = tonumber("755", 8)}))
lying = listing()
c:stop()
stopped = listing()
c:shutdown()`)
	want := "d:dir:0:755,f:file:3:640,s:link:1:777"
	for _, name := range []string{"want", "missing", "lying", "stopped"} {
		if got := s.global(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
