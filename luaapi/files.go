package luaapi

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine"
)

// File operations go through the engine's archive API only: no path is ever
// handed to a shell inside the sandbox. Container paths must be absolute
// (relative ones are an InvalidArgument rather than silently depending on the
// sandbox's working directory).

// containerPath reads argument n as an absolute path inside the sandbox.
func containerPath(L *lua.LState, fn string, n int, what string) string {
	p := stringArg(L, fn, n, what)
	if !strings.HasPrefix(p, "/") {
		argError(L, fn, "argument #%d (%s) must be an absolute path inside the sandbox, got %q", n, what, p)
	}
	if strings.ContainsRune(p, 0) {
		argError(L, fn, "argument #%d (%s) contains a NUL byte", n, what)
	}
	return path.Clean(p)
}

func (m *Module) writeFile(L *lua.LState) int {
	c := checkContainer(L, 1, "write_file")
	p := containerPath(L, "write_file", 2, "path")
	data := stringArg(L, "write_file", 3, "data")
	o := optionsArg(L, "write_file", 4)
	mode := o.Int("mode", 0o644, 0, 0o7777)
	owner := o.String("owner", "")
	o.done(L)
	if p == "/" {
		argError(L, "write_file", "argument #2 (path) must name a file, got \"/\"")
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		uid, gid, err := c.owner(ctx, owner)
		if err != nil {
			return nil, err
		}
		dir := path.Dir(p)
		if err := c.makeDirs(ctx, dir, uid, gid); err != nil {
			return nil, err
		}
		return nil, pipe(func(w io.Writer) error {
			return archive.WriteSingle(w, path.Base(p), strings.NewReader(data), int64(len(data)), mode, uid, gid)
		}, func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID, dir, r) })
	}, pushTrue)
}

func (m *Module) readFile(L *lua.LState) int {
	c := checkContainer(L, 1, "read_file")
	p := containerPath(L, "read_file", 2, "path")
	optionsArg(L, "read_file", 3).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		fi, err := c.eng.Stat(ctx, c.ID, p)
		if err != nil {
			return nil, err
		}
		if fi.IsDir {
			return nil, engine.Errorf(engine.InvalidArgument, "read_file: %s: is a directory", p).
				WithHint("use list_files to see what it holds, or pull to copy it out")
		}
		var data []byte
		err = pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID, p, w) },
			func(r io.Reader) (err error) { _, data, err = archive.ReadSingle(r, -1); return err })
		if err != nil {
			return nil, fileError("read_file", p, err)
		}
		return data, nil
	}, func(L *lua.LState, v any) int {
		L.Push(lua.LString(v.([]byte)))
		return 1
	})
}

func (m *Module) listFiles(L *lua.LState) int {
	c := checkContainer(L, 1, "list_files")
	p := containerPath(L, "list_files", 2, "path")
	o := optionsArg(L, "list_files", 3)
	details := o.Bool("details", false)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		fi, err := c.eng.Stat(ctx, c.ID, p)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir {
			return nil, engine.Errorf(engine.InvalidArgument, "list_files: %s: not a directory", p)
		}
		var entries []archive.Entry
		err = pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID, p, w) },
			func(r io.Reader) (err error) { entries, err = archive.List(r); return err })
		if err != nil {
			return nil, fileError("list_files", p, err)
		}
		return entries, nil
	}, func(L *lua.LState, v any) int {
		out := L.NewTable()
		for _, e := range v.([]archive.Entry) {
			if !details {
				out.Append(lua.LString(e.Name))
				continue
			}
			t := L.NewTable()
			t.RawSetString("name", lua.LString(e.Name))
			t.RawSetString("type", lua.LString(e.Type))
			t.RawSetString("size", lua.LNumber(e.Size))
			t.RawSetString("mode", lua.LNumber(e.Mode))
			out.Append(t)
		}
		L.Push(out)
		return 1
	})
}

func (m *Module) stat(L *lua.LState) int {
	c := checkContainer(L, 1, "stat")
	p := containerPath(L, "stat", 2, "path")
	optionsArg(L, "stat", 3).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		fi, err := c.eng.Stat(ctx, c.ID, p)
		if engine.IsKind(err, engine.FileNotFound) {
			return (*engine.FileInfo)(nil), nil
		}
		return fi, err
	}, func(L *lua.LState, v any) int {
		fi := v.(*engine.FileInfo)
		if fi == nil {
			L.Push(lua.LNil)
			return 1
		}
		t := L.NewTable()
		t.RawSetString("name", lua.LString(fi.Name))
		t.RawSetString("type", lua.LString(fi.Type()))
		t.RawSetString("size", lua.LNumber(fi.Size))
		t.RawSetString("mode", lua.LNumber(unixMode(fi.Mode)))
		t.RawSetString("mtime", lua.LNumber(float64(fi.ModTime.UnixNano())/1e9))
		if fi.Link != "" {
			t.RawSetString("link", lua.LString(fi.Link))
		}
		L.Push(t)
		return 1
	})
}

