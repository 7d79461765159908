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
-- (counted by name: other tests share the engine)
local mine = ("pd-maperr-%d-"):format(os.time() % 100000)
local function count_mine()
  local n = 0
  for _, s in ipairs(pd.list_containers()) do
    if s.name:sub(1, #mine) == mine then n = n + 1 end
  end
  return n
end
t0 = pd.clock()
local ok, err = pcall(pd.map, {1, 2, 3}, function(i)
  local c = pd.create_new_container{name = mine .. i}
  if i == 2 then error({kind = "Boom", message = "item two failed"}) end
  c:run("sleep 20")
end)
assert(not ok, "error raised")
assert(err.index == 2, "index: " .. tostring(err.index))
assert(pd.clock() - t0 < 10000, "the sleeping items were cancelled")
assert(count_mine() <= 3)

-- a plain Lua error in a task also says where it came from
ok, err = pcall(pd.map, {1}, function() error("plain") end)
assert(not ok and err.index == 1 and tostring(err):find("plain"), tostring(err))

-- bad arguments
ok, err = pcall(pd.map, "no", print)
assert(not ok and err.kind == "InvalidArgument")
ok, err = pcall(pd.parallel, 1)
assert(not ok and err.kind == "InvalidArgument")

-- with_container inside pd.map: when one task raises, the others' sandboxes
-- are shut down before pd.map returns (ephemeral: removed; persistent: stopped).
local prefix = ("pd-abort-%d-"):format(os.time() % 100000)
local exits = 0
t0 = pd.clock()
ok, err = pcall(pd.map, {1, 2, 3, 4, 5}, function(i)
  return pd.with_container({name = prefix .. i, persist = i == 5}, function(c)
    c:on_exit(function() exits = exits + 1 end)
    if i == 3 then
      c:run("sleep 0.3")
      error({kind = "Boom", message = "item three failed"})
    end
    c:run("sleep 20")
  end)
end)
local took = pd.clock() - t0
assert(not ok and err.index == 3, tostring(err))
local left = {}
for _, s in ipairs(pd.list_containers()) do
  if s.name:sub(1, #prefix) == prefix and s.status == "running" then left[#left + 1] = s.name end
  if s.name:sub(1, #prefix) == prefix and not s.persist then left[#left + 1] = s.name .. " (not removed)" end
end
local kept = pd.list_containers()
pd.destroy_container(prefix .. "5")
T.log(("pd.map abort with 5 with_container tasks: %.0f ms, %d on_exit hooks ran"):format(took, exits))
assert(#left == 0, "left behind after the map returned: " .. table.concat(left, ", "))
assert(exits == 5, "on_exit ran " .. exits .. " times")
assert(took < 10000, "the map took " .. took .. " ms")
