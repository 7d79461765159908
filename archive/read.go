package archive

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"
)

var (
	// ErrIsDir is returned by ReadSingle when the archive holds a directory.
	ErrIsDir = errors.New("is a directory")
	// ErrNotDir is returned by List when the archive's top entry is not a directory.
	ErrNotDir = errors.New("not a directory")
	// ErrNotRegular is returned by ReadSingle for symlinks, devices and the like.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is returned by ReadSingle when the file exceeds its limit,
	// and by Extract when the files pass ExtractOptions.MaxBytes.
	ErrTooLarge = errors.New("too large")
	// ErrEmpty is returned for an archive without a single entry, which is
	// what the engine sends for a device, or a mount such as /dev or /proc.
	ErrEmpty = errors.New("empty archive")
)

// nextEntry is tar.Reader.Next without global PAX headers, which describe
// the archive rather than a file.
func nextEntry(tr *tar.Reader) (*tar.Header, error) {
	for {
		hdr, err := tr.Next()
		if err != nil || hdr.Typeflag != tar.TypeXGlobalHeader {
			return hdr, err
		}
	}
}

// ReadSingle reads the first entry of a tar stream, as returned when
// GETting the archive of a single file, and returns its header and data.
// A file larger than limit bytes is refused with ErrTooLarge before any of
// it is read; a negative limit means no limit. Directories give ErrIsDir
// and other non-regular entries ErrNotRegular, both with the header.
func ReadSingle(r io.Reader, limit int64) (*tar.Header, []byte, error) {
	tr := tar.NewReader(r)
	hdr, err := nextEntry(tr)
	if err == io.EOF {
		return nil, nil, fmt.Errorf("archive: %w", ErrEmpty)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("archive: %w", err)
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
	case tar.TypeDir:
		return hdr, nil, fmt.Errorf("archive: %s: %w", QuoteName(hdr.Name), ErrIsDir)
	default:
		return hdr, nil, fmt.Errorf("archive: %s: %w", QuoteName(hdr.Name), ErrNotRegular)
	}
	if limit >= 0 && hdr.Size > limit {
		return hdr, nil, fmt.Errorf("archive: %s: %w (%d bytes, limit %d)", QuoteName(hdr.Name), ErrTooLarge, hdr.Size, limit)
	}
	var data []byte
	if limit >= 0 {
		// One buffer of the header's size, which the limit has bounded:
		// growing by doubling would briefly need twice the file.
		data = make([]byte, hdr.Size)
		_, err = io.ReadFull(tr, data)
	} else {
		// ReadAll rather than a buffer of hdr.Size: without a limit the
		// header size is untrusted, and memory should only grow as data
		// really arrives.
		data, err = io.ReadAll(tr)
	}
	if err != nil {
		return hdr, nil, fmt.Errorf("archive: %s: %w", QuoteName(hdr.Name), err)
	}
	return hdr, data, nil
}

// Entry describes one item of a directory listing.
// Its json names are the keys of c:list_files{details = true}'s entries.
type Entry struct {
	Name    string    `json:"name"` // relative to the listed directory
	Type    string    `json:"type"` // "file", "dir", "link" (symlink) or "other"
	Size    int64     `json:"size"`
	Mode    int64     `json:"mode"` // permission bits plus setuid/setgid/sticky
	Link    string    `json:"-"`
	ModTime time.Time `json:"-"`
	UID     int       `json:"-"`
	GID     int       `json:"-"`
}

// maxListBytes bounds what List holds: its entries at listEntryCost bytes
// each plus their names. The archive comes from a sandbox, which can make
// millions of empty files at no cost to itself.
// (A variable so a test can lower it.)
var maxListBytes = 64 << 20

const listEntryCost = 128

// List reads the tar stream of a directory, as returned when GETting the
// archive of a directory ("dir/", "dir/a", "dir/a/b", ...), and returns the
// entries directly inside it, named relative to it and sorted by name.
// If the top entry is not a directory the error wraps ErrNotDir; past
// maxListBytes of entries, ErrTooLarge.
func List(r io.Reader) ([]Entry, error) {
	tr := tar.NewReader(r)
	var (
		top     string
		entries []Entry
		// Sizes of regular files seen so far, so a hard link can report the
		// size of the file it shares data with (tar stores it as 0).
		sizes = map[string]int64{}
		held  int // bytes of entries kept, against maxListBytes
	)
	for first := true; ; first = false {
		hdr, err := nextEntry(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("archive: %w", err)
		}
		name := listName(hdr.Name)
		if first {
			if hdr.Typeflag != tar.TypeDir {
				return nil, fmt.Errorf("archive: %s: %w", QuoteName(hdr.Name), ErrNotDir)
			}
			top = name
			continue
		}
		if hdr.Typeflag == tar.TypeReg {
			sizes[name] = hdr.Size
			held += listEntryCost + len(name)
		}
		rel, ok := childOf(top, name)
		if ok {
			held += listEntryCost + len(rel) + len(hdr.Linkname)
		}
		if held > maxListBytes {
			return nil, fmt.Errorf("archive: %w: the directory holds more entries than a listing may take (%d bytes)", ErrTooLarge, maxListBytes)
		}
		if !ok {
			continue
		}
		e := Entry{
			Name:    rel,
			Size:    hdr.Size,
			Mode:    hdr.Mode & 0o7777,
			ModTime: hdr.ModTime,
			UID:     hdr.Uid,
			GID:     hdr.Gid,
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			e.Type = "file"
		case tar.TypeDir:
			e.Type, e.Size = "dir", 0
		case tar.TypeSymlink:
			e.Type, e.Link = "link", hdr.Linkname
			e.Size = int64(len(hdr.Linkname)) // as stat and ls give it
		case tar.TypeLink:
			e.Type, e.Link = "file", hdr.Linkname
			e.Size = sizes[listName(hdr.Linkname)]
		default:
			e.Type = "other"
		}
		entries = append(entries, e)
	}
	if top == "" {
		return nil, fmt.Errorf("archive: %w", ErrEmpty)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	return entries, nil
}

// listName normalises an entry name for comparison: no leading "/" or "./",
// no trailing "/", "." for the archive root. Listing only reads, so odd
// names are tolerated here rather than refused as in Extract.
func listName(name string) string {
	return path.Clean("./" + strings.TrimLeft(name, "/"))
}

// childOf reports whether name lies directly inside dir and returns its base.
func childOf(dir, name string) (string, bool) {
	rest := name
	if dir != "." {
		var ok bool
		if rest, ok = strings.CutPrefix(name, dir+"/"); !ok {
			return "", false
		}
	}
	if rest == "." || rest == ".." || strings.HasPrefix(rest, "../") || strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}
