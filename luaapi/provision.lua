-- Provisioning recipes: a recipe turns a base image into a tagged image, one
-- cached step at a time. Each step's result is kept as the image
-- localhost/pocketdock/cache:<key>, key = hash(parent image id, the step's
-- definition, the content of pushed files), so an unchanged re-run only looks
-- images up (no container), and changing step k rebuilds from k on.
local M = {}

M.CACHE = "localhost/pocketdock/cache"
local DEFAULT_IMAGE = "localhost/pocketdock/minimal"

-- canon is a deterministic text form of a value (sorted keys): the step's
-- definition as it enters the cache key.
local function canon(v)
  if type(v) ~= "table" then
    if type(v) == "string" then return string.format("%q", v) end
    return tostring(v)
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = canon(k) .. "=" .. canon(v[k]) end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function bad(new_error, msg, hint)
  error(new_error("InvalidArgument", msg, hint), 0)
end

-- load returns the recipe table and the folder its relative paths start from.
local function load(new_error, src)
  if type(src) == "table" then return src, "." end
  if type(src) ~= "string" then
    bad(new_error, "provision: argument #1 must be a recipe table or a recipe file's path, got " .. type(src))
  end
  local fn, err = loadfile(src)
  if not fn then bad(new_error, "provision: cannot load recipe: " .. tostring(err)) end
  local ok, r = pcall(fn)
  if not ok then bad(new_error, "provision: recipe " .. src .. " failed: " .. tostring(r)) end
  if type(r) ~= "table" then
    bad(new_error, "provision: recipe " .. src .. " must return a table, got " .. type(r), "end the file with return { base = ..., tag = ..., steps = {...} }")
  end
  return r, dirname(src)
end

local step_keys = {
  run = {run = true, user = true, env = true, cwd = true, timeout = true},
  write = {write = true, content = true, mode = true},
  push = {push = true, to = true},
}
local recipe_keys = {base = true, tag = true, env = true, workdir = true, steps = true, network = true}

local function command_text(cmd)
  if type(cmd) == "table" then return table.concat(cmd, " ") end
  return tostring(cmd)
end

-- describe is how a step shows in progress lines and errors.
local function describe(step)
  if step.run then return "run: " .. command_text(step.run) end
  if step.write then return "write " .. tostring(step.write) end
  return "push " .. tostring(step.push) .. " -> " .. tostring(step.to)
end

local function validate(new_error, recipe)
  for k in pairs(recipe) do
    if not recipe_keys[k] then bad(new_error, "recipe: unknown field '" .. tostring(k) .. "'", "fields: base, tag, env, workdir, network, steps") end
  end
  if recipe.steps ~= nil and type(recipe.steps) ~= "table" then bad(new_error, "recipe: 'steps' must be a list of steps") end
  for i, step in ipairs(recipe.steps or {}) do
    local where = "recipe step " .. i
    if type(step) ~= "table" then bad(new_error, where .. " must be a table, got " .. type(step)) end
    local kind = (step.run ~= nil and "run") or (step.write ~= nil and "write") or (step.push ~= nil and "push")
    if not kind then bad(new_error, where .. " has no run, write or push", "a step is {run=...}, {write=..., content=...} or {push=..., to=...}") end
    for k in pairs(step) do
      if not step_keys[kind][k] then bad(new_error, where .. " (" .. kind .. "): unknown field '" .. tostring(k) .. "'") end
    end
    if kind == "write" and type(step.content) ~= "string" then bad(new_error, where .. " (write): 'content' must be a string") end
    if kind == "push" and type(step.to) ~= "string" then bad(new_error, where .. " (push): 'to' must be a container path") end
    if kind == "run" and type(step.run) ~= "string" and type(step.run) ~= "table" then
      bad(new_error, where .. " (run): 'run' must be a string or an argv table")
    end
  end
end

local function host_path(dir, p)
  if p:sub(1, 1) == "/" then return p end
  return dir .. "/" .. p
end

-- WRITE writes stdin to $1 with mode $2: paths travel as arguments, never in the script text.
local WRITE = 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"'

local function write_file(c, path, content, mode)
  return c:run({"/bin/sh", "-c", WRITE, "sh", path, string.format("%o", mode)}, {stdin = content, timeout = 300})
end

local function tail(s, n)
  if #s > n then return "..." .. s:sub(-n) end
  return s
end

-- apply runs one step in the build container; a failure raises naming the step with its output.
local function apply(pd, new_error, c, step, dir, name)
  local r
  if step.run then
    r = c:run(step.run, {user = step.user, env = step.env, cwd = step.cwd, timeout = step.timeout or 0})
  elseif step.write then
    r = write_file(c, step.write, step.content, step.mode or tonumber("644", 8))
  else
    local src = host_path(dir, step.push)
    local _, mode, kind = pd.hash_file(src)
    if kind == "dir" then
      -- "/.": the folder's contents become `to`, whether or not it exists (as COPY does)
      c:push(src .. "/.", step.to)
      return
    end
    local f = assert(io.open(src, "rb"))
    local data = f:read("*a")
    f:close()
    r = write_file(c, step.to, data, mode)
  end
  if not r.ok then
    local out = tail((r.stdout or "") .. (r.stderr or ""), 2000)
    local why = r.timed_out and "timed out" or ("failed with exit code " .. r.exit_code)
    error(new_error("CommandFailed", name .. " " .. why .. (out ~= "" and (":\n" .. out) or ""),
      "fix the step and run the recipe again: the steps before it stay cached"), 0)
  end
