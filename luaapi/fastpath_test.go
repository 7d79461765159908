package luaapi_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/project"
)

// execCases run on both paths with the same expected result. cmd and opts
// are Lua expressions; want is the result as summarized by the Lua helper
// below (exit|stdout|stderr|timed_out|truncated, %q-quoted strings).
var execCases = []struct{ name, cmd, opts, want string }{
	{"exit code", `"exit 3"`, `{}`, `3|""|""|false|false`},
	{"streams", `"echo out; echo err >&2"`, `{}`, `0|"out\n"|"err\n"|false|false`},
	{"argv", `{"echo", "a  b", "$HOME"}`, `{}`, `0|"a  b $HOME\n"|""|false|false`},
	{"env", `"echo $FOO:$HOME:$PATH"`, `{env = {FOO = "bar"}}`, `0|"bar:/root:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"|""|false|false`},
	{"env override", `"echo $PATH"`, `{env = {PATH = "/bin"}}`, `0|"/bin\n"|""|false|false`},
	{"cwd default", `"pwd"`, `{}`, `0|"/\n"|""|false|false`},
	{"cwd", `"pwd"`, `{cwd = "/tmp"}`, `0|"/tmp\n"|""|false|false`},
	{"user default", `"id -u"`, `{}`, `0|"0\n"|""|false|false`},
	{"user", `"id -u; id -g; echo $HOME"`, `{user = "sandbox"}`, `0|"1000\n1000\n/root\n"|""|false|false`},
	{"user uid", `"id -un"`, `{user = "1000"}`, `0|"sandbox\n"|""|false|false`},
	{"stdin", `"cat; echo"`, `{stdin = "abc"}`, `0|"abc\n"|""|false|false`},
	{"no stdin", `"cat"`, `{}`, `0|""|""|false|false`},
	{"no trailing newline", `"printf abc; printf def >&2"`, `{}`, `0|"abc"|"def"|false|false`},
	{"not found", `{"/nonexistent-cmd"}`, `{}`, `127|*|*|false|false`},
	{"timeout", `"echo start; sleep 30; echo never"`, `{timeout = 1}`, `137|"start\n"|""|true|false`},
	// Past the cap output is dropped, and the command runs to its end.
	{"max_output", `"yes | head -c 100000"`, `{max_output = 1000}`, `0|*|""|false|true`},
	{"max_output stderr", `"yes | head -c 100000 >&2"`, `{max_output = 500}`, `0|""|*|false|true`},
	{"max_output 1", `"echo hi"`, `{max_output = 1}`, `0|"h"|""|false|true`},
}

const execHelpers = `
function summary(r)
  return string.format("%d|%q|%q|%s|%s", r.exit_code, r.stdout, r.stderr, tostring(r.timed_out), tostring(r.truncated))
    :gsub("\\\n", "\\n")
end
`

// luaString evaluates a Lua expression and returns it as a string.
func luaString(t *testing.T, s *state, expr string) string {
	t.Helper()
	s.run(t, "__out = "+expr)
	return lua.LVAsString(s.L.GetGlobal("__out"))
}

func matches(got, want string) bool {
	g, w := strings.Split(got, "|"), strings.Split(want, "|")
	if len(g) != len(w) {
		return false
	}
	for i := range w {
		if w[i] != "*" && w[i] != g[i] {
			return false
		}
	}
	return true
}

// newFastState makes a sandbox in a fresh state and checks that its very
// first command already runs on the fast path.
func newFastState(t *testing.T) *state {
	s := newState(t)
	s.run(t, execHelpers+`c = pocketdock.create_new_container{}`)
	if got := luaString(t, s, `c:run("cat /proc/$PPID/comm").stdout`); !strings.HasPrefix(got, "pocketdock-agen") {
		t.Fatalf("the fast path is not in use: parent is %q", got)
	}
	if got := luaString(t, s, `c:run("cat /proc/$PPID/comm", {isolated = true}).stdout`); strings.HasPrefix(got, "pocketdock-agen") {
		t.Fatalf("isolated = true did not take the plain path")
	}
	return s
}

