package engine

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/pocketdock/pocketdock/archive"
)

// User namespace modes of a sandbox.
const (
	// UserNSAuto gives the sandbox its own range of host uids and gids: its
	// root is an unprivileged uid on the host.
	UserNSAuto = "auto"
	// UserNSHost maps the sandbox's uids to the same host uids: its root is
	// host root, held back only by capabilities, seccomp and no-new-privileges.
	UserNSHost = "host"
)

// autoUserNSSize is the number of uids (and gids) each auto sandbox gets:
// every uid an image commonly uses (nobody is 65534) is mapped.
const autoUserNSSize = 65536

// subIDUser is whose /etc/subuid and /etc/subgid ranges a rootful engine
// hands out for userns=auto.
const subIDUser = "containers"

// AutoUserNS reports whether sandboxes on this engine can have userns =
// "auto", and if not, why. It needs a local rootful engine with a range for
// the containers user in /etc/subuid and /etc/subgid (make setup writes one).
// A rootless engine's sandboxes are in the user's namespace already; a remote
// engine's files are not visible from here (auto is passed on, and the engine
// answers).
//
// Host uids stay the default: with this Podman (4.3) and runc, a userns=auto
// sandbox's snapshot records host uids in the image (its files are nobody's
// in sandboxes made from it), copies into its tmpfs mounts fail with
// EOVERFLOW, and about one removal in ten first fails with "shm: device or
// resource busy". Create and start cost the same in both modes (measured).
func (e *Engine) AutoUserNS() (bool, string) {
	switch {
	case !e.local:
		return false, "a remote engine: its /etc/subuid is not visible from here"
	case os.Geteuid() != 0:
		return false, "a rootless engine: sandbox root is already the user's own uid"
	}
	subIDOnce.Do(func() { subIDOK = hasSubIDs("/etc/subuid") && hasSubIDs("/etc/subgid") })
	if !subIDOK {
		return false, "no range for the containers user in /etc/subuid and /etc/subgid (make setup adds one)"
	}
	return true, "each such sandbox gets its own range of host uids"
}

var (
	subIDOnce sync.Once
	subIDOK   bool
)

// hasSubIDs reports whether a subordinate id file gives the containers user
// room for at least a few auto sandboxes.
func hasSubIDs(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || parts[0] != subIDUser {
			continue
		}
		if n, err := strconv.ParseUint(parts[2], 10, 64); err == nil && n >= 4*autoUserNSSize {
			return true
		}
	}
	return false
}

// applyUserNS checks the sandbox's user namespace mode; none means host.
func (e *Engine) applyUserNS(s *Spec) error {
	switch s.UserNS {
	case "", UserNSHost:
		s.UserNS = UserNSHost
	case UserNSAuto:
		if ok, why := e.AutoUserNS(); !ok && e.local {
			return Errorf(InvalidArgument, "userns = \"auto\" is not available on this engine: %s", why).
				WithHint("run make setup (it adds the containers user's range to /etc/subuid and /etc/subgid), or leave userns out")
		}
	default:
		return ValidateUserNS(s.UserNS)
	}
	return nil
}

// ValidateUserNS checks a userns mode: "" (the default), "host" or "auto".
func ValidateUserNS(mode string) error {
	if mode == "" || mode == UserNSHost || mode == UserNSAuto {
		return nil
	}
	return Errorf(InvalidArgument, "userns must be \"auto\" or \"host\", got %s", archive.QuoteName(mode)).
		WithHint("auto: the sandbox gets its own range of host uids; host (the default): its root is host root")
}
