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
