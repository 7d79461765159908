package luaapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/term"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// The Go support for recipes (stdlib/lua/provision.lua), projects and the
// management commands (stdlib/lua/cli.lua).
func init() {
	for k, d := range map[string]doc{
		"hash":          {"pd.hash(s)", "SHA-256 of a string.", "", "hex string", `print(pd.hash("abc"))`},
		"hash_file":     {"pd.hash_file(path)", "SHA-256 of a host file, or of a whole tree (names, modes, contents).", "", "hex, mode (number), kind (\"file\" or \"dir\")", `local h, mode = pd.hash_file("files/tool.sh")`},
		"get_container": {"pd.get_container(name, {socket_path=})", "Find a sandbox by name without starting it.", "socket_path", "a Container", `print(pd.get_container("dev"):info().status)`},
		"project":       {"pd.project()", "The project folder around the working directory (searched upward).", "", "{name, root, image, persist, instances} or nil", `local p = pd.project(); if p then print(p.name) end`},
		"init_project":  {"pd.init_project{dir=\".\", name=, image=, persist=, force=false}", "Write .pocketdock/pocketdock.yaml: the defaults for sandboxes created in that folder.", "dir, name (default: the folder's name), image, persist, force", "the file's path", `pd.init_project{image = "tools:1", persist = true}`},
		"abspath":       {"pd.abspath(path)", "A host path made absolute against the working directory.", "", "string", `print(pd.abspath("./src"))`},
		"isatty":        {"pd.isatty(\"stdin\"|\"stdout\"|\"stderr\")", "Whether a standard stream is a terminal.", "", "boolean", `if pd.isatty("stdout") then print("hi") end`},
		"host_command":  {"pd.host_command(argv)", "Run a host program with this process's terminal (for interactive tools).", "", "exit code", `pd.host_command({"podman", "ps"})`},
		"images.id":     {"pd.images.id(ref)", "An image's id.", "socket_path", "id, or nil when there is no such image", `print(pd.images.id("localhost/pocketdock/minimal"))`},
		"images.tag":    {"pd.images.tag(image, ref)", "Give an image (id or reference) another name.", "socket_path", "true", `pd.images.tag(id, "tools:1")`},
	} {
		docs[k] = d
	}
}

// attachProvision adds these functions to a module table (called from handleTable).
func (m *Module) attachProvision(L *lua.LState, t *lua.LTable, h *handle) {
	plain := map[string]lua.LGFunction{"hash": hashString, "hash_file": hashFile, "project": projectInfo,
		"init_project": initProject, "isatty": isatty, "abspath": absPath, "host_command": hostCommand}
	for name, fn := range plain {
		lf := L.NewFunction(fn)
		t.RawSetString(name, lf)
		m.nameFunction(lf, name)
	}
	lf := m.wrapped(L, L.NewFunction(h.getContainer))
	t.RawSetString("get_container", lf)
	m.nameFunction(lf, "get_container")
	images, ok := t.RawGetString("images").(*lua.LTable)
	if !ok {
		return
	}
	for name, fn := range map[string]lua.LGFunction{"id": h.imageID, "tag": h.imageTag} {
		lf := m.wrapped(L, L.NewFunction(fn))
		images.RawSetString(name, lf)
		m.nameFunction(lf, "images."+name)
	}
	// provision and images.build are Lua (stdlib/lua/provision.lua), so that
	// their engine calls yield inside pd.map like any script's.
	chunk, err := loadInternal(L, provisionLua)
	if err != nil {
		panic("pocketdock provision chunk: " + err.Error()) // a build defect, caught by every test
	}
	L.Push(chunk)
	L.Push(t)
	L.Push(L.NewFunction(newError))
	L.Call(2, 0)
	if f, ok := t.RawGetString("provision").(*lua.LFunction); ok {
		m.nameFunction(f, "provision")
	}
	if f, ok := images.RawGetString("build").(*lua.LFunction); ok {
		m.nameFunction(f, "images.build")
	}
}

const provisionLua = `
local pd, new_error = ...
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
`

func absPath(L *lua.LState) int {
	p, err := filepath.Abs(stringArg(L, "abspath", 1, "path"))
	if err != nil {
		return raise(L, engine.Errorf(engine.InvalidArgument, "abspath: %v", err))
	}
	L.Push(lua.LString(p))
	return 1
}

