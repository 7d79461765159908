package luaapi

import (
	"context"
	"errors"
	"io"
	"io/fs"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/engine"
)

// imageCall runs one engine call for an images function.
func (h *handle) imageCall(L *lua.LState, uri string, w func(ctx context.Context, e *engine.Engine) (any, error), f finish) int {
	return h.m.block(L, func(ctx context.Context, _ func(func())) (any, error) {
		e, err := h.m.reg.Engine(ctx, uri)
		if err != nil {
			return nil, err
		}
		return w(ctx, e)
	}, f)
}

func (h *handle) imageList(L *lua.LState) int {
	o := optionsArg(L, "images.list", 1)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return e.Images(ctx)
	}, pushRecord)
}

func (h *handle) imageExists(L *lua.LState) int {
	ref := stringArg(L, "images.exists", 1, "image")
	o := optionsArg(L, "images.exists", 2)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return e.ImageExists(ctx, ref)
	}, func(L *lua.LState, v any) int {
		L.Push(lua.LBool(v.(bool)))
		return 1
	})
}

func (h *handle) imageRemove(L *lua.LState) int {
	ref := stringArg(L, "images.remove", 1, "image")
	o := optionsArg(L, "images.remove", 2)
	force := o.Bool("force", false)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return nil, e.RemoveImage(ctx, ref, force)
	}, pushTrue)
}

func (h *handle) imagePull(L *lua.LState) int {
	ref := stringArg(L, "images.pull", 1, "image")
	o := optionsArg(L, "images.pull", 2)
	quiet := o.Bool("quiet", false)
	uri := h.engineOpt(o)
	o.done(L)
	var progress io.Writer = h.m.opts.Stderr
	if quiet {
		progress = nil
	}
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return e.Pull(ctx, ref, progress)
	}, pushString)
}

func (h *handle) imageBootstrap(L *lua.LState) int {
	o := optionsArg(L, "images.bootstrap", 1)
	force := o.Bool("force", false)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		if !force {
			if id, err := e.ImageID(ctx, engine.DefaultImage); err == nil {
				return id, nil
			}
		}
		h.m.notify("pocketdock: building " + engine.DefaultImage + " from the host's busybox")
		return e.BuildMinimalImage(ctx, engine.DefaultImage)
	}, pushString)
}

func (h *handle) imageSave(L *lua.LState) int {
	ref := stringArg(L, "images.save", 1, "image")
	path := stringArg(L, "images.save", 2, "path")
	o := optionsArg(L, "images.save", 3)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		return nil, fileError("images.save", e.SaveFile(ctx, []string{ref}, path))
	}, pushTrue)
}

func (h *handle) imageLoad(L *lua.LState) int {
	path := stringArg(L, "images.load", 1, "path")
	o := optionsArg(L, "images.load", 2)
	uri := h.engineOpt(o)
	o.done(L)
	return h.imageCall(L, uri, func(ctx context.Context, e *engine.Engine) (any, error) {
		names, err := e.LoadFile(ctx, path)
		return names, fileError("images.load", err)
	}, func(L *lua.LState, v any) int {
		L.Push(stringList(L, v.([]string)))
		return 1
	})
}

// fileError names the call in an error about a host file; the engine's own
// errors say what failed already.
func fileError(fn string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return engine.Prefix(fn, err)
	}
	return err
}
