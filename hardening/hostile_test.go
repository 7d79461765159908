//go:build !unit

package hardening

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Every wrong type in every argument of every function and method raises
// InvalidArgument naming the function and the argument, with no Go internals.
func TestWrongTypesSweep(t *testing.T) {
	s := newState(t, "")
	if err := s.L.DoFile("testdata/wrong_types.lua"); err != nil {
		t.Fatalf("the sweep itself failed: %s", errText(err))
	}
	res := s.L.GetGlobal("RESULT").(*lua.LTable)
	calls := int(lua.LVAsNumber(res.RawGetString("calls")))
	var failures []string
	res.RawGetString("failures").(*lua.LTable).ForEach(func(_, v lua.LValue) { failures = append(failures, v.String()) })
	t.Logf("FIGURE wrong-types: %d calls, %d bad errors", calls, len(failures))
	if len(failures) > 0 {
		t.Fatalf("%d of %d calls raised a bad error:\n%s", len(failures), calls, strings.Join(failures, "\n"))
	}
}

// runWithin runs Lua code that must finish within d: a hang fails the test
// instead of holding it forever.
func (s *state) runWithin(t *testing.T, d time.Duration, src string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	s.L.SetContext(ctx)
	defer s.L.RemoveContext()
	if err := s.L.DoString(src); err != nil {
		t.Fatalf("within %v: %s\n%s", d, errText(err), src)
	}
}

// onFastPath is a Lua expression: does c's next command run on the executor?
const onFastPath = `tostring(c:run("cat /proc/$PPID/comm").stdout:match("^pocketdock%-agen") ~= nil)`

// Something else at the executor's path (here a script that sleeps, put
// there by root in the sandbox) cannot hang the host: the start has a
// deadline under the command's timeout, the command runs on the plain path,
// and the next start delivers the real executor again.
func TestPlantedExecutorCannotHang(t *testing.T) {
	s := newState(t, "")
	s.run(t, `c = pocketdock.create_new_container{}
assert(c:run("true").ok)
assert(c:run([[for f in /.pocketdock/pocketdock-agent-*; do printf '#!/bin/sh\nsleep 1000\n' > $f.new && chmod 755 $f.new && mv -f $f.new $f; done]], {isolated = true}).ok)
c:run("kill -9 $PPID")`)
	s.runWithin(t, 20*time.Second, `local t0 = pocketdock.clock()
r = c:run("echo hi", {timeout = 5})
hang_ms = pocketdock.clock() - t0
t0 = pocketdock.clock()
fast = `+onFastPath+`
next_ms = pocketdock.clock() - t0`)
	t.Logf("FIGURE planted-executor: run with timeout 5 s returned in %s ms (%q); the next command %s ms, on the executor again: %s",
		s.global("hang_ms"), lua_field(s, "r", "stdout"), s.global("next_ms"), s.global("fast"))
	if lua_field(s, "r", "stdout") != "hi\n" || lua_field(s, "r", "exit_code") != "0" {
		t.Errorf("the command did not run: %q exit %s", lua_field(s, "r", "stdout"), lua_field(s, "r", "exit_code"))
	}
	if ms, _ := strconv.ParseFloat(s.global("hang_ms"), 64); ms > 5500 {
		t.Errorf("the command took %v ms, more than its 5 s timeout", ms)
	}
	if s.global("fast") != "true" {
		t.Errorf("the real executor was not delivered again")
	}
	s.run(t, `c:shutdown()`)
}

// A stopped executor cannot hold a command without a timeout: it stops
// answering pings, the command ends with 137 and says why, and the next
// command gets a new executor.
func TestStoppedExecutorCannotHang(t *testing.T) {
	s := newState(t, "")
	s.run(t, `c = pocketdock.create_new_container{}
assert(c:run("true").ok)`)
	s.runWithin(t, 30*time.Second, `local t0 = pocketdock.clock()
r = c:run("kill -STOP $PPID; echo stopped", {timeout = 0})
stop_ms = pocketdock.clock() - t0
fast = `+onFastPath)
	t.Logf("FIGURE stopped-executor: run with timeout 0 returned in %s ms, exit %s, %q; next command on a new executor: %s",
		s.global("stop_ms"), lua_field(s, "r", "exit_code"), strings.TrimSpace(lua_field(s, "r", "stderr")), s.global("fast"))
	if lua_field(s, "r", "exit_code") != "137" || !strings.Contains(lua_field(s, "r", "stderr"), "stopped answering") {
		t.Errorf("want exit 137 saying the executor stopped answering, got %s %q", lua_field(s, "r", "exit_code"), lua_field(s, "r", "stderr"))
	}
	if ms, _ := strconv.ParseFloat(s.global("stop_ms"), 64); ms > 10000 {
		t.Errorf("noticing the stopped executor took %v ms", ms)
	}
	if s.global("fast") != "true" {
		t.Errorf("no new executor after the stopped one")
	}
	s.run(t, `c:shutdown()`)
}

// forge writes, from inside the sandbox, frames for ids 1..50 into the
// executor's stdout: output "FORGED-OUTPUT" and exit 0 for each.
const forge = `for i in $(seq 1 50); do o=$(printf '\\%03o' $i)
printf "\005\000\000\000${o}\000\000\000\015FORGED-OUTPUT\007\000\000\000${o}\000\000\000\017{\"exit_code\":0}" > /proc/$PPID/fd/1
done; sleep 1`

// Root in the sandbox can write to the executor's stdout, but a forged frame
// does not become another command's result: it ends the connection, the
// victim reads as killed (137), never as exit 0 with the forged output, and
// the next command works on a new executor.
func TestForgedResultsRefused(t *testing.T) {
	s := newState(t, "")
	s.run(t, `c = pocketdock.create_new_container{}
assert(c:run("true").ok)`)
	s.runWithin(t, 30*time.Second, `local victim = c:spawn("sleep 3; exit 3")
forger = c:run([==[`+forge+`]==])
v = victim:wait(10)
after = c:run("echo ok")
fast = `+onFastPath)
	t.Logf("FIGURE forged-frames: victim exit %s stdout %q; forger exit %s, %q; next command %q on the executor: %s",
		lua_field(s, "v", "exit_code"), lua_field(s, "v", "stdout"), lua_field(s, "forger", "exit_code"),
		strings.TrimSpace(lua_field(s, "forger", "stderr")), lua_field(s, "after", "stdout"), s.global("fast"))
	for _, g := range []string{"v", "forger"} {
		if lua_field(s, g, "exit_code") == "0" || strings.Contains(lua_field(s, g, "stdout"), "FORGED") {
			t.Errorf("%s took a forged result: exit %s, %q", g, lua_field(s, g, "exit_code"), lua_field(s, g, "stdout"))
		}
	}
	if !strings.Contains(lua_field(s, "forger", "stderr"), "protocol") {
		t.Errorf("the forger's result does not say the protocol broke: %q", lua_field(s, "forger", "stderr"))
	}
	if lua_field(s, "after", "stdout") != "ok\n" || s.global("fast") != "true" {
		t.Errorf("the sandbox did not recover: %q, fast path %s", lua_field(s, "after", "stdout"), s.global("fast"))
	}
	s.run(t, `c:shutdown()`)
}
