//go:build !unit

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
	"github.com/pocketdock/pocketdock/internal/remotetest"
	"github.com/pocketdock/pocketdock/luaapi"
)

// The test binary doubles as the CLI: with this variable set it runs main's
// run() on its arguments, so CLI tests need no separate build.
const asCLI = "POCKETDOCK_TEST_AS_CLI"

func init() {
	if os.Getenv(asCLI) == "1" {
		os.Exit(run(os.Args[1:]))
	}
}

// remote holds the engines of TestRemoteEngines.
type remote struct {
	home    string // HOME of the test: the ssh layer's known_hosts lives here
	local   string // the private service's unix URI
	tcp     *remotetest.Service
	sshd    *remotetest.SSHD
	sshURI  string
	sshSock string
}

// TestRemoteEngines drives three engines at once — the private service
// (unix), a second Podman service on tcp://127.0.0.1:PORT and the private
// service again through an openssh server on 127.0.0.1:PORT — from Lua and
// from the CLI. The services share the host's container storage, so every
// engine sees every sandbox; what differs is the way in.
func TestRemoteEngines(t *testing.T) {
	if os.Getenv(testHome) == "" {
		rerunWithTempHome(t)
		return
	}
	r := setupRemote(t)
	t.Run("connect and drive each engine", r.testDriveEach)
	t.Run("ssh key from CONTAINER_SSHKEY", r.testSSHKeyEnv)
	t.Run("known_hosts stays in HOME", r.testKnownHosts)
	t.Run("errors name their engine", r.testErrorsNameEngine)
	t.Run("handle keeps its engine when it goes away", r.testEngineGoesAway)
	t.Run("runs over tcp", r.testRunsOverTCP)
	t.Run("cli --socket", r.testCLISocket)
	t.Run("named connections", r.testNamedConnections)
	t.Run("fleet script", r.testFleet)
}

// testHome marks the test process that runs with a temporary HOME.
const testHome = "POCKETDOCK_TEST_HOME"

// rerunWithTempHome runs this test again in a child process whose HOME is a
// temporary directory. The ssh layer of the bindings trusts a new host key on
// first use and appends it to $HOME/.ssh/known_hosts, reading HOME once per
// process (before any test could change it): a child with its own HOME keeps
// the user's file untouched. The state dir is pinned so the private service
// is still found.
func rerunWithTempHome(t *testing.T) {
	home := t.TempDir()
	args := []string{"-test.run=^TestRemoteEngines$", "-test.timeout=150s"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HOME="+home, testHome+"="+home, "CONTAINER_SSHKEY=",
		"XDG_STATE_HOME="+filepath.Dir(engine.StateDir()))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the remote engine tests failed: %v", err)
	}
}

func setupRemote(t *testing.T) *remote {
	r := &remote{home: os.Getenv(testHome)}

	e := enginetest.Engine(t)
	r.local = e.URI
	r.sshSock = strings.TrimPrefix(e.URI, "unix://")
	r.tcp = remotetest.StartPodmanTCP(t, filepath.Join(engine.StateDir(), "containers.conf"))
	r.sshd = remotetest.StartSSHD(t)
	r.sshURI = r.sshd.URI + r.sshSock
	return r
}

// lua runs src in a fresh module with T = {tcp=, ssh=, key=, local_uri=, tmpdir=, log=}.
func (r *remote) lua(t *testing.T, src string) {
	t.Helper()
	L := lua.NewState()
	var stderr bytes.Buffer
	m := luaapi.New(luaapi.Options{Stderr: &stderr})
	m.Preload(L)
	defer L.Close()
	defer m.Cleanup()
	tt := L.NewTable()
	for k, v := range map[string]string{"tcp": r.tcp.URI, "ssh": r.sshURI, "key": r.sshd.Key,
		"local_uri": r.local, "tmpdir": t.TempDir()} {
		tt.RawSetString(k, lua.LString(v))
	}
	tt.RawSetString("log", L.NewFunction(func(L *lua.LState) int { t.Log(L.ToString(1)); return 0 }))
	L.SetGlobal("T", tt)
	if err := L.DoString(src); err != nil {
		msg := err.Error()
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			msg = luaapi.ErrorText(ae.Object) + "\n" + ae.StackTrace
		}
		t.Fatalf("lua: %s\nstderr: %s\ntcp service log: %s", msg, stderr.String(), r.tcp.Log())
	}
}

