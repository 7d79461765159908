package luaapi

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

//go:generate go test -count=1 -run TestLuaAPIDoc -update .

// builtin describes one function of the Lua API. builtins() is the one list
// of them: the module table, the methods of Container, Process and Session
// values, help() and docs/LUA_API.md are all made from it.
type builtin struct {
	// Name says where the function lives: "f" is pd.f, "images.f" is
	// pd.images.f, "json.f" is pd.json.f, and "Container:f" (or Process:,
	// Session:) is a method of those values.
	Name string
	// Fn implements it, as one of
	//   func(*handle, *lua.LState) int  module functions bound to an engine handle
	//   func(*Module, *lua.LState) int  functions and methods that need the module
	//   func(*lua.LState) int           functions that need neither
	// nil means the function is written in Lua (module.lua, stdlib's
	// json.lua): the entry documents it, and names it for help(fn).
	Fn any
	// Blocking functions wait on the engine or a sandbox: they get the Lua
	// wrapper that yields inside pd.map tasks (lua.go).
	Blocking bool
	Doc      doc
}

// doc is one help entry.
type doc struct {
	Sig     string // how it is called
	Summary string // one sentence
	Opts    string // its options, "" when it takes none
	Returns string
	Example string // one line of Lua
}

// sections group the builtins by where they live, in the order help and
// LUA_API.md show them; a builtin belongs to the section its name starts with
// ("" takes the module's own functions).
var sections = []struct{ prefix, title, intro string }{
	{"", "Module functions", "The `pocketdock` module, also the global `pd`: `local pd = require(\"pocketdock\")`."},
	{"images.", "Images: pd.images", "Image management on the module's engine (or the one a `socket_path` option names)."},
	{"json.", "JSON: pd.json", "Also `require(\"pocketdock.json\")`."},
	{"Container:", "Container methods", "A Container `c` comes from `create_new_container`, `resume_container`, `get_container` or `with_container`. Its fields: `c.id`, `c.name`, `c.persist`, `c.project`."},
	{"Process:", "Process methods", "A Process `p` comes from `c:spawn`."},
	{"Session:", "Session methods", "A Session `s` comes from `c:session`."},
}

// section is the prefix of the section a builtin's name belongs to.
func section(name string) string {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return name[:i+1]
	}
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i+1]
	}
	return ""
}

// allBuiltins is builtins(), built once. It is set in init, not in its
// declaration, because the module's functions the list names build module
// tables from it (pd.connect does): an initialisation cycle otherwise.
var allBuiltins func() []builtin

func init() { allBuiltins = sync.OnceValue(builtins) }

