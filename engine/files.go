package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/containers/podman/v5/pkg/bindings"
	"github.com/containers/podman/v5/pkg/bindings/containers"
	"github.com/containers/podman/v5/pkg/copy"
)

// FileInfo describes a path inside a container.
type FileInfo struct {
	Name    string      // base name of the path asked for
	Size    int64       // for a symlink, the length of its target
	Mode    fs.FileMode // of the path itself: fs.ModeSymlink for a link
	ModTime time.Time
	IsDir   bool   // the path is, or resolves to, a directory
	Link    string // for a symlink, the absolute path it resolves to
}

// Type names the kind of path: "file", "dir", "link" or "other".
func (f *FileInfo) Type() string {
	switch {
	case f.Mode&fs.ModeSymlink != 0:
		return "link"
	case f.Mode.IsDir():
		return "dir"
	case f.Mode.IsRegular():
		return "file"
	}
	return "other"
}

// StatRecord is a FileInfo as scripts see it (c:stat()): its json names are
// the Lua keys.
type StatRecord struct {
	Name  string  `json:"name"`
	Type  string  `json:"type"` // as FileInfo.Type
	Size  int64   `json:"size"`
	Mode  int64   `json:"mode"`  // permission bits plus setuid/setgid/sticky, as chmod takes them
	MTime float64 `json:"mtime"` // seconds since the epoch
	Link  string  `json:"link,omitempty"`
}

// Record describes f as scripts see it; nil for a nil f (a missing path).
func (f *FileInfo) Record() *StatRecord {
	if f == nil {
		return nil
	}
	mode := int64(f.Mode.Perm())
	for _, bit := range []struct {
		fs   fs.FileMode
		unix int64
	}{{fs.ModeSetuid, 0o4000}, {fs.ModeSetgid, 0o2000}, {fs.ModeSticky, 0o1000}} {
		if f.Mode&bit.fs != 0 {
			mode |= bit.unix
		}
	}
	return &StatRecord{Name: f.Name, Type: f.Type(), Size: f.Size, Mode: mode, MTime: float64(f.ModTime.UnixNano()) / 1e9, Link: f.Link}
}

// Stat describes path inside the container without following a final symlink
// (IsDir still says where it leads). A missing path is a FileNotFound error;
// a symlink whose target is missing is described, not an error.
func (e *Engine) Stat(ctx context.Context, id, p string) (*FileInfo, error) {
	rep, err := containers.Stat(e.ctx(ctx), id, p)
	if rep != nil {
		fi := &FileInfo{
			Name:    path.Base(p),
			Size:    rep.Size,
			Mode:    rep.Mode,
			ModTime: rep.ModTime,
			IsDir:   rep.IsDir,
		}
		if rep.Mode&fs.ModeSymlink != 0 {
			fi.Link = rep.LinkTarget
		}
		return fi, nil
	}
	if errors.Is(err, copy.ErrENOENT) {
		return nil, e.missing(ctx, id, p)
	}
	return nil, e.wrap(err, fmt.Sprintf("stat %q", p), ContainerNotFound)
}

// missing explains a 404 from the archive endpoint, which answers the same
// for a missing container and a missing path.
func (e *Engine) missing(ctx context.Context, id, p string) error {
	ok, err := containers.Exists(e.ctx(ctx), id, nil)
	if err != nil {
		return e.wrap(err, fmt.Sprintf("stat %q", p), ContainerNotFound)
	}
	if !ok {
		return e.wrap(Errorf(ContainerNotFound, "container %s not found", short(id)), "", ContainerNotFound)
	}
	return e.wrap(Errorf(FileNotFound, "%s: no such file or directory", p), "", FileNotFound)
}

// CopyIn extracts the tar stream r into the existing directory dir of the
// container. Entries keep the owners written in the archive (the engine's
// default would give everything to the container's user), so callers decide
// ownership.
//
// The request is made by hand rather than through the bindings, which drop
// the engine's error message ("not a directory", "permission denied").
func (e *Engine) CopyIn(ctx context.Context, id, dir string, r io.Reader) error {
	op := fmt.Sprintf("copy into %q", dir)
	client, err := bindings.GetClient(e.conn)
	if err != nil {
		return e.wrap(err, op, ContainerNotFound)
	}
	params := url.Values{}
	params.Set("path", dir)
	params.Set("copyUIDGID", "false")
	resp, err := client.DoRequest(e.ctx(ctx), r, http.MethodPut, "/containers/%s/archive", params, nil, id)
	if err != nil {
		return e.wrap(err, op, ContainerNotFound)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusNotFound {
		return e.missing(ctx, id, dir)
	}
	return e.wrap(engineMessage(resp.StatusCode, body), op, ContainerNotFound)
}

// CopyOut streams the tar archive of path (a file or a tree, a final symlink
// followed) to w. The archive's top entry is named after path's base name.
// It comes from inside the sandbox: read it with the archive package.
func (e *Engine) CopyOut(ctx context.Context, id, p string, w io.Writer) error {
	op := fmt.Sprintf("copy out %q", p)
	run, err := containers.CopyToArchive(e.ctx(ctx), id, p, w)
	if err != nil {
		if IsKind(e.wrap(err, op, FileNotFound), FileNotFound) {
			return e.missing(ctx, id, p)
		}
		return e.wrap(err, op, ContainerNotFound)
	}
	return e.wrap(run(), op, ContainerNotFound)
}