func TestExecBothPaths(t *testing.T) {
	s := newFastState(t)
	for _, tc := range execCases {
		for _, path := range []string{"fast", "plain"} {
			opts := tc.opts
			if path == "plain" {
				opts = "(function(o) o.isolated = true; return o end)(" + opts + ")"
			}
			got := luaString(t, s, "summary(c:run("+tc.cmd+", "+opts+"))")
			if !matches(got, tc.want) {
				t.Errorf("%s (%s path): got %s, want %s", tc.name, path, got, tc.want)
			}
		}
	}
	// A timed-out command is gone afterwards, on both paths.
	if got := luaString(t, s, `c:run("ps -o args | grep -c '^sleep 30'").stdout`); got != "0\n" {
		t.Errorf("a timed-out command still runs: %q", got)
	}
	// The max_output stdout keeps exactly the cap.
	for _, iso := range []string{"false", "true"} {
		if got := luaString(t, s, `#c:run("yes | head -c 100000", {max_output = 1000, isolated = `+iso+`}).stdout`); got != "1000" {
			t.Errorf("max_output (isolated=%s) kept %s bytes", iso, got)
		}
	}
}

// A missing working directory is named as such on both paths, not as a
// program that cannot be found.
func TestExecMissingCwd(t *testing.T) {
	s := newFastState(t)
	for _, iso := range []string{"false", "true"} {
		got := luaString(t, s, `(function() local r = c:run("true", {cwd = "/nope", isolated = `+iso+`})
  return r.exit_code .. "|" .. r.stderr end)()`)
		if !strings.Contains(got, "/nope") || !strings.Contains(got, "working directory") || strings.Contains(got, "fork/exec") {
			t.Errorf("isolated=%s: a missing cwd reads %q", iso, got)
		}
	}
}

func TestExecSameEnvironment(t *testing.T) {
	s := newFastState(t)
	for _, user := range []string{"", "sandbox"} {
		fast := luaString(t, s, `c:run("env | sort", {user = "`+user+`", env = {X = "1"}}).stdout`)
		plain := luaString(t, s, `c:run("env | sort", {user = "`+user+`", env = {X = "1"}, isolated = true}).stdout`)
		if fast != plain {
			t.Errorf("user %q: environments differ\nfast:\n%s\nplain:\n%s", user, fast, plain)
		}
	}
}

func TestExecCallbacksBothPaths(t *testing.T) {
	s := newFastState(t)
	for _, iso := range []string{"false", "true"} {
		got := luaString(t, s, `(function()
  local ev = {}
  local r = c:run("echo a; sleep 0.2; echo b >&2; sleep 0.2; printf c", {isolated = `+iso+`,
    on_stdout = function(x) ev[#ev+1] = "out:" .. x end,
    on_stderr = function(x) ev[#ev+1] = "err:" .. x end})
  assert(r.stdout == "a\nc" and r.stderr == "b\n")
  return table.concat(ev, "|")
end)()`)
		if got != "out:a\n|err:b\n|out:c" {
			t.Errorf("isolated=%s: callbacks got %q", iso, got)
		}
	}
}

func TestExecAgentKilledFallsBack(t *testing.T) {
	s := newFastState(t)
	// The command kills the executor under itself; it still returns.
	s.run(t, `local r = c:run("kill -9 $PPID; sleep 1"); assert(not r.ok, r.exit_code)`)
	s.run(t, `local r = c:run("echo ok"); assert(r.stdout == "ok\n", r.stdout)`)
	// The executor is back for the next commands.
	if got := luaString(t, s, `c:run("cat /proc/$PPID/comm").stdout`); !strings.HasPrefix(got, "pocketdock-agen") {
		t.Errorf("the executor was not restarted: parent %q", got)
	}
	// Output floods and unread stdin do not wedge later commands.
	s.run(t, `local r = c:run("yes | head -c 20000000", {max_output = 1048576}); assert(r.truncated and r.ok)`)
	s.run(t, `local r = c:run("sleep 0.2", {stdin = string.rep("x", 5 * 1024 * 1024)}); assert(r.ok)`)
	s.run(t, `local r = c:run("echo ok", {timeout = 5}); assert(r.stdout == "ok\n")`)
}

func TestExecReadOnlyRootfs(t *testing.T) {
	s := newState(t)
	s.run(t, `c = pocketdock.create_new_container{read_only = true}
local r = c:run("cat /proc/$PPID/comm"); assert(r.stdout:match("^pocketdock%-agen"), r.stdout .. r.stderr)`)
}

// isolated = true on a sandbox's first command leaves the executor unstarted;
// the first command without it starts it.
func TestIsolatedLeavesExecutorUnstarted(t *testing.T) {
	s := newState(t)
	s.run(t, `local c = pocketdock.create_new_container{}
local function agents()
  return c:run([[ps -o args | grep -c "^/.pocketdock/pocketdock-agent"]], {isolated = true}).stdout
end
assert(c:run("true", {isolated = true}).ok)
assert(agents() == "0\n", "an isolated command started the executor")
assert(c:run("true").ok)
assert(agents() == "1\n", "the first plain-mode command did not start it")
c:shutdown()`)
}

