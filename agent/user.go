package agent

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lookupUser resolves a user spec ("name", "uid", "name:group", "uid:gid")
// against the passwd and group files in etcDir. The container's own files
// are used rather than NSS because the agent is static and the container
// image decides which users exist.
func lookupUser(spec, etcDir string) (*syscall.Credential, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	passwd := readColonFile(filepath.Join(etcDir, "passwd"))
	groups := readColonFile(filepath.Join(etcDir, "group"))

	var name string
	var uid, gid uint32
	if n, ok := parseID(userPart); ok {
		uid = n
		// A numeric uid need not exist in passwd; its group then defaults to 0.
		for _, e := range passwd {
			if len(e) >= 4 && e[2] == userPart {
				name = e[0]
				gid, _ = parseID(e[3])
				break
			}
		}
	} else {
		found := false
		for _, e := range passwd {
			if len(e) >= 4 && e[0] == userPart {
				u, ok1 := parseID(e[2])
				g, ok2 := parseID(e[3])
				if ok1 && ok2 {
					name, uid, gid, found = e[0], u, g, true
					break
				}
			}
		}
		if !found {
			return nil, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
	}

	if hasGroup {
		if n, ok := parseID(groupPart); ok {
			gid = n
		} else {
			found := false
			for _, e := range groups {
				if len(e) >= 3 && e[0] == groupPart {
					if g, ok := parseID(e[2]); ok {
						gid, found = g, true
						break
					}
				}
			}
			if !found {
				return nil, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	}

	// Supplementary groups as initgroups(3) would set them: the primary
	// group plus every group listing the user as a member.
	cred := &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{gid}}
	if name != "" {
		for _, e := range groups {
			if len(e) < 4 {
				continue
			}
			g, ok := parseID(e[2])
			if !ok || g == gid {
				continue
			}
			for _, m := range strings.Split(e[3], ",") {
				if m == name {
					cred.Groups = append(cred.Groups, g)
					break
				}
			}
		}
	}
	return cred, nil
}

func parseID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// readColonFile returns the fields of each entry in a passwd-style file. A
// missing file reads as empty, which still lets numeric ids work.
func readColonFile(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var entries [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		entries = append(entries, strings.Split(line, ":"))
	}
	return entries
}

// defaultPath is used when the command's environment has no PATH, matching
// what container runtimes set by default.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds file in the PATH of env (not the agent's own PATH, which
// exec.LookPath would use). Relative PATH entries are resolved against cwd,
// where the child will run.
func lookPath(file string, env []string, cwd string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil // execve reports missing or unexecutable files
	}
	path, ok := "", false
	for _, kv := range env {
		if v, found := strings.CutPrefix(kv, "PATH="); found {
			path, ok = v, true
		}
	}
	if !ok {
		path = defaultPath
	}
	sawNoExec := false
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		statPath := p
		if !filepath.IsAbs(p) && cwd != "" {
			statPath = filepath.Join(cwd, p)
		}
		fi, err := os.Stat(statPath)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Mode()&0o111 != 0 {
			return p, nil
		}
		sawNoExec = true
	}
	if sawNoExec {
		return "", &fs.PathError{Op: "exec", Path: file, Err: syscall.EACCES}
	}
	return "", fmt.Errorf("exec: %q: %w", file, exec.ErrNotFound)
}

// startErrorCode maps a failure to start a command to a shell-style exit
// code: 127 when it does not exist, 126 when it cannot be run.
func startErrorCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return 127
	}
	return 126
}
