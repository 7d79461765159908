package sandbox

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pocketdock/pocketdock/archive"
	"github.com/pocketdock/pocketdock/engine"
)

// File operations go through the engine's archive API only: no path is ever
// handed to a shell inside the sandbox. Container paths must be absolute
// (relative ones are an InvalidArgument rather than silently depending on the
// sandbox's working directory).

// absPath checks a path inside the sandbox and cleans it.
func absPath(fn, p string) (string, error) {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return "", engine.Errorf(engine.InvalidArgument, "%s: %q is not an absolute path inside the sandbox", fn, p)
	}
	return path.Clean(p), nil
}

// WriteOptions say how WriteFile writes.
type WriteOptions struct {
	Mode  int64  // permission bits; 0 = 0644
	Owner string // "uid", "uid:gid", "name" or "name:group"; "" = the sandbox's user
}

// WriteFile writes data to the file at p (absolute), creating its missing
// directories; a directory there is refused, never replaced.
func (c *Container) WriteFile(ctx context.Context, p string, data []byte, o WriteOptions) error {
	p, err := absPath("write_file", p)
	if err != nil {
		return err
	}
	if p == "/" {
		return engine.Errorf(engine.InvalidArgument, "write_file: the path must name a file, got \"/\"")
	}
	mode, owner := o.Mode, o.Owner
	if mode == 0 {
		mode = 0o644
	}
	uid, gid, err := c.owner(ctx, owner)
	if err != nil {
		return err
	}
	// The engine's copy replaces whatever is at the path, a whole tree
	// included: a directory there is refused, never overwritten.
	dir := path.Dir(p)
	fi, err := c.eng.Stat(ctx, c.ID(), p)
	switch {
	case err == nil && fi.IsDir:
		return isDirError("write_file", p, fi)
	case err == nil:
		// A file (or link) is replaced; its directory exists.
	case engine.IsKind(err, engine.FileNotFound):
		if err := c.makeDirs(ctx, "write_file", p, dir, uid, gid); err != nil {
			return err
		}
	default:
		return err
	}
	return pipe(func(w io.Writer) error {
		return archive.WriteSingle(w, path.Base(p), bytes.NewReader(data), int64(len(data)), mode, uid, gid)
	}, func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID(), dir, r) })
}

// isDirError refuses to put a file where a directory is.
func isDirError(fn, p string, fi *engine.FileInfo) error {
	what := "is a directory"
	if fi.Link != "" {
		what = "is a link to a directory"
	}
	return engine.Errorf(engine.InvalidArgument, "%s: %s %s; a file cannot replace it", fn, p, what).
		WithHint("name a file inside it, e.g. %s", path.Join(p, "name"))
}

// DefaultPullLimit caps the bytes one pull writes to the host unless its
// max_bytes option says otherwise: a sparse file costs the sandbox no disk
// but would be written out in full.
const DefaultPullLimit = 1 << 30

// ReadFile returns the content of the file at p (absolute), refusing one
// over limit bytes (0 = engine.DefaultMaxOutput) before reading anything.
func (c *Container) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	p, err := absPath("read_file", p)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = engine.DefaultMaxOutput
	}
	fi, err := c.eng.Stat(ctx, c.ID(), p)
	if err != nil {
		return nil, err
	}
	if fi.IsDir {
		return nil, engine.Errorf(engine.InvalidArgument, "read_file: %s: is a directory", p).
			WithHint("use list_files to see what it holds, or pull to copy it out")
	}
	if fi.Link != "" {
		// The copy follows the link: check what it leads to.
		if fi, err = c.eng.Stat(ctx, c.ID(), fi.Link); err != nil {
			return nil, err
		}
	}
	if fi.Type() != "file" {
		return nil, notRegularError("read_file", p, fi)
	}
	// The size is checked before anything is copied; ReadSingle checks
	// it again against the archive's header, since the file can grow
	// in between, and never reads past it.
	if fi.Size > limit {
		return nil, tooLargeError(p, fi.Size, limit)
	}
	var data []byte
	err = pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID(), p, w) },
		func(r io.Reader) (err error) {
			var hdr *tar.Header
			hdr, data, err = archive.ReadSingle(r, limit)
			if errors.Is(err, archive.ErrTooLarge) {
				return tooLargeError(p, hdr.Size, limit)
			}
			return err
		})
	if err != nil {
		return nil, fileError("read_file", p, err)
	}
	return data, nil
}

