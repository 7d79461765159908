-- Passes every wrong type to every argument of every function and method and
-- checks the error: an InvalidArgument table whose message names the function
-- and the argument (or option), with no Go internals. Results go to RESULT.
local pd = pocketdock
local values = {
  {"nil", nil}, {"boolean", true}, {"number", 1}, {"string", "x"},
  {"table", {}}, {"function", function() end},
}
local internals = {"%*lua%.", "luaapi%.", "engine%.", "goroutine", "%.go:", "panic", "runtime error", "0xc0"}

-- spec: name, function, legal base arguments, and per position the legal types.
local function fns(c)
  local nofn = function() end
  return {
    {"create_new_container", pd.create_new_container, {}, {"nil table"}},
    {"resume_container", pd.resume_container, {"hard-none-x"}, {"string", "nil table"}},
    {"list_containers", pd.list_containers, {}, {"nil table"}},
    {"stop_container", pd.stop_container, {"hard-none-x"}, {"string", "nil table"}},
    {"destroy_container", pd.destroy_container, {"hard-none-x"}, {"string", "nil table"}},
    {"prune", pd.prune, {}, {"nil table"}},
    {"doctor", pd.doctor, {}, {"nil table"}},
    {"map", pd.map, {{}, nofn}, {"table", "function"}},
    {"parallel", pd.parallel, {nofn}, {"nil function"}},
    {"connect", pd.connect, {"unix:///nonexistent/hard.sock"}, {"string", "nil table"}},
    {"with_container", pd.with_container, {{}, nofn}, {"nil table", "function"}},
    {"images.list", pd.images.list, {}, {"nil table"}},
    {"images.exists", pd.images.exists, {"localhost/hard-none:x"}, {"string", "nil table"}},
    {"images.remove", pd.images.remove, {"localhost/hard-none:x"}, {"string", "nil table"}},
    {"images.build", pd.images.build, {"localhost/hard-none:x", {steps = {}}}, {"string", "string table", "nil table"}},
    {"provision", pd.provision, {{steps = {}}}, {"string table", "nil table"}},
    {"images.bootstrap", pd.images.bootstrap, {}, {"nil table"}},
    {"images.save", pd.images.save, {"localhost/hard-none:x", "/nonexistent/x.tar"}, {"string", "string", "nil table"}},
    {"images.load", pd.images.load, {"/nonexistent/x.tar"}, {"string", "nil table"}},
  }
end

-- methods: name, legal base arguments after self, per position the legal types.
local methods = {
  {"run", {"true"}, {"string table", "nil table"}},
  {"spawn", {"true"}, {"string table", "nil table"}},
  {"session", {}, {"nil table"}},
  {"write_file", {"/tmp/hard", "data"}, {"string", "string", "nil table"}},
  {"read_file", {"/etc/hostname"}, {"string", "nil table"}},
  {"list_files", {"/tmp"}, {"string", "nil table"}},
  {"stat", {"/tmp"}, {"string", "nil table"}},
  {"push", {"/nonexistent/src", "/tmp/dst"}, {"string", "string", "nil table"}},
  {"pull", {"/tmp", "/nonexistent/dst"}, {"string", "string", "nil table"}},
  {"info", {}, {"nil table"}},
  {"inspect", {}, {"nil table"}},
  {"snapshot", {"localhost/hard-none:x"}, {"string", "nil table"}},
  {"stop", {}, {"nil table"}},
  {"start", {}, {"nil table"}},
  {"reboot", {}, {"nil table"}},
  {"shutdown", {}, {"nil table"}},
  {"on_stdout", {}, {"nil function"}},
  {"on_stderr", {}, {"nil function"}},
  {"on_exit", {}, {"nil function"}},
}

local calls, failures = 0, {}
local function fail(what, msg) failures[#failures + 1] = what .. ": " .. msg end

-- check makes one call and judges its error.
local function check(what, name, pos, f, args, n, method)
  calls = calls + 1
  local ok, err = pcall(f, unpack(args, 1, n))
  if ok then return fail(what, "no error") end
  if type(err) ~= "table" then return fail(what, "error is a " .. type(err) .. ": " .. tostring(err)) end
  local msg = tostring(err.message)
  if err.kind ~= "InvalidArgument" then return fail(what, "kind " .. tostring(err.kind) .. ": " .. msg) end
  local short = name:gsub("^images%.", "")
  if not msg:find(short, 1, true) then fail(what, "message does not name " .. name .. ": " .. msg) end
  -- methods count self in some messages and not in others: either number names the argument
  local alt = method and ("argument #" .. (pos - 1)) or "\0"
  if not (msg:find("argument #" .. pos, 1, true) or msg:find(alt, 1, true) or msg:find("option", 1, true) or msg:find("called on a container", 1, true)) then
    fail(what, "message does not name argument #" .. pos .. ": " .. msg)
  end
  for _, pat in ipairs(internals) do
    if tostring(err):find(pat) then fail(what, "Go internals in: " .. tostring(err)) end
  end
end

local function sweep(name, f, base, legal, offset)
  for pos = 1, #legal do
    for _, v in ipairs(values) do
      if not legal[pos]:find(v[1], 1, true) then
        local args, n = {}, offset + math.max(#base, pos)
        for i, b in ipairs(base) do args[offset + i] = b end
        args[offset + pos] = v[2]
        if offset == 1 then args[1] = C end
        check(name .. " arg #" .. pos .. " = " .. v[1], name, pos + offset, f, args, n, offset == 1)
      end
    end
  end
end

C = pd.create_new_container{}
for _, s in ipairs(fns()) do sweep(s[1], s[2], s[3], s[4], 0) end
for _, m in ipairs(methods) do
  local f = C[m[1]]
  sweep(m[1], f, m[2], m[3], 1)
  for _, v in ipairs(values) do -- called without a container: c.run(...) instead of c:run(...)
    check(m[1] .. " self = " .. v[1], m[1], 1, f, {v[2]}, 1)
  end
end
C:shutdown()
RESULT = {calls = calls, failures = failures}
