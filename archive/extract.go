package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"
)

// ExtractOptions chooses where the archive's entries land inside dest.
type ExtractOptions struct {
	// StripTop drops the first path component of every entry, so pulling
	// "/etc" puts its contents directly in dest rather than in dest/etc.
	StripTop bool
	// Rename, if set, replaces the first path component of every entry, so
	// pulling "/etc" can create dest/<Rename>. It must be a plain base name
	// and cannot be combined with StripTop.
	Rename string
	// MaxBytes, if positive, caps the total size of the regular files
	// written. An entry that would pass it is refused before any of it is
	// written, with an error wrapping ErrTooLarge.
	MaxBytes int64
}

// Extract writes the tar stream r into the existing host directory dest
// and returns the number of entries written. The archive comes from inside
// a sandbox, so it is treated as hostile and nothing is ever written
// outside dest:
//
//   - absolute names and names with any ".." component are refused, not
//     rewritten, with an error naming the entry;
//   - symlinks are recreated as they are, wherever they point, but are never
//     followed: an entry whose path goes through a symlink is refused, and an
//     existing symlink at an entry's own path is replaced, not written through;
//   - hard links may only point at regular files this call already extracted;
//   - devices and fifos are skipped; sparse files are refused, since a tiny
//     archive could otherwise expand into an arbitrarily large file;
//   - regular files are streamed, never held in memory, and replace whatever
//     non-directory is at their path; existing directories are kept, and are
//     never replaced by a non-directory;
//   - names holding control characters (a newline, ESC and the like, which
//     would reach a terminal that lists them) are refused;
//   - permission bits are kept but setuid, setgid and sticky are dropped;
//     modification times are kept for files and directories; owners are not
//     (the caller is normally not root, and sandbox uids mean nothing on the
//     host).
//
// All file system access goes through an os.Root on dest, which also stops
// escapes if something else swaps in a symlink while Extract runs. On error
// everything this call created is removed again (files it replaced keep
// their new content), so a refused archive leaves nothing behind.
func Extract(r io.Reader, dest string, opts ExtractOptions) (n int, err error) {
	if opts.Rename != "" {
		if opts.StripTop {
			return 0, errors.New("archive: StripTop and Rename cannot be combined")
		}
		if err := checkBaseName(opts.Rename); err != nil {
			return 0, err
		}
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return 0, fmt.Errorf("archive: %s: %w", dest, plain(err))
	}
	defer root.Close()

	x := &extractor{root: root, opts: opts, files: map[string]bool{}}
	defer func() {
		if err != nil {
			x.undo()
		}
	}()
	tr := tar.NewReader(r)
	for {
		hdr, err := nextEntry(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("archive: %w", plain(err))
		}
		wrote, err := x.entry(hdr, tr)
		if err != nil {
			return n, fmt.Errorf("archive: %s: %w", QuoteName(hdr.Name), plain(err))
		}
		if wrote {
			n++
		}
	}
	// Directory modes and times are applied last: a read-only directory must
	// still accept its children, and adding children changes its mtime.
	// Children come after their parents in the archive, so going backwards
	// finishes each directory before the one containing it.
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		if err := root.Chmod(d.name, d.mode); err != nil {
			return n, fmt.Errorf("archive: %w", plain(err))
		}
		if err := root.Chtimes(d.name, d.mtime, d.mtime); err != nil {
			return n, fmt.Errorf("archive: %w", plain(err))
		}
	}
	return n, nil
}

type extractor struct {
	root    *os.Root
	opts    ExtractOptions
	files   map[string]bool // regular files written so far: valid hard link targets
	dirs    []dirAttrs
	created []string // paths that did not exist before, in creation order
	total   int64    // bytes of regular files written so far
}

// undo removes what this extraction created, newest first, so directories
// are empty by the time they are removed. Failures are ignored: it is a
// best effort after an error that is already being reported.
func (x *extractor) undo() {
	for i := len(x.created) - 1; i >= 0; i-- {
		_ = x.root.Remove(x.created[i])
	}
}

// plain drops the Go operation name ("openat", "statat") and the path from
// a file system error: the caller names the entry, and people want the
// reason ("permission denied", "not a directory").
func plain(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// QuoteName shows a file name from a sandbox safely in a message: quoted
// with control characters escaped, and cut to 200 bytes.
func QuoteName(name string) string {
	if len(name) > 200 {
		return strconv.Quote(name[:200]) + "..."
	}
	return strconv.Quote(name)
}

// hasControl reports whether name holds a C0 or C1 control character or
// DEL: bytes a terminal may act on when the name is listed.
func hasControl(name string) bool {
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return true
		}
	}
	return false
}

type dirAttrs struct {
	name  string
	mode  fs.FileMode
	mtime time.Time
}

