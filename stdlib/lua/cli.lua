-- The management commands of the pocketdock binary, on the public Lua API.
-- M.main(...) gets the command line after "pocketdock" and returns the exit code.
local pd = require("pocketdock")
local json = require("pocketdock.json")
local provision = require("pocketdock.provision")
local M = {}

local EXIT_USAGE = 2

-- fail raises a CLI error: kind, one-line message, hint, exit code.
local function fail(message, hint, code)
  error({cli = true, message = message, hint = hint, code = code or 1}, 0)
end

local function usage_error(cmd, message)
  fail(message, "see pocketdock " .. cmd .. " --help", EXIT_USAGE)
end

local function out(s) io.stdout:write(s, "\n") end

-- clean makes text from sandboxes and engines safe for a terminal: control
-- characters (ESC, CSI, BEL, CR, ...) are shown as Lua escapes (\27) instead of
-- acting on the terminal; newlines and tabs stay unless one_line is set.
local function clean(s, one_line)
  s = tostring(s)
  s = s:gsub("[%c\127]", function(ch)
    if not one_line and (ch == "\n" or ch == "\t") then return ch end
    return "\\" .. ch:byte()
  end)
  -- C1 controls (U+0080..U+009F) act on some terminals too
  return (s:gsub("\194([\128-\159])", function(ch) return "\\194\\" .. ch:byte() end))
end

-- Each command: usage text, flags it takes (bool / value / list), positional arity, run(args).
local commands = {}
local order = {}