// builtins lists the Lua API, in the order of its documentation; use
// allBuiltins.
func builtins() []builtin {
	return []builtin{
		{"create_new_container", (*handle).create, true, doc{"pd.create_new_container{opts}", "Create and start a sandbox.",
			`image (default localhost/pocketdock/minimal, built offline if missing), name (random pd-xxxxxxxx), persist=false, project, timeout=30 (run() default, seconds; 0 none), mem_limit="1g" (less on small hosts; 0 none), disk_limit ("10g" where the storage has quotas; 0 none), cpu_percent, pids_limit=1024, env={K=v}, workdir, user, network=false (true: bridge; string: named network), ports={[host]=ctr} or {[host]={port=, host_ip=, protocol=}} (on 127.0.0.1 unless host_ip says; they bring the bridge when network is not given), volumes={["/host"]="/ctr"} or {{source=,target=,readonly=}}, devices, labels, read_only=false, userns="host" ("auto": its own host uid range), socket_path`, "a Container", `local c = pd.create_new_container{name = "dev", persist = true}`}},
		{"resume_container", (*handle).resume, true, doc{"pd.resume_container(name, {socket_path=, timeout=})", "Find a sandbox by name and start it if it is stopped; its files are as they were.",
			"socket_path, timeout (run() default)", "a Container", `local c = pd.resume_container("dev")`}},
		{"get_container", (*handle).getContainer, true, doc{"pd.get_container(name, {socket_path=})", "Find a sandbox by name without starting it.",
			"socket_path", "a Container", `print(pd.get_container("dev"):info().status)`}},
		{"list_containers", (*handle).list, true, doc{"pd.list_containers{project=, socket_path=}", "List managed sandboxes, running or not.",
			"project, socket_path", "array of {id, name, status, image, created_at, persist, project}", "for _, s in ipairs(pd.list_containers()) do print(s.name, s.status) end"}},
		{"stop_container", (*handle).stop, true, doc{"pd.stop_container(name, {timeout=5, socket_path=})", "Stop a sandbox without removing it.",
			"timeout (grace seconds), socket_path", "true", `pd.stop_container("dev")`}},
		{"destroy_container", (*handle).destroy, true, doc{"pd.destroy_container(name, {socket_path=})", "Remove a sandbox, persistent or not.",
			"socket_path", "true", `pd.destroy_container("dev")`}},
		{"prune", (*handle).prune, true, doc{"pd.prune{project=, dry_run=false, socket_path=}", "Remove all stopped managed sandboxes (persistent ones too).",
			"project, dry_run, socket_path", "count, names", "local n, names = pd.prune{dry_run = true}"}},
		{"doctor", (*handle).doctor, true, doc{"pd.doctor{socket_path=}", "Check the engine: which one answered, its version, orphans.",
			"socket_path", "{ok, engine, engine_version, sandboxes, orphans, default_image, error}", "print(pd.doctor().engine)"}},
		{"with_container", nil, false, doc{"pd.with_container(opts, fn)", "Create a sandbox, call fn(c), and always shut it down; errors are re-raised.",
			"as create_new_container", "fn's results", `pd.with_container({}, function(c) print(c:run("uname -a").stdout) end)`}},
		{"map", (*Module).luaMap, false, doc{"pd.map(list, fn)", "Run fn(item) for every item concurrently; engine calls overlap. The first error cancels the rest and is raised with its index.",
			"", "array of fn's first results, in order", `local outs = pd.map({1, 2, 3}, function(i) return pd.with_container({}, function(c) return c:run("echo " .. i).stdout end) end)`}},
		{"parallel", (*Module).luaParallel, false, doc{"pd.parallel(f1, f2, ...)", "Run the functions concurrently, like pd.map.",
			"", "array of results, in order", "local r = pd.parallel(function() return 1 end, function() return 2 end)"}},
		{"connect", (*Module).connectFn, false, doc{"pd.connect(uri_or_name, {identity=, timeout=10})", "Connect to another Podman engine (unix://, tcp://, ssh:// or a podman connection name).",
			"identity (ssh key), timeout (seconds)", "an engine handle with the module's functions", `local e = pd.connect("tcp://127.0.0.1:8888"); local c = e.create_new_container{}`}},
		{"provision", nil, false, doc{"pd.provision(recipe_or_path, {quiet=, tag=})", "Build a recipe into an image, caching every step.",
			"quiet (no progress lines), tag (instead of the recipe's own)", "image id", `pd.provision("scripts/recipes/tools.lua")`}},
		{"project", projectInfo, false, doc{"pd.project()", "The project folder around the working directory (searched upward).",
			"", "{name, root, image, persist, instances} or nil", "local p = pd.project(); if p then print(p.name) end"}},
		{"init_project", initProject, false, doc{`pd.init_project{dir=".", name=, image=, persist=, force=false}`, "Write .pocketdock/pocketdock.yaml: the defaults for sandboxes created in that folder.",
			"dir, name (default: the folder's name), image, persist, force", "the file's path", `pd.init_project{image = "tools:1", persist = true}`}},
		{"version", (*Module).version, false, doc{"pd.version()", "pocketdock's version.",
			"", "string", "print(pd.version())"}},
		{"clock", (*Module).clock, false, doc{"pd.clock()", "Monotonic milliseconds, for timing things.",
			"", "number", `local t = pd.clock(); c:run("true"); print(pd.clock() - t)`}},
		{"hash", hashString, false, doc{"pd.hash(s)", "SHA-256 of a string.",
			"", "hex string", `print(pd.hash("abc"))`}},
		{"hash_file", hashFile, false, doc{"pd.hash_file(path)", "SHA-256 of a host file, or of a whole tree (names, modes, contents).",
			"", `hex, mode (number), kind ("file" or "dir")`, `local h, mode = pd.hash_file("files/tool.sh")`}},
		{"abspath", absPath, false, doc{"pd.abspath(path)", "A host path made absolute against the working directory.",
			"", "string", `print(pd.abspath("./src"))`}},
		{"isatty", isatty, false, doc{`pd.isatty("stdin"|"stdout"|"stderr")`, "Whether a standard stream is a terminal.",
			"", "boolean", `if pd.isatty("stdout") then print("hi") end`}},
		{"host_command", hostCommand, false, doc{"pd.host_command(argv)", "Run a host program with this process's terminal (for interactive tools).",
			"", "exit code", `pd.host_command({"podman", "ps"})`}},
		{"images.list", (*handle).imageList, true, doc{"pd.images.list{socket_path=}", "List images.",
			"socket_path", "array of {id, tags, size, created}", "for _, im in ipairs(pd.images.list()) do print(im.tags[1]) end"}},
		{"images.exists", (*handle).imageExists, true, doc{"pd.images.exists(ref)", "Whether an image is present.",
			"socket_path", "boolean", `pd.images.exists("localhost/pocketdock/minimal")`}},
		{"images.id", (*handle).imageID, true, doc{"pd.images.id(ref)", "An image's id.",
			"socket_path", "id, or nil when there is no such image", `print(pd.images.id("localhost/pocketdock/minimal"))`}},
		{"images.pull", (*handle).imagePull, true, doc{"pd.images.pull(ref)", "Pull an image from a registry, with progress on stderr.",
			"socket_path, quiet", "image id", `pd.images.pull("docker.io/library/alpine")`}},
		{"images.build", nil, false, doc{"pd.images.build(tag, recipe_or_steps)", "Build an image from a recipe table (see pd.provision).",
			"", "image id", `pd.images.build("tools:1", {steps = {{run = "mkdir /opt/x"}}})`}},
		{"images.tag", (*handle).imageTag, true, doc{"pd.images.tag(image, ref)", "Give an image (id or reference) another name.",
			"socket_path", "true", `pd.images.tag(id, "tools:1")`}},
		{"images.remove", (*handle).imageRemove, true, doc{"pd.images.remove(ref, {force=false})", "Remove an image.",
			"force, socket_path", "true", `pd.images.remove("tools:1")`}},
		{"images.bootstrap", (*handle).imageBootstrap, true, doc{"pd.images.bootstrap{force=false}", "Build the offline default image from the host's busybox.",
			"force, socket_path", "image id", "pd.images.bootstrap()"}},
		{"images.save", (*handle).imageSave, true, doc{"pd.images.save(ref, path)", "Save an image to a tar file.",
			"socket_path", "true", `pd.images.save("tools:1", "/tmp/tools.tar")`}},
		{"images.load", (*handle).imageLoad, true, doc{"pd.images.load(path)", "Load images from a tar file.",
			"socket_path", "array of names", `pd.images.load("/tmp/tools.tar")`}},
		{"json.encode", nil, false, doc{"pd.json.encode(value)", "Turn a Lua value into JSON text.",
			"", "string: a table with a positive length (or made with pd.json.array) is an array, any other an object with sorted keys; nil and pd.json.null are null", `print(pd.json.encode{name = "dev", ports = {8080}})`}},
		{"json.decode", jsonDecode, false, doc{"pd.json.decode(text, {max_values=})", "Turn JSON text into Lua values; bad text is an InvalidArgument saying at which line and column.",
			"max_values (default 2097152, about 120 MiB of host memory at most; 0 none)", "the value: objects are tables with string keys, arrays are sequences (encoded back as arrays, [] too), null is pd.json.null (not nil: arrays keep their length, objects their keys); at most 512 levels of nesting", `local v = pd.json.decode(c:run("cat /etc/app.json").stdout); print(v.name, v.tags[1])`}},
		{"json.array", nil, false, doc{"pd.json.array(t)", "Mark a table as a JSON array, so that an empty one encodes as [].",
			"", "t", "print(pd.json.encode{items = pd.json.array{}})"}},
		{"Container:run", (*Module).run, true, doc{"c:run(cmd, {timeout=, env=, cwd=, user=, stdin=, max_output=, on_stdout=, on_stderr=, check=false, isolated=false})", "Run a command: a string goes through sh -c, a table is argv (no shell). A failing command is data: look at exit_code.",
			"timeout (seconds, default the sandbox's; 0 none: the command is killed inside the sandbox, partial output kept), env, cwd, user, stdin (string), max_output (bytes kept, default 64 MiB; the rest is dropped, the command runs on), on_stdout/on_stderr (fn(chunk)), check (raise on failure), isolated (plain engine exec)", "{exit_code, stdout, stderr, ok, timed_out, truncated, duration_ms}", `print(c:run("echo hi").stdout)`}},
		{"Container:spawn", (*Module).spawn, true, doc{"c:spawn(cmd, opts)", "Run a command in the background.",
			"as run, except on_stdout/on_stderr/check; timeout defaults to none", "a Process: p:running(), p:wait(timeout), p:kill(sig), p:read(), p:peek()", `local p = c:spawn("sleep 5"); p:kill()`}},
		{"Container:session", (*Module).session, true, doc{"c:session{cwd=, env=, user=}", "Open a shell that keeps its state (cwd, variables) between commands.",
			"cwd, env, user", "a Session: s:run(cmd, opts), s:close()", `local s = c:session(); s:run("cd /tmp"); print(s:run("pwd").stdout)`}},
		{"Container:write_file", (*Module).writeFile, true, doc{"c:write_file(path, data, {mode=, owner=})", "Write a file (parents created; never over a directory); owned by the sandbox's user unless owner says otherwise.",
			`mode (number), owner ("uid:gid" or name)`, "true", `c:write_file("/tmp/a.txt", "hello\n")`}},
		{"Container:read_file", (*Module).readFile, true, doc{"c:read_file(path, {max_bytes=})", "Read a file; larger than max_bytes is refused before anything is copied.",
			"max_bytes (default 64 MiB)", "string", `print(c:read_file("/etc/os-release"))`}},
		{"Container:list_files", (*Module).listFiles, true, doc{"c:list_files(path, {details=false})", "List a directory.",
			"details (entries with name, type, size, mode)", "array of names (or entries)", `for _, n in ipairs(c:list_files("/etc")) do print(n) end`}},
		{"Container:stat", (*Module).stat, true, doc{"c:stat(path)", "Describe a path.",
			"", "{name, type, size, mode, mtime, link} or nil when missing", `print(c:stat("/etc/passwd").size)`}},
		{"Container:push", (*Module).push, true, doc{"c:push(host_src, dest)", "Copy a host file or tree into the sandbox, keeping modes; as cp, an existing directory (or dest/) receives it, and src/. copies a directory's contents.",
			"", "true", `c:push("./src", "/opt/src")`}},
		{"Container:pull", (*Module).pull, true, doc{"c:pull(src, host_dest, {max_bytes=})", "Copy a file or tree out of the sandbox, keeping modes; as cp, an existing folder (or host_dest/) receives it, and src/. copies a directory's contents. Never writes outside host_dest; a refused pull removes what it wrote.",
			"max_bytes (file data, default 1 GiB)", "number of entries", `c:pull("/opt/out", "./out")`}},
		{"Container:info", (*Module).info, true, doc{"c:info()", "A small table about the sandbox.",
			"", "{id, name, status, running, image, persist, project, created_at, started_at, pid, oom_killed, mem_limit, pids_limit, ports, labels}", "print(c:info().status)"}},
		{"Container:inspect", (*Module).inspect, true, doc{"c:inspect()", "The engine's full inspect record (snake_case fields).",
			"", "a record", "print(c:inspect().state.status)"}},
		{"Container:snapshot", (*Module).snapshot, true, doc{`c:snapshot("repo:tag", {comment=, changes=, pause=true})`, "Commit the sandbox's filesystem into an image (paused for consistency).",
			"comment, changes (Dockerfile lines), pause", "image id", `local id = c:snapshot("dev:with-tools")`}},
		{"Container:stop", (*Module).stopMethod, true, doc{"c:stop{timeout=5}", "Stop the sandbox, keeping it.",
			"timeout", "true", "c:stop()"}},
		{"Container:start", (*Module).startMethod, true, doc{"c:start()", "Start a stopped sandbox.",
			"", "true", "c:start()"}},
		{"Container:reboot", (*Module).reboot, true, doc{"c:reboot{fresh=false}", "Restart the sandbox; fresh recreates it from its image.",
			"fresh", "true", "c:reboot()"}},
		{"Container:shutdown", (*Module).shutdown, true, doc{"c:shutdown{force=false}", "Ephemeral: remove. Persistent: stop and keep (force: remove). Idempotent.",
			"force", "true", "c:shutdown()"}},
		{"Container:on_stdout", (*Module).onStdout, false, doc{"c:on_stdout(fn)", "Call fn(chunk) with the stdout of every later command.",
			"", "nothing", "c:on_stdout(io.write)"}},
		{"Container:on_stderr", (*Module).onStderr, false, doc{"c:on_stderr(fn)", "Call fn(chunk) with the stderr of every later command.",
			"", "nothing", "c:on_stderr(function(s) io.stderr:write(s) end)"}},
		{"Container:on_exit", (*Module).onExit, false, doc{"c:on_exit(fn)", "Call fn(c) after the sandbox shuts down.",
			"", "nothing", `c:on_exit(function(c) print("bye", c.name) end)`}},
		{"Process:running", processRunning, false, doc{"p:running()", "Whether the process still runs.",
			"", "boolean", "while p:running() do end"}},
		{"Process:wait", (*Module).processWait, true, doc{"p:wait(timeout)", "Wait for the process (timeout seconds, nil = forever).",
			"", "the run result table, or nil on timeout", "local r = p:wait(10)"}},
		{"Process:kill", (*Module).processKill, true, doc{"p:kill(signal)", "Signal the process and its children inside the sandbox (default KILL).",
			"", "true", `p:kill("TERM")`}},
		{"Process:read", processRead, false, doc{"p:read()", "Take the output buffered so far.",
			"", "stdout, stderr, overflowed", "local out = p:read()"}},
		{"Process:peek", processPeek, false, doc{"p:peek()", "Look at the buffered output without taking it.",
			"", "stdout, stderr, overflowed", "print(p:peek())"}},
		{"Session:run", (*Module).sessionRun, true, doc{"s:run(cmd, {timeout=, stdin=, max_output=, check=false})", "Run a command in the session's shell.",
			"timeout, stdin, max_output (bytes, default 64 MiB), check", "the run result table", `s:run("export A=1"); print(s:run("echo $A").stdout)`}},
		{"Session:close", (*Module).sessionClose, false, doc{"s:close()", "End the session.",
			"", "true", "s:close()"}},
	}
}