// Ctrl-C during a sandbox's first command (while the executor starts) does
// not keep the sandbox off the fast path.
func TestExecFirstCommandInterrupted(t *testing.T) {
	s := newState(t)
	for _, delay := range []time.Duration{20 * time.Millisecond, 60 * time.Millisecond, 100 * time.Millisecond} {
		s.run(t, `c = pocketdock.create_new_container{}`)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(delay, cancel) // as Ctrl-C does
		s.L.SetContext(ctx)
		_, err := s.eval(`c:run("true")`)
		cancel()
		s.L.RemoveContext()
		if err != nil && !strings.Contains(errText(err), "Interrupted") {
			t.Fatalf("after %v: %s", delay, errText(err))
		}
		if got := luaString(t, s, `c:run("cat /proc/$PPID/comm").stdout`); !strings.HasPrefix(got, "pocketdock-agen") {
			t.Fatalf("interrupted after %v: later commands left the fast path, parent %q", delay, got)
		}
		s.run(t, `c:shutdown()`)
	}
}

// Commands on a sandbox stopped behind pocketdock's back fail as on the
// plain path, and once it is started again the executor comes back.
func TestExecStoppedThenStarted(t *testing.T) {
	s := newState(t)
	s.run(t, `c = pocketdock.create_new_container{persist = true}
assert(c:run("true").ok)
pocketdock.stop_container(c.name)
for i = 1, 4 do
  local ok, err = pcall(c.run, c, "true")
  assert(not ok and err.kind == "ContainerNotRunning", tostring(err))
end
c:start()`)
	defer s.run(t, `c:shutdown{force = true}`)
	if got := luaString(t, s, `c:run("cat /proc/$PPID/comm").stdout`); !strings.HasPrefix(got, "pocketdock-agen") {
		t.Fatalf("the executor did not come back: parent %q", got)
	}
}

// An image without a shell still runs argv commands: the executor is copied
// in through the archive API and runs them without one.
func TestExecWithoutShell(t *testing.T) {
	s := newState(t)
	s.run(t, `local c = pocketdock.create_new_container{}
assert(c:run({"/bin/busybox", "rm", "/bin/sh"}).ok)
image = c:snapshot("localhost/pocketdock-test/no-shell:latest")
c:shutdown()`)
	defer s.run(t, `pocketdock.images.remove("localhost/pocketdock-test/no-shell:latest")`)
	s.run(t, `local c = pocketdock.create_new_container{image = "localhost/pocketdock-test/no-shell:latest"}
local r = c:run({"/bin/busybox", "echo", "no shell"})
assert(r.ok and r.stdout == "no shell\n", r.stdout .. r.stderr)
assert(not c:run({"/bin/sh", "-c", "true"}).ok)
c:shutdown()`)
}

func TestExecTiming(t *testing.T) {
	s := newFastState(t)
	p50 := func(iso string) time.Duration {
		var d []time.Duration
		for i := 0; i < 50; i++ {
			start := time.Now()
			s.run(t, `assert(c:run("true", {isolated = `+iso+`}).ok)`)
			d = append(d, time.Since(start))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	fast, plain := p50("false"), p50("true")
	t.Logf("c:run(\"true\") p50: fast %v, plain %v (%.0fx)", fast, plain, float64(plain)/float64(fast))
	if fast >= plain/3 {
		t.Errorf("the fast path is not fast: %v vs %v", fast, plain)
	}
}

// peakRSS resets the process's peak resident size (VmHWM) and returns a
// function that reads how far it rose, in MiB.
func peakRSS(t *testing.T) func() float64 {
	t.Helper()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("cannot reset the peak RSS: %v", err)
	}
	return func() float64 {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				return float64(kb) / 1024
			}
		}
		t.Fatal("no VmHWM in /proc/self/status")
		return 0
	}
}