func (r *remote) testDriveEach(t *testing.T) {
	r.lua(t, `
local pd = require("pocketdock")
local function drive(e, want)
  assert(e.engine == want, "handle engine " .. tostring(e.engine))
  local c = e.create_new_container{}
  assert(c.engine == want, "container engine " .. c.engine)
  local res = c:run("echo hi from $(hostname); exit 3")
  assert(res.exit_code == 3 and res.stdout:match("^hi from "), res.stdout)
  -- round trip of one command, best of five
  local best = math.huge
  for _ = 1, 5 do
    local t0 = pd.clock(); c:run("true"); best = math.min(best, pd.clock() - t0)
  end
  local found = false
  for _, s in ipairs(e.list_containers()) do found = found or s.name == c.name end
  assert(found, "list on " .. want .. " misses " .. c.name)
  local again = e.resume_container(c.name)
  assert(again.engine == want and again.id == c.id)
  assert(again:run("echo again").stdout == "again\n")
  c:shutdown()
  for _, s in ipairs(e.list_containers()) do assert(s.name ~= c.name, "still listed after shutdown") end
  T.log(string.format("%-70s run round trip %.1f ms", want, best))
end
drive(pd.connect(T.local_uri), T.local_uri)
drive(pd.connect(T.tcp, {timeout = 5}), T.tcp)
drive(pd.connect(T.ssh, {identity = T.key, timeout = 10}), T.ssh)
-- socket_path on a module call means the same engine as a handle
local c = pd.create_new_container{socket_path = T.tcp}
assert(c.engine == T.tcp, c.engine)
c:shutdown()
`)
}

func (r *remote) testSSHKeyEnv(t *testing.T) {
	t.Setenv("CONTAINER_SSHKEY", r.sshd.Key)
	r.lua(t, `
local pd = require("pocketdock")
local e = pd.connect(T.ssh)
local out = e.with_container({}, function(c) return c:run({"echo", "key from env"}).stdout end)
assert(out == "key from env\n", out)
`)
}

func (r *remote) testKnownHosts(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(r.home, ".ssh", "known_hosts"))
	if err != nil {
		t.Fatalf("the ssh connection did not record the host key in the test's HOME: %v", err)
	}
	if !strings.Contains(string(data), r.sshd.KnownHosts) {
		t.Fatalf("known_hosts lacks %q:\n%s", r.sshd.KnownHosts, data)
	}
	// A host whose key differs from the recorded one is refused, and the
	// error names the engine.
	other := remotetest.StartSSHD(t)
	line := fmt.Sprintf("[127.0.0.1]:%d %s\n", other.Port, strings.Join(strings.Fields(r.sshd.HostKey)[:2], " "))
	f, err := os.OpenFile(filepath.Join(r.home, ".ssh", "known_hosts"), os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(line)
	f.Close()
	uri := other.URI + r.sshSock
	_, err = engine.Connect(context.Background(), uri, engine.ConnectOptions{Identity: other.Key, Timeout: 10 * time.Second})
	if !engine.IsKind(err, engine.EngineUnavailable) || !strings.Contains(err.Error(), uri) {
		t.Fatalf("a changed host key: got %v", err)
	}
	t.Logf("changed host key: %v", err)
}

