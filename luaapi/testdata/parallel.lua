-- pd.map and pd.parallel: results in order, engine calls overlap, the first
-- error carries its index and cancels the rest, pcall works inside tasks.
local pd = require("pocketdock")

local function sandbox_echo(i)
  return pd.with_container({}, function(c)  -- pcall inside a task
    return c:run("sleep 0.5; echo " .. i, {isolated = true}).stdout
  end)
end

local t0 = pd.clock()
local out = pd.map({1, 2, 3}, sandbox_echo)
local took = pd.clock() - t0
assert(#out == 3 and out[1] == "1\n" and out[2] == "2\n" and out[3] == "3\n", table.concat(out, ","))
T.log(("pd.map of 3 sandboxes each sleeping 0.5 s: %.0f ms"):format(took))
assert(took < 2500, "the three did not overlap: " .. took .. " ms")

local a = pd.parallel(function() return "x" end, function() return pd.version() end)
assert(a[1] == "x" and a[2] == pd.version())
assert(#pd.map({}, sandbox_echo) == 0)

-- the first error is raised with its index; the others are cancelled and cleaned up
local before = #pd.list_containers()
t0 = pd.clock()
local ok, err = pcall(pd.map, {1, 2, 3}, function(i)
  local c = pd.create_new_container{}
  if i == 2 then error({kind = "Boom", message = "item two failed"}) end
  c:run("sleep 20")
end)
assert(not ok, "error raised")
assert(err.index == 2, "index: " .. tostring(err.index))
assert(pd.clock() - t0 < 10000, "the sleeping items were cancelled")
assert(#pd.list_containers() <= before + 3)

-- a plain Lua error in a task also says where it came from
ok, err = pcall(pd.map, {1}, function() error("plain") end)
assert(not ok and err.index == 1 and tostring(err):find("plain"), tostring(err))

-- bad arguments
ok, err = pcall(pd.map, "no", print)
assert(not ok and err.kind == "InvalidArgument")
ok, err = pcall(pd.parallel, 1)
assert(not ok and err.kind == "InvalidArgument")
