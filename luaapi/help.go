package luaapi

import (
	"fmt"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// doc is one help entry.
type doc struct {
	sig, summary, opts, returns, example string
}

// docs is the help registry: every exported function and method has an entry
// (a test checks this against what the module exports).
var docs = map[string]doc{
	"create_new_container": {"pd.create_new_container{opts}", "Create and start a sandbox.",
		"image (default localhost/pocketdock/minimal, built offline if missing), name (random pd-xxxxxxxx), persist=false, project, timeout=30 (run() default, seconds; 0 none), mem_limit=\"1g\" (less on small hosts; 0 none), disk_limit (\"10g\" where the storage has quotas; 0 none), cpu_percent, pids_limit=1024, env={K=v}, workdir, user, network=false (true: bridge; string: named network), ports={[host]=ctr} (on 127.0.0.1; they bring the bridge when network is not given), volumes={[\"/host\"]=\"/ctr\"} or {{source=,target=,readonly=}}, devices, labels, read_only=false, userns=\"host\" (\"auto\": its own host uid range), socket_path",
		"a Container", `local c = pd.create_new_container{name = "dev", persist = true}`},
	"resume_container":  {"pd.resume_container(name, {socket_path=, timeout=})", "Find a sandbox by name and start it if it is stopped; its files are as they were.", "socket_path, timeout (run() default)", "a Container", `local c = pd.resume_container("dev")`},
	"list_containers":   {"pd.list_containers{project=, socket_path=}", "List managed sandboxes, running or not.", "project, socket_path", "array of {id, name, status, image, created_at, persist, project}", `for _, s in ipairs(pd.list_containers()) do print(s.name, s.status) end`},
	"stop_container":    {"pd.stop_container(name, {timeout=5, socket_path=})", "Stop a sandbox without removing it.", "timeout (grace seconds), socket_path", "true", `pd.stop_container("dev")`},
	"destroy_container": {"pd.destroy_container(name, {socket_path=})", "Remove a sandbox, persistent or not.", "socket_path", "true", `pd.destroy_container("dev")`},
	"prune":             {"pd.prune{project=, dry_run=false, socket_path=}", "Remove all stopped managed sandboxes (persistent ones too).", "project, dry_run, socket_path", "count, names", `local n, names = pd.prune{dry_run = true}`},
	"doctor":            {"pd.doctor{socket_path=}", "Check the engine: which one answered, its version, orphans.", "socket_path", "{ok, engine, engine_version, sandboxes, orphans, default_image, error}", `print(pd.doctor().engine)`},
	"version":           {"pd.version()", "pocketdock's version.", "", "string", `print(pd.version())`},
	"clock":             {"pd.clock()", "Monotonic milliseconds, for timing things.", "", "number", `local t = pd.clock(); c:run("true"); print(pd.clock() - t)`},
	"map":               {"pd.map(list, fn)", "Run fn(item) for every item concurrently; engine calls overlap. The first error cancels the rest and is raised with its index.", "", "array of fn's first results, in order", `local outs = pd.map({1, 2, 3}, function(i) return pd.with_container({}, function(c) return c:run("echo " .. i).stdout end) end)`},
	"parallel":          {"pd.parallel(f1, f2, ...)", "Run the functions concurrently, like pd.map.", "", "array of results, in order", `local r = pd.parallel(function() return 1 end, function() return 2 end)`},
	"connect":           {"pd.connect(uri_or_name, {identity=, timeout=10})", "Connect to another Podman engine (unix://, tcp://, ssh:// or a podman connection name).", "identity (ssh key), timeout (seconds)", "an engine handle with the module's functions", `local e = pd.connect("tcp://127.0.0.1:8888"); local c = e.create_new_container{}`},
	"with_container":    {"pd.with_container(opts, fn)", "Create a sandbox, call fn(c), and always shut it down; errors are re-raised.", "as create_new_container", "fn's results", `pd.with_container({}, function(c) print(c:run("uname -a").stdout) end)`},
	"provision":         {"pd.provision(recipe_or_path, {quiet=, tag=})", "Build a recipe into an image, caching every step.", "quiet (no progress lines), tag (instead of the recipe's own)", "image id", `pd.provision("scripts/recipes/tools.lua")`},
	"images.list":       {"pd.images.list{socket_path=}", "List images.", "socket_path", "array of {id, tags, size, created}", `for _, im in ipairs(pd.images.list()) do print(im.tags[1]) end`},
	"images.exists":     {"pd.images.exists(ref)", "Whether an image is present.", "socket_path", "boolean", `pd.images.exists("localhost/pocketdock/minimal")`},
	"images.remove":     {"pd.images.remove(ref, {force=false})", "Remove an image.", "force, socket_path", "true", `pd.images.remove("tools:1")`},
	"images.pull":       {"pd.images.pull(ref)", "Pull an image from a registry, with progress on stderr.", "socket_path, quiet", "image id", `pd.images.pull("docker.io/library/alpine")`},
	"images.build":      {"pd.images.build(tag, recipe_or_steps)", "Build an image from a recipe table (see pd.provision).", "", "image id", `pd.images.build("tools:1", {steps = {{run = "mkdir /opt/x"}}})`},
	"images.bootstrap":  {"pd.images.bootstrap{force=false}", "Build the offline default image from the host's busybox.", "force, socket_path", "image id", `pd.images.bootstrap()`},
	"images.save":       {"pd.images.save(ref, path)", "Save an image to a tar file.", "socket_path", "true", `pd.images.save("tools:1", "/tmp/tools.tar")`},
	"images.load":       {"pd.images.load(path)", "Load images from a tar file.", "socket_path", "array of names", `pd.images.load("/tmp/tools.tar")`},
	"json.encode":       {"pd.json.encode(value)", "Turn a Lua value into JSON text.", "", "string: a table with a positive length (or made with pd.json.array) is an array, any other an object with sorted keys; nil and pd.json.null are null", `print(pd.json.encode{name = "dev", ports = {8080}})`},
	"json.decode": {"pd.json.decode(text, {max_values=})", "Turn JSON text into Lua values; bad text is an InvalidArgument saying at which line and column.",
		"max_values (default 2097152, about 120 MiB of host memory at most; 0 none)",
		"the value: objects are tables with string keys, arrays are sequences (encoded back as arrays, [] too), null is pd.json.null (not nil: arrays keep their length, objects their keys); at most 512 levels of nesting",
		`local v = pd.json.decode(c:run("cat /etc/app.json").stdout); print(v.name, v.tags[1])`},
	"json.array": {"pd.json.array(t)", "Mark a table as a JSON array, so that an empty one encodes as [].", "", "t", `print(pd.json.encode{items = pd.json.array{}})`},
	"Container:run": {"c:run(cmd, {timeout=, env=, cwd=, user=, stdin=, max_output=, on_stdout=, on_stderr=, check=false, isolated=false})",
		"Run a command: a string goes through sh -c, a table is argv (no shell). A failing command is data: look at exit_code.",
		"timeout (seconds, default the sandbox's; 0 none: the command is killed inside the sandbox, partial output kept), env, cwd, user, stdin (string), max_output (bytes kept, default 64 MiB; the rest is dropped, the command runs on), on_stdout/on_stderr (fn(chunk)), check (raise on failure), isolated (plain engine exec)",
		"{exit_code, stdout, stderr, ok, timed_out, truncated, duration_ms}", `print(c:run("echo hi").stdout)`},
	"Container:spawn":      {"c:spawn(cmd, opts)", "Run a command in the background.", "as run, except on_stdout/on_stderr/check; timeout defaults to none", "a Process: p:running(), p:wait(timeout), p:kill(sig), p:read(), p:peek()", `local p = c:spawn("sleep 5"); p:kill()`},
	"Container:session":    {"c:session{cwd=, env=, user=}", "Open a shell that keeps its state (cwd, variables) between commands.", "cwd, env, user", "a Session: s:run(cmd, opts), s:close()", `local s = c:session(); s:run("cd /tmp"); print(s:run("pwd").stdout)`},
	"Container:write_file": {"c:write_file(path, data, {mode=, owner=})", "Write a file (parents created; never over a directory); owned by the sandbox's user unless owner says otherwise.", "mode (number), owner (\"uid:gid\" or name)", "true", `c:write_file("/tmp/a.txt", "hello\n")`},
	"Container:read_file":  {"c:read_file(path, {max_bytes=})", "Read a file; larger than max_bytes is refused before anything is copied.", "max_bytes (default 64 MiB)", "string", `print(c:read_file("/etc/os-release"))`},
	"Container:list_files": {"c:list_files(path, {details=false})", "List a directory.", "details (entries with name, type, size, mode)", "array of names (or entries)", `for _, n in ipairs(c:list_files("/etc")) do print(n) end`},
	"Container:stat":       {"c:stat(path)", "Describe a path.", "", "{name, type, size, mode, mtime, link} or nil when missing", `print(c:stat("/etc/passwd").size)`},
	"Container:push":       {"c:push(host_src, dest)", "Copy a host file or tree into the sandbox, keeping modes; as cp, an existing directory (or dest/) receives it, and src/. copies a directory's contents.", "", "true", `c:push("./src", "/opt/src")`},
	"Container:pull":       {"c:pull(src, host_dest, {max_bytes=})", "Copy a file or tree out of the sandbox, keeping modes; as cp, an existing folder (or host_dest/) receives it, and src/. copies a directory's contents. Never writes outside host_dest; a refused pull removes what it wrote.", "max_bytes (file data, default 1 GiB)", "number of entries", `c:pull("/opt/out", "./out")`},
	"Container:info":       {"c:info()", "A small table about the sandbox.", "", "{id, name, status, running, image, persist, project, created_at, started_at, pid, oom_killed, mem_limit, pids_limit, ports, labels}", `print(c:info().status)`},
	"Container:inspect":    {"c:inspect()", "The engine's full inspect record (snake_case fields).", "", "a record", `print(c:inspect().state.status)`},
	"Container:snapshot":   {"c:snapshot(\"repo:tag\", {comment=, changes=, pause=true})", "Commit the sandbox's filesystem into an image (paused for consistency).", "comment, changes (Dockerfile lines), pause", "image id", `local id = c:snapshot("dev:with-tools")`},
	"Container:stop":       {"c:stop{timeout=5}", "Stop the sandbox, keeping it.", "timeout", "true", `c:stop()`},
	"Container:start":      {"c:start()", "Start a stopped sandbox.", "", "true", `c:start()`},
	"Container:reboot":     {"c:reboot{fresh=false}", "Restart the sandbox; fresh recreates it from its image.", "fresh", "true", `c:reboot()`},
	"Container:shutdown":   {"c:shutdown{force=false}", "Ephemeral: remove. Persistent: stop and keep (force: remove). Idempotent.", "force", "true", `c:shutdown()`},
	"Container:on_stdout":  {"c:on_stdout(fn)", "Call fn(chunk) with the stdout of every later command.", "", "nothing", `c:on_stdout(io.write)`},
	"Container:on_stderr":  {"c:on_stderr(fn)", "Call fn(chunk) with the stderr of every later command.", "", "nothing", `c:on_stderr(function(s) io.stderr:write(s) end)`},
	"Container:on_exit":    {"c:on_exit(fn)", "Call fn(c) after the sandbox shuts down.", "", "nothing", `c:on_exit(function(c) print("bye", c.name) end)`},
	"Process:running":      {"p:running()", "Whether the process still runs.", "", "boolean", `while p:running() do end`},
	"Process:wait":         {"p:wait(timeout)", "Wait for the process (timeout seconds, nil = forever).", "", "the run result table, or nil on timeout", `local r = p:wait(10)`},
	"Process:kill":         {"p:kill(signal)", "Signal the process and its children inside the sandbox (default KILL).", "", "true", `p:kill("TERM")`},
	"Process:read":         {"p:read()", "Take the output buffered so far.", "", "stdout, stderr, overflowed", `local out = p:read()`},
	"Process:peek":         {"p:peek()", "Look at the buffered output without taking it.", "", "stdout, stderr, overflowed", `print(p:peek())`},
	"Session:run":          {"s:run(cmd, {timeout=, stdin=, max_output=, check=false})", "Run a command in the session's shell.", "timeout, stdin, max_output (bytes, default 64 MiB), check", "the run result table", `s:run("export A=1"); print(s:run("echo $A").stdout)`},
	"Session:close":        {"s:close()", "End the session.", "", "true", `s:close()`},
}

// nameFunction records the help name of a registered function.
func (m *Module) nameFunction(fn *lua.LFunction, name string) { m.names[fn] = name }

// methodPrefixes map the receiver names the docs use to help's names.
var methodPrefixes = map[string]string{"c:": "Container:", "p:": "Process:", "s:": "Session:"}

// help(fn | "name" | table | container | nil) prints a help entry, the
// module overview (help() or help(pd)), or the entries of a table of
// functions such as pd.images.
func (m *Module) help(L *lua.LState) int {
	var name string
	switch v := L.Get(1).(type) {
	case *lua.LNilType:
		L.Push(lua.LString(m.overview()))
		return printHelp(L)
	case *lua.LFunction:
		name = m.names[v]
	case lua.LString:
		name = strings.TrimPrefix(strings.TrimPrefix(string(v), "pocketdock."), "pd.")
		if p, ok := methodPrefixes[name[:min(2, len(name))]]; ok {
			name = p + name[2:]
		}
	case *lua.LTable:
		if _, ok := v.RawGetString("create_new_container").(*lua.LFunction); ok {
			L.Push(lua.LString(m.overview()))
			return printHelp(L)
		}
		var names []string
		v.ForEach(func(_, f lua.LValue) {
			if fn, ok := f.(*lua.LFunction); ok {
				if n, ok := m.names[fn]; ok {
					names = append(names, n)
				}
			}
		})
		if len(names) > 0 {
			L.Push(lua.LString(listing(names)))
			return printHelp(L)
		}
	case *lua.LUserData:
		if _, ok := v.Value.(*Container); ok {
			var names []string
			for n := range docs {
				if strings.HasPrefix(n, "Container:") {
					names = append(names, n)
				}
			}
			L.Push(lua.LString(listing(names)))
			return printHelp(L)
		}
	}
	d, ok := docs[name]
	if !ok {
		L.Push(lua.LString("no help for that; help() lists everything"))
		return printHelp(L)
	}
	L.Push(lua.LString(formatDoc(d)))
	return printHelp(L)
}

// listing is one line per entry: its name and summary, sorted.
func listing(names []string) string {
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "  %-24s %s\n", n, docs[n].summary)
	}
	return strings.TrimRight(b.String(), "\n")
}

func printHelp(L *lua.LState) int {
	fmt.Println(L.Get(-1).String())
	return 0
}

func formatDoc(d doc) string {
	var b strings.Builder
	b.WriteString(d.sig + "\n  " + d.summary + "\n")
	if d.opts != "" {
		b.WriteString("  options: " + d.opts + "\n")
	}
	b.WriteString("  returns: " + d.returns + "\n")
	b.WriteString("  example: " + d.example)
	return b.String()
}

func (m *Module) overview() string {
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	return "pocketdock " + Version + " — container sandboxes from Lua (Lua 5.1). help(pd.NAME) or help(\"c:run\") for details.\n" + listing(names)
}

// DocNames lists the help registry's names (for tests).
func DocNames() []string {
	out := make([]string, 0, len(docs))
	for n := range docs {
		out = append(out, n)
	}
	return out
}

// Exported lists the help names of everything the module registered (for tests).
func (m *Module) Exported() []string {
	out := make([]string, 0, len(m.names))
	for _, n := range m.names {
		out = append(out, n)
	}
	return out
}
