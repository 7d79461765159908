#!/usr/bin/env pocketdock
-- The persistence workflow: make a persistent sandbox, stop it, resume it
-- with its files intact, snapshot it, start a new sandbox from the snapshot,
-- and clean everything up.
local pd = require("pocketdock")

local name = arg and arg[1] or "my-sandbox"
local function step(fmt, ...) print(("==> " .. fmt):format(...)) end

-- a leftover from an earlier, interrupted run would be a name conflict
pcall(pd.destroy_container, name)

step("creating persistent sandbox %q", name)
local c = pd.create_new_container{persist = true, name = name}
print(c)
print(c:run("echo setup done > /root/setup.txt; cat /root/setup.txt").stdout)

step("shutting it down (persistent: stopped, kept)")
c:shutdown()

step("sandboxes now:")
for _, item in ipairs(pd.list_containers()) do
  print(("  %-20s %-8s persist=%-5s %s"):format(item.name, item.status, tostring(item.persist), item.created_at))
end

step("resuming %q", name)
c = pd.resume_container(name)
io.write(c:run([[echo "I'm back"]]).stdout)
io.write("  file kept: ", c:run("cat /root/setup.txt").stdout)

step("snapshot into %s:with-tools", name)
local t0 = pd.clock()
local id = c:snapshot(name .. ":with-tools")
print(("  image %s (%.0f ms)"):format(id:sub(1, 12), pd.clock() - t0))

step("a new sandbox from the snapshot")
pd.with_container({image = name .. ":with-tools"}, function(c2)
  io.write("  it has the file: ", c2:run("cat /root/setup.txt").stdout)
end)

step("a run that fails is data, not an error")
local r = c:run("echo oops >&2; exit 3")
print(("  exit_code=%d ok=%s stderr=%q"):format(r.exit_code, tostring(r.ok), r.stderr))

step("a timeout ends the command inside the sandbox and keeps partial output")
r = c:run("echo started; sleep 30", {timeout = 0.5})
print(("  timed_out=%s stdout=%q in %.0f ms"):format(tostring(r.timed_out), r.stdout, r.duration_ms))

step("cleaning up")
pd.destroy_container(name)
pd.images.remove(name .. ":with-tools")
local n = pd.prune()
print(("  destroyed %s, pruned %d stopped sandbox(es)"):format(name, n))
