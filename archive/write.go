// Package archive holds the tar streams used to move files in and out of
// sandboxes: Podman's archive API (PUT/GET /containers/{id}/archive) speaks
// tar, so writing a file, pushing a tree, reading a file, listing a
// directory and pulling a tree all come down to building or reading one.
//
// Archives built here are sent to the container runtime; archives read here
// come from inside a sandbox and are treated as hostile (see Extract).
package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Single returns a tar holding one regular file name (a base name, no
// slashes) with the given data, permission bits and owner. It is meant to be
// PUT into the parent directory of the file being written.
func Single(name string, data []byte, mode int64, uid, gid int) ([]byte, error) {
	var buf bytes.Buffer
	// Header plus data rounded up to a block, plus the two end blocks.
	buf.Grow(len(data) + 3*512)
	if err := WriteSingle(&buf, name, bytes.NewReader(data), int64(len(data)), mode, uid, gid); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteSingle streams the same archive as Single to w, reading exactly size
// bytes from r, so large files never need to be held in memory.
func WriteSingle(w io.Writer, name string, r io.Reader, size int64, mode int64, uid, gid int) error {
	if err := checkBaseName(name); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("archive: negative size %d for %q", size, name)
	}
	tw := tar.NewWriter(w)
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     mode & 0o7777,
		Uid:      uid,
		Gid:      gid,
		ModTime:  time.Now(),
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("archive: %s: %w", name, err)
	}
	n, err := io.Copy(tw, io.LimitReader(r, size))
	if err != nil {
		return fmt.Errorf("archive: %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("archive: %s: source ended after %d of %d bytes", name, n, size)
	}
	return tw.Close()
}

// checkBaseName rejects names that would not land as a single file in the
// directory the archive is extracted into.
func checkBaseName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("archive: invalid file name %q: want a plain base name", name)
	}
	return nil
}

// Tree writes to w a tar of the host path src, a file or a directory tree,
// whose top entry is called name. Permission bits (including the executable
// bit) and modification times are kept, symlinks are stored as symlinks
// (src itself too, it is not followed), and sockets, devices and fifos are
// skipped because they cannot be meaningfully copied. uid and gid replace
// the host owner of every entry unless they are -1.
func Tree(w io.Writer, src, name string, uid, gid int) error {
	if err := checkBaseName(name); err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	// WalkDir uses Lstat, so symlinked directories are not descended into.
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		arcName := name
		if rel != "." {
			arcName = name + "/" + filepath.ToSlash(rel)
		}
		return writeTreeEntry(tw, p, arcName, uid, gid)
	})
	if err != nil {
		return fmt.Errorf("archive: %w", err)
	}
	return tw.Close()
}

// pushed says whether a push sends the entry p (files, directories and
// symlinks; a socket, device or fifo has nothing sensible to copy) and, for
// a symlink, its target. Only permission bits are sent: setuid and setgid
// pushed into a sandbox are never wanted. Digest follows the same rules.
func pushed(p string, fi fs.FileInfo) (send bool, link string, err error) {
	switch {
	case fi.Mode().IsRegular(), fi.IsDir():
		return true, "", nil
	case fi.Mode()&fs.ModeSymlink != 0:
		link, err = os.Readlink(p)
		return err == nil, link, err
	}
	return false, "", nil
}

func writeTreeEntry(tw *tar.Writer, p, arcName string, uid, gid int) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	send, link, err := pushed(p, fi)
	if !send || err != nil {
		return err
	}
	// FileInfoHeader fills in the host owner portably; the rest is set here.
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	hdr.Name = arcName
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Mode = int64(fi.Mode().Perm()) // see pushed
	if uid != -1 {
		hdr.Uid, hdr.Uname = uid, ""
	}
	if gid != -1 {
		hdr.Gid, hdr.Gname = gid, ""
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	// The header promised fi.Size() bytes; a file that changed size while
	// being read would corrupt the stream, so say so instead.
	n, err := io.Copy(tw, io.LimitReader(f, hdr.Size))
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if n != hdr.Size {
		return fmt.Errorf("%s: file shrank while being archived", p)
	}
	return nil
}