local function command(name, def)
  commands[name] = def
  order[#order + 1] = name
end

-- parse reads flags and positionals; "--" ends the flags (the rest is positional).
local function parse(cmd, def, argv)
  local a = {_ = {}}
  local flags = def.flags or {}
  local i = 1
  while i <= #argv do
    local s = argv[i]
    if s == "--" then
      for j = i + 1, #argv do a._[#a._ + 1] = argv[j] end
      a.dashdash = true
      break
    elseif s == "-h" or s == "--help" then
      a.help = true
    elseif s:sub(1, 1) == "-" and #s > 1 then
      local name, value = s:match("^(%-%-?[^=]+)=(.*)$")
      name = name or s
      local kind = flags[name]
      if not kind then
        if def.stop_after then -- exec: the command's own flags belong after --
          fail(cmd .. ": unknown flag " .. name, "put the command after --, e.g. pocketdock " .. cmd .. " NAME -- sh -c '...'", EXIT_USAGE)
        end
        usage_error(cmd, cmd .. ": unknown flag " .. name)
      end
      local key = name:gsub("^%-+", ""):gsub("%-", "_")
      if kind == "bool" then
        if value ~= nil and value ~= "true" and value ~= "false" then
          usage_error(cmd, cmd .. ": " .. name .. " takes no value (or =true/=false)")
        end
        a[key] = value ~= "false"
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then usage_error(cmd, cmd .. ": " .. name .. " needs a value") end
        end
        if kind == "list" then
          a[key] = a[key] or {}
          table.insert(a[key], value)
        else
          a[key] = value
        end
      end
    else
      a._[#a._ + 1] = s
      if def.stop_after and #a._ >= def.stop_after then
        -- exec NAME CMD ARGS...: from the command on, everything is the command's
        for j = i + 1, #argv do a._[#a._ + 1] = argv[j] end
        a.dashdash = true
        break
      end
    end
    i = i + 1
  end
  return a
end

local function need(cmd, a, n, what)
  if #a._ < n then usage_error(cmd, cmd .. ": missing " .. what) end
  if #a._ > n and not a.dashdash then usage_error(cmd, cmd .. ": unexpected argument " .. a._[n + 1]) end
end

-- confirm asks on a terminal; without one it proceeds only with -y.
local function confirm(a, question)
  if a.y or a.yes then return true end
  if not pd.isatty("stdin") then
    fail("refusing to " .. question .. " without confirmation (stdin is not a terminal)", "pass -y to confirm")
  end
  io.stderr:write(question .. "? [y/N] ")
  local answer = io.read("*l")
  if answer and answer:match("^%s*[yY]") then return true end
  io.stderr:write("cancelled\n")
  return false
end

local function print_json(v) out(json.encode(v)) end

local function pad(s, n)
  s = clean(s, true)
  if #s >= n then return s end
  return s .. string.rep(" ", n - #s)
end

-- print_table prints rows (arrays of strings) in aligned columns.
local function print_table(header, rows)
  local widths = {}
  for _, r in ipairs({header, unpack(rows)}) do
    for j, cell in ipairs(r) do widths[j] = math.max(widths[j] or 0, #clean(cell, true)) end
  end
  for _, r in ipairs({header, unpack(rows)}) do
    local cells = {}
    for j, cell in ipairs(r) do cells[j] = j < #r and pad(cell, widths[j]) or clean(cell, true) end
    out(table.concat(cells, "  "))
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  return keys
end

-- print_record prints a record as "key: value" lines.
local function print_record(t)
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    if type(v) == "table" then
      local parts = {}
      for _, kk in ipairs(sorted_keys(v)) do
        parts[#parts + 1] = type(kk) == "number" and tostring(v[kk]) or (tostring(kk) .. "=" .. tostring(v[kk]))
      end
      v = table.concat(parts, ", ")
    end
    out(pad(k .. ":", 16) .. " " .. clean(v, true))
  end
end

local function find_summary(name)
  for _, s in ipairs(pd.list_containers()) do
    if s.name == name then return s end
  end
  fail("no sandbox named " .. name, "list them with pocketdock list")
end

local function running_container(name)
  local c = pd.get_container(name)
  if c:info().status ~= "running" then
    fail("sandbox " .. name .. " is not running", "start it with pocketdock resume " .. name)
  end
  return c
end

command("list", {
  usage = "list [--json] [--project P]", summary = "List managed sandboxes, running or not.",
  flags = {["--json"] = "bool", ["--project"] = "value"},
  run = function(a)
    need("list", a, 0)
    local rows = pd.list_containers{project = a.project}
    table.sort(rows, function(x, y) return x.name < y.name end)
    if a.json then return print_json(json.array(rows)) end
    if #rows == 0 then return out("no sandboxes") end
    local t = {}
    for _, s in ipairs(rows) do
      t[#t + 1] = {s.name, s.status, s.persist and "persist" or "ephemeral", s.project or "-", s.image, s.created_at}
    end
    print_table({"NAME", "STATUS", "KIND", "PROJECT", "IMAGE", "CREATED"}, t)
  end,
})

-- parse_pair splits "A:B" (ports, volumes) or "K=V" (env).
local function parse_pair(cmd, s, sep, what)
  local x, y = s:match("^(.-)" .. sep .. "(.+)$")
  if not x or x == "" then usage_error(cmd, cmd .. ": " .. what .. " must look like " .. (sep == "=" and "K=V" or "HOST:CONTAINER") .. ", got " .. s) end
  return x, y
end

command("create", {
  usage = "create [--name N] [--image I] [--persist] [--project P] [--mem 256m] [--cpu PERCENT] [--network bridge|NAME] [-p HOST:CTR]... [-v HOST:CTR[:ro]]... [-e K=V]... [--json]",
  summary = "Create and start a persistent sandbox (it outlives this command; --persist is the default, --persist=false is refused).",
  flags = {["--name"] = "value", ["--image"] = "value", ["--persist"] = "bool", ["--project"] = "value",
    ["--mem"] = "value", ["--cpu"] = "value", ["--network"] = "value", ["-p"] = "list", ["-v"] = "list", ["-e"] = "list",
    ["--json"] = "bool"},
  run = function(a)
    need("create", a, 0)
    if a.name == "" then
      usage_error("create", "create: --name needs a name (leave the flag out for a random one)")
    end
    -- A sandbox made here must outlive the command, so create keeps it:
    -- --persist is the default, and an ephemeral one would be removed as
    -- soon as this command ends.
    if a.persist == false then
      fail("create: --persist=false would make a sandbox that is removed when this command ends",
        "leave --persist out (persistent is the default) and pocketdock destroy it when done, or make ephemeral sandboxes from a script or the REPL", EXIT_USAGE)
    end
    local o = {name = a.name, image = a.image, project = a.project, persist = true, mem_limit = a.mem}
    if a.cpu then
      o.cpu_percent = tonumber(a.cpu)
      if not o.cpu_percent then usage_error("create", "create: --cpu must be a number (percent of one core)") end
    end
    if a.p then
      o.ports = {}
      for _, s in ipairs(a.p) do
        local h, c = parse_pair("create", s, ":", "-p")
        if not tonumber(h) or not tonumber(c) then usage_error("create", "create: -p must look like HOST:CONTAINER ports, got " .. s) end
        o.ports[tonumber(h)] = tonumber(c)
      end
    end
    if a.network then o.network = a.network == "bridge" or a.network end
    if a.v then
      o.volumes = {}
      for _, s in ipairs(a.v) do
        local h, c = parse_pair("create", s, ":", "-v")
        local target, ro = c:match("^(.-):(ro)$")
        -- A relative host path means this folder, as with podman run -v ./x:/y;
        -- passed on as it is, the engine would take it for a named volume.
        if h:sub(1, 1) == "." or (h:find("/", 1, true) and h:sub(1, 1) ~= "/") then h = pd.abspath(h) end
        o.volumes[#o.volumes + 1] = {source = h, target = target or c, readonly = ro ~= nil}
      end
    end
    if a.e then
      o.env = {}
      for _, s in ipairs(a.e) do
        local k, v = s:match("^([^=]+)=(.*)$")
        if not k then usage_error("create", "create: -e must look like K=V, got " .. s) end
        o.env[k] = v
      end
    end
    local c = pd.create_new_container(o)
    if a.json then return print_json(c:info()) end
    out(c.name)
  end,
})

local function simple(name, summary, fn, past)
  command(name, {
    usage = name .. " NAME", summary = summary,
    run = function(a)
      need(name, a, 1, "the sandbox NAME")
      fn(a._[1])
      out(past .. " " .. a._[1])
    end,
  })
end

simple("resume", "Start a stopped sandbox.", function(n) pd.resume_container(n) end, "resumed")
simple("stop", "Stop a sandbox, keeping it.", function(n) pd.stop_container(n) end, "stopped")

command("destroy", {
  usage = "destroy NAME [-y]", summary = "Remove a sandbox (and its project history folder).",
  flags = {["-y"] = "bool", ["--yes"] = "bool"},
  run = function(a)
    need("destroy", a, 1, "the sandbox NAME")
    local name = a._[1]
    pd.get_container(name) -- a missing sandbox fails before asking
    if not confirm(a, "destroy sandbox " .. name) then return 1 end
    pd.destroy_container(name)
    out("destroyed " .. name)
  end,
})

command("prune", {
  usage = "prune [--project P] [--dry-run] [-y] [--json]", summary = "Remove all stopped managed sandboxes (persistent ones too).",
  flags = {["--project"] = "value", ["--dry-run"] = "bool", ["-y"] = "bool", ["--yes"] = "bool", ["--json"] = "bool"},
  run = function(a)
    need("prune", a, 0)
    local n, names = pd.prune{project = a.project, dry_run = true}
    if not a.dry_run and n > 0 then
      if not confirm(a, "remove " .. n .. " stopped sandbox(es): " .. table.concat(names, ", ")) then return 1 end
      n, names = pd.prune{project = a.project}
    end
    if a.json then return print_json({count = n, names = json.array(names), dry_run = a.dry_run == true}) end
    if n == 0 then return out("nothing to prune") end
    out((a.dry_run and "would remove: " or "removed: ") .. table.concat(names, ", "))
  end,
})

command("snapshot", {
  usage = "snapshot NAME IMAGE", summary = "Commit a sandbox's filesystem into an image; prints its id.",
  run = function(a)
    need("snapshot", a, 2, "NAME and IMAGE")
    out(pd.get_container(a._[1]):snapshot(a._[2]))
  end,
})

-- STDIN_MAX bounds what exec reads from a pipe before the command starts.
local STDIN_MAX = 64 * 1024 * 1024

-- exec_stdin reads stdin for the command, as podman exec -i does, when it is
-- not a terminal (an interactive session is pocketdock shell's job).
local function exec_stdin(a)
  if a.no_stdin or pd.isatty("stdin") then return nil end
  local parts, n = {}, 0
  while true do
    local chunk = io.stdin:read(65536)
    if not chunk then break end
    n = n + #chunk
    if n > STDIN_MAX then
      fail("exec: stdin is larger than 64 MiB", "copy big inputs in with c:push, or pass --no-stdin")
    end
    parts[#parts + 1] = chunk
  end
  return table.concat(parts)
end

command("exec", {
  usage = "exec NAME [--user U] [--cwd DIR] [-e K=V]... [--timeout S] [--no-stdin] [--] CMD [ARGS...]",
  summary = "Run a command in a running sandbox; its exit code becomes pocketdock's. Stdin that is not a terminal is passed to it (up to 64 MiB).",
  flags = {["--user"] = "value", ["--cwd"] = "value", ["-e"] = "list", ["--timeout"] = "value", ["--no-stdin"] = "bool"},
  stop_after = 2,
  run = function(a)
    if #a._ < 2 then usage_error("exec", "exec: missing the sandbox NAME or the command") end
    local c = running_container(a._[1])
    local argv = {unpack(a._, 2)}
    local env
    for _, s in ipairs(a.e or {}) do
      local k, v = s:match("^([^=]+)=(.*)$")
      if not k then usage_error("exec", "exec: -e must look like K=V, got " .. s) end
      env = env or {}
      env[k] = v
    end
    local r = c:run(argv, {
      user = a.user, cwd = a.cwd, env = env, timeout = tonumber(a.timeout or "0") or 0, stdin = exec_stdin(a),
      on_stdout = function(s) io.stdout:write(s) end,
      on_stderr = function(s) io.stderr:write(s) end,
    })
    if r.timed_out then
      io.stderr:write("pocketdock: the command timed out\n")
      return 124
    end
    return r.exit_code
  end,
})

command("shell", {
  usage = "shell NAME [--user U]", summary = "An interactive shell in a running sandbox (needs podman on PATH and a terminal).",
  flags = {["--user"] = "value"},
  run = function(a)
    need("shell", a, 1, "the sandbox NAME")
    if not pd.isatty("stdin") then
      fail("pocketdock shell needs a terminal", "use pocketdock exec NAME -- CMD from scripts")
    end
    local c = running_container(a._[1])
    local argv = {"podman", "--url", c.engine, "exec", "-it"}
    if a.user then argv[#argv + 1] = "--user"; argv[#argv + 1] = a.user end
    argv[#argv + 1] = c.id
    argv[#argv + 1] = "/bin/sh"
    return pd.host_command(argv)
  end,
})

command("info", {
  usage = "info NAME [--json]", summary = "Describe a sandbox (never starts a stopped one).",
  flags = {["--json"] = "bool"},
  run = function(a)
    need("info", a, 1, "the sandbox NAME")
    local i = pd.get_container(a._[1]):info()
    if a.json then return print_json(i) end
    print_record(i)
  end,
})

-- history reads a sandbox's project history lines (JSON text each).
local function history(name)
  local s = find_summary(name)
  if not s.data_path then
    fail("sandbox " .. name .. " keeps no history",
      "only persistent sandboxes created inside a project folder (pocketdock init) keep one")
  end
  local lines = {}
  local f = io.open(s.data_path .. "/history.jsonl", "r")
  if not f then return lines end
  for line in f:lines() do
    if line:match("^%s*{") then lines[#lines + 1] = line end
  end
  f:close()
  return lines
end

local function unquote(s)
  return (s:gsub("\\u(%x%x%x%x)", function(h)
    local n = tonumber(h, 16)
    return n < 128 and string.char(n) or "?"
  end):gsub('\\(.)', {n = "\n", t = "\t", r = "\r", ['"'] = '"', ["\\"] = "\\", ["/"] = "/"}))
end

-- fixed_time renders an RFC 3339 time with exactly milliseconds, so that
-- log lines line up (the history keeps up to nanoseconds, trailing zeros cut).
local function fixed_time(t)
  local base, frac = t:match("^(%d+%-%d+%-%d+T%d+:%d+:%d+)%.?(%d*)Z$")
  if not base then return t end
  return base .. "." .. (frac .. "000"):sub(1, 3) .. "Z"
end

command("logs", {
  usage = "logs NAME [--json]", summary = "The command history of a project sandbox.",
  flags = {["--json"] = "bool"},
  run = function(a)
    need("logs", a, 1, "the sandbox NAME")
    local lines = history(a._[1])
    if a.json then return out("[" .. table.concat(lines, ",") .. "]") end
    if #lines == 0 then return out("no commands recorded yet") end
    for _, line in ipairs(lines) do
      local cmd, code, dur, time = line:match('^{"command":"(.-)","exit_code":(%-?%d+),"duration_ms":([^,]+),"time":"([^"]*)"}')
      if cmd then
        out(string.format("%s  exit %-3s %8.1f ms  %s", fixed_time(time), code, tonumber(dur) or 0, clean(unquote(cmd), true)))
      else
        out(clean(line, true))
      end
    end
  end,
})

command("doctor", {
  usage = "doctor [--json]", summary = "Check the engine, its version, the socket, orphans and stale project folders.",
  flags = {["--json"] = "bool"},
  run = function(a)
    need("doctor", a, 0)
    local d = pd.doctor()
    d.orphans = json.array(d.orphans or {})
    -- orphans are removed as soon as pocketdock connects: say which went
    d.removed_orphans = json.array(d.removed_orphans or {})
    local p = pd.project()
    if p then
      d.project = p.name
      d.stale_project_folders = json.array()
      if d.ok then
        local live = {}
        for _, s in ipairs(pd.list_containers()) do live[s.name] = true end
        for _, n in ipairs(p.instances) do
          if not live[n] then table.insert(d.stale_project_folders, p.root .. "/.pocketdock/instances/" .. n) end
        end
      end
    end
    if a.json then print_json(d) else print_record(d) end
    return d.ok and 0 or 1
  end,
})

-- image subcommands.
local image_cmds = {
  bootstrap = {usage = "image bootstrap [--force]", flags = {["--force"] = "bool"}, n = 0,
    run = function(a) out(pd.images.bootstrap{force = a.force == true}) end},
  list = {usage = "image list [--json] [--all]", flags = {["--json"] = "bool", ["--all"] = "bool"}, n = 0,
    run = function(a)
      local list = {}
      for _, im in ipairs(pd.images.list()) do
        -- hide images known only by a step-cache tag
        local cache = #(im.tags or {}) > 0
        for _, t in ipairs(im.tags or {}) do
          if t:sub(1, #provision.CACHE + 1) ~= provision.CACHE .. ":" then cache = false end
        end
        if a.all or not cache then list[#list + 1] = im end
      end
      if a.json then
        for _, im in ipairs(list) do im.tags = json.array(im.tags) end
        return print_json(json.array(list))
      end
      local rows = {}
      for _, im in ipairs(list) do
        rows[#rows + 1] = {im.id:sub(1, 12), #im.tags > 0 and table.concat(im.tags, ",") or "<none>",
          string.format("%.1fMB", im.size / 1e6), im.created}
      end
      print_table({"ID", "TAGS", "SIZE", "CREATED"}, rows)
    end},
  build = {usage = "image build FILE [--tag T] [--quiet]", flags = {["--tag"] = "value", ["--quiet"] = "bool"}, n = 1,
    run = nil}, -- set below: the same as provision
  save = {usage = "image save IMAGE PATH", n = 2, run = function(a) pd.images.save(a._[1], a._[2]); out("saved " .. a._[1] .. " to " .. a._[2]) end},
  load = {usage = "image load PATH", n = 1, run = function(a)
    for _, n in ipairs(pd.images.load(a._[1])) do out(n) end
  end},
  remove = {usage = "image remove IMAGE [--force] [-y]", flags = {["--force"] = "bool", ["-y"] = "bool", ["--yes"] = "bool"}, n = 1,
    run = function(a)
      if not pd.images.id(a._[1]) then fail("image " .. a._[1] .. " not found", "see pocketdock image list") end
      if not confirm(a, "remove image " .. a._[1]) then return 1 end
      pd.images.remove(a._[1], {force = a.force == true})
      out("removed " .. a._[1])
    end},
  ["prune-cache"] = {usage = "image prune-cache [--dry-run] [-y]", flags = {["--dry-run"] = "bool", ["-y"] = "bool", ["--yes"] = "bool"}, n = 0,
    run = function(a)
      local refs = provision.cache_refs(pd)
      if #refs == 0 then return out("the step cache is empty") end
      if a.dry_run then return out("would remove " .. #refs .. " cache image(s)") end
      if not confirm(a, "remove " .. #refs .. " recipe step cache image(s)") then return 1 end
      provision.prune_cache(pd)
      out("removed " .. #refs .. " cache image(s)")
    end},
}
local image_order = {"bootstrap", "list", "pull", "build", "save", "load", "remove", "prune-cache"}

-- pull fetches an image from a registry: progress on stderr, the id on stdout.
-- A failure keeps the engine's words and says what else can be done.
image_cmds.pull = {usage = "image pull IMAGE [--quiet]", flags = {["--quiet"] = "bool"}, n = 1,
  run = function(a)
    local ok, r = pcall(pd.images.pull, a._[1], {quiet = a.quiet == true})
    if not ok then
      if type(r) ~= "table" or r.kind == "Interrupted" or r.kind == "InvalidArgument" then error(r, 0) end
      fail("cannot pull " .. a._[1] .. ": " .. tostring(r.message):gsub("^pull " .. a._[1]:gsub("%p", "%%%0") .. ": ", ""),
        "check the name (registry/repository:tag) and that this machine reaches the registry; without one, build the image (pocketdock image build), load a saved one (pocketdock image load) or snapshot a sandbox")
    end
    out(r)
  end}

-- build runs a recipe file and prints the image id on stdout.
local function build(a)
  local opts = {quiet = a.quiet}
  local id = a.tag and pd.images.build(a.tag, a._[1], opts) or pd.provision(a._[1], opts)
  out(id)
end
image_cmds.build.run = build

command("image", {
  usage = "image bootstrap|list|pull|build|save|load|remove|prune-cache ...", summary = "Manage images and the recipe step cache.",
  sub = true,
  run = function(argv)
    local sub = argv[1]
    local def = image_cmds[sub or ""]
    if sub == nil or sub == "-h" or sub == "--help" then
      out("usage:")
      for _, n in ipairs(image_order) do out("  pocketdock " .. image_cmds[n].usage) end
      return sub == nil and EXIT_USAGE or 0
    end
    if not def then usage_error("image", "image: unknown subcommand " .. sub) end
    local a = parse("image " .. sub, def, {unpack(argv, 2)})
    if a.help then return out("usage: pocketdock " .. def.usage) end
    need("image " .. sub, a, def.n, "arguments (" .. def.usage .. ")")
    return def.run(a)
  end,
})

command("provision", {
  usage = "provision FILE [--tag T] [--quiet]", summary = "Build a recipe into an image, caching every step; prints the image id.",
  flags = {["--tag"] = "value", ["--quiet"] = "bool"},
  run = function(a)
    need("provision", a, 1, "the recipe FILE")
    build(a)
  end,
})

command("init", {
  usage = "init [--name N] [--image I] [--persist|--persist=false] [--force]",
  summary = "Make this folder a project: .pocketdock/pocketdock.yaml with its defaults.",
  flags = {["--name"] = "value", ["--image"] = "value", ["--persist"] = "bool", ["--force"] = "bool"},
  run = function(a)
    need("init", a, 0)
    local path = pd.init_project{name = a.name, image = a.image, persist = a.persist, force = a.force == true}
    out("created " .. path)
  end,
})

local function overview()
  local lines = {"usage: pocketdock COMMAND [ARGS...]   (pocketdock COMMAND --help for details)", ""}
  for _, n in ipairs(order) do
    lines[#lines + 1] = "  " .. pad(n, 10) .. " " .. commands[n].summary
  end
  lines[#lines + 1] = "  " .. pad("help", 10) .. " This text, or help COMMAND."
  return table.concat(lines, "\n")
end

local function help_text(name)
  local def = commands[name]
  return "usage: pocketdock " .. def.usage .. "\n  " .. def.summary
end

-- report prints an error as one line with its hint; step output follows indented.
local function report(err)
  local message, hint
  if type(err) == "table" then
    message, hint = tostring(err.message or err.kind or "error"), err.hint
  else
    message = tostring(err)
  end
  local first, rest = message:match("^([^\n]*)\n(.*)$")
  first = first or message
  io.stderr:write("pocketdock: " .. clean(first) .. (hint and ("\nhint: " .. clean(hint)) or "") .. "\n")
  if rest and rest ~= "" then
    io.stderr:write("  " .. clean(rest):gsub("\n", "\n  ") .. "\n")
  end
end

local function dispatch(argv)
  local name = argv[1]
  if name == nil or name == "help" or name == "--help" or name == "-h" then
    local topic = argv[2]
    if topic == "--help" or topic == "-h" then topic = nil end
    if topic and commands[topic] then out(help_text(topic)) return 0 end
    if topic then fail("help: unknown command " .. topic, "commands are " .. table.concat(order, ", ") .. "; pocketdock help lists them", EXIT_USAGE) end
    out(overview())
    return 0
  end
  local def = commands[name]
  if not def then fail("unknown command " .. name, "see pocketdock help", EXIT_USAGE) end
  local rest = {unpack(argv, 2)}
  if def.sub then return def.run(rest) end
  local a = parse(name, def, rest)
  if a.help then out(help_text(name)) return 0 end
  return def.run(a)
end

-- commands names every command, in the order help lists them: the binary
-- reads it (stdlib.Commands) to tell a command from a script file.
M.commands = {unpack(order)}
M.commands[#M.commands + 1] = "help"

function M.main(...)
  local argv = {...}
  local ok, code = pcall(dispatch, argv)
  if not ok then
    if type(code) == "table" and code.kind == "Interrupted" then error(code, 0) end
    report(code)
    return type(code) == "table" and code.code or 1
  end
  return tonumber(code) or 0
end

return M
