package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Digest hashes what pushing path would send: a file's content, or a tree's
// relative names, types, permission bits, link targets and contents in a
// fixed order, by the rules the push itself follows (pushed). Equal digests
// mean an equal push, which is what a recipe's step cache keys on.
func Digest(path string) (string, fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	h := sha256.New()
	if st.IsDir() {
		err = digestTree(h, path)
	} else {
		err = copyFile(h, path)
	}
	if err != nil {
		return "", nil, err
	}
	return hex.EncodeToString(h.Sum(nil)), st, nil
}

func digestTree(w io.Writer, root string) error {
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
		send, link, err := pushed(p, st)
		if err != nil {
			return err
		}
		if !send {
			continue
		}
		rel, _ := filepath.Rel(root, p)
		io.WriteString(w, rel+"\x00"+st.Mode().Type().String()+st.Mode().Perm().String()+"\x00"+link)
		if st.Mode().IsRegular() {
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