// entry writes one archive entry and reports whether anything was written.
func (x *extractor) entry(hdr *tar.Header, r io.Reader) (bool, error) {
	name, err := x.target(hdr.Name)
	if err != nil || name == "" {
		return false, err // name == "": the entry is dest itself
	}
	// Checked before any directory is created so a refused entry leaves
	// nothing behind.
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	case tar.TypeGNUSparse:
		return false, errors.New("sparse files are not supported")
	default:
		return false, nil // devices, fifos and unknown types
	}
	if isSparse(hdr) {
		return false, errors.New("sparse files are not supported")
	}
	if hasControl(name) {
		return false, errors.New("control characters in a file name are not written to the host")
	}
	if hdr.Typeflag == tar.TypeReg && x.opts.MaxBytes > 0 && hdr.Size > x.opts.MaxBytes-x.total {
		return false, fmt.Errorf("%w: %d bytes would pass the limit of %d bytes for the whole copy", ErrTooLarge, x.total+hdr.Size, x.opts.MaxBytes)
	}
	if err := x.makeParents(name); err != nil {
		return false, err
	}
	mode := fs.FileMode(hdr.Mode) & fs.ModePerm

	if hdr.Typeflag == tar.TypeDir {
		fi, err := x.root.Lstat(name)
		switch {
		case err == nil && fi.IsDir():
			// Existing directories are kept, with the archive's attributes.
		case err == nil:
			if err := x.root.Remove(name); err != nil {
				return false, err
			}
			fallthrough
		case errors.Is(err, fs.ErrNotExist):
			if err := x.root.Mkdir(name, 0o700); err != nil {
				return false, err
			}
			x.created = append(x.created, name)
		default:
			return false, err
		}
		x.dirs = append(x.dirs, dirAttrs{name, mode, hdr.ModTime})
		return true, nil
	}

	// Every other type replaces what is at its path, so that a regular file
	// is never written through an existing symlink or into an existing hard
	// link shared with a file elsewhere.
	existed, err := x.clear(name)
	if err != nil {
		return false, err
	}
	if !existed {
		x.created = append(x.created, name)
	}
	delete(x.files, name)
	switch hdr.Typeflag {
	case tar.TypeSymlink:
		return true, x.root.Symlink(hdr.Linkname, name)
	case tar.TypeLink:
		return true, x.hardLink(hdr.Linkname, name)
	}
	x.total += hdr.Size

	// O_EXCL: the path was just cleared, so anything there now (a symlink
	// created concurrently, say) is refused rather than followed.
	f, err := x.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return false, err
	}
	// Chmod on the descriptor: exact bits regardless of umask, and no path
	// lookup that could be redirected.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return false, err
	}
	if err := f.Close(); err != nil {
		return false, err
	}
	if err := x.root.Chtimes(name, hdr.ModTime, hdr.ModTime); err != nil {
		return false, err
	}
	x.files[name] = true
	return true, nil
}

// target maps an archive name to a slash-separated path relative to dest,
// applying the options; "" means dest itself. Unsafe names are refused.
func (x *extractor) target(name string) (string, error) {
	if name == "" {
		return "", errors.New("empty name")
	}
	if strings.HasPrefix(name, "/") {
		return "", errors.New("absolute name refused")
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
			// "a//b", "./a" and the trailing "/" of directories.
		case "..":
			return "", errors.New(`name with ".." refused`)
		default:
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	switch {
	case x.opts.StripTop:
		parts = parts[1:]
	case x.opts.Rename != "":
		parts[0] = x.opts.Rename
	}
	return strings.Join(parts, "/"), nil
}

// makeParents creates the missing parent directories of name one level at
// a time, refusing to go through anything that is not a real directory.
// os.Root alone is not enough: it follows symlinks that stay inside dest,
// and an archive must not be able to redirect its own later entries.
func (x *extractor) makeParents(name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] != '/' {
			continue
		}
		dir := name[:i]
		fi, err := x.root.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Not in the archive (or not yet): default permissions.
			if err := x.root.Mkdir(dir, 0o755); err != nil {
				return err
			}
			x.created = append(x.created, dir)
		case err != nil:
			return err
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("refusing to write through symlink %q", dir)
		case !fi.IsDir():
			return fmt.Errorf("%q is not a directory", dir)
		}
	}
	return nil
}

// clear removes whatever non-directory is at name, so it can be recreated,
// and says whether there was one.
func (x *extractor) clear(name string) (bool, error) {
	fi, err := x.root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if fi.IsDir() {
		return true, errors.New("refusing to replace a directory")
	}
	return true, x.root.Remove(name)
}

// hardLink links name to an earlier regular file of this archive. Anything
// else (a file outside dest, a file that was there before, a symlink) could
// give the sandbox a handle on host data it should not reach.
func (x *extractor) hardLink(linkname, name string) error {
	old, err := x.target(linkname)
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", linkname, err)
	}
	if !x.files[old] {
		return fmt.Errorf("hard link target %q is not a file extracted earlier", linkname)
	}
	if err := x.root.Link(old, name); err != nil {
		return err
	}
	x.files[name] = true // a later link may chain through this one
	return nil
}

// isSparse reports whether hdr describes a sparse file in PAX form, which
// archive/tar presents as a regular file.
func isSparse(hdr *tar.Header) bool {
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