// findBuiltin returns the builtin of that name, or nil.
func findBuiltin(name string) *builtin {
	for _, b := range allBuiltins() {
		if b.Name == name {
			return &b
		}
	}
	return nil
}

// luaFunction makes the Lua function of a builtin written in Go: bound to h
// (nil for methods) and m, behind the yield wrapper when it blocks, and named
// for help(fn).
func (m *Module) luaFunction(L *lua.LState, b builtin, h *handle) *lua.LFunction {
	var fn lua.LGFunction
	switch f := b.Fn.(type) {
	case func(*handle, *lua.LState) int:
		if h == nil {
			panic("builtin " + b.Name + ": a method cannot take an engine handle") // a table defect, caught by every test
		}
		fn = func(L *lua.LState) int { return f(h, L) }
	case func(*Module, *lua.LState) int:
		fn = func(L *lua.LState) int { return f(m, L) }
	case func(*lua.LState) int:
		fn = f
	default:
		panic(fmt.Sprintf("builtin %s: Fn of type %T", b.Name, b.Fn)) // a table defect, caught by every test
	}
	lf := L.NewFunction(fn)
	if b.Blocking {
		lf = m.wrapped(L, lf)
	}
	m.nameFunction(lf, b.Name)
	return lf
}

// setBuiltins puts the Go builtins of a section ("" or "images." ...) into t,
// under their names without the prefix.
func (m *Module) setBuiltins(L *lua.LState, t *lua.LTable, prefix string, h *handle) {
	for _, b := range allBuiltins() {
		if b.Fn != nil && section(b.Name) == prefix {
			t.RawSetString(strings.TrimPrefix(b.Name, prefix), m.luaFunction(L, b, h))
		}
	}
}

// nameLuaBuiltins names, for help(fn), the builtins written in Lua that the
// module table t holds.
func (m *Module) nameLuaBuiltins(t *lua.LTable) {
	for _, b := range allBuiltins() {
		if b.Fn != nil || strings.Contains(b.Name, ":") {
			continue
		}
		v := lua.LValue(t)
		for _, key := range strings.Split(b.Name, ".") {
			if tt, ok := v.(*lua.LTable); ok {
				v = tt.RawGetString(key)
			} else {
				v = lua.LNil
			}
		}
		if f, ok := v.(*lua.LFunction); ok {
			m.nameFunction(f, b.Name)
		}
	}
}

// methodTable is the table of a value type's methods ("Container" ...) and
// their names, sorted.
func (m *Module) methodTable(L *lua.LState, typeName string) (*lua.LTable, []string) {
	t := L.NewTable()
	var names []string
	for _, b := range allBuiltins() {
		if section(b.Name) == typeName+":" {
			name := strings.TrimPrefix(b.Name, typeName+":")
			t.RawSetString(name, m.luaFunction(L, b, nil))
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return t, names
}