func hashString(L *lua.LState) int {
	s := stringArg(L, "hash", 1, "s")
	sum := sha256.Sum256([]byte(s))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

// hashFile hashes a file's content, or a tree's relative names, modes and
// contents in a fixed order, so a recipe step is rebuilt exactly when its input changed.
func hashFile(L *lua.LState) int {
	path := stringArg(L, "hash_file", 1, "path")
	st, err := os.Stat(path)
	if err != nil {
		return raise(L, engine.Errorf(engine.FileNotFound, "hash_file: cannot read %s: %v", path, errors.Unwrap(err)))
	}
	h := sha256.New()
	kind := "file"
	if st.IsDir() {
		kind = "dir"
		err = hashTree(h, path)
	} else {
		err = copyFile(h, path)
	}
	if err != nil {
		return raise(L, engine.Errorf(engine.FileNotFound, "hash_file: %v", err))
	}
	L.Push(lua.LString(hex.EncodeToString(h.Sum(nil))))
	L.Push(lua.LNumber(st.Mode().Perm()))
	L.Push(lua.LString(kind))
	return 3
}

func hashTree(w io.Writer, root string) error {
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		io.WriteString(w, rel+"\x00"+st.Mode().String()+"\x00")
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			io.WriteString(w, target)
		case st.Mode().IsRegular():
			if err := copyFile(w, p); err != nil {
				return err
			}
		}
		io.WriteString(w, "\x00")
	}
	return nil
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

func projectInfo(L *lua.LState) int {
	cwd, _ := os.Getwd()
	p, err := project.Find(cwd)
	if err != nil {
		return raise(L, err)
	}
	if p == nil {
		L.Push(lua.LNil)
		return 1
	}
	t := L.NewTable()
	t.RawSetString("name", lua.LString(p.Config.Name))
	t.RawSetString("root", lua.LString(p.Root))
	if p.Config.Image != "" {
		t.RawSetString("image", lua.LString(p.Config.Image))
	}
	t.RawSetString("persist", lua.LBool(p.Config.Persist != nil && *p.Config.Persist))
	inst := L.NewTable()
	for _, name := range p.Instances() {
		inst.Append(lua.LString(name))
	}
	t.RawSetString("instances", inst)
	L.Push(t)
	return 1
}

func initProject(L *lua.LState) int {
	o := optionsArg(L, "init_project", 1)
	dir := o.String("dir", ".")
	cfg := project.Config{Name: o.String("name", ""), Image: o.String("image", "")}
	if o.has("persist") {
		b := o.Bool("persist", false)
		cfg.Persist = &b
	}
	force := o.Bool("force", false)
	o.done(L)
	path, err := project.Init(dir, cfg, force)
	if err != nil {
		return raise(L, err)
	}
	L.Push(lua.LString(path))
	return 1
}

func isatty(L *lua.LState) int {
	files := map[string]*os.File{"stdin": os.Stdin, "stdout": os.Stdout, "stderr": os.Stderr}
	name := stringArg(L, "isatty", 1, "stream")
	f, ok := files[name]
	if !ok {
		return argError(L, "isatty", "argument #1 must be \"stdin\", \"stdout\" or \"stderr\", got %q", name)
	}
	L.Push(lua.LBool(term.IsTerminal(int(f.Fd()))))
	return 1
}

// hostCommand runs a host program on this process's own terminal; the
// interactive shell command needs a real pty, which the engine API cannot lend.
func hostCommand(L *lua.LState) int {
	argv := commandArg(L, "host_command", 1)
	cmd := exec.CommandContext(luaContext(L), argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		L.Push(lua.LNumber(0))
	case errors.As(err, &ee):
		L.Push(lua.LNumber(ee.ExitCode()))
	default:
		return raise(L, engine.Errorf(engine.InvalidArgument, "cannot run %s: %v", argv[0], errors.Unwrap(err)))
	}
	return 1
}

func (h *handle) getContainer(L *lua.LState) int {
	name, o := nameOpts(L, "get_container")
	socket := o.String("socket_path", "")
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.find(ctx, socket, name)
	}, pushContainer)
}

func (h *handle) imageID(L *lua.LState) int {
	ref := stringArg(L, "images.id", 1, "image")
	o := optionsArg(L, "images.id", 2)
	socket := o.String("socket_path", "")
	o.done(L)
	return h.imageCall(L, socket, func(ctx context.Context, e *engine.Engine) (any, error) {
		id, err := e.ImageID(ctx, ref)
		if engine.IsKind(err, engine.ImageNotFound) {
			return "", nil
		}
		return id, err
	}, func(L *lua.LState, v any) int {
		if v.(string) == "" {
			L.Push(lua.LNil)
		} else {
			L.Push(lua.LString(v.(string)))
		}
		return 1
	})
}

func (h *handle) imageTag(L *lua.LState) int {
	src := stringArg(L, "images.tag", 1, "image")
	ref := stringArg(L, "images.tag", 2, "ref")
	o := optionsArg(L, "images.tag", 3)
	socket := o.String("socket_path", "")
	o.done(L)
	if _, _, err := engine.SplitImageRef(ref); err != nil {
		return raise(L, err)
	}
	return h.imageCall(L, socket, func(ctx context.Context, e *engine.Engine) (any, error) {
		return nil, e.Tag(ctx, src, ref)
	}, pushTrue)
}
