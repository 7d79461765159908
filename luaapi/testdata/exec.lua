-- spawn and session, against a real sandbox.
local pd = require("pocketdock")
local c = pd.create_new_container{}
c:run("true") -- the executor is up from the first command

local function count(pattern)
  return tonumber(c:run("ps -o args | grep -c '^" .. pattern .. "'", {isolated = true}).stdout)
end

-- spawn on both paths: output buffered, wait gives the run result, kill ends the tree.
for _, iso in ipairs{false, true} do
  local p = c:spawn("echo hi; printf err >&2; sleep 0.3; printf there", {isolated = iso})
  assert(p:running())
  assert(p:wait(0.05) == nil, "wait with a short timeout returns nil")
  local r = p:wait(10)
  assert(r and r.exit_code == 0 and r.stdout == "hi\nthere" and r.stderr == "err", r and r.stdout)
  assert(not p:running())
  local out, err, over = p:peek()
  assert(out == "hi\nthere" and err == "err" and over == false)
  out = p:read()
  assert(out == "hi\nthere")
  assert(p:read() == "", "read drains")

  local k = c:spawn("sleep 301 & sleep 302 & sleep 303", {isolated = iso})
  local deadline = pd.clock() + 5000
  while count("sleep 30[123]") < 3 and pd.clock() < deadline do end
  assert(count("sleep 30[123]") == 3, "the spawned tree runs")
  assert(k:kill())
  assert(not k:running())
  assert(count("sleep 30[123]") == 0, "kill ends the process and its children (isolated=" .. tostring(iso) .. ")")
  local r2 = k:wait()
  assert(r2.exit_code == 137, r2.exit_code)

  local t = c:spawn("trap 'echo got; exit 5' TERM; while :; do sleep 0.05; done", {isolated = iso})
  c:run("sleep 0.3")
  t:kill("TERM")
  local r3 = t:wait(10)
  assert(r3 and r3.exit_code == 5 and r3.stdout == "got\n", "TERM is delivered: " .. tostring(r3 and r3.exit_code))
end

-- a bounded buffer with an overflow flag
local f = c:spawn("head -c 3000000 /dev/zero")
local r = f:wait(30)
local out, _, over = f:read()
assert(#out == 1024 * 1024 and over, #out)

-- sessions keep the shell's state
local s = c:session()
s:run("cd /tmp; export A=1; B=2")
assert(s:run("pwd").stdout == "/tmp\n")
assert(s:run("echo $A$B").stdout == "12\n")
-- output without a trailing newline, exit codes, complete stderr
local r = s:run("printf abc; printf def >&2; false")
assert(r.stdout == "abc" and r.stderr == "def" and r.exit_code == 1, r.stdout .. "|" .. r.stderr)
for i = 1, 20 do
  local x = s:run("echo e" .. i .. " >&2; printf o" .. i)
  assert(x.stderr == "e" .. i .. "\n" and x.stdout == "o" .. i, "stderr complete every time")
end
-- a command reading stdin does not wedge; given stdin is passed exactly
assert(s:run("cat").stdout == "")
assert(s:run("cat", {stdin = "it's $HOME\n\0x"}).stdout == "it's $HOME\n\0x")
assert(s:run("wc -c", {stdin = ""}).stdout:match("^%s*0"))
-- a syntax error is an error result, not the end of the session
local se = s:run("echo 'unterminated")
assert(se.exit_code == 2 and se.stderr ~= "", se.exit_code)
assert(s:run("echo $A").stdout == "1\n")
-- after a timeout the next command is clean and the session lives on
local t = s:run("echo before; sleep 30; echo never", {timeout = 1})
assert(t.timed_out and t.exit_code == 137 and t.stdout == "before\n", t.stdout)
assert(count("sleep 30") == 0, "the timed-out command was killed")
local n = s:run("echo next")
assert(n.stdout == "next\n" and n.stderr == "" and n.exit_code == 0)
-- the timeout is kept when nothing was printed before it, too: what follows is dropped
t0 = pd.clock()
t = s:run("sleep 5; echo never", {timeout = 1})
assert(t.timed_out and t.exit_code == 137 and t.stdout == "" and not t.ok, t.stdout .. t.exit_code)
assert(pd.clock() - t0 < 4000, "the timed-out session command took " .. (pd.clock() - t0))
assert(s:run("echo next").stdout == "next\n")
-- max_output keeps what fits and lets the command finish
local m = s:run("yes | head -c 300000; echo done", {max_output = 1000})
assert(m.truncated and #m.stdout == 1000 and m.exit_code == 0, #m.stdout)
assert(s:run("echo clean").stdout == "clean\n")
assert(s:run("pwd").stdout == "/tmp\n")
-- speed
local t0 = pd.clock()
for i = 1, 50 do s:run("true") end
local per = (pd.clock() - t0) / 50
T.log(string.format("session command: %.2f ms", per))
assert(per < 20, tostring(per))
-- options and user
local s2 = c:session{cwd = "/tmp", env = {Z = "9"}, user = "sandbox"}
assert(s2:run("pwd; echo $Z; id -u").stdout == "/tmp\n9\n1000\n")
s2:close()
local ok, e = pcall(s2.run, s2, "true")
assert(not ok and e.kind == "SessionClosed", tostring(e))
-- exit ends the session: the next use raises SessionClosed
local x = s:run("echo bye; exit 3")
assert(x.exit_code == 3 and x.stdout == "bye\n", x.exit_code)
ok, e = pcall(s.run, s, "true")
assert(not ok and e.kind == "SessionClosed", tostring(e))
-- a session whose executor dies under it raises SessionClosed, never a success
local s4 = c:session()
ok, e = pcall(s4.run, s4, "kill -9 $PPID; sleep 1; echo done")
assert(not ok and e.kind == "SessionClosed", tostring(e))
ok, e = pcall(s4.run, s4, "true")
assert(not ok and e.kind == "SessionClosed", tostring(e))
assert(c:run("echo back").stdout == "back\n")
-- a dead session does not hold up shutdown
local s3 = c:session()
c:run("kill -9 " .. s3:run("echo $$").stdout, {isolated = true})
c:shutdown()
for _, l in ipairs(pd.list_containers{}) do assert(l.name ~= c.name, "the sandbox was removed") end
ok, e = pcall(s3.run, s3, "true")
assert(not ok and e.kind == "SessionClosed", tostring(e))