func tooLargeError(p string, size, limit int64) error {
	return engine.Errorf(engine.InvalidArgument, "read_file: %s is %d bytes, over the limit of %d bytes; nothing was read", p, size, limit).
		WithHint("pass {max_bytes = N} to allow more, or pull it to a host file")
}

// notRegularError says what a path is when it has no content to copy.
func notRegularError(fn, p string, fi *engine.FileInfo) error {
	what := "not a regular file"
	switch m := fi.Mode; {
	case m&fs.ModeCharDevice != 0:
		what = "a character device, not a regular file"
	case m&fs.ModeDevice != 0:
		what = "a block device, not a regular file"
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe, not a regular file"
	case m&fs.ModeSocket != 0:
		what = "a socket, not a regular file"
	}
	return engine.Errorf(engine.InvalidArgument, "%s: %s is %s", fn, p, what).
		WithHint(`read it with a command instead, e.g. c:run({"head", "-c", "64", %q})`, p)
}

// ListFiles lists the names in the directory p (absolute), sorted; with
// details, each entry also has its type, size and mode.
func (c *Container) ListFiles(ctx context.Context, p string, details bool) ([]archive.Entry, error) {
	p, err := absPath("list_files", p)
	if err != nil {
		return nil, err
	}
	fi, err := c.eng.Stat(ctx, c.ID(), p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir {
		return nil, engine.Errorf(engine.InvalidArgument, "list_files: %s: not a directory", p)
	}
	if entries, err := c.listByCommand(ctx, p, details); entries != nil || err != nil {
		return entries, err
	}
	// No shell or stat in the image, or the sandbox is not running: the
	// archive API works there, at the cost of streaming the contents.
	var entries []archive.Entry
	err = pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID(), p, w) },
		func(r io.Reader) (err error) { entries, err = archive.List(r); return err })
	if err != nil {
		return nil, fileError("list_files", p, err)
	}
	return append([]archive.Entry{}, entries...), nil // an empty directory is an empty list, not nil
}

// listScript prints the names in directory $1, each ended by a NUL (names
// cannot hold one), then an empty record; with $2 = "details", one line of
// raw mode (hex) and size per name, from one stat for them all, in the same
// order since the same patterns are expanded. The path travels as an
// argument, never inside the script; names reach stat as "./name", so none
// reads as an option. A name that vanishes in between leaves the line
// count short, which the caller takes as "list another way".
const listScript = `cd -- "$1" || exit 3
for f in * .[!.]* ..?*; do
  [ -e "$f" ] || [ -L "$f" ] || continue
  printf '%s\0' "$f"
done
printf '\0'
[ "$2" = details ] || exit 0
stat -c '%f %s' ./* ./.[!.]* ./..?* 2>/dev/null
exit 0`

// listTimeout bounds a listing command; the sandbox runs it.
const listTimeout = time.Minute

// listByCommand lists dir with a command in the sandbox, which reads only
// names and metadata: the archive API would stream every file's content
// (seconds for a large file) just to read the headers. (nil, nil) means
// the command could not run or answered in a shape not understood: list
// through the archive API instead.
func (c *Container) listByCommand(ctx context.Context, dir string, details bool) ([]archive.Entry, error) {
	if c.Removed() {
		return nil, nil
	}
	mode := "names"
	if details {
		mode = "details"
	}
	spec := engine.ExecSpec{
		Argv: []string{"/bin/sh", "-c", listScript, "sh", dir, mode},
		User: "0", Cwd: "/", Timeout: listTimeout, MaxOutput: engine.DefaultMaxOutput,
	}
	res, err := c.fastExec(ctx, &spec)
	if res == nil && err == nil {
		res, err = c.eng.Exec(ctx, c.ID(), spec)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, nil
	}
	switch {
	case res.TimedOut:
		return nil, engine.Errorf(engine.Timeout, "list_files: listing %s took over %s", dir, listTimeout)
	case res.Truncated:
		return nil, engine.Errorf(engine.InvalidArgument, "list_files: %s holds more names than the %d bytes a listing may take", dir, engine.DefaultMaxOutput)
	case res.ExitCode != 0:
		return nil, nil
	}
	return parseListing(res.Stdout, details), nil
}

