package luaapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/term"

	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/project"
)

// The Go support for recipes (provision.lua), projects and the management
// commands (stdlib/lua/cli.lua): the functions builtins.go lists.

func absPath(L *lua.LState) int {
	p, err := filepath.Abs(stringArg(L, "abspath", 1, "path"))
	if err != nil {
		return raise(L, engine.Errorf(engine.InvalidArgument, "abspath: %v", err).
			WithHint("the working directory may have been removed; give an absolute path"))
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
	sum, st, err := archive.Digest(path)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path is named once, below
	}
	if err != nil {
		return raise(L, engine.Errorf(engine.FileNotFound, "hash_file: cannot read %s: %v", path, err))
	}
	kind := "file"
	if st.IsDir() {
		kind = "dir"
	}
	L.Push(lua.LString(sum))
	L.Push(lua.LNumber(st.Mode().Perm()))
	L.Push(lua.LString(kind))
	return 3
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
	return pushRecord(L, p.Info())
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
	uri := h.engineOpt(o)
	o.done(L)
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return h.m.reg.Find(ctx, uri, name)
	}, pushContainer)
}

func (h *handle) imageID(L *lua.LState) int {
	ref := stringArg(L, "images.id", 1, "image")
	o := optionsArg(L, "images.id", 2)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		id, err := e.ImageID(ctx, ref)
		if engine.IsKind(err, engine.ImageNotFound) {
			return nil, nil // nil to Lua
		}
		return id, err
	}, pushRecord)
}

func (h *handle) imageTag(L *lua.LState) int {
	src := stringArg(L, "images.tag", 1, "image")
	ref := stringArg(L, "images.tag", 2, "ref")
	o := optionsArg(L, "images.tag", 3)
	uri := h.engineOpt(o)
	o.done(L)
	if _, _, err := engine.SplitImageRef(ref); err != nil {
		return raise(L, err)
	}
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return nil, e.Tag(ctx, src, ref)
	}, pushTrue)
}
