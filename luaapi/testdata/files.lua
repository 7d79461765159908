-- Files in and out of a sandbox through the archive API: write, read, list,
-- stat, push, pull.
local pd = require("pocketdock")

pd.with_container({}, function(c)
  -- write_file creates parents and returns true; read_file gives it back
  assert(c:write_file("/srv/app/conf/app.ini", "[main]\nx = 1\n") == true)
  assert(c:read_file("/srv/app/conf/app.ini") == "[main]\nx = 1\n")
  assert(c:write_file("/srv/app/run.sh", "#!/bin/sh\necho ran\n", {mode = tonumber("755", 8)}))
  assert(c:run("/srv/app/run.sh").stdout == "ran\n")
  assert(c:write_file("/srv/app/empty", "") and c:read_file("/srv/app/empty") == "")

  -- list_files: sorted names, or entries with details
  local names = c:list_files("/srv/app")
  assert(table.concat(names, ",") == "conf,empty,run.sh", table.concat(names, ","))
  local byname = {}
  for _, e in ipairs(c:list_files("/srv/app", {details = true})) do byname[e.name] = e end
  assert(byname.conf.type == "dir", byname.conf.type)
  assert(byname["run.sh"].type == "file" and byname["run.sh"].mode == tonumber("755", 8))
  assert(byname["run.sh"].size == #"#!/bin/sh\necho ran\n")

  -- stat: a table, or nil when missing
  local st = c:stat("/srv/app/run.sh")
  assert(st.name == "run.sh" and st.type == "file" and st.mode == tonumber("755", 8), st.type)
  assert(type(st.mtime) == "number" and st.mtime > 0 and st.link == nil)
  assert(c:stat("/srv/app/missing") == nil)
  assert(c:run({"ln", "-s", "/srv/app", "/srv/link"}).ok)
  local ln = c:stat("/srv/link")
  assert(ln.type == "link" and ln.link == "/srv/app", ln.type)

  -- errors have kinds and name the path
  local ok, err = pcall(c.read_file, c, "/srv/nothing")
  assert(not ok and err.kind == "FileNotFound" and err.message:find("/srv/nothing", 1, true), tostring(err))
  ok, err = pcall(c.read_file, c, "/srv/app")
  assert(not ok and err.kind == "InvalidArgument" and err.message:find("is a directory"), tostring(err))
  ok, err = pcall(c.list_files, c, "relative/path")
  assert(not ok and err.kind == "InvalidArgument", tostring(err))
  ok, err = pcall(c.write_file, c, "/tmp/x", "data", {mode = "rw"})
  assert(not ok and err.kind == "InvalidArgument" and err.message:find("mode"), tostring(err))

  -- push a tree and pull it back
  local src = T.tmpdir .. "/src"
  os.execute("mkdir -p " .. src .. "/sub && printf 'a' > " .. src .. "/a.txt && printf 'b' > " .. src .. "/sub/b.txt")
  assert(c:push(src, "/opt/tree") == true)
  assert(c:read_file("/opt/tree/sub/b.txt") == "b")
  local out = T.tmpdir .. "/out"
  local n = c:pull("/opt/tree", out)
  assert(n == 4, "entries " .. tostring(n))                 -- tree, a.txt, sub, sub/b.txt
  local f = assert(io.open(out .. "/sub/b.txt"))
  assert(f:read("*a") == "b")
  f:close()
  -- into an existing directory: the base name is kept
  assert(c:pull("/srv/app/conf/app.ini", out) == 1)
  f = assert(io.open(out .. "/app.ini"))
  assert(f:read("*a") == "[main]\nx = 1\n")
  f:close()
end)

-- Existing destinations follow cp and podman cp, and nothing replaces a
-- directory with a file.
local function fails(kind, pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert((kind == nil or err.kind == kind) and err.message:find(pattern), tostring(err))
  return err
end

local function slurp(p)
  local f = assert(io.open(p))
  local s = f:read("*a")
  f:close()
  return s
end

pd.with_container({}, function(c)
  assert(c:run("mkdir -p /opt/data && echo 1 > /opt/data/keep").ok)
  -- write_file onto a directory: refused, and the tree is untouched
  fails("InvalidArgument", "is a directory", c.write_file, c, "/opt/data", "oops")
  fails("InvalidArgument", "is a directory", c.write_file, c, "/etc", "x")
  assert(c:read_file("/opt/data/keep") == "1\n")
  assert(c:stat("/etc/passwd").type == "file", "/etc survived")
  fails("InvalidArgument", "/opt/data/keep is a file", c.write_file, c, "/opt/data/keep/x/y", "z")

  local h = T.tmpdir .. "/cp"
  os.execute("mkdir -p " .. h .. "/tree/sub && printf f > " .. h .. "/file && printf t > " .. h .. "/tree/sub/t")
  -- push: a file onto a directory goes inside it; a tree onto a file is refused
  assert(c:push(h .. "/file", "/opt/data"))
  assert(c:read_file("/opt/data/file") == "f" and c:read_file("/opt/data/keep") == "1\n")
  fails("InvalidArgument", "is a file", c.push, c, h .. "/tree", "/opt/data/keep")
  assert(c:run("mkdir -p /opt/d/file").ok)
  fails("InvalidArgument", "is a directory", c.push, c, h .. "/file", "/opt/d/")
  fails("InvalidArgument", "is a directory", c.push, c, h .. "/file", "/opt/d")
  -- a tree onto an existing directory nests; "tree/." merges its contents
  assert(c:push(h .. "/tree", "/opt/data"))
  assert(c:read_file("/opt/data/tree/sub/t") == "t")
  assert(c:push(h .. "/tree/.", "/opt/data"))
  assert(c:read_file("/opt/data/sub/t") == "t" and c:read_file("/opt/data/keep") == "1\n")
  fails("InvalidArgument", "no contents", c.push, c, h .. "/file/.", "/opt/x")

  -- pull: into an existing folder under the base name ...
  os.execute("mkdir " .. h .. "/out")
  assert(c:pull("/opt/data/sub", h .. "/out") == 2)
  assert(slurp(h .. "/out/sub/t") == "t")
  -- ... "src/." puts the contents there instead ...
  assert(c:pull("/opt/data/sub/.", h .. "/out") == 1)
  assert(slurp(h .. "/out/t") == "t")
  -- ... "dest/" means inside dest, which is made if missing ...
  assert(c:pull("/opt/data/keep", h .. "/new/") == 1)
  assert(slurp(h .. "/new/keep") == "1\n")
  -- ... a missing host_dest becomes src's copy; a file there takes only a file
  assert(c:pull("/opt/data/sub", h .. "/copy") == 2 and slurp(h .. "/copy/t") == "t")
  fails("InvalidArgument", "is a file", c.pull, c, "/opt/data/sub", h .. "/file")
  fails("InvalidArgument", "not a directory", c.pull, c, "/opt/data/keep", h .. "/file/")
  fails("InvalidArgument", "is a file, not a folder", c.pull, c, "/opt/data/keep", h .. "/file/x")
  fails("FileNotFound", "does not exist", c.pull, c, "/opt/data/keep", h .. "/no/such/x")
  -- a host failure says why, in words
  local err = fails(nil, "no such file", c.pull, c, "/opt/data/keep", "/proc/pd-nope")
  assert(not err.message:find("openat") and not err.message:find("statat"), err.message)

  -- modes survive a round trip, for trees as for single files, including
  -- what commands create with the default umask
  assert(c:run("mkdir -p /m/d && echo x > /m/d/f && echo y > /m/g && chmod 750 /m/d && chmod 4755 /m/g").ok)
  assert(c:pull("/m", h .. "/m") == 4)
  local r = io.popen("stat -c '%n %a' " .. h .. "/m " .. h .. "/m/d " .. h .. "/m/d/f " .. h .. "/m/g"):read("*a")
  assert(r == h .. "/m 755\n" .. h .. "/m/d 750\n" .. h .. "/m/d/f 644\n" .. h .. "/m/g 755\n", r)

  -- devices and mounts are named for what they are
  fails("InvalidArgument", "character device", c.read_file, c, "/dev/zero")
  local dev = c:list_files("/dev")
  assert(table.concat(dev, ","):find("null"), table.concat(dev, ","))

  -- read_file's cap
  assert(c:write_file("/tmp/hundred", string.rep("x", 100)))
  fails("InvalidArgument", "over the limit of 99 bytes", c.read_file, c, "/tmp/hundred", {max_bytes = 99})
  assert(#c:read_file("/tmp/hundred", {max_bytes = 100}) == 100)
  fails("InvalidArgument", "max_bytes", c.read_file, c, "/tmp/hundred", {max_bytes = 0})

  -- names a terminal would act on are refused, shown escaped, nothing kept
  assert(c:run({"sh", "-c", 'mkdir /tmp/ev && echo 1 > /tmp/ev/ok && echo 2 > "/tmp/ev/a$(printf "\\033")]52;c;eA==$(printf "\\007")b"'}).ok)
  err = fails("EngineError", "control characters", c.pull, c, "/tmp/ev", h)
  assert(err.message:find("\\x1b", 1, true) and not err.message:find("\27"), err.message)
  assert(io.open(h .. "/ev") == nil, "a refused pull left its folder")

  -- list_files, with details, matches stat for every kind of entry,
  -- and gives hostile names back as they are
  assert(c:run({"sh", "-c", 'mkdir /l && cd /l && mkdir d && echo hi > f && ln -s f s && mkfifo p && touch "$(printf "n\\nl")" -- -x .hidden ..dots'}).ok)
  local got = {}
  for _, e in ipairs(c:list_files("/l", {details = true})) do
    got[#got + 1] = e.name .. ":" .. e.type .. ":" .. e.size .. ":" .. string.format("%o", e.mode)
  end
  assert(table.concat(got, ",") == "-x:file:0:644,..dots:file:0:644,.hidden:file:0:644,d:dir:0:755,f:file:3:644,n\nl:file:0:644,p:other:0:644,s:link:1:777",
    table.concat(got, ","))
end)
