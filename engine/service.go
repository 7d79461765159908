package engine

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// StateDir is where pocketdock keeps its own files: $XDG_STATE_HOME/pocketdock,
// else ~/.local/state/pocketdock.
func StateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "pocketdock")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".local", "state", "pocketdock")
}

func privateSocket() string { return filepath.Join(StateDir(), "podman.sock") }

// PrivateServiceLog is the log file of the private service.
func PrivateServiceLog() string { return filepath.Join(StateDir(), "podman-service.log") }

// privateIdle is how long the private service waits, idle, before exiting.
// Containers outlive it: conmon parents them, and the next run starts it again.
const privateIdle = 600

// startPrivate starts `podman system service` on a socket in the state dir,
// with a containers.conf that fits this host, and connects to it. A lock file
// keeps two processes from starting two services on one socket.
func startPrivate(ctx context.Context, opts ConnectOptions) (*Engine, error) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		return nil, Errorf(EngineUnavailable, "podman is not installed")
	}
	dir := StateDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "service.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	uri := "unix://" + privateSocket()
	if e, err := dial(ctx, uri, opts); err == nil {
		return e, nil // another process started it meanwhile
	}
	conf, err := writeContainersConf(dir)
	if err != nil {
		return nil, err
	}
	_ = os.Remove(privateSocket())
	logf, err := os.OpenFile(PrivateServiceLog(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(podman, "system", "service", fmt.Sprintf("--time=%d", privateIdle), uri)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	// conmon inherits the service's working directory and drops files there
	// (an "oom" marker when a command is OOM-killed): never the user's folder.
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // outlives this process and its Ctrl-C
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go cmd.Wait() // reap it if it exits while we run
	deadline := time.Now().Add(15 * time.Second)
	for {
		if e, err := dial(ctx, uri, opts); err == nil {
			if opts.Notify != nil {
				opts.Notify(fmt.Sprintf("pocketdock: started a private Podman service on %s (log: %s)", uri, PrivateServiceLog()))
			}
			return e, nil
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("the private service did not answer: %v (see %s)", reason(err), PrivateServiceLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeContainersConf writes the engine settings this kind of host needs:
// runc (crun fails on hybrid cgroups) and rlimits within the host's hard limits
// (podman's defaults exceed them and container start fails).
func writeContainersConf(dir string) (string, error) {
	nofile := hardLimit(syscall.RLIMIT_NOFILE, 1048576)
	nproc := hardLimit(6 /* RLIMIT_NPROC */, 4194304)
	if pm := pidMax(); pm > 0 && nproc > pm {
		nproc = pm
	}
	var b strings.Builder
	b.WriteString("# Written by pocketdock for its private Podman service.\n")
	b.WriteString("[containers]\n")
	fmt.Fprintf(&b, "default_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n", nofile, nofile, nproc, nproc)
	b.WriteString("[engine]\n")
	if _, err := exec.LookPath("runc"); err == nil {
		b.WriteString("runtime = \"runc\"\n")
	}
	path := filepath.Join(dir, "containers.conf")
	return path, os.WriteFile(path, []byte(b.String()), 0o600)
}

func hardLimit(resource int, ceiling uint64) uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(resource, &r); err != nil || r.Max > ceiling {
		return ceiling
	}
	return r.Max
}

func pidMax() uint64 {
	data, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		return 0
	}
	var n uint64
	fmt.Sscan(strings.TrimSpace(string(data)), &n)
	return n
}
