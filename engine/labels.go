package engine

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Labels shared with the Python pocketdock SDK: keep these exact.
const (
	LabelManaged   = "pocketdock.managed"
	LabelInstance  = "pocketdock.instance"
	LabelPersist   = "pocketdock.persist"
	LabelCreatedAt = "pocketdock.created-at"
	LabelProject   = "pocketdock.project"
	LabelDataPath  = "pocketdock.data-path"
	// LabelOwner is ours: host:pid:start-time of the process that made an
	// ephemeral container, so a later run can reap it when that process is gone.
	LabelOwner = "pocketdock.owner"

	// LabelPrefix is pocketdock's: a sandbox's labels under it come from its
	// own create only, never from its image.
	LabelPrefix = "pocketdock."
)

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)

// ValidateName checks a sandbox name: the engine's container-name rules, at most 63 characters.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return Errorf(InvalidArgument, "invalid sandbox name %q", name).
			WithHint("use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	return nil
}

// ValidateEnv checks environment variables: names a process environment can
// hold (not empty; no '=', whitespace or control characters) and values with
// no NUL. A bad one is refused, never dropped; names are checked in order, so
// the error is always about the same one.
func ValidateEnv(env map[string]string) error {
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if k == "" || strings.IndexFunc(k, func(r rune) bool { return r == '=' || r <= ' ' || r == 0x7f }) >= 0 {
			return Errorf(InvalidArgument, "invalid variable name %q", k).
				WithHint("a name is letters, digits and _ (no '=', spaces or control characters)")
		}
		if strings.IndexByte(env[k], 0) >= 0 {
			return Errorf(InvalidArgument, "the value of %q holds a NUL byte", k)
		}
	}
	return nil
}

// SelfOwner is the owner label value of this process.
func SelfOwner() string {
	return fmt.Sprintf("%s:%d:%d", hostname(), os.Getpid(), processStart(os.Getpid()))
}

// OwnerAlive reports whether the process named by an owner label still runs.
// Owners on other hosts are assumed alive: we cannot check them.
func OwnerAlive(owner string) bool {
	parts := strings.Split(owner, ":")
	if len(parts) != 3 || parts[0] != hostname() {
		return true
	}
	pid, err1 := strconv.Atoi(parts[1])
	start, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return true
	}
	return processStart(pid) == start
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "localhost"
	}
	return h
}

// processStart is the start time (clock ticks since boot) of pid, 0 when it does not exist.
// Together with the pid it names a process uniquely: pids get reused, start times do not.
func processStart(pid int) uint64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')') // the command name may contain spaces
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[19], 10, 64)
	return v
}

// SplitImageRef splits "repo:tag" into repo and tag; the tag defaults to "latest".
// A colon before the last slash belongs to a registry port ("localhost:5000/img").
func SplitImageRef(ref string) (repo, tag string, err error) {
	if ref == "" || strings.ContainsAny(ref, " \t\n") || strings.HasPrefix(ref, ":") || strings.HasSuffix(ref, ":") || strings.Contains(ref, "@") {
		return "", "", Errorf(InvalidArgument, "invalid image reference %q", ref).WithHint("use repo or repo:tag, e.g. my-sandbox:with-tools")
	}
	repo, tag = ref, "latest"
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		repo, tag = ref[:i], ref[i+1:]
	}
	if repo == "" || strings.HasSuffix(repo, "/") || !tagRE.MatchString(tag) {
		return "", "", Errorf(InvalidArgument, "invalid image reference %q", ref).WithHint("use repo or repo:tag, e.g. my-sandbox:with-tools")
	}
	if repo != strings.ToLower(repo) {
		return "", "", Errorf(InvalidArgument, "invalid image reference %q: the repository must be lower case", ref).
			WithHint("try %q", strings.ToLower(repo)+":"+tag)
	}
	return repo, tag, nil
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
