package luaapi

import (
	"context"
	"path"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

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
	wo := sandbox.WriteOptions{Mode: o.Int("mode", 0o644, 0, 0o7777), Owner: o.String("owner", "")}
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, c.WriteFile(ctx, p, []byte(data), wo)
	}, pushTrue)
}

func (m *Module) readFile(L *lua.LState) int {
	c := checkContainer(L, 1, "read_file")
	p := containerPath(L, "read_file", 2, "path")
	o := optionsArg(L, "read_file", 3)
	limit := o.Int("max_bytes", engine.DefaultMaxOutput, 1, 1<<40)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.ReadFile(ctx, p, limit)
	}, func(L *lua.LState, v any) int {
		// The buffer becomes the string without a copy: nothing else holds
		// it or writes to it, and a copy would double the peak memory.
		b := v.([]byte)
		L.Push(lua.LString(unsafe.String(unsafe.SliceData(b), len(b))))
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
		return c.ListFiles(ctx, p, details)
	}, func(L *lua.LState, v any) int {
		if details {
			return pushRecord(L, v)
		}
		names := []string{}
		for _, e := range v.([]archive.Entry) {
			names = append(names, e.Name)
		}
		L.Push(stringList(L, names))
		return 1
	})
}

func (m *Module) stat(L *lua.LState) int {
	c := checkContainer(L, 1, "stat")
	p := containerPath(L, "stat", 2, "path")
	optionsArg(L, "stat", 3).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		fi, err := c.Stat(ctx, p)
		return fi.Record(), err
	}, pushRecord)
}

// push copies a host file or tree into the sandbox; sandbox.Container.Push
// has the rule and checks what the paths name.
func (m *Module) push(L *lua.LState) int {
	c := checkContainer(L, 1, "push")
	rawSrc := stringArg(L, "push", 2, "host_src")
	raw := stringArg(L, "push", 3, "dest")
	containerPath(L, "push", 3, "dest")
	optionsArg(L, "push", 4).done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return nil, c.Push(ctx, rawSrc, raw)
	}, pushTrue)
}

// pull copies src out of the sandbox (sandbox.Container.Pull has the rule).
func (m *Module) pull(L *lua.LState) int {
	c := checkContainer(L, 1, "pull")
	rawSrc := stringArg(L, "pull", 2, "src")
	containerPath(L, "pull", 2, "src")
	hostDest := stringArg(L, "pull", 3, "host_dest")
	o := optionsArg(L, "pull", 4)
	limit := o.Int("max_bytes", sandbox.DefaultPullLimit, 1, 1<<50)
	o.done(L)
	return m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		return c.Pull(ctx, rawSrc, hostDest, limit)
	}, func(L *lua.LState, v any) int {
		L.Push(lua.LNumber(v.(int)))
		return 1
	})
}