// parseListing reads listScript's output; nil if it is not in that shape.
func parseListing(out []byte, details bool) []archive.Entry {
	entries := []archive.Entry{}
	rest := out
	for {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return nil
		}
		name := string(rest[:i])
		rest = rest[i+1:]
		if name == "" {
			break
		}
		if strings.Contains(name, "/") || name == "." || name == ".." {
			return nil
		}
		entries = append(entries, archive.Entry{Name: name})
	}
	if details {
		lines := strings.Split(strings.TrimSuffix(string(rest), "\n"), "\n")
		if len(entries) == 0 {
			lines = nil
		}
		if len(lines) != len(entries) {
			return nil // a name vanished between the listing and stat
		}
		for i, line := range lines {
			raw, size, ok := strings.Cut(line, " ")
			m, err1 := strconv.ParseUint(raw, 16, 32)
			n, err2 := strconv.ParseInt(size, 10, 64)
			if !ok || err1 != nil || err2 != nil {
				return nil
			}
			e := &entries[i]
			e.Mode, e.Size = int64(m&0o7777), n
			switch m & 0o170000 {
			case 0o100000:
				e.Type = "file"
			case 0o040000:
				e.Type, e.Size = "dir", 0
			case 0o120000:
				e.Type = "link"
			default:
				e.Type = "other"
			}
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries
}

// Stat describes the file at p (absolute) without following a final link;
// nil, with no error, when there is none.
func (c *Container) Stat(ctx context.Context, p string) (*engine.FileInfo, error) {
	p, err := absPath("stat", p)
	if err != nil {
		return nil, err
	}
	fi, err := c.eng.Stat(ctx, c.ID(), p)
	if engine.IsKind(err, engine.FileNotFound) {
		return (*engine.FileInfo)(nil), nil
	}
	return fi, err
}

// Push copies a host file or tree into the sandbox, with the rule of cp and
// podman cp:
//   - dest is an existing directory, or ends in "/": src goes inside it under
//     its own base name;
//   - otherwise dest is the full path src gets (its parents are created);
//   - src ending in "/." copies what the directory holds into dest
//     (created if missing) rather than the directory itself.
//
// A file never replaces a directory, nor a directory a file. Modes are kept;
// owners become the sandbox's user.
func (c *Container) Push(ctx context.Context, rawSrc, raw string) error {
	dest, err := absPath("push", raw)
	if err != nil {
		return err
	}
	contents := rawSrc == "." || strings.HasSuffix(rawSrc, "/.")
	src, err := filepath.Abs(rawSrc)
	if err != nil {
		return hostError("push", rawSrc, err)
	}
	into := strings.HasSuffix(raw, "/") && !contents
	if dest == "/" && !into {
		return engine.Errorf(engine.InvalidArgument, "push: the destination must name a file or directory, got \"/\"")
	}
	hfi, err := os.Lstat(src)
	if err != nil {
		return hostError("push", rawSrc, err)
	}
	tree := hfi.IsDir()
	if contents && !tree {
		return engine.Errorf(engine.InvalidArgument, "push: %s is not a directory, so it has no contents to copy", rawSrc).
			WithHint("drop the trailing /. to copy the file")
	}
	target := dest
	if into {
		target = path.Join(dest, filepath.Base(src))
	}
	fi, err := c.eng.Stat(ctx, c.ID(), target)
	if err != nil && !engine.IsKind(err, engine.FileNotFound) {
		return err
	}
	if err == nil && fi.IsDir && !into && !contents {
		// cp's rule: an existing directory receives src.
		target = path.Join(dest, filepath.Base(src))
		if fi, err = c.eng.Stat(ctx, c.ID(), target); err != nil && !engine.IsKind(err, engine.FileNotFound) {
			return err
		}
	}
	if err == nil {
		switch {
		case fi.IsDir && !tree:
			return isDirError("push", target, fi)
		case !fi.IsDir && tree:
			return engine.Errorf(engine.InvalidArgument, "push: %s is a file; the directory %s cannot replace it", target, rawSrc).
				WithHint("remove it first, or push to another path")
		}
	}
	uid, gid, err := c.owner(ctx, "")
	if err != nil {
		return err
	}
	dir := path.Dir(target)
	if err := c.makeDirs(ctx, "push", target, dir, uid, gid); err != nil {
		return err
	}
	return pipe(func(w io.Writer) error { return archive.Tree(w, src, path.Base(target), uid, gid) },
		func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID(), dir, r) })
}

