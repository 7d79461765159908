-- Every error kind a script meets is a table with kind, message and hint.
local pd = require("pocketdock")

local function fails(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected a " .. kind .. " error")
  assert(type(err) == "table", "error is a table, got " .. type(err) .. ": " .. tostring(err))
  assert(err.kind == kind, ("expected %s, got %s: %s"):format(kind, tostring(err.kind), tostring(err)))
  assert(type(err.message) == "string" and #err.message > 0)
  local text = tostring(err)
  assert(text:find(kind, 1, true), text)
  for _, bad in ipairs{"*lua.", "luaapi.", "goroutine", ".go:", "engine.Error", "0x"} do
    assert(not text:find(bad, 1, true), "Go internals in message: " .. text)
  end
  return err
end

local e = fails("ContainerNotFound", pd.resume_container, "no-such-sandbox-xyz")
assert(e.hint, "not found has a hint")
e = fails("ImageNotFound", pd.create_new_container, {image = "localhost/no/such-image:1"})
assert(e.hint and e.hint:find("pull"), "missing image hint: " .. tostring(e.hint))
e = fails("InvalidArgument", pd.create_new_container, {timeout = "soon"})
assert(e.message:find("timeout") and e.message:find("number"), e.message)
e = fails("InvalidArgument", pd.create_new_container, {imgae = "x"})
assert(e.message:find("imgae") and e.hint:find("image"), "unknown option names itself and hints the known ones")
e = fails("InvalidArgument", pd.create_new_container, {name = "bad name!"})
assert(e.message:find("bad name!", 1, true))
fails("InvalidArgument", pd.create_new_container, "not a table")
fails("InvalidArgument", pd.create_new_container, {mem_limit = "lots"})
fails("InvalidArgument", pd.create_new_container, {ports = {[70000] = 80}})
fails("InvalidArgument", pd.create_new_container, {labels = {["pocketdock.managed"] = "no"}})
e = fails("EngineUnavailable", pd.list_containers, {socket_path = "unix:///tmp/no-engine-here.sock"})
assert(e.message:find("no-engine-here", 1, true), "names the socket tried: " .. e.message)
fails("InvalidArgument", pd.list_containers, {socket_path = "ftp://x"})

local name = "scn-conflict-" .. os.time() .. math.random(1000, 9999)
local c = pd.create_new_container{name = name}
e = fails("NameConflict", pd.create_new_container, {name = name})
assert(e.hint, "conflict has a hint")

-- method misuse and argument types
fails("InvalidArgument", c.run, c, 42)
fails("InvalidArgument", c.run, c, {})
fails("InvalidArgument", c.run, "not a container", "true")
fails("InvalidArgument", c.run, c, "true", {timeout = -1})
fails("InvalidArgument", c.run, c, "true", {cwd = "relative"})
fails("InvalidArgument", c.snapshot, c, "Bad:Tag")
fails("InvalidArgument", c.snapshot, c, "repo:")

-- check = true raises on failure; a failing command is otherwise data
local r = c:run("exit 4")
assert(r.exit_code == 4 and r.ok == false)
e = fails("CommandFailed", c.run, c, "echo nope >&2; exit 4", {check = true})
assert(e.message:find("nope"), e.message)

c:shutdown()
c:shutdown() -- idempotent
e = fails("ContainerNotFound", c.run, c, "true")
assert(e.hint)

-- a stopped sandbox is not running
local p = pd.create_new_container{name = name .. "-p", persist = true}
p:stop()
e = fails("ContainerNotRunning", p.run, p, "true")
assert(e.hint and e.hint:find("start"), tostring(e.hint))
p:shutdown{force = true}

-- an error repeats at most ~200 bytes of a huge argument, wherever it was made
local huge = string.rep("x", 50 * 1024 * 1024)
local function short(e, what)
  local s = tostring(e)
  assert(#s < 1000, what .. ": the message is " .. #s .. " bytes long")
  assert(s:find("bytes in all", 1, true), what .. ": the message does not say it was cut: " .. s)
end
short(fails("InvalidArgument", pd.resume_container, huge), "resume_container(huge name)")
short(fails("InvalidArgument", pd.create_new_container, {[huge] = 1}), "an unknown huge option")
short(fails("InvalidArgument", pd.create_new_container, {env = {[huge .. " x"] = 1}}), "a huge env name")
short(fails("InvalidArgument", pd.connect, huge), "connect(huge name)")
huge = nil
collectgarbage()

-- options: env names are checked, not dropped; names are strings; the
-- timeout's limit is stated; provision refuses unknown options
e = fails("InvalidArgument", pd.create_new_container, {env = {["A B"] = "1"}})
assert(e.message:find('"A B"', 1, true), e.message)
e = fails("InvalidArgument", pd.create_new_container, {env = {["A=B"] = "1"}})
e = fails("InvalidArgument", pd.create_new_container, {name = 123})
assert(e.message:find("option 'name' must be a string, got number", 1, true), e.message)
e = fails("InvalidArgument", pd.create_new_container, {timeout = 1e12})
assert(e.message:find("from 0 to 1000000000", 1, true), e.message)
e = fails("InvalidArgument", pd.provision, "/nonexistent/recipe.lua", {tag = "x:1", bogus = true})
assert(e.message:find("unknown option 'bogus'", 1, true) and e.hint:find("tag"), tostring(e))
e = fails("InvalidArgument", pd.provision, "/nonexistent/recipe.lua", {tag = 5})
e = fails("InvalidArgument", pd.images.build, "x:1", {steps = {}}, {tag = "y"})

-- pd.abspath: a host path made absolute against the working directory
assert(pd.abspath("x/y") == pd.abspath(".") .. "/x/y" and pd.abspath("/etc/.") == "/etc", pd.abspath("x/y"))
fails("InvalidArgument", pd.abspath, {})
