-- Sandbox-level verbs: volumes outlive the container, labels, info, inspect,
-- reboot (plain and fresh), hooks, images.
local pd = require("pocketdock")

-- a volume's data outlives its container
local dir = T.tmpdir
pd.with_container({volumes = {[dir] = "/data"}}, function(c)
  assert(c:run("echo kept > /data/f").ok)
end)
local f = assert(io.open(dir .. "/f"))
assert(f:read("*a") == "kept\n")
f:close()
pd.with_container({volumes = {{source = dir, target = "/ro", readonly = true}}}, function(c)
  assert(c:run("cat /ro/f").stdout == "kept\n")
  assert(not c:run("echo x > /ro/g").ok, "read-only volume")
end)

local c = pd.create_new_container{labels = {team = "blue"}, env = {K = "v"}, mem_limit = "64m", pids_limit = 300}
local info = c:info()
assert(info.status == "running" and info.running and info.id == c.id and info.name == c.name)
assert(info.labels.team == "blue" and info.labels["pocketdock.managed"] == "true")
assert(info.labels["pocketdock.instance"] == c.name and info.labels["pocketdock.persist"] == "false")
assert(info.mem_limit == 64 * 1024 * 1024 and info.pids_limit == 300, info.mem_limit .. " " .. info.pids_limit)
assert(tostring(c):find("<container " .. c.name .. " running", 1, true))

local rec = c:inspect()
assert(rec.state.status == "running" and rec.id == c.id, "snake_case record")
assert(rec.config.labels.team == "blue")

-- hooks
local seen = {}
c:on_stdout(function(s) seen[#seen + 1] = s end)
c:run("echo hooked")
assert(table.concat(seen) == "hooked\n")
c:on_stdout(nil)

-- reboot keeps files; a fresh reboot starts from the image with the same options
c:run("echo x > /root/f")
c:reboot()
assert(c:run("cat /root/f").stdout == "x\n")
local old = c.id
c:reboot{fresh = true}
assert(c.id ~= old, "a new container")
assert(not c:run("cat /root/f").ok, "files gone after a fresh reboot")
info = c:info()
assert(info.labels.team == "blue" and info.mem_limit == 64 * 1024 * 1024 and info.pids_limit == 300)
assert(c:run("echo $K").stdout == "v\n")

local exited, exits = nil, 0
c:on_exit(function(x) exited = x.name; exits = exits + 1 end)
c:shutdown()
assert(exited == c.name, "on_exit ran")
c:shutdown() -- idempotent, and so is the hook
c:shutdown{force = true}
assert(exits == 1, "on_exit ran " .. exits .. " times")

-- images: exists, list, save and load round trip, remove
assert(pd.images.exists("localhost/pocketdock/minimal"))
assert(not pd.images.exists("localhost/no/such:thing"))
local tag = "localhost/scn-images-" .. os.time() .. ":1"
local s = pd.create_new_container{}
s:snapshot(tag)
s:shutdown()
local found = false
for _, im in ipairs(pd.images.list()) do
  for _, t in ipairs(im.tags) do if t == tag then found = true end end
end
assert(found, "snapshot listed")
local tar = T.tmpdir .. "/img.tar"
pd.images.save(tag, tar)
pd.images.remove(tag)
assert(not pd.images.exists(tag))
local names = pd.images.load(tar)
assert(#names >= 1 and pd.images.exists(tag), "loaded back")
pd.images.remove(tag)
local ok, err = pcall(pd.images.remove, tag)
assert(not ok and err.kind == "ImageNotFound", tostring(err))
