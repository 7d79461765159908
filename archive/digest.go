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
// relative names, modes, link targets and contents in a fixed order. Equal
// digests mean an equal push, which is what a recipe's step cache keys on.
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
		rel, _ := filepath.Rel(root, p)
		io.WriteString(w, rel+"\x00"+st.Mode().String()+"\x00")
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			io.WriteString(w, target)
		case st.Mode().IsRegular():
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
