-- c:run: shell strings and argv, streams, env, cwd, user, stdin, timeout, caps.
local pd = require("pocketdock")
pd.with_container({env = {GREETING = "hello"}, workdir = "/tmp"}, function(c)
  local r = c:run("echo $GREETING; pwd")
  assert(r.stdout == "hello\n/tmp\n", r.stdout)
  assert(r.ok and r.exit_code == 0 and not r.timed_out and not r.truncated)
  assert(type(r.duration_ms) == "number" and r.duration_ms > 0)

  -- argv: no shell, so the semicolon is data
  r = c:run({"echo", "a; echo b"})
  assert(r.stdout == "a; echo b\n", r.stdout)

  r = c:run("printf 'no newline'; printf 'err' >&2")
  assert(r.stdout == "no newline" and r.stderr == "err")

  r = c:run("echo $A-$B", {env = {A = "1", B = 2}})
  assert(r.stdout == "1-2\n", r.stdout)
  r = c:run("pwd", {cwd = "/etc"})
  assert(r.stdout == "/etc\n")
  r = c:run("id -u", {user = "sandbox"})
  assert(r.stdout == "1000\n", r.stdout)
  r = c:run("cat", {stdin = "fed in"})
  assert(r.stdout == "fed in", r.stdout)
  r = c:run("cat")   -- stdin is empty unless given: never hangs
  assert(r.stdout == "")

  local t0 = pd.clock()
  r = c:run("echo partial; sleep 30; echo never", {timeout = 0.5})
  assert(r.timed_out and not r.ok and r.stdout == "partial\n", r.stdout)
  assert(pd.clock() - t0 < 5000)
  assert(c:run("ps | grep 'sleep 30' | grep -v grep").stdout == "", "timed-out command is gone")

  r = c:run("yes | head -c 100000", {max_output = 1000})
  assert(r.truncated and #r.stdout == 1000, #r.stdout)

  local chunks = {}
  r = c:run("echo one; echo two >&2; echo three", {on_stdout = function(s) chunks[#chunks + 1] = "o:" .. s end,
    on_stderr = function(s) chunks[#chunks + 1] = "e:" .. s end})
  local all = table.concat(chunks)
  assert(all:find("o:one") and all:find("e:two") and all:find("three"), all)

  -- multi-byte characters are never split across callback chunks
  local seen = {}
  c:run("printf '\\303'; sleep 0.2; printf '\\251\\n'", {on_stdout = function(s) seen[#seen + 1] = s end})
  assert(table.concat(seen) == "é\n" and seen[1] ~= "\195", "split: " .. #seen)
end)