// Pull copies src out of the sandbox, with the rule of cp and podman cp:
//   - host_dest is an existing directory, or ends in "/" (then it is created
//     if missing): src lands inside it under its base name;
//   - otherwise host_dest is created (its parent must exist) with src's
//     content; an existing file there is replaced by a file, never by a
//     directory;
//   - src ending in "/." copies what the directory holds into host_dest.
//
// Modes are kept (without setuid, setgid and sticky). At most limit
// (0 = DefaultPullLimit) of file data is written; past it, or on any refused
// entry, what the pull created is removed again. The archive is untrusted:
// archive.Extract never writes outside the directory it is given, nor a
// name holding control characters.
// It returns the number of files written.
func (c *Container) Pull(ctx context.Context, rawSrc, hostDest string, limit int64) (int, error) {
	src, err := absPath("pull", rawSrc)
	if err != nil {
		return 0, err
	}
	if src == "/" {
		return 0, engine.Errorf(engine.InvalidArgument, "pull: the source cannot be the sandbox's root; pull a directory inside it")
	}
	if hostDest == "" {
		return 0, engine.Errorf(engine.InvalidArgument, "pull: the host destination is empty; give a host path such as \".\"")
	}
	if limit <= 0 {
		limit = DefaultPullLimit
	}
	contents := strings.HasSuffix(rawSrc, "/.")
	into := strings.HasSuffix(hostDest, "/") || strings.HasSuffix(hostDest, string(filepath.Separator)+".")
	sfi, err := c.eng.Stat(ctx, c.ID(), src)
	if err != nil {
		return 0, err
	}
	if contents && !sfi.IsDir {
		return 0, engine.Errorf(engine.InvalidArgument, "pull: %s is not a directory, so it has no contents to copy", src).
			WithHint("drop the trailing /. to copy the file")
	}
	dest := filepath.Clean(hostDest)
	opts := archive.ExtractOptions{MaxBytes: limit}
	dir, made := dest, false
	hfi, err := os.Stat(dest)
	switch {
	case err == nil && hfi.IsDir():
		opts.StripTop = contents
	case err == nil:
		if into {
			return 0, engine.Errorf(engine.InvalidArgument, "pull: host path %s is a file, not a directory", dest)
		}
		if sfi.IsDir {
			return 0, engine.Errorf(engine.InvalidArgument, "pull: host path %s is a file; the directory %s cannot replace it", dest, src).
				WithHint("remove it first, or pull to another path")
		}
		dir, opts.Rename = filepath.Dir(dest), filepath.Base(dest)
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		parent := filepath.Dir(dest)
		pfi, err := os.Stat(parent)
		switch {
		case err == nil && !pfi.IsDir():
			return 0, engine.Errorf(engine.InvalidArgument, "pull: host path %s is a file, not a folder", parent)
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			return 0, engine.Errorf(engine.FileNotFound, "pull: host folder %s does not exist", parent).
				WithHint("create it first; pull creates only host_dest itself")
		case err != nil:
			return 0, hostError("pull", parent, err)
		}
		if into {
			if err := os.Mkdir(dest, 0o755); err != nil {
				return 0, hostError("pull", dest, err)
			}
			made, opts.StripTop = true, contents
			break
		}
		dir, opts.Rename = parent, filepath.Base(dest)
	default:
		return 0, hostError("pull", dest, err)
	}
	var n int
	err = pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID(), src, w) },
		func(r io.Reader) (err error) { n, err = archive.Extract(r, dir, opts); return err })
	if err != nil && made {
		os.Remove(dest) // Extract removed what it created inside
	}
	if errors.Is(err, archive.ErrTooLarge) {
		return 0, engine.Errorf(engine.InvalidArgument, "pull %s: more than the limit of %d bytes; what this pull wrote was removed (%s)",
			src, limit, strings.TrimPrefix(err.Error(), "archive: ")).
			WithHint("pass {max_bytes = N} to allow more")
	}
	if err != nil {
		return 0, fileError("pull", src, err)
	}
	return n, nil
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
	if errors.Is(err, archive.ErrEmpty) {
		// What the engine sends for a device or a mount such as /dev.
		return engine.Errorf(engine.InvalidArgument, "%s: %s has nothing the engine can copy (a device, or a mount such as /dev or /proc)", fn, p).
			WithHint("use a command instead, e.g. c:run({\"ls\", \"-la\", path})")
	}
	msg := strings.TrimPrefix(err.Error(), "archive: ")
	if fn == "list_files" && errors.Is(err, archive.ErrTooLarge) {
		return engine.Errorf(engine.InvalidArgument, "list_files %s: %s", p, msg)
	}
	if fn == "pull" {
		return engine.Errorf(engine.EngineError, "pull %s: %s; what this pull wrote was removed", p, msg).
			WithHint("entries that would land outside host_dest, or whose names hold control characters, are refused, never written")
	}
	return engine.Errorf(engine.EngineError, "%s %s: %s", fn, p, msg)
}

