-- The persistence workflow end to end: create, stop, resume with files kept,
-- list, snapshot, a sandbox from the snapshot, destroy, prune.
local pd = require("pocketdock")
local name = "scn-persist-" .. tostring(os.time()) .. tostring(math.random(1000, 9999))
local project = name .. "-p"

local c = pd.create_new_container{persist = true, name = name, project = project}
assert(c.name == name and c.persist == true and c.project == project)
assert(c:run("echo setup done > /root/marker").ok)
c:shutdown()                                       -- persistent: stopped, kept
local found
for _, item in ipairs(pd.list_containers{project = project}) do
  if item.name == name then found = item end
end
assert(found, "listed after shutdown")
assert(found.status == "exited", "status " .. found.status)
assert(found.persist == true and found.project == project)
assert(found.created_at:match("^%d%d%d%d%-%d%d%-%d%dT"), found.created_at)

c = pd.resume_container(name)
assert(c:run("cat /root/marker").stdout == "setup done\n", "files kept across stop/resume")
assert(c:run([[echo "I'm back"]]).stdout == "I'm back\n")

pd.stop_container(name)
assert(pd.list_containers{project = project}[1].status == "exited")
c = pd.resume_container(name)

local tag = name .. ":with-tools"
local id = c:snapshot(tag)
assert(type(id) == "string" and #id >= 12, "snapshot id")
local c2 = pd.create_new_container{image = tag}
assert(c2:run("cat /root/marker").stdout == "setup done\n", "snapshot carries files")
c2:shutdown()

pd.destroy_container(name)
local ok, err = pcall(pd.resume_container, name)
assert(not ok and err.kind == "ContainerNotFound", tostring(err))

-- prune removes stopped managed containers of the project, persistent too
local p1 = pd.create_new_container{persist = true, name = name .. "-a", project = project}
local p2 = pd.create_new_container{persist = true, name = name .. "-b", project = project}
p1:stop()
local n, names = pd.prune{project = project, dry_run = true}
assert(n == 1 and names[1] == name .. "-a", "dry run lists the stopped one")
n, names = pd.prune{project = project}
assert(n == 1 and names[1] == name .. "-a")
assert(#pd.list_containers{project = project} == 1)
p2:shutdown{force = true}
assert(#pd.list_containers{project = project} == 0)
pd.images.remove(tag)