// A command printing far more than the cap keeps the cap, in bounded
// memory and linear time, on sessions and on both paths of run; the
// command runs to its end.
func TestOutputCapsBoundMemory(t *testing.T) {
	s := newFastState(t)
	s.run(t, `sess = c:session()`)
	cases := []struct{ name, code string }{
		{"session, default cap", `sess:run("head -c 300000000 /dev/zero; echo end >&2")`},
		{"run, max_output 1 MiB", `c:run("head -c 300000000 /dev/zero; echo end >&2", {max_output = 1048576})`},
		{"run plain path, max_output 1 MiB", `c:run("head -c 100000000 /dev/zero; echo end >&2", {max_output = 1048576, isolated = true})`},
	}
	for _, tc := range cases {
		debug.FreeOSMemory() // what an earlier case freed is not counted again
		peak := peakRSS(t)
		start := time.Now()
		got := luaString(t, s, `(function() local r = `+tc.code+`
  return string.format("%d|%d|%s|%s", r.exit_code, #r.stdout + #r.stderr, tostring(r.truncated), tostring(r.timed_out)) end)()`)
		took, hwm := time.Since(start), peak()
		t.Logf("FIGURE output cap: %s: %s (exit|kept|truncated|timed_out) in %v, peak RSS %.0f MiB", tc.name, got, took.Round(time.Millisecond), hwm)
		parts := strings.Split(got, "|")
		if parts[0] != "0" || parts[2] != "true" || parts[3] != "false" {
			t.Errorf("%s: got %s, want exit 0, truncated, not timed out", tc.name, got)
		}
		if want := map[bool]string{true: "67108864", false: "1048576"}[strings.HasPrefix(tc.name, "session")]; parts[1] != want {
			t.Errorf("%s: kept %s bytes, want %s", tc.name, parts[1], want)
		}
		// The session keeps 64 MiB, as a buffer and as a Lua string.
		if limit := map[bool]float64{true: 350, false: 120}[strings.HasPrefix(tc.name, "session")]; hwm > limit {
			t.Errorf("%s: peak RSS %.0f MiB, more than %.0f", tc.name, hwm, limit)
		}
		if took > 30*time.Second {
			t.Errorf("%s: took %v", tc.name, took)
		}
	}
	// The session is clean afterwards.
	if got := luaString(t, s, `sess:run("echo next").stdout`); got != "next\n" {
		t.Errorf("the session after a capped command: %q", got)
	}
}

// A session whose sandbox is removed under a command raises
// ContainerNotFound (or SessionClosed, when the engine has not finished
// removing it yet), never a success.
func TestSessionSandboxRemoved(t *testing.T) {
	s := newFastState(t)
	s.run(t, `sess = c:session(); id = c.id`)
	id := lua.LVAsString(s.L.GetGlobal("id"))
	time.AfterFunc(time.Second, func() { _ = testEngine.Remove(context.Background(), id) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s.L.SetContext(ctx)
	defer s.L.RemoveContext()
	got := luaString(t, s, `(function() local ok, err = pcall(sess.run, sess, "sleep 10; echo done")
  if ok then return "success: " .. err.exit_code end
  return err.kind .. ": " .. err.message end)()`)
	if !strings.HasPrefix(got, "ContainerNotFound") && !strings.HasPrefix(got, "SessionClosed") {
		t.Fatalf("a session command in a removed sandbox gave %q", got)
	}
}

// Ctrl-C (the context's cancellation) stops a session command at once; the
// session lives on, clean.
func TestSessionInterrupted(t *testing.T) {
	s := newFastState(t)
	s.run(t, `sess = c:session()`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	s.L.SetContext(ctx)
	start := time.Now()
	_, err := s.eval(`sess:run("sleep 30; echo never")`)
	took := time.Since(start)
	s.L.RemoveContext()
	if err == nil || !strings.Contains(errText(err), "Interrupted") {
		t.Fatalf("an interrupted session command: %v", err)
	}
	if took > 4*time.Second {
		t.Errorf("the interrupted command returned after %v", took)
	}
	if got := luaString(t, s, `sess:run("echo next").stdout .. c:run("ps -o args | grep -c '^sleep 30'").stdout`); got != "next\n0\n" {
		t.Errorf("after the interrupt: %q", got)
	}
}

// Session and spawn commands are in a project sandbox's history, as run's are.
func TestHistoryRecordsSessionAndSpawn(t *testing.T) {
	root := t.TempDir()
	yes := true
	if _, err := project.Init(root, project.Config{Name: "histproj", Persist: &yes}, false); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(wd) })
	s := newState(t)
	s.run(t, `c = pocketdock.create_new_container{}
name = c.name
c:run("echo from-run")
local sess = c:session()
sess:run("echo from-session")
c:spawn("echo from-spawn"):wait(10)`)
	defer s.run(t, `c:shutdown{force = true}; pcall(pocketdock.destroy_container, name)`)
	name := lua.LVAsString(s.L.GetGlobal("name"))
	hist, err := os.ReadFile(filepath.Join(root, ".pocketdock", "instances", name, "history.jsonl"))
	for _, cmd := range []string{"echo from-run", "echo from-session", "echo from-spawn"} {
		if err != nil || !strings.Contains(string(hist), cmd) {
			t.Errorf("history lacks %q: %q, %v", cmd, hist, err)
		}
	}
}
