//go:build !unit

package hardening

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/internal/enginetest"
	"github.com/pocketdock/pocketdock/internal/memtest"
)

// capNames are the bits of a capability set, by number.
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

func decodeCaps(hex string) []string {
	v, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
	if err != nil {
		return nil
	}
	var out []string
	for i, n := range capNames {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// statusField reads one field of /proc/self/status text.
func statusField(status, key string) string {
	for _, l := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// The defaults, seen from inside a sandbox: no new privileges, a reduced
// capability set, no network but lo.
func TestDefaultsPrivileges(t *testing.T) {
	s := newState(t, "")
	s.run(t, `
local c = pocketdock.create_new_container{}
status = c:run("cat /proc/self/status").stdout
netdev = c:run("cat /proc/net/dev").stdout
c:shutdown()`)
	status := s.global("status")
	if v := statusField(status, "NoNewPrivs"); v != "1" {
		t.Errorf("NoNewPrivs = %q, want 1", v)
	}
	caps := decodeCaps(statusField(status, "CapEff"))
	have := map[string]bool{}
	for _, c := range caps {
		have[c] = true
	}
	for _, dropped := range []string{"MKNOD", "AUDIT_WRITE", "NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT", "SYS_ADMIN", "NET_ADMIN", "SYS_MODULE", "SYS_PTRACE"} {
		if have[dropped] {
			t.Errorf("CAP_%s is in the effective set", dropped)
		}
	}
	var ifaces []string
	for _, l := range strings.Split(s.global("netdev"), "\n") {
		if name, _, ok := strings.Cut(l, ":"); ok {
			ifaces = append(ifaces, strings.TrimSpace(name))
		}
	}
	t.Logf("FIGURE defaults: NoNewPrivs %s; CapEff %s = %s; interfaces %v", statusField(status, "NoNewPrivs"),
		statusField(status, "CapEff"), strings.Join(caps, ","), ifaces)
	if len(ifaces) != 1 || ifaces[0] != "lo" {
		t.Errorf("interfaces %v, want only lo", ifaces)
	}
}

// A fork bomb is held by the default pids limit, dies with its command (what
// a command leaves behind is killed when it ends), so the sandbox answers
// again at once, and the sandbox is still destroyed quickly.
func TestForkBombContained(t *testing.T) {
	s := newState(t, "")
	s.runWithin(t, 60*time.Second, `
local c = pocketdock.create_new_container{}
local t0 = pocketdock.clock()
-- the count uses shell builtins only: with the pids limit reached, nothing can fork.
-- It is the cgroup's own (a listing of /proc is no snapshot while the bomb churns).
local count = [[f=/sys/fs/cgroup/pids/pids; [ -e $f.current ] || f=/sys/fs/cgroup/pids
read n < $f.current; read max < $f.max; echo $n of $max]]
-- Each bomb process waits for its children, so the bomb holds the limit
-- instead of collapsing when forks fail; the command waits on a fifo (read
-- -t, no fork) and counts before it ends, so the bomb is alive then.
local function bombcmd(wait) return [[rm -f /tmp/f; mkfifo /tmp/f; exec 3<>/tmp/f
bomb() { bomb & bomb & wait; }; bomb >/dev/null 2>&1 &
read -t ]] .. wait .. [[ x <&3
]] .. count end
bomb = c:run(bombcmd(3), {timeout = 8})
bomb_ms = pocketdock.clock() - t0
t0 = pocketdock.clock()
after = c:run("echo still here; " .. count)
after_ms = pocketdock.clock() - t0
-- a bomb that outlives its timeout dies as well
t0 = pocketdock.clock()
timed = c:run(bombcmd(30), {timeout = 3})
after2 = c:run("echo again; " .. count)
timed_ms = pocketdock.clock() - t0
-- and on the plain path, where a timeout kills the command's process group
t0 = pocketdock.clock()
plain = c:run(bombcmd(30), {timeout = 3, isolated = true})
after3 = c:run("echo plain; " .. count)
plain_ms = pocketdock.clock() - t0
t0 = pocketdock.clock()
c:shutdown()
destroy_ms = pocketdock.clock() - t0`)
	t.Logf("FIGURE fork-bomb: run %s ms (exit %s), processes in the sandbox %q; next run %s ms: %q; timed-out bomb and next run %s ms (timed_out=%s): %q; shutdown %s ms",
		s.global("bomb_ms"), lua_field(s, "bomb", "exit_code"), lastLine(lua_field(s, "bomb", "stdout")),
		s.global("after_ms"), strings.TrimSpace(lua_field(s, "after", "stdout")),
		s.global("timed_ms"), lua_field(s, "timed", "timed_out"), strings.TrimSpace(lua_field(s, "after2", "stdout")), s.global("destroy_ms"))
	if ms, _ := strconv.ParseFloat(s.global("destroy_ms"), 64); ms > 10000 {
		t.Errorf("destroying the bombed sandbox took %v ms", ms)
	}
	var n, max int
	if _, err := fmt.Sscanf(lastLine(lua_field(s, "bomb", "stdout")), "%d of %d", &n, &max); err != nil || max != 1024 || n > max || n < 900 {
		t.Errorf("processes %q: want the bomb near the default limit 1024, not past it", lua_field(s, "bomb", "stdout"))
	}
	// Recovery: the next command runs at once, with the bomb gone.
	for _, g := range []string{"after", "after2", "after3"} {
		out := lua_field(s, g, "stdout")
		if _, err := fmt.Sscanf(lastLine(out), "%d of %d", &n, &max); err != nil || n > 100 || lua_field(s, g, "exit_code") != "0" {
			t.Errorf("after a fork bomb the next command got exit %s, %q: the bomb outlived its command", lua_field(s, g, "exit_code"), out)
		}
	}
	if ms, _ := strconv.ParseFloat(s.global("after_ms"), 64); ms > 3000 {
		t.Errorf("the next command after a fork bomb took %v ms", ms)
	}
	if ms, _ := strconv.ParseFloat(s.global("timed_ms"), 64); ms > 8000 {
		t.Errorf("a timed-out fork bomb and the next command took %v ms", ms)
	}
	t.Logf("FIGURE fork-bomb plain path: timed-out bomb (exit %s) and next run %s ms: %q", lua_field(s, "plain", "exit_code"),
		s.global("plain_ms"), strings.TrimSpace(lua_field(s, "after3", "stdout")))
	if lua_field(s, "plain", "exit_code") != "137" || lua_field(s, "plain", "timed_out") != "true" {
		t.Errorf("plain path: the timed-out bomb gave exit %s, timed_out %s", lua_field(s, "plain", "exit_code"), lua_field(s, "plain", "timed_out"))
	}
	if ms, _ := strconv.ParseFloat(s.global("plain_ms"), 64); ms > 12000 {
		t.Errorf("plain path: a timed-out fork bomb and the next command took %v ms", ms)
	}
}

func lua_field(s *state, global, key string) string {
	return s.L.GetField(s.L.GetGlobal(global), key).String()
}

// mem_limit is enforced: a memory hog is OOM-killed with exit 137 and a hint.
func TestMemLimitOOM(t *testing.T) {
	s := newState(t, "")
	s.run(t, `
local c = pocketdock.create_new_container{mem_limit = "32m"}
r = c:run("head -c 200000000 /dev/zero | tail > /dev/null", {timeout = 20})
oom = tostring(c:info().oom_killed)
c:shutdown()`)
	t.Logf("FIGURE oom: exit %s, hint %q, info().oom_killed %s", lua_field(s, "r", "exit_code"), lua_field(s, "r", "hint"), s.global("oom"))
	if lua_field(s, "r", "exit_code") != "137" || !strings.Contains(lua_field(s, "r", "hint"), "memory") {
		t.Fatalf("want exit 137 with a memory hint, got %s / %q", lua_field(s, "r", "exit_code"), lua_field(s, "r", "hint"))
	}
}

// read_only = true keeps /tmp writable and the rest read-only.
func TestReadOnlyKeepsTmp(t *testing.T) {
	s := newState(t, "")
	s.run(t, `
local c = pocketdock.create_new_container{read_only = true}
tmp = c:run("echo ok > /tmp/x && cat /tmp/x")
root = c:run("touch /etc/x")
c:shutdown()`)
	t.Logf("FIGURE read-only: /tmp write exit %s; /etc write exit %s (%s)", lua_field(s, "tmp", "exit_code"),
		lua_field(s, "root", "exit_code"), strings.TrimSpace(lua_field(s, "root", "stderr")))
	if lua_field(s, "tmp", "stdout") != "ok\n" {
		t.Errorf("/tmp is not writable: %s", lua_field(s, "tmp", "stderr"))
	}
	if lua_field(s, "root", "exit_code") == "0" {
		t.Errorf("/etc is writable in a read-only sandbox")
	}
}

// Published ports bind 127.0.0.1 unless told otherwise. Ports bring the
// default bridge when network is not given; network = false with ports is
// refused, not silently unpublished.
func TestPortsOnLoopback(t *testing.T) {
	s := newState(t, "")
	s.run(t, `
c = pocketdock.create_new_container{ports = {[18931] = 80}}
id = c.id
local ok, err = pcall(pocketdock.create_new_container, {network = false, ports = {[18932] = 80}})
conflict = (not ok) and err.kind .. ": " .. err.message .. " / " .. (err.hint or "") or "created"`)
	d, err := enginetest.Engine(t).Inspect(ctxT(t, 10*time.Second), s.global("id"))
	if err != nil {
		t.Fatal(err)
	}
	var binds []string
	for port, list := range d.HostConfig.PortBindings {
		for _, b := range list {
			binds = append(binds, fmt.Sprintf("%s:%s->%s", b.HostIP, b.HostPort, port))
		}
	}
	t.Logf("FIGURE ports: %v on network %q; network=false with ports: %s", binds, d.HostConfig.NetworkMode, s.global("conflict"))
	if len(binds) != 1 || !strings.HasPrefix(binds[0], "127.0.0.1:18931->80") {
		t.Fatalf("port bindings %v, want 127.0.0.1:18931->80/tcp", binds)
	}
	if d.HostConfig.NetworkMode != "bridge" {
		t.Errorf("ports without network: network mode %q, want bridge", d.HostConfig.NetworkMode)
	}
	if !strings.HasPrefix(s.global("conflict"), "InvalidArgument: ") || !strings.Contains(s.global("conflict"), "network = false") {
		t.Errorf("network = false with ports: %s", s.global("conflict"))
	}
	s.run(t, `c:shutdown()`)
}

// A sandbox has a memory limit unless it asks for none: a hog past 1 GiB is
// OOM-killed (and costs the host process nothing); mem_limit = 0 means none.
func TestDefaultMemoryLimit(t *testing.T) {
	eng := enginetest.Engine(t)
	s := newState(t, "")
	before := memtest.Peak(t, 0) >> 10
	s.run(t, `
local c = pocketdock.create_new_container{}
default_limit = c:info().mem_limit
hog = c:run("head -c 1200m /dev/zero | tail > /dev/null", {timeout = 60})
oom = tostring(c:info().oom_killed)
c:shutdown()
local u = pocketdock.create_new_container{mem_limit = 0}
unlimited = u:info().mem_limit
u:shutdown()
local ok, err = pcall(pocketdock.create_new_container, {disk_limit = "1g"})
disk = ok and "created" or err.kind`)
	after := memtest.Peak(t, 0) >> 10
	t.Logf("FIGURE memory: default limit %s bytes; 1200 MiB hog exit %s (oom_killed %s); mem_limit=0 gives %s; disk_limit here: %s; host VmHWM %d -> %d KiB",
		s.global("default_limit"), lua_field(s, "hog", "exit_code"), s.global("oom"), s.global("unlimited"), s.global("disk"), before, after)
	if s.global("default_limit") != fmt.Sprint(eng.DefaultMemLimit()) || eng.DefaultMemLimit() > 1<<30 {
		t.Errorf("default limit %s, want %d", s.global("default_limit"), eng.DefaultMemLimit())
	}
	if lua_field(s, "hog", "exit_code") != "137" {
		t.Errorf("the hog was not killed: exit %s", lua_field(s, "hog", "exit_code"))
	}
	if s.global("unlimited") != "0" {
		t.Errorf("mem_limit = 0 gave %s", s.global("unlimited"))
	}
	if want := map[bool]string{true: "created", false: "InvalidArgument"}[eng.DiskQuotas()]; s.global("disk") != want {
		t.Errorf("disk_limit: %s, want %s", s.global("disk"), want)
	}
	if after-before > 64<<10 {
		t.Errorf("host peak RSS grew by %d KiB", after-before)
	}
}

// doctor with a named engine that does not answer says so and fails; it does
// not report the private service as if it were that engine. On the default
// discovery it lists the sockets it tried.
func TestDoctorNamedEngineDown(t *testing.T) {
	t.Setenv("POCKETDOCK_SOCKET", "tcp://127.0.0.1:1")
	p := startBin(t, "doctor", "--json")
	code := p.wait(t, 30*time.Second)
	out := p.stdout.String()
	t.Logf("FIGURE doctor with POCKETDOCK_SOCKET=tcp://127.0.0.1:1: exit %d, %s", code, strings.TrimSpace(out))
	if code == 0 || !strings.Contains(out, `"ok": false`) && !strings.Contains(out, `"ok":false`) || !strings.Contains(out, "POCKETDOCK_SOCKET") {
		t.Errorf("doctor: exit %d\n%s\n%s", code, out, p.stderr)
	}
	os.Unsetenv("POCKETDOCK_SOCKET")
	p = startBin(t, "doctor", "--json")
	code = p.wait(t, 30*time.Second)
	out = p.stdout.String()
	if code != 0 || !strings.Contains(out, "sockets_tried") || !strings.Contains(out, "(answered)") {
		t.Errorf("doctor: exit %d\n%s\n%s", code, out, p.stderr)
	}
}

// userns = "auto" gives a sandbox its own host uid range: its root is not
// host root. Files keep their owners inside it, its snapshot is refused (this
// Podman would record host uids), and the default stays host uids.
func TestUserNSAuto(t *testing.T) {
	if ok, why := enginetest.Engine(t).AutoUserNS(); !ok {
		t.Fatalf("userns=auto is not available here: %s (make setup prepares it)", why)
	}
	s := newState(t, "")
	s.run(t, `
local c = pocketdock.create_new_container{userns = "auto"}
auto_map = c:run("cat /proc/self/uid_map").stdout
c:write_file("/opt/owned", "x", {owner = "sandbox"})
owned = c:run("stat -c %u:%g /opt/owned").stdout
as_user = c:run("id -u; echo hi > /home/sandbox/f && cat /home/sandbox/f", {user = "sandbox"}).stdout
local ok, err = pcall(c.snapshot, c, "localhost/pd-userns-refused:1")
snap = ok and "taken" or err.kind
c:shutdown()
local d = pocketdock.create_new_container{}
host_map = d:run("cat /proc/self/uid_map").stdout
d:shutdown()
ok, err = pcall(pocketdock.create_new_container, {userns = "private"})
bad = ok and "created" or err.kind
doctor = pocketdock.doctor().userns`)
	auto := strings.Fields(s.global("auto_map"))
	t.Logf("FIGURE userns: auto uid_map %v; default uid_map %q; owner via write_file %q; snapshot %s; doctor %q",
		auto, strings.TrimSpace(s.global("host_map")), strings.TrimSpace(s.global("owned")), s.global("snap"), s.global("doctor"))
	if len(auto) != 3 || auto[0] != "0" || auto[1] == "0" || auto[2] != "65536" {
		t.Errorf("auto uid_map %q", s.global("auto_map"))
	}
	if f := strings.Fields(s.global("host_map")); len(f) != 3 || f[1] != "0" {
		t.Errorf("default uid_map %q, want host uids", s.global("host_map"))
	}
	if s.global("owned") != "1000:1000\n" || s.global("as_user") != "1000\nhi\n" {
		t.Errorf("owners in an auto sandbox: %q, %q", s.global("owned"), s.global("as_user"))
	}
	if s.global("snap") != "InvalidArgument" || s.global("bad") != "InvalidArgument" {
		t.Errorf("snapshot %s, userns=private %s", s.global("snap"), s.global("bad"))
	}
	if !strings.Contains(s.global("doctor"), "available: yes") {
		t.Errorf("doctor says %q", s.global("doctor"))
	}
}
