//go:build !unit

package hardening

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// connectTo connects the test itself to a private service.
func connectTo(t *testing.T, uri string) *engine.Engine {
	t.Helper()
	e, err := engine.Connect(ctxT(t, 10*time.Second), uri, engine.ConnectOptions{})
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	return e
}

// The engine dies while a command runs: the script fails with
// EngineUnavailable within 5 s and exits 1; once the engine is back the next
// invocation works and reaps the sandbox the failed run could not remove.
func TestEngineDiesMidCommand(t *testing.T) {
	eng := enginetest.Engine(t)
	sock := tempSock(t)
	svc := startService(t, sock)
	name := uniq("dies")
	destroyLater(t, eng, name)
	p := startBin(t, "--socket", svc.uri, script(t, `
local c = pocketdock.create_new_container{name = "`+name+`"}
print("RUNNING") io.stdout:flush()
c:run("sleep 30")
print("NOT REACHED")
`))
	p.waitFor(t, "RUNNING", 30*time.Second)
	time.Sleep(500 * time.Millisecond) // the exec is under way
	killed := time.Now()
	svc.kill(t)
	code := p.wait(t, 10*time.Second)
	took := time.Since(killed)
	t.Logf("FIGURE engine-dies: exit %d after %.2f s; stderr: %s", code, took.Seconds(), firstLine(p.stderr.String()))
	if code != 1 || !strings.Contains(p.stderr.String(), "EngineUnavailable") {
		t.Fatalf("want exit 1 with EngineUnavailable, got %d\nstdout: %s\nstderr: %s", code, p.stdout, p.stderr)
	}
	if took > 5*time.Second {
		t.Fatalf("took %v to fail, want < 5 s", took)
	}
	for _, bad := range goInternals {
		if strings.Contains(p.stderr.String(), bad) {
			t.Errorf("stderr shows Go internals (%q): %s", bad, p.stderr)
		}
	}

	// The engine is back: the next invocation works without anything else.
	svc = startService(t, sock)
	start := time.Now()
	code, out, stderr := runBin(t, 60*time.Second, "--socket", svc.uri, "-e",
		`local c = pocketdock.create_new_container{} print(c:run("echo back").stdout)`)
	t.Logf("FIGURE engine-back: next invocation exit %d in %.2f s; stderr: %s", code, time.Since(start).Seconds(), strings.TrimSpace(stderr))
	if code != 0 || !strings.Contains(out, "back") {
		t.Fatalf("after restart: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
	if ok, _ := exists(t, eng, name); ok {
		t.Errorf("the ephemeral sandbox %s of the failed run was not reaped", name)
	}
}

// pocketdock is killed hard mid-run: the persistent sandbox is intact and
// resumable with its files; the ephemeral one is reaped by the next invocation.
func TestKilledHardMidRun(t *testing.T) {
	eng := enginetest.Engine(t)
	keep, eph := uniq("keep"), uniq("eph")
	destroyLater(t, eng, keep, eph)
	p := startBin(t, script(t, `
local k = pocketdock.create_new_container{name = "`+keep+`", persist = true}
k:run("echo precious > /root/data")
local e = pocketdock.create_new_container{name = "`+eph+`"}
print("READY") io.stdout:flush()
e:run("sleep 60")
`))
	p.waitFor(t, "READY", 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	p.wait(t, 5*time.Second)
	for _, n := range []string{keep, eph} {
		if ok, _ := exists(t, eng, n); !ok {
			t.Fatalf("%s is gone right after the kill: nothing should have removed it yet", n)
		}
	}
	start := time.Now()
	code, out, stderr := runBin(t, 60*time.Second, "-e",
		`local c = pocketdock.resume_container("`+keep+`") io.write(c:run("cat /root/data").stdout)`)
	t.Logf("FIGURE killed-hard: next invocation exit %d in %.2f s; stderr: %s", code, time.Since(start).Seconds(), strings.TrimSpace(stderr))
	if code != 0 || out != "precious\n" {
		t.Fatalf("resume after kill: exit %d\nstdout: %q\nstderr: %s", code, out, stderr)
	}
	if ok, _ := exists(t, eng, eph); ok {
		t.Errorf("ephemeral %s was not reaped by the next invocation (stderr: %s)", eph, stderr)
	}
	if !strings.Contains(stderr, eph) {
		t.Errorf("the reap was not announced: %s", stderr)
	}
	if ok, _ := exists(t, eng, keep); !ok {
		t.Errorf("persistent %s was removed", keep)
	}
}

// The engine restarts (graceful stop, then start): a persistent sandbox,
// running or stopped, resumes with its files.
func TestEngineRestartResumes(t *testing.T) {
	sock := tempSock(t)
	svc := startService(t, sock)
	running, stopped := uniq("rs-run"), uniq("rs-stop")
	destroyLater(t, enginetest.Engine(t), running, stopped)
	code, _, stderr := runBin(t, 60*time.Second, "--socket", svc.uri, "-e", `
local a = pocketdock.create_new_container{name = "`+running+`", persist = true}
a:run("echo one > /root/f")
local b = pocketdock.create_new_container{name = "`+stopped+`", persist = true}
b:run("echo two > /root/f")
b:stop()`)
	if code != 0 {
		t.Fatalf("setup: exit %d: %s", code, stderr)
	}
	svc.stop(t)
	svc = startService(t, sock)
	start := time.Now()
	code, out, stderr := runBin(t, 60*time.Second, "--socket", svc.uri, "-e", `
for _, n in ipairs{"`+running+`", "`+stopped+`"} do
  io.write(pocketdock.resume_container(n):run("cat /root/f").stdout)
end`)
	t.Logf("FIGURE engine-restart: resume of 2 sandboxes exit %d in %.2f s", code, time.Since(start).Seconds())
	if code != 0 || out != "one\ntwo\n" {
		t.Fatalf("resume after restart: exit %d\nstdout: %q\nstderr: %s", code, out, stderr)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// goInternals must never appear in what users read.
var goInternals = []string{"*lua.", "luaapi.", "engine.", "goroutine", ".go:", "panic", "runtime error", "0xc0"}

var _ = context.Background
