-- fleet.lua: spread sandboxes round-robin over several Podman engines and run
-- one command in each, concurrently.
--
--   pocketdock scripts/fleet.lua N [ENGINE ...] [-- COMMAND ...]
--
-- ENGINE is a URI (unix://, tcp://, ssh://), a podman connection name, or
-- "default" for the engine pocketdock finds by itself (also what you get with
-- no ENGINE at all). COMMAND runs through sh -c; by default it says which
-- sandbox it is. Every sandbox is removed again, whatever happens.
local pd = require("pocketdock")

local usage = "usage: pocketdock scripts/fleet.lua N [ENGINE ...] [-- COMMAND ...]"
local n = tonumber(arg[1] or "")
if not n or n < 1 or n ~= math.floor(n) then error(usage, 0) end

local uris, words, seen_dashes = {}, {}, false
for i = 2, #arg do
  if arg[i] == "--" and not seen_dashes then
    seen_dashes = true
  elseif seen_dashes then
    words[#words + 1] = arg[i]
  else
    uris[#uris + 1] = arg[i]
  end
end
if #uris == 0 then uris = {"default"} end
local command = #words > 0 and table.concat(words, " ")
  or 'echo "sandbox $FLEET_INDEX on $(hostname)"'

-- Connect to every engine first: a typo fails before anything is created.
local engines = {}
for i, uri in ipairs(uris) do
  engines[i] = uri == "default" and pd or pd.connect(uri)
end

local t0 = pd.clock()
local items = {}
for i = 1, n do items[i] = i end
local results = pd.map(items, function(i)
  local e = engines[(i - 1) % #engines + 1]
  return e.with_container({env = {FLEET_INDEX = tostring(i)}}, function(c)
    local r = c:run(command)
    return {index = i, engine = c.engine, name = c.name, exit_code = r.exit_code,
            output = (r.stdout .. r.stderr):gsub("%s+$", "")}
  end)
end)

local per_engine, failed = {}, 0
for _, r in ipairs(results) do
  print(string.format("%d\t%s\t%s\texit=%d\t%s", r.index, r.engine, r.name, r.exit_code, r.output))
  per_engine[r.engine] = (per_engine[r.engine] or 0) + 1
  if r.exit_code ~= 0 then failed = failed + 1 end
end
local keys = {}
for uri in pairs(per_engine) do keys[#keys + 1] = uri end
table.sort(keys)
for _, uri in ipairs(keys) do print(string.format("# %s: %d sandboxes", uri, per_engine[uri])) end
print(string.format("# %d sandboxes on %d engines in %.0f ms, %d failed", n, #engines, pd.clock() - t0, failed))
if failed > 0 then error(string.format("%d of %d commands failed", failed, n), 0) end