// hostError says in plain words what is wrong with a host path.
func hostError(fn, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return engine.Errorf(engine.FileNotFound, "%s: host path %s does not exist", fn, p)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the reason, without Go's operation name
	}
	return engine.Errorf(engine.InvalidArgument, "%s: host path %s: %v", fn, p, err)
}

// makeDirs creates dir (the parent of target) and its missing parents,
// owned by uid:gid with mode 0755, without touching directories that
// exist: the missing ones are PUT as one archive into the deepest existing
// ancestor. A file on the way is an error naming it.
func (c *Container) makeDirs(ctx context.Context, fn, target, dir string, uid, gid int) error {
	var missing []string
	for {
		fi, err := c.eng.Stat(ctx, c.ID(), dir)
		if err == nil {
			if !fi.IsDir {
				return engine.Errorf(engine.InvalidArgument, "%s: cannot create %s: %s is a file, not a directory", fn, target, dir)
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
		func(r io.Reader) error { return c.eng.CopyIn(ctx, c.ID(), dir, r) })
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

// owner resolves spec ("uid", "uid:gid", "name", "name:group"; "" for the
// container's configured user) to numeric ids, reading names from the
// sandbox's own /etc/passwd and /etc/group.
func (c *Container) owner(ctx context.Context, spec string) (int, int, error) {
	if spec == "" {
		// The configured user is fixed at creation, and resolving it costs
		// an inspect and a file read: it is resolved once per container.
		id := c.ID()
		c.mu.Lock()
		ids, ok := c.owners[id]
		c.mu.Unlock()
		if ok {
			return ids[0], ids[1], nil
		}
		d, err := c.eng.Inspect(ctx, id)
		if err != nil {
			return 0, 0, err
		}
		uid, gid, err := c.resolveOwner(ctx, d.Config.User)
		if err == nil {
			c.mu.Lock()
			if c.owners == nil {
				c.owners = map[string][2]int{}
			}
			c.owners[id] = [2]int{uid, gid}
			c.mu.Unlock()
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
	err := pipe(func(w io.Writer) error { return c.eng.CopyOut(ctx, c.ID(), file, w) },
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
