package engine

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	storagetypes "go.podman.io/storage/types"
)

// MaxDefaultMemLimit is the default memory limit of a sandbox on a host with
// at least four times as much memory; smaller hosts get a quarter of theirs.
const MaxDefaultMemLimit = 1 << 30

// DefaultDiskLimit bounds a sandbox's writable layer where the engine's
// storage supports quotas (overlay on xfs mounted with project quotas).
const DefaultDiskLimit = 10 << 30

// DefaultMemLimit is the memory limit a sandbox gets when none is asked for:
// 1 GiB, or a quarter of the host's memory when that is less. A remote
// engine's host is not seen from here: it gets 1 GiB.
func (e *Engine) DefaultMemLimit() int64 {
	if !e.local {
		return MaxDefaultMemLimit
	}
	return defaultMemFor(hostMemTotal())
}

func defaultMemFor(total int64) int64 {
	if total > 0 && total/4 < MaxDefaultMemLimit {
		return total / 4
	}
	return MaxDefaultMemLimit
}

// hostMemTotal is MemTotal from /proc/meminfo, in bytes, 0 when unknown;
// read once, since every create asks.
var hostMemTotal = sync.OnceValue(readMemTotal)

func readMemTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// DiskQuotas reports whether sandboxes on this engine can get a disk limit:
// the local engine's storage is on xfs mounted with project quotas. Remote
// engines are not inspected (their mounts are not visible from here).
func (e *Engine) DiskQuotas() bool {
	if !e.local {
		return false
	}
	quotaOnce.Do(func() { quotaOK = localDiskQuotas() })
	return quotaOK
}

var (
	quotaOnce sync.Once
	quotaOK   bool
)

const xfsMagic = 0x58465342

func localDiskQuotas() bool {
	opts, err := storagetypes.DefaultStoreOptions()
	if err != nil || opts.GraphRoot == "" {
		return false
	}
	if opts.GraphDriverName != "" && opts.GraphDriverName != "overlay" {
		return false
	}
	var st syscall.Statfs_t
	if syscall.Statfs(opts.GraphRoot, &st) != nil || st.Type != xfsMagic {
		return false
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	return projectQuotaMount(string(data), opts.GraphRoot)
}

// projectQuotaMount reports whether the mount holding path (the longest
// mount point that is a prefix of it) has project quotas on.
func projectQuotaMount(mountinfo, path string) bool {
	path = filepath.Clean(path)
	best, quota := -1, false
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		mp := f[4]
		if mp != "/" && path != mp && !strings.HasPrefix(path, mp+"/") {
			continue
		}
		if len(mp) <= best {
			continue
		}
		best, quota = len(mp), false
		for _, o := range strings.Split(g[2], ",") {
			switch o {
			case "prjquota", "pquota", "pqnoenforce":
				quota = o != "pqnoenforce"
			}
		}
	}
	return quota
}

// applyLimits fills the spec's default memory and disk limits for this engine.
func (e *Engine) applyLimits(s *Spec) error {
	if s.MemLimit == 0 {
		s.MemLimit = e.DefaultMemLimit()
	}
	switch {
	case s.DiskLimit == 0 && e.DiskQuotas():
		s.DiskLimit = DefaultDiskLimit
	case s.DiskLimit > 0 && e.local && !e.DiskQuotas():
		return Errorf(InvalidArgument, "disk_limit: this engine's storage has no disk quotas").
			WithHint("disk limits need the engine's storage on xfs mounted with prjquota; leave disk_limit out here")
	}
	return nil
}
