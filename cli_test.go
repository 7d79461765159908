//go:build !unit

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// pocketdockCmd runs the CLI: the test binary itself, as main's run() (see asCLI).
func pocketdockCmd(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCLI+"=1")
	return cmd
}

type result struct {
	code           int
	stdout, stderr string
}

func runBin(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := pocketdockCmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
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
	return result{code, out.String(), errb.String()}
}

func assertNoGoInternals(t *testing.T, s string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", ".go:", "panic:", "*lua.", "luaapi.", "runtime."} {
		if strings.Contains(s, bad) {
			t.Errorf("Go internals (%q) reach the user:\n%s", bad, s)
		}
	}
}

func TestScriptModesAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "args.lua")
	os.WriteFile(script, []byte("#!/usr/bin/env pocketdock\nprint(arg[0] == ..., select('#', ...), arg[1], arg[2])\n"), 0o755)
	bad := filepath.Join(dir, "bad.lua")
	os.WriteFile(bad, []byte("local function f()\n  error('boom')\nend\nf()\n"), 0o644)

	cases := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		out, inErr string
	}{
		{"chunk prints", "", []string{"-e", "print(1 + 1)"}, 0, "2\n", ""},
		{"script gets arg and ...", "", []string{script, "a", "b"}, 0, "false\t2\ta\tb\n", ""},
		{"script from stdin", "print('from stdin')", nil, 0, "from stdin\n", ""},
		{"lua error exits 1 with traceback", "", []string{bad}, 1, "", "boom"},
		{"syntax error exits 1", "", []string{"-e", "print("}, 1, "", "pocketdock:"},
		{"missing file", "", []string{filepath.Join(dir, "nope.lua")}, 1, "", "cannot read"},
		{"error tables read well", "", []string{"-e", "pocketdock.resume_container('no-such-sandbox-q')"}, 1, "", "ContainerNotFound: no sandbox named"},
		{"script from stdin with - and arguments", "print(arg[0], ...)", []string{"-", "a", "b"}, 0, "-\ta\tb\n", ""},
		{"stdin errors name stdin", "\nerror('x')", []string{"-"}, 1, "", "pocketdock: stdin:2: x"},
		{"version without make", "", []string{"--version"}, 0, "pocketdock 0.1.0 (commit unknown)\n", ""},
		{"pd is a global alias", "", []string{"-e", "print(pd == pocketdock, type(pd.create_new_container))"}, 0, "true\tfunction\n", ""},
		{"--help goes to stdout", "", []string{"--help"}, 0, "usage: pocketdock", ""},
		{"help(pd) lists the module", "", []string{"-e", "help(pd)"}, 0, "create_new_container", ""},
		{"help(pd.images) lists images", "", []string{"-e", "help(pd.images)"}, 0, "images.bootstrap", ""},
		{"help of a process method", "", []string{"-e", "help('p:kill')"}, 0, "p:kill(signal)", ""},
		{"a script's own pd wins", "", []string{"-e", "local pd = 5; print(pd)"}, 0, "5\n", ""},
		{"unknown command says what exists", "", []string{"lsit"}, 1, "", "commands are create"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runBin(t, c.stdin, c.args...)
			if r.code != c.code || !strings.Contains(r.stdout, c.out) || !strings.Contains(r.stderr, c.inErr) {
				t.Fatalf("got code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
			}
			assertNoGoInternals(t, r.stderr)
		})
	}
	if r := runBin(t, "", bad); !strings.Contains(r.stderr, bad+":2: boom") || !strings.Contains(r.stderr, bad+":4: in main chunk") {
		t.Errorf("traceback names the file and line: %q", r.stderr)
	}
}

// Tracebacks show the script's frames, not the module's own Lua (the yield
// wrapper, with_container, recipes) nor Go.
func TestTracebackHidesModuleFrames(t *testing.T) {
	script := filepath.Join(t.TempDir(), "tb.lua")
	os.WriteFile(script, []byte(`local function make()
  pocketdock.create_new_container{mem_limit = "lots"}
end
if arg[1] == "with" then
  pocketdock.with_container({}, function() make() end)
elseif arg[1] == "provision" then
  pocketdock.provision({base = "localhost/pocketdock-test/no-such-base:1", steps = {}})
else
  make()
end
`), 0o644)
	for _, mode := range []string{"direct", "with", "provision"} {
		t.Run(mode, func(t *testing.T) {
			r := runBin(t, "", script, mode)
			if r.code != 1 || !strings.Contains(r.stderr, "stack traceback:") {
				t.Fatalf("code %d stderr %q", r.code, r.stderr)
			}
			for _, bad := range []string{"[pocketdock]", "<string>", "[G]", "tailcall"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("traceback shows %q:\n%s", bad, r.stderr)
				}
			}
			want := map[string]string{"direct": script + ":2: in function 'make'", "with": script + ":5: in main chunk",
				"provision": script + ":7: in main chunk"}[mode]
			if !strings.Contains(r.stderr, want) {
				t.Errorf("traceback lacks %q:\n%s", want, r.stderr)
			}
			assertNoGoInternals(t, r.stderr)
		})
	}
}