end

-- input_hash is the content of the files a step pushes.
local function input_hash(pd, step, dir)
  if not step.push then return "" end
  local h, mode = pd.hash_file(host_path(dir, step.push))
  return h .. ":" .. mode
end

-- reporter shows each step as cached or built with its time: a live line on a
-- terminal, plain lines otherwise.
local function reporter(pd, quiet, total)
  local tty = (not quiet) and pd.isatty("stderr")
  local r = {}
  function r.start(i, desc)
    if tty then io.stderr:write(string.format("\r\27[K[%d/%d] ...     %s", i, total, desc)) end
  end
  function r.done(i, desc, state, ms)
    if quiet then return end
    local line = string.format("[%d/%d] %-6s %6.2fs  %s", i, total, state, ms / 1000, desc)
    io.stderr:write((tty and "\r\27[K" or "") .. line .. "\n")
  end
  function r.fail() if tty then io.stderr:write("\n") end end
  return r
end

local function config_changes(recipe)
  local changes = {}
  local keys = {}
  for k in pairs(recipe.env or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do changes[#changes + 1] = "ENV " .. k .. "=" .. tostring(recipe.env[k]) end
  if recipe.workdir then changes[#changes + 1] = "WORKDIR " .. recipe.workdir end
  return changes
end

-- build runs a recipe and returns the final image id; the tag moves only on success.
function M.build(pd, new_error, src, opts, tag)
  opts = opts or {}
  local recipe, dir = load(new_error, src)
  validate(new_error, recipe)
  tag = tag or recipe.tag
  local steps = recipe.steps or {}
  -- Every pushed file is read before anything is built: a missing one must
  -- not cost the steps before it, and the error names its step.
  local inputs = {}
  for i, step in ipairs(steps) do
    local ok, h = pcall(input_hash, pd, step, dir)
    if not ok then
      local msg = (type(h) == "table" and tostring(h.message) or tostring(h)):gsub("^hash_file: ", "")
      error(new_error("FileNotFound", "step " .. i .. " (" .. describe(step) .. "): " .. tostring(msg),
        "push paths are relative to the recipe file's folder (" .. dir .. ")"), 0)
    end
    inputs[i] = h
  end
  local base = recipe.base or DEFAULT_IMAGE
  local parent = pd.images.id(base)
  if not parent then
    if base ~= DEFAULT_IMAGE then
      error(new_error("ImageNotFound", "recipe base image " .. base .. " not found",
        "build it first (pocketdock provision its recipe), load it, or pull it"), 0)
    end
    parent = pd.images.bootstrap()
  end
  local changes = config_changes(recipe)
  local total = #steps + (#changes > 0 and 1 or 0)
  local rep = reporter(pd, opts.quiet, total)
  local c -- the build container: made at the first step that is not cached
  local function container()
    if not c then c = pd.create_new_container{image = parent, network = recipe.network or false, persist = false, project = ""} end
    return c
  end
  local function step_image(i, desc, key, make)
    local t0 = pd.clock()
    rep.start(i, desc)
    local ref = M.CACHE .. ":" .. pd.hash(key)
    local id, state = pd.images.id(ref), "cached"
    if not id then
      id, state = make(ref), "built"
    end
    rep.done(i, desc, state, pd.clock() - t0)
    return id
  end
  local ok, err = pcall(function()
    for i, step in ipairs(steps) do
      local desc = describe(step)
      local key = parent .. "\0" .. canon(step) .. "\0" .. inputs[i]
      parent = step_image(i, desc, key, function(ref)
        local name = "step " .. i .. " (" .. desc .. ")"
        apply(pd, new_error, container(), step, dir, name)
        return c:snapshot(ref, {comment = "pocketdock recipe " .. name})
      end)
    end
    if #changes > 0 then
      parent = step_image(total, "config: " .. table.concat(changes, ", "), parent .. "\0config\0" .. canon(changes), function(ref)
        return container():snapshot(ref, {changes = changes, comment = "pocketdock recipe config"})
      end)
    end
  end)
  if not ok then rep.fail() end
  if c then pcall(c.shutdown, c, {force = true}) end
  if not ok then error(err, 0) end
  if tag then pd.images.tag(parent, tag) end
  return parent
end

-- cache_refs lists the step cache's image references.
function M.cache_refs(pd)
  local refs = {}
  local prefix = M.CACHE .. ":"
  for _, im in ipairs(pd.images.list()) do
    for _, t in ipairs(im.tags or {}) do
      if t:sub(1, #prefix) == prefix then refs[#refs + 1] = t end
    end
  end
  table.sort(refs)
  return refs
end

-- prune_cache removes the step cache's images (untagging those a built image still uses).
function M.prune_cache(pd)
  local refs = M.cache_refs(pd)
  for _, ref in ipairs(refs) do pd.images.remove(ref) end
  return refs
end

return M