// unixMode gives permission bits plus setuid/setgid/sticky as in chmod.
func unixMode(m fs.FileMode) int64 {
	n := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return n
}

// push copies a host file or tree to dest, the full path it gets in the
// sandbox ("dir/" with a trailing slash means "inside dir, same base name").
// Modes are kept; owners become the sandbox's user.
func (m *Module) push(L *lua.LState) int {
	c := checkContainer(L, 1, "push")
	src := stringArg(L, "push", 2, "host_src")
	raw := stringArg(L, "push", 3, "dest")
	dest := containerPath(L, "push", 3, "dest")
	optionsArg(L, "push", 4).done(L)
	if strings.HasSuffix(raw, "/") {
		dest = path.Join(dest, filepath.Base(filepath.Clean(src)))
	}
	if dest == "/" {
		argError(L, "push", "argument #3 (dest) must name a file or directory, got \"/\"")
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		if _, err := os.Lstat(src); err != nil {
			return nil, hostError("push", src, err)
		}
		uid, gid, err := c.owner(ctx, "")
		if err != nil {
			return nil, err
		}
		dir := path.Dir(dest)
		if err := c.makeDirs(ctx, dir, uid, gid); err != nil {
			return nil, err
		}
		return nil, pipe(func(w io.Writer) error { return archive.Tree(w, src, path.Base(dest), uid, gid) },
			func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID, dir, r) })
	}, pushTrue)
}

// pull copies src out of the sandbox. If host_dest is an existing directory
// src lands inside it under its base name; otherwise host_dest is created
// (its parent must exist) with src's content. The archive is untrusted:
// archive.Extract never writes outside the directory it is given.
func (m *Module) pull(L *lua.LState) int {
	c := checkContainer(L, 1, "pull")
	src := containerPath(L, "pull", 2, "src")
	hostDest := stringArg(L, "pull", 3, "host_dest")
	optionsArg(L, "pull", 4).done(L)
	if src == "/" {
		argError(L, "pull", "argument #2 (src) cannot be the sandbox's root; pull a directory inside it")
	}
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		if _, err := c.eng.Stat(ctx, c.ID, src); err != nil {
			return nil, err
		}
		dir, opts := hostDest, archive.ExtractOptions{}
		if fi, err := os.Stat(hostDest); err != nil || !fi.IsDir() {
			dir, opts.Rename = filepath.Dir(filepath.Clean(hostDest)), filepath.Base(filepath.Clean(hostDest))
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, engine.Errorf(engine.FileNotFound, "pull: host directory %s does not exist", dir).
					WithHint("create it first; pull only creates host_dest itself")
			}
		}
		var n int
		err := pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID, src, w) },
			func(r io.Reader) (err error) { n, err = archive.Extract(r, dir, opts); return err })
		if err != nil {
			return nil, fileError("pull", src, err)
		}
		return n, nil
	}, func(L *lua.LState, v any) int {
		L.Push(lua.LNumber(v.(int)))
		return 1
	})
}

// errConsumed ends a producer whose reader has finished (or failed).
var errConsumed = errors.New("stream consumer finished")

// pipe runs produce and consume concurrently over an in-memory pipe, so file
// data streams through without being held. The producer's own failure wins
// (the consumer then only saw a broken stream); a producer cut off because
// the consumer stopped reports the consumer's error.
func pipe(produce func(io.Writer) error, consume func(io.Reader) error) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := produce(pw)
		pw.CloseWithError(err)
		done <- err
	}()
	cerr := consume(pr)
	pr.CloseWithError(errConsumed)
	perr := <-done
	if perr != nil && !errors.Is(perr, errConsumed) && !errors.Is(perr, io.ErrClosedPipe) {
		return perr
	}
	return cerr
}

// fileError keeps engine errors (they carry their kind) and turns archive
// failures into an error naming the path.
func fileError(fn, p string, err error) error {
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	msg := strings.TrimPrefix(err.Error(), "archive: ")
	if fn == "pull" {
		return engine.Errorf(engine.EngineError, "pull %s: %s", p, msg).
			WithHint("entries that would land outside host_dest are refused, never written")
	}
	return engine.Errorf(engine.EngineError, "%s %s: %s", fn, p, msg)
}

func hostError(fn, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return engine.Errorf(engine.FileNotFound, "%s: host path %s does not exist", fn, p)
	}
	return engine.Errorf(engine.InvalidArgument, "%s: host path %s: %v", fn, p, errors.Unwrap(err))
}