func (r *remote) testErrorsNameEngine(t *testing.T) {
	r.lua(t, `
local pd = require("pocketdock")
for _, spec in ipairs{{T.tcp, {}}, {T.ssh, {identity = T.key}}} do
  local e = pd.connect(spec[1], spec[2])
  local ok, err = pcall(e.resume_container, "pd-no-such-sandbox-here")
  assert(not ok and err.kind == "ContainerNotFound", tostring(err))
  assert(err.engine == spec[1], "error engine " .. tostring(err.engine))
  assert(tostring(err):find(spec[1], 1, true), tostring(err))
end
local ok, err = pcall(pd.connect, "tcp://127.0.0.1:1", {timeout = 2})
assert(not ok and err.kind == "EngineUnavailable" and tostring(err):find("tcp://127.0.0.1:1", 1, true), tostring(err))
local ok, err = pcall(pd.connect, "no-such-connection-name")
assert(not ok and err.kind == "InvalidArgument" and err.message:find("no-such-connection-name", 1, true), tostring(err))
`)
}

// A sandbox made through a tcp engine keeps using that engine: when the
// engine goes away its calls fail naming it, and the default engine (which
// shares the storage) still reaches the sandbox.
func (r *remote) testEngineGoesAway(t *testing.T) {
	doomed := remotetest.StartPodmanTCP(t, filepath.Join(engine.StateDir(), "containers.conf"))
	L := lua.NewState()
	defer L.Close()
	m := luaapi.New(luaapi.Options{Stderr: &bytes.Buffer{}})
	m.Preload(L)
	defer m.Cleanup()
	L.SetGlobal("DOOMED", lua.LString(doomed.URI))
	run := func(src string) {
		t.Helper()
		if err := L.DoString(src); err != nil {
			t.Fatalf("lua: %v", err)
		}
	}
	run(`pd = require("pocketdock")
-- persistent, so the module does not hold on to it as one of its own
-- ephemeral sandboxes: resume_container below then makes a fresh handle.
c = pd.connect(DOOMED).create_new_container{persist = true}
assert(c.engine == DOOMED and c:run("echo up").stdout == "up\n")`)
	name := lua.LVAsString(L.GetField(L.GetGlobal("c"), "name"))
	defer removeByName(t, name)
	doomed.Stop()
	run(`
local ok, err = pcall(c.run, c, "echo down")
assert(not ok and err.kind == "EngineUnavailable", tostring(err))
assert(err.engine == DOOMED, "error engine " .. tostring(err.engine))
local listed = false
for _, s in ipairs(pd.list_containers()) do listed = listed or s.name == c.name end
assert(listed, "the default engine does not see " .. c.name)
local same = pd.resume_container(c.name)
assert(same.engine ~= DOOMED, same.engine)
local r = same:run("echo still here")
assert(r.stdout == "still here\n", r.stdout .. r.stderr .. r.exit_code)
assert(pd.destroy_container(c.name))`)
}

// Commands over tcp give the same results as over the unix socket, whichever
// way (fast path or plain exec) they are delivered.
func (r *remote) testRunsOverTCP(t *testing.T) {
	r.lua(t, `
local pd = require("pocketdock")
pd.connect(T.tcp).with_container({env = {FROM = "env"}}, function(c)
  local r = c:run("cat; echo $FROM $PWD; id -un; echo err >&2; exit 7",
    {stdin = "in\n", cwd = "/tmp", user = "sandbox"})
  assert(r.stdout == "in\nenv /tmp\nsandbox\n" and r.stderr == "err\n" and r.exit_code == 7,
    string.format("%q %q %d", r.stdout, r.stderr, r.exit_code))
  local big = c:run("head -c 300000 /dev/zero | tr '\\0' x")
  assert(#big.stdout == 300000 and big.ok, #big.stdout)
  local t0 = pd.clock()
  local slow = c:run("echo started; sleep 30", {timeout = 1})
  assert(slow.timed_out and slow.stdout == "started\n" and pd.clock() - t0 < 6000, tostring(slow.stdout))
  for i = 1, 10 do assert(c:run({"echo", tostring(i)}).stdout == i .. "\n") end
  c:write_file("/tmp/over-tcp.txt", "file over tcp\n")
  assert(c:read_file("/tmp/over-tcp.txt") == "file over tcp\n")
end)
`)
}

