package luaapi

import (
	"fmt"
	"sort"
	"strings"

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

// builtins lists the Lua API, in the order of its documentation. It is a
// function, not a variable, because the module's functions it names build
// module tables from it (pd.connect does).
func builtins() []builtin {
	return []builtin{
		{Name: "create_new_container", Fn: (*handle).create, Blocking: true, Doc: doc{
			Sig:     "pd.create_new_container{opts}",
			Summary: "Create and start a sandbox.",
			Opts:    `image (default localhost/pocketdock/minimal, built offline if missing), name (random pd-xxxxxxxx), persist=false, project, timeout=30 (run() default, seconds; 0 none), mem_limit="1g" (less on small hosts; 0 none), disk_limit ("10g" where the storage has quotas; 0 none), cpu_percent, pids_limit=1024, env={K=v}, workdir, user, network=false (true: bridge; string: named network), ports={[host]=ctr} (on 127.0.0.1; they bring the bridge when network is not given), volumes={["/host"]="/ctr"} or {{source=,target=,readonly=}}, devices, labels, read_only=false, userns="host" ("auto": its own host uid range), socket_path`,
			Returns: "a Container",
			Example: `local c = pd.create_new_container{name = "dev", persist = true}`}},
		{Name: "resume_container", Fn: (*handle).resume, Blocking: true, Doc: doc{
			Sig:     "pd.resume_container(name, {socket_path=, timeout=})",
			Summary: "Find a sandbox by name and start it if it is stopped; its files are as they were.",
			Opts:    "socket_path, timeout (run() default)",
			Returns: "a Container",
			Example: `local c = pd.resume_container("dev")`}},
		{Name: "get_container", Fn: (*handle).getContainer, Blocking: true, Doc: doc{
			Sig:     "pd.get_container(name, {socket_path=})",
			Summary: "Find a sandbox by name without starting it.",
			Opts:    "socket_path",
			Returns: "a Container",
			Example: `print(pd.get_container("dev"):info().status)`}},
		{Name: "list_containers", Fn: (*handle).list, Blocking: true, Doc: doc{
			Sig:     "pd.list_containers{project=, socket_path=}",
			Summary: "List managed sandboxes, running or not.",
			Opts:    "project, socket_path",
			Returns: "array of {id, name, status, image, created_at, persist, project}",
			Example: "for _, s in ipairs(pd.list_containers()) do print(s.name, s.status) end"}},
		{Name: "stop_container", Fn: (*handle).stop, Blocking: true, Doc: doc{
			Sig:     "pd.stop_container(name, {timeout=5, socket_path=})",
			Summary: "Stop a sandbox without removing it.",
			Opts:    "timeout (grace seconds), socket_path",
			Returns: "true",
			Example: `pd.stop_container("dev")`}},
		{Name: "destroy_container", Fn: (*handle).destroy, Blocking: true, Doc: doc{
			Sig:     "pd.destroy_container(name, {socket_path=})",
			Summary: "Remove a sandbox, persistent or not.",
			Opts:    "socket_path",
			Returns: "true",
			Example: `pd.destroy_container("dev")`}},
		{Name: "prune", Fn: (*handle).prune, Blocking: true, Doc: doc{
			Sig:     "pd.prune{project=, dry_run=false, socket_path=}",
			Summary: "Remove all stopped managed sandboxes (persistent ones too).",
			Opts:    "project, dry_run, socket_path",
			Returns: "count, names",
			Example: "local n, names = pd.prune{dry_run = true}"}},
		{Name: "doctor", Fn: (*handle).doctor, Blocking: true, Doc: doc{
			Sig:     "pd.doctor{socket_path=}",
			Summary: "Check the engine: which one answered, its version, orphans.",
			Opts:    "socket_path",
			Returns: "{ok, engine, engine_version, sandboxes, orphans, default_image, error}",
			Example: "print(pd.doctor().engine)"}},
		{Name: "with_container", Doc: doc{
			Sig:     "pd.with_container(opts, fn)",
			Summary: "Create a sandbox, call fn(c), and always shut it down; errors are re-raised.",
			Opts:    "as create_new_container",
			Returns: "fn's results",
			Example: `pd.with_container({}, function(c) print(c:run("uname -a").stdout) end)`}},
		{Name: "map", Fn: (*Module).luaMap, Doc: doc{
			Sig:     "pd.map(list, fn)",
			Summary: "Run fn(item) for every item concurrently; engine calls overlap. The first error cancels the rest and is raised with its index.",
			Returns: "array of fn's first results, in order",
			Example: `local outs = pd.map({1, 2, 3}, function(i) return pd.with_container({}, function(c) return c:run("echo " .. i).stdout end) end)`}},
		{Name: "parallel", Fn: (*Module).luaParallel, Doc: doc{
			Sig:     "pd.parallel(f1, f2, ...)",
			Summary: "Run the functions concurrently, like pd.map.",
			Returns: "array of results, in order",
			Example: "local r = pd.parallel(function() return 1 end, function() return 2 end)"}},
		{Name: "connect", Fn: (*Module).connectFn, Doc: doc{
			Sig:     "pd.connect(uri_or_name, {identity=, timeout=10})",
			Summary: "Connect to another Podman engine (unix://, tcp://, ssh:// or a podman connection name).",
			Opts:    "identity (ssh key), timeout (seconds)",
			Returns: "an engine handle with the module's functions",
			Example: `local e = pd.connect("tcp://127.0.0.1:8888"); local c = e.create_new_container{}`}},
		{Name: "provision", Doc: doc{
			Sig:     "pd.provision(recipe_or_path, {quiet=, tag=})",
			Summary: "Build a recipe into an image, caching every step.",
			Opts:    "quiet (no progress lines), tag (instead of the recipe's own)",
			Returns: "image id",
			Example: `pd.provision("scripts/recipes/tools.lua")`}},
		{Name: "project", Fn: projectInfo, Doc: doc{
			Sig:     "pd.project()",
			Summary: "The project folder around the working directory (searched upward).",
			Returns: "{name, root, image, persist, instances} or nil",
			Example: "local p = pd.project(); if p then print(p.name) end"}},
		{Name: "init_project", Fn: initProject, Doc: doc{
			Sig:     `pd.init_project{dir=".", name=, image=, persist=, force=false}`,
			Summary: "Write .pocketdock/pocketdock.yaml: the defaults for sandboxes created in that folder.",
			Opts:    "dir, name (default: the folder's name), image, persist, force",
			Returns: "the file's path",
			Example: `pd.init_project{image = "tools:1", persist = true}`}},
		{Name: "version", Fn: (*Module).version, Doc: doc{
			Sig:     "pd.version()",
			Summary: "pocketdock's version.",
			Returns: "string",
			Example: "print(pd.version())"}},
		{Name: "clock", Fn: (*Module).clock, Doc: doc{
			Sig:     "pd.clock()",
			Summary: "Monotonic milliseconds, for timing things.",
			Returns: "number",
			Example: `local t = pd.clock(); c:run("true"); print(pd.clock() - t)`}},
		{Name: "hash", Fn: hashString, Doc: doc{
			Sig:     "pd.hash(s)",
			Summary: "SHA-256 of a string.",
			Returns: "hex string",
			Example: `print(pd.hash("abc"))`}},
		{Name: "hash_file", Fn: hashFile, Doc: doc{
			Sig:     "pd.hash_file(path)",
			Summary: "SHA-256 of a host file, or of a whole tree (names, modes, contents).",
			Returns: `hex, mode (number), kind ("file" or "dir")`,
			Example: `local h, mode = pd.hash_file("files/tool.sh")`}},
		{Name: "abspath", Fn: absPath, Doc: doc{
			Sig:     "pd.abspath(path)",
			Summary: "A host path made absolute against the working directory.",
			Returns: "string",
			Example: `print(pd.abspath("./src"))`}},
		{Name: "isatty", Fn: isatty, Doc: doc{
			Sig:     `pd.isatty("stdin"|"stdout"|"stderr")`,
			Summary: "Whether a standard stream is a terminal.",
			Returns: "boolean",
			Example: `if pd.isatty("stdout") then print("hi") end`}},
		{Name: "host_command", Fn: hostCommand, Doc: doc{
			Sig:     "pd.host_command(argv)",
			Summary: "Run a host program with this process's terminal (for interactive tools).",
			Returns: "exit code",
			Example: `pd.host_command({"podman", "ps"})`}},
		{Name: "images.list", Fn: (*handle).imageList, Blocking: true, Doc: doc{
			Sig:     "pd.images.list{socket_path=}",
			Summary: "List images.",
			Opts:    "socket_path",
			Returns: "array of {id, tags, size, created}",
			Example: "for _, im in ipairs(pd.images.list()) do print(im.tags[1]) end"}},
		{Name: "images.exists", Fn: (*handle).imageExists, Blocking: true, Doc: doc{
			Sig:     "pd.images.exists(ref)",
			Summary: "Whether an image is present.",
			Opts:    "socket_path",
			Returns: "boolean",
			Example: `pd.images.exists("localhost/pocketdock/minimal")`}},
		{Name: "images.id", Fn: (*handle).imageID, Blocking: true, Doc: doc{
			Sig:     "pd.images.id(ref)",
			Summary: "An image's id.",
			Opts:    "socket_path",
			Returns: "id, or nil when there is no such image",
			Example: `print(pd.images.id("localhost/pocketdock/minimal"))`}},
		{Name: "images.pull", Fn: (*handle).imagePull, Blocking: true, Doc: doc{
			Sig:     "pd.images.pull(ref)",
			Summary: "Pull an image from a registry, with progress on stderr.",
			Opts:    "socket_path, quiet",
			Returns: "image id",
			Example: `pd.images.pull("docker.io/library/alpine")`}},
		{Name: "images.build", Doc: doc{
			Sig:     "pd.images.build(tag, recipe_or_steps)",
			Summary: "Build an image from a recipe table (see pd.provision).",
			Returns: "image id",
			Example: `pd.images.build("tools:1", {steps = {{run = "mkdir /opt/x"}}})`}},
		{Name: "images.tag", Fn: (*handle).imageTag, Blocking: true, Doc: doc{
			Sig:     "pd.images.tag(image, ref)",
			Summary: "Give an image (id or reference) another name.",
			Opts:    "socket_path",
			Returns: "true",
			Example: `pd.images.tag(id, "tools:1")`}},
		{Name: "images.remove", Fn: (*handle).imageRemove, Blocking: true, Doc: doc{
			Sig:     "pd.images.remove(ref, {force=false})",
			Summary: "Remove an image.",
			Opts:    "force, socket_path",
			Returns: "true",
			Example: `pd.images.remove("tools:1")`}},
		{Name: "images.bootstrap", Fn: (*handle).imageBootstrap, Blocking: true, Doc: doc{
			Sig:     "pd.images.bootstrap{force=false}",
			Summary: "Build the offline default image from the host's busybox.",
			Opts:    "force, socket_path",
			Returns: "image id",
			Example: "pd.images.bootstrap()"}},
		{Name: "images.save", Fn: (*handle).imageSave, Blocking: true, Doc: doc{
			Sig:     "pd.images.save(ref, path)",
			Summary: "Save an image to a tar file.",
			Opts:    "socket_path",
			Returns: "true",
			Example: `pd.images.save("tools:1", "/tmp/tools.tar")`}},
		{Name: "images.load", Fn: (*handle).imageLoad, Blocking: true, Doc: doc{
			Sig:     "pd.images.load(path)",
			Summary: "Load images from a tar file.",
			Opts:    "socket_path",
			Returns: "array of names",
			Example: `pd.images.load("/tmp/tools.tar")`}},
		{Name: "json.encode", Doc: doc{
			Sig:     "pd.json.encode(value)",
			Summary: "Turn a Lua value into JSON text.",
			Returns: "string: a table with a positive length (or made with pd.json.array) is an array, any other an object with sorted keys; nil and pd.json.null are null",
			Example: `print(pd.json.encode{name = "dev", ports = {8080}})`}},
		{Name: "json.decode", Fn: jsonDecode, Doc: doc{
			Sig:     "pd.json.decode(text, {max_values=})",
			Summary: "Turn JSON text into Lua values; bad text is an InvalidArgument saying at which line and column.",
			Opts:    "max_values (default 2097152, about 120 MiB of host memory at most; 0 none)",
			Returns: "the value: objects are tables with string keys, arrays are sequences (encoded back as arrays, [] too), null is pd.json.null (not nil: arrays keep their length, objects their keys); at most 512 levels of nesting",
			Example: `local v = pd.json.decode(c:run("cat /etc/app.json").stdout); print(v.name, v.tags[1])`}},
		{Name: "json.array", Doc: doc{
			Sig:     "pd.json.array(t)",
			Summary: "Mark a table as a JSON array, so that an empty one encodes as [].",
			Returns: "t",
			Example: "print(pd.json.encode{items = pd.json.array{}})"}},
		{Name: "Container:run", Fn: (*Module).run, Blocking: true, Doc: doc{
			Sig:     "c:run(cmd, {timeout=, env=, cwd=, user=, stdin=, max_output=, on_stdout=, on_stderr=, check=false, isolated=false})",
			Summary: "Run a command: a string goes through sh -c, a table is argv (no shell). A failing command is data: look at exit_code.",
			Opts:    "timeout (seconds, default the sandbox's; 0 none: the command is killed inside the sandbox, partial output kept), env, cwd, user, stdin (string), max_output (bytes kept, default 64 MiB; the rest is dropped, the command runs on), on_stdout/on_stderr (fn(chunk)), check (raise on failure), isolated (plain engine exec)",
			Returns: "{exit_code, stdout, stderr, ok, timed_out, truncated, duration_ms}",
			Example: `print(c:run("echo hi").stdout)`}},
		{Name: "Container:spawn", Fn: (*Module).spawn, Blocking: true, Doc: doc{
			Sig:     "c:spawn(cmd, opts)",
			Summary: "Run a command in the background.",
			Opts:    "as run, except on_stdout/on_stderr/check; timeout defaults to none",
			Returns: "a Process: p:running(), p:wait(timeout), p:kill(sig), p:read(), p:peek()",
			Example: `local p = c:spawn("sleep 5"); p:kill()`}},
		{Name: "Container:session", Fn: (*Module).session, Blocking: true, Doc: doc{
			Sig:     "c:session{cwd=, env=, user=}",
			Summary: "Open a shell that keeps its state (cwd, variables) between commands.",
			Opts:    "cwd, env, user",
			Returns: "a Session: s:run(cmd, opts), s:close()",
			Example: `local s = c:session(); s:run("cd /tmp"); print(s:run("pwd").stdout)`}},
		{Name: "Container:write_file", Fn: (*Module).writeFile, Blocking: true, Doc: doc{
			Sig:     "c:write_file(path, data, {mode=, owner=})",
			Summary: "Write a file (parents created; never over a directory); owned by the sandbox's user unless owner says otherwise.",
			Opts:    `mode (number), owner ("uid:gid" or name)`,
			Returns: "true",
			Example: `c:write_file("/tmp/a.txt", "hello\n")`}},
		{Name: "Container:read_file", Fn: (*Module).readFile, Blocking: true, Doc: doc{
			Sig:     "c:read_file(path, {max_bytes=})",
			Summary: "Read a file; larger than max_bytes is refused before anything is copied.",
			Opts:    "max_bytes (default 64 MiB)",
			Returns: "string",
			Example: `print(c:read_file("/etc/os-release"))`}},
		{Name: "Container:list_files", Fn: (*Module).listFiles, Blocking: true, Doc: doc{
			Sig:     "c:list_files(path, {details=false})",
			Summary: "List a directory.",
			Opts:    "details (entries with name, type, size, mode)",
			Returns: "array of names (or entries)",
			Example: `for _, n in ipairs(c:list_files("/etc")) do print(n) end`}},
		{Name: "Container:stat", Fn: (*Module).stat, Blocking: true, Doc: doc{
			Sig:     "c:stat(path)",
			Summary: "Describe a path.",
			Returns: "{name, type, size, mode, mtime, link} or nil when missing",
			Example: `print(c:stat("/etc/passwd").size)`}},
		{Name: "Container:push", Fn: (*Module).push, Blocking: true, Doc: doc{
			Sig:     "c:push(host_src, dest)",
			Summary: "Copy a host file or tree into the sandbox, keeping modes; as cp, an existing directory (or dest/) receives it, and src/. copies a directory's contents.",
			Returns: "true",
			Example: `c:push("./src", "/opt/src")`}},
		{Name: "Container:pull", Fn: (*Module).pull, Blocking: true, Doc: doc{
			Sig:     "c:pull(src, host_dest, {max_bytes=})",
			Summary: "Copy a file or tree out of the sandbox, keeping modes; as cp, an existing folder (or host_dest/) receives it, and src/. copies a directory's contents. Never writes outside host_dest; a refused pull removes what it wrote.",
			Opts:    "max_bytes (file data, default 1 GiB)",
			Returns: "number of entries",
			Example: `c:pull("/opt/out", "./out")`}},
		{Name: "Container:info", Fn: (*Module).info, Blocking: true, Doc: doc{
			Sig:     "c:info()",
			Summary: "A small table about the sandbox.",
			Returns: "{id, name, status, running, image, persist, project, created_at, started_at, pid, oom_killed, mem_limit, pids_limit, ports, labels}",
			Example: "print(c:info().status)"}},
		{Name: "Container:inspect", Fn: (*Module).inspect, Blocking: true, Doc: doc{
			Sig:     "c:inspect()",
			Summary: "The engine's full inspect record (snake_case fields).",
			Returns: "a record",
			Example: "print(c:inspect().state.status)"}},
		{Name: "Container:snapshot", Fn: (*Module).snapshot, Blocking: true, Doc: doc{
			Sig:     `c:snapshot("repo:tag", {comment=, changes=, pause=true})`,
			Summary: "Commit the sandbox's filesystem into an image (paused for consistency).",
			Opts:    "comment, changes (Dockerfile lines), pause",
			Returns: "image id",
			Example: `local id = c:snapshot("dev:with-tools")`}},
		{Name: "Container:stop", Fn: (*Module).stopMethod, Blocking: true, Doc: doc{
			Sig:     "c:stop{timeout=5}",
			Summary: "Stop the sandbox, keeping it.",
			Opts:    "timeout",
			Returns: "true",
			Example: "c:stop()"}},
		{Name: "Container:start", Fn: (*Module).startMethod, Blocking: true, Doc: doc{
			Sig:     "c:start()",
			Summary: "Start a stopped sandbox.",
			Returns: "true",
			Example: "c:start()"}},
		{Name: "Container:reboot", Fn: (*Module).reboot, Blocking: true, Doc: doc{
			Sig:     "c:reboot{fresh=false}",
			Summary: "Restart the sandbox; fresh recreates it from its image.",
			Opts:    "fresh",
			Returns: "true",
			Example: "c:reboot()"}},
		{Name: "Container:shutdown", Fn: (*Module).shutdown, Blocking: true, Doc: doc{
			Sig:     "c:shutdown{force=false}",
			Summary: "Ephemeral: remove. Persistent: stop and keep (force: remove). Idempotent.",
			Opts:    "force",
			Returns: "true",
			Example: "c:shutdown()"}},
		{Name: "Container:on_stdout", Fn: (*Module).onStdout, Doc: doc{
			Sig:     "c:on_stdout(fn)",
			Summary: "Call fn(chunk) with the stdout of every later command.",
			Returns: "nothing",
			Example: "c:on_stdout(io.write)"}},
		{Name: "Container:on_stderr", Fn: (*Module).onStderr, Doc: doc{
			Sig:     "c:on_stderr(fn)",
			Summary: "Call fn(chunk) with the stderr of every later command.",
			Returns: "nothing",
			Example: "c:on_stderr(function(s) io.stderr:write(s) end)"}},
		{Name: "Container:on_exit", Fn: (*Module).onExit, Doc: doc{
			Sig:     "c:on_exit(fn)",
			Summary: "Call fn(c) after the sandbox shuts down.",
			Returns: "nothing",
			Example: `c:on_exit(function(c) print("bye", c.name) end)`}},
		{Name: "Process:running", Fn: processRunning, Doc: doc{
			Sig:     "p:running()",
			Summary: "Whether the process still runs.",
			Returns: "boolean",
			Example: "while p:running() do end"}},
		{Name: "Process:wait", Fn: (*Module).processWait, Blocking: true, Doc: doc{
			Sig:     "p:wait(timeout)",
			Summary: "Wait for the process (timeout seconds, nil = forever).",
			Returns: "the run result table, or nil on timeout",
			Example: "local r = p:wait(10)"}},
		{Name: "Process:kill", Fn: (*Module).processKill, Blocking: true, Doc: doc{
			Sig:     "p:kill(signal)",
			Summary: "Signal the process and its children inside the sandbox (default KILL).",
			Returns: "true",
			Example: `p:kill("TERM")`}},
		{Name: "Process:read", Fn: processRead, Doc: doc{
			Sig:     "p:read()",
			Summary: "Take the output buffered so far.",
			Returns: "stdout, stderr, overflowed",
			Example: "local out = p:read()"}},
		{Name: "Process:peek", Fn: processPeek, Doc: doc{
			Sig:     "p:peek()",
			Summary: "Look at the buffered output without taking it.",
			Returns: "stdout, stderr, overflowed",
			Example: "print(p:peek())"}},
		{Name: "Session:run", Fn: (*Module).sessionRun, Blocking: true, Doc: doc{
			Sig:     "s:run(cmd, {timeout=, stdin=, max_output=, check=false})",
			Summary: "Run a command in the session's shell.",
			Opts:    "timeout, stdin, max_output (bytes, default 64 MiB), check",
			Returns: "the run result table",
			Example: `s:run("export A=1"); print(s:run("echo $A").stdout)`}},
		{Name: "Session:close", Fn: (*Module).sessionClose, Doc: doc{
			Sig:     "s:close()",
			Summary: "End the session.",
			Returns: "true",
			Example: "s:close()"}},
	}
}

// findBuiltin returns the builtin of that name, or nil.
func findBuiltin(name string) *builtin {
	for _, b := range builtins() {
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
	for _, b := range builtins() {
		if b.Fn != nil && section(b.Name) == prefix {
			t.RawSetString(strings.TrimPrefix(b.Name, prefix), m.luaFunction(L, b, h))
		}
	}
}

// nameLuaBuiltins names, for help(fn), the builtins written in Lua that the
// module table t holds.
func (m *Module) nameLuaBuiltins(t *lua.LTable) {
	for _, b := range builtins() {
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
	for _, b := range builtins() {
		if section(b.Name) == typeName+":" {
			name := strings.TrimPrefix(b.Name, typeName+":")
			t.RawSetString(name, m.luaFunction(L, b, nil))
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return t, names
}

// markdown is docs/LUA_API.md: every builtin's help entry, by section.
func markdown() string {
	var b strings.Builder
	b.WriteString("# The pocketdock Lua API\n\n")
	b.WriteString("<!-- Generated from luaapi/builtins.go by `go generate ./luaapi`; do not edit. -->\n\n")
	b.WriteString("The same entries are in the REPL and scripts: `help()` lists them; `help(pd.create_new_container)`, `help(\"c:run\")` or `help(pd.images)` shows one or a group.\n")
	b.WriteString("Errors are tables with `kind`, `message` and often `hint`; see the README.\n\n")
	for _, s := range sections {
		fmt.Fprintf(&b, "- [%s](#%s)\n", s.title, anchor(s.title))
	}
	for _, s := range sections {
		fmt.Fprintf(&b, "\n## %s\n\n%s\n", s.title, s.intro)
		for _, bi := range builtins() {
			if section(bi.Name) != s.prefix {
				continue
			}
			d := bi.Doc
			fmt.Fprintf(&b, "\n### `%s`\n\n%s\n\n", d.Sig, d.Summary)
			if d.Opts != "" {
				fmt.Fprintf(&b, "- options: %s\n", d.Opts)
			}
			fmt.Fprintf(&b, "- returns: %s\n", d.Returns)
			fmt.Fprintf(&b, "\n```lua\n%s\n```\n", d.Example)
		}
	}
	return b.String()
}

// anchor is GitHub's anchor for a heading.
func anchor(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}
