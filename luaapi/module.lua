-- The parts of the pocketdock module that are plain Lua on the public API.
local pd, new_error, scope = ...

-- with_container creates a sandbox, passes it to fn and always shuts it down,
-- re-raising fn's error after the shutdown.
function pd.with_container(opts, fn)
  if type(opts) == "function" and fn == nil then opts, fn = nil, opts end
  if type(fn) ~= "function" then
    error(new_error("InvalidArgument", "with_container: argument #2 (fn) must be a function, got " .. type(fn)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(new_error("InvalidArgument", "with_container: argument #1 (opts) must be a table of options, got " .. type(opts)), 2)
  end
  local c = pd.create_new_container(opts)
  scope(c) -- shut down by the module if this code never gets to (pd.map abort, Ctrl-C)
  local r = {pcall(fn, c)}
  local ok_shutdown, shutdown_err = pcall(c.shutdown, c)
  if not r[1] then error(r[2], 0) end
  if not ok_shutdown then error(shutdown_err, 0) end
  return unpack(r, 2, table.maxn(r))
end

-- check_opts refuses what is not a table of known options, as every Go
-- function of the module does.
local function check_opts(fn, n, opts, known)
  if opts == nil then return end
  if type(opts) ~= "table" then
    error(new_error("InvalidArgument", fn .. ": argument #" .. n .. " (opts) must be a table of options, got " .. type(opts)), 3)
  end
  local bad = {}
  for k in pairs(opts) do
    if not known[k] then bad[#bad + 1] = "'" .. tostring(k):sub(1, 200) .. "'" end
  end
  if #bad > 0 then
    table.sort(bad)
    local names = {}
    for k in pairs(known) do names[#names + 1] = k end
    table.sort(names)
    error(new_error("InvalidArgument", fn .. ": unknown option " .. table.concat(bad, ", "), "known options: " .. table.concat(names, ", ")), 3)
  end
  for k, want in pairs(known) do
    if opts[k] ~= nil and type(opts[k]) ~= want then
      error(new_error("InvalidArgument", fn .. ": option '" .. k .. "' must be a " .. want .. ", got " .. type(opts[k])), 3)
    end
  end
end
-- provision and images.build are Lua, so that their engine calls yield
-- inside pd.map like any script's; the recipe builder is provision.lua.
function pd.provision(recipe, opts)
  check_opts("provision", 2, opts, {quiet = "boolean", tag = "string"})
  return require("pocketdock.provision").build(pd, new_error, recipe, opts, opts and opts.tag)
end
function pd.images.build(tag, recipe, opts)
  -- checked before building: a bad tag must not cost a whole build
  if type(tag) ~= "string" then
    error(new_error("InvalidArgument", "images.build: argument #1 (tag) must be a string, got " .. type(tag)), 2)
  end
  if type(recipe) ~= "table" and type(recipe) ~= "string" then
    error(new_error("InvalidArgument", "images.build: argument #2 (recipe) must be a recipe table or a recipe file's path, got " .. type(recipe)), 2)
  end
  check_opts("images.build", 3, opts, {quiet = "boolean"})
  return require("pocketdock.provision").build(pd, new_error, recipe, opts, tag)
end