// cli runs the CLI (this test binary) with extra environment.
func cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := pocketdockCmd(args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

const cliChunk = `local pd = require("pocketdock")
local c = pd.create_new_container{}
io.write(c.engine, "\n", c:run("echo via cli").stdout)
c:shutdown()`

func (r *remote) testCLISocket(t *testing.T) {
	for _, uri := range []string{r.tcp.URI, r.sshURI} {
		env := []string{"CONTAINER_SSHKEY=" + r.sshd.Key}
		out, errs, code := cli(t, env, "--socket", uri, "-e", cliChunk)
		if code != 0 || out != uri+"\nvia cli\n" {
			t.Fatalf("--socket %s: exit %d\nstdout: %s\nstderr: %s", uri, code, out, errs)
		}
	}
	out, errs, code := cli(t, nil, "--socket", "tcp://127.0.0.1:1", "-e", cliChunk)
	if code != 1 || !strings.Contains(errs, "EngineUnavailable") || !strings.Contains(errs, "tcp://127.0.0.1:1") || strings.Contains(errs, "goroutine") {
		t.Fatalf("unreachable --socket: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// Podman's named connections come from containers.conf service_destinations;
// CONTAINERS_CONF points the CLI at a file of the test's own.
func (r *remote) testNamedConnections(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "containers.conf")
	body := fmt.Sprintf(`[engine]
active_service = "fleet-tcp"
[engine.service_destinations.fleet-tcp]
uri = %q
[engine.service_destinations.fleet-ssh]
uri = %q
identity = %q
`, r.tcp.URI, r.sshURI, r.sshd.Key)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"CONTAINERS_CONF=" + conf}
	out, errs, code := cli(t, env, "--connection", "fleet-ssh", "-e", cliChunk)
	if code != 0 || out != r.sshURI+"\nvia cli\n" {
		t.Fatalf("--connection fleet-ssh: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	out, errs, code = cli(t, env, "-e", `local pd = require("pocketdock")
for _, name in ipairs{"fleet-tcp", "fleet-ssh"} do
  local e = pd.connect(name)
  io.write(name, " ", e.engine, " ", e.with_container({}, function(c) return c:run("echo ok").stdout end))
end`)
	want := "fleet-tcp " + r.tcp.URI + " ok\nfleet-ssh " + r.sshURI + " ok\n"
	if code != 0 || out != want {
		t.Fatalf("pd.connect(name): exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	out, errs, code = cli(t, env, "--connection", "nope", "-e", cliChunk)
	if code != 1 || !strings.Contains(errs, `no podman connection named "nope"`) {
		t.Fatalf("--connection nope: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

func (r *remote) testFleet(t *testing.T) {
	out, errs, code := cli(t, nil, "scripts/fleet.lua", "4", "default", r.tcp.URI)
	if code != 0 {
		t.Fatalf("fleet: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 4 {
		t.Fatalf("fleet printed:\n%s", out)
	}
	var names []string
	for i, line := range lines[:4] {
		f := strings.Split(line, "\t")
		want := r.local
		if i%2 == 1 {
			want = r.tcp.URI
		}
		if len(f) != 5 || f[0] != fmt.Sprint(i+1) || f[1] != want || f[3] != "exit=0" || !strings.HasPrefix(f[4], fmt.Sprintf("sandbox %d on ", i+1)) {
			t.Fatalf("fleet line %d: %q\n%s", i+1, line, out)
		}
		names = append(names, f[2])
	}
	if !strings.Contains(out, "# "+r.tcp.URI+": 2 sandboxes") || strings.Contains(errs, "removed ephemeral") {
		t.Fatalf("fleet:\nstdout: %s\nstderr: %s", out, errs)
	}
	list, _, _ := cli(t, nil, "-e", `for _, s in ipairs(require("pocketdock").list_containers()) do print(s.name) end`)
	for _, n := range names {
		if strings.Contains(list, n) {
			t.Fatalf("fleet left %s behind", n)
		}
	}
	t.Logf("fleet:\n%s", out)
}

// removeByName removes a sandbox through the shared engine, if it is still there.
func removeByName(t *testing.T, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e := enginetest.Engine(t)
	if s, err := e.Find(ctx, name); err == nil {
		_ = e.Remove(ctx, s.ID)
	}
}
