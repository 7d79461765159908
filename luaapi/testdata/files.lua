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