func TestChunkStartsFast(t *testing.T) {
	best := time.Hour
	for i := 0; i < 5; i++ {
		start := time.Now()
		if out, err := pocketdockCmd("-e", "print(1)").Output(); err != nil || string(out) != "1\n" {
			t.Fatalf("%v %q", err, out)
		}
		best = min(best, time.Since(start))
	}
	t.Logf("pocketdock -e 'print(1)': best of 5 %v", best)
	if best > 200*time.Millisecond {
		t.Errorf("start-up took %v", best)
	}
}

// exists reports whether a sandbox with that name is still there.
func exists(t *testing.T, e *engine.Engine, name string) bool {
	t.Helper()
	list, err := e.List(context.Background(), engine.Filter{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return len(list) > 0
}

func uniqueName(prefix string) string {
	return prefix + "-" + strings.TrimPrefix(engine.RandomName(), "pd-")
}

// Ephemeral sandboxes go when the script ends, however it ends; persistent ones stay.
func TestEphemeralSandboxesRemovedAtEnd(t *testing.T) {
	e := enginetest.Engine(t)
	cases := []struct {
		name   string
		body   string
		signal syscall.Signal
		code   int
	}{
		{"normal end", "", 0, 0},
		{"lua error", "error('stop here')", 0, 1},
		{"os.exit", "pocketdock.with_container({}, function() os.exit(3) end)", 0, 3},
		{"SIGINT", "c:run('sleep 30')", syscall.SIGINT, 130},
		{"SIGTERM", "c:run('sleep 30')", syscall.SIGTERM, 143},
		{"SIGHUP", "c:run('sleep 30')", syscall.SIGHUP, 129},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eph, per := uniqueName("eph"), uniqueName("per")
			t.Cleanup(func() {
				if s, err := e.Find(context.Background(), per); err == nil {
					e.Remove(context.Background(), s.ID)
				}
			})
			src := "local c = pocketdock.create_new_container{name='" + eph + "'}\n" +
				"pocketdock.create_new_container{name='" + per + "', persist=true}\n" +
				"print('ready'); io.stdout:flush()\n" + c.body
			cmd := pocketdockCmd("-e", src)
			var out screen // read while the process writes it
			var errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if c.signal != 0 {
				waitFor(t, func() bool { return strings.Contains(out.String(), "ready") }, 20*time.Second)
				time.Sleep(300 * time.Millisecond) // let the sleep start
				cmd.Process.Signal(c.signal)
			}
			start := time.Now()
			err := cmd.Wait()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, c.code, errb.String())
			}
			if c.signal != 0 && time.Since(start) > 5*time.Second {
				t.Errorf("took %v to stop after the signal", time.Since(start))
			}
			assertNoGoInternals(t, errb.String())
			if exists(t, e, eph) {
				t.Errorf("ephemeral %s left behind", eph)
			}
			if !exists(t, e, per) {
				t.Errorf("persistent %s removed", per)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// After a hard kill the next invocation reaps the orphaned ephemeral sandbox.
func TestHardKillThenReap(t *testing.T) {
	e := enginetest.Engine(t)
	eph, per := uniqueName("orphan"), uniqueName("keep")
	t.Cleanup(func() {
		for _, n := range []string{eph, per} {
			if s, err := e.Find(context.Background(), n); err == nil {
				e.Remove(context.Background(), s.ID)
			}
		}
	})
	cmd := pocketdockCmd("-e", "pocketdock.create_new_container{name='"+eph+"'}\n"+
		"local p = pocketdock.create_new_container{name='"+per+"', persist=true}\np:run('echo kept > /root/f')\n"+
		"print('ready'); io.stdout:flush(); p:run('sleep 60')")
	var out screen // read while the process writes it
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Contains(out.String(), "ready") }, 20*time.Second)
	cmd.Process.Kill()
	cmd.Wait()
	if !exists(t, e, eph) {
		t.Fatal("a hard kill cannot clean up; the orphan should still be there")
	}
	r := runBin(t, "", "-e", "local c = pocketdock.resume_container('"+per+"'); io.write(c:run('cat /root/f').stdout)")
	if r.code != 0 || r.stdout != "kept\n" {
		t.Fatalf("persistent sandbox after a hard kill: %+v", r)
	}
	if exists(t, e, eph) {
		t.Errorf("orphan %s not reaped by the next invocation (stderr %q)", eph, r.stderr)
	}
	if !strings.Contains(r.stderr, eph) {
		t.Errorf("the reap is not reported: %q", r.stderr)
	}
}

// The REPL's error reports leave the module's own frames out too.
func TestREPLTracebackHidesModuleFrames(t *testing.T) {
	scr, send, pos, _ := startREPL(t)
	send(`function make() pd.create_new_container{mem_limit = "lots"} end` + "\r")
	pos = scr.waitText(t, pos, "> ", 10*time.Second)
	send("make()\r")
	pos = scr.waitText(t, pos, `"lots" is not a size`, 10*time.Second)
	scr.waitText(t, pos, "> ", 10*time.Second)
	if s := scr.String(); strings.Contains(s, "[pocketdock]") || strings.Contains(s, "<string>") {
		t.Errorf("the REPL shows the module's frames:\n%s", s)
	}
}

// make builds the binary with the commit it was built from (-dirty when
// tracked files differ from it); a plain go build says "unknown" (see
// TestScriptModesAndExitCodes).
func TestVersionFromMakeNamesTheCommit(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "pocketdock")
	if out, err := exec.Command("make", "-s", "BIN="+bin, bin).CombinedOutput(); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	want := "unknown" // built from a tree that is not a git checkout
	if head, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		want = strings.TrimSpace(string(head))
		if exec.Command("git", "diff", "--quiet", "HEAD", "--").Run() != nil {
			want += "-dirty"
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "pocketdock 0.1.0 (commit "+want+")\n" {
		t.Errorf("--version says %q, want commit %s", got, want)
	}
}

// make setup checks each tool and installs only the packages of missing ones;
// with everything there it is quiet and quick.
func TestMakeSetupInstallsOnlyWhatIsMissing(t *testing.T) {
	if out, err := exec.Command("make", "-s", "setup").CombinedOutput(); err != nil {
		t.Fatalf("make setup: %v\n%s", err, out)
	}
	start := time.Now()
	out, err := exec.Command("make", "-s", "setup").CombinedOutput()
	took := time.Since(start)
	if err != nil || len(out) != 0 {
		t.Fatalf("make setup again: %v, said %q", err, out)
	}
	t.Logf("make setup with everything present: %v", took)
	if took > time.Second {
		t.Errorf("make setup with everything present took %v", took)
	}
	// A missing tool brings its package, and only it; apt-get is a stand-in
	// that records its arguments.
	fake := t.TempDir()
	log := filepath.Join(fake, "apt.log")
	os.WriteFile(filepath.Join(fake, "apt-get"), []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755)
	cmd := exec.Command("make", "-s", "setup", "SETUP_TOOLS=podman:podman /no/such/tool:pdtest-pkg no-such-command:pdtest-other /bin/busybox:busybox-static")
	cmd.Env = append(os.Environ(), "PATH="+fake+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil || string(out) != "installing pdtest-pkg pdtest-other (apt-get)\n" {
		t.Fatalf("make setup with two tools missing: %v, said %q", err, out)
	}
	if got, _ := os.ReadFile(log); string(got) != "update -qq\ninstall -y -qq pdtest-pkg pdtest-other\n" {
		t.Errorf("apt-get was called with %q", got)
	}
	// What the tests need is there now: sshd and its keys for ssh:// engines,
	// pkill for the service tests, iptables for published ports, catatonit as
	// the sandboxes' init.
	for _, tool := range []string{"/usr/sbin/sshd", "/usr/bin/ssh-keygen", "/usr/bin/pkill", "/usr/sbin/iptables",
		"/usr/bin/catatonit", "/usr/bin/newuidmap", "/bin/busybox"} {
		if _, err := os.Stat(tool); err != nil {
			t.Errorf("after make setup: %v", err)
		}
	}
}