// makeDirs creates dir and its missing parents, owned by uid:gid with mode
// 0755, without touching directories that exist: the missing ones are PUT
// as one archive into the deepest existing ancestor.
func (c *Container) makeDirs(ctx context.Context, dir string, uid, gid int) error {
	var missing []string
	for {
		fi, err := c.eng.Stat(ctx, c.ID, dir)
		if err == nil {
			if !fi.IsDir {
				return engine.Errorf(engine.InvalidArgument, "%s is not a directory", dir)
			}
			break
		}
		if !engine.IsKind(err, engine.FileNotFound) {
			return err
		}
		missing = append(missing, path.Base(dir))
		dir = path.Dir(dir)
	}
	if len(missing) == 0 {
		return nil
	}
	return pipe(func(w io.Writer) error { return dirsTar(w, missing, uid, gid) },
		func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID, dir, r) })
}

// dirsTar writes a tar of nested directories; names is innermost first, as
// makeDirs collects them. It holds only directory headers we build, so the
// archive package's safeguards for hostile input are not needed here.
func dirsTar(w io.Writer, names []string, uid, gid int) error {
	tw := tar.NewWriter(w)
	name := ""
	now := time.Now()
	for i := len(names) - 1; i >= 0; i-- {
		name += names[i] + "/"
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, Uid: uid, Gid: gid, ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
	}
	return tw.Close()
}

// defaultOwners caches each container's configured user as uid:gid: it is
// fixed at creation, and resolving it costs an inspect and a file read.
var defaultOwners sync.Map // container id -> [2]int

// owner resolves spec ("uid", "uid:gid", "name", "name:group"; "" for the
// container's configured user) to numeric ids, reading names from the
// sandbox's own /etc/passwd and /etc/group.
func (c *Container) owner(ctx context.Context, spec string) (int, int, error) {
	if spec == "" {
		if v, ok := defaultOwners.Load(c.ID); ok {
			ids := v.([2]int)
			return ids[0], ids[1], nil
		}
		d, err := c.eng.Inspect(ctx, c.ID)
		if err != nil {
			return 0, 0, err
		}
		if d.Config != nil {
			spec = d.Config.User
		}
		uid, gid, err := c.resolveOwner(ctx, spec)
		if err == nil {
			defaultOwners.Store(c.ID, [2]int{uid, gid})
		}
		return uid, gid, err
	}
	return c.resolveOwner(ctx, spec)
}

func (c *Container) resolveOwner(ctx context.Context, spec string) (int, int, error) {
	if spec == "" {
		return 0, 0, nil // the image's default user is root
	}
	user, group, hasGroup := strings.Cut(spec, ":")
	uid, uerr := strconv.Atoi(user)
	gid := 0
	if uerr != nil || !hasGroup {
		// A name needs its uid; a bare uid takes its primary group, as the
		// engine does for commands (0 when the user is not listed).
		pw, err := c.accounts(ctx, "/etc/passwd")
		if err != nil && uerr != nil {
			return 0, 0, err
		}
		found := false
		for _, f := range pw {
			if len(f) < 4 || (f[0] != user && f[2] != user) {
				continue
			}
			u, e1 := strconv.Atoi(f[2])
			g, e2 := strconv.Atoi(f[3])
			if e1 == nil && e2 == nil {
				uid, gid, found = u, g, true
				break
			}
		}
		if uerr != nil && !found {
			return 0, 0, engine.Errorf(engine.InvalidArgument, "owner %q: no user %q in the sandbox's /etc/passwd", spec, user).
				WithHint(`give numeric ids, e.g. owner = "1000:1000"`)
		}
	}
	if !hasGroup {
		return uid, gid, nil
	}
	if g, err := strconv.Atoi(group); err == nil {
		return uid, g, nil
	}
	gr, err := c.accounts(ctx, "/etc/group")
	if err != nil {
		return 0, 0, err
	}
	for _, f := range gr {
		if len(f) >= 3 && f[0] == group {
			if g, err := strconv.Atoi(f[2]); err == nil {
				return uid, g, nil
			}
		}
	}
	return 0, 0, engine.Errorf(engine.InvalidArgument, "owner %q: no group %q in the sandbox's /etc/group", spec, group).
		WithHint(`give numeric ids, e.g. owner = "1000:1000"`)
}

// accounts reads a colon-separated account file (/etc/passwd, /etc/group)
// from the sandbox through the archive API.
func (c *Container) accounts(ctx context.Context, file string) ([][]string, error) {
	var data []byte
	err := pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID, file, w) },
		func(r io.Reader) (err error) { _, data, err = archive.ReadSingle(r, 4<<20); return err })
	if err != nil {
		return nil, fmt.Errorf("reading the sandbox's %s: %w", file, err)
	}
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out, nil
}
