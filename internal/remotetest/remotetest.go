// Package remotetest starts the extra engines the remote-engine tests need, on
// the loopback only: a second Podman service on tcp://127.0.0.1:PORT and an
// openssh server on 127.0.0.1:PORT that forwards to a local Podman socket.
// Everything started here is stopped by the test's cleanup.
package remotetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// FreePort returns a loopback TCP port nobody listens on right now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Service is a process started for a test.
type Service struct {
	URI string
	cmd *exec.Cmd
	log string // a file: children such as conmon inherit it and outlive the process
}

// Stop ends the process (SIGTERM, then SIGKILL) and waits for it. Idempotent.
func (s *Service) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	cmd := s.cmd
	s.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Log is what the process wrote so far.
func (s *Service) Log() string {
	data, _ := os.ReadFile(s.log)
	return string(data)
}

// StartPodmanTCP starts `podman system service` on a free loopback port, with
// the containers.conf the private service uses (runc, rlimits that fit the
// host). It shares the host's container storage, so it sees the same
// containers as the private service.
func StartPodmanTCP(t testing.TB, containersConf string) *Service {
	t.Helper()
	port := FreePort(t)
	uri := fmt.Sprintf("tcp://127.0.0.1:%d", port)
	cmd := exec.Command("podman", "system", "service", "--time=0", uri)
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+containersConf)
	s := start(t, cmd, uri)
	waitListening(t, s, port)
	return s
}

// SSHD is an openssh server of the test's own.
type SSHD struct {
	*Service
	Port       int
	Key        string // the client's private key (authorized for root)
	HostKey    string // the server's public host key line
	KnownHosts string // a known_hosts line for 127.0.0.1:Port
}

// StartSSHD generates a host key and a client key in a temp dir and starts
// /usr/sbin/sshd on 127.0.0.1:PORT that accepts the client key for any user
// (AuthorizedKeysFile points into the temp dir: root's own ~/.ssh is not touched).
func StartSSHD(t testing.TB) *SSHD {
	t.Helper()
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_ed25519")
	clientKey := filepath.Join(dir, "client_ed25519")
	for _, k := range []string{hostKey, clientKey} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k).CombinedOutput(); err != nil {
			t.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	pub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(strings.Join([]string{
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + auth,
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"AllowStreamLocalForwarding yes",
		"PidFile none",
		"LogLevel ERROR",
	}, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd refuses to start without its privilege separation directory.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	port := FreePort(t)
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", conf, "-p", fmt.Sprint(port), "-o", "ListenAddress=127.0.0.1")
	s := start(t, cmd, fmt.Sprintf("ssh://root@127.0.0.1:%d", port))
	waitListening(t, s, port)
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(hostPub))
	return &SSHD{Service: s, Port: port, Key: clientKey, HostKey: line,
		KnownHosts: fmt.Sprintf("[127.0.0.1]:%d %s", port, strings.Join(strings.Fields(line)[:2], " "))}
}

func start(t testing.TB, cmd *exec.Cmd, uri string) *Service {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "service-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &Service{URI: uri, cmd: cmd, log: f.Name()}
	cmd.Stdout, cmd.Stderr = f, f
	// Pdeathsig: a test killed by its timeout does not leave the service behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// waitListening waits until something accepts connections on the port.
func waitListening(t testing.TB, s *Service, port int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on port %d: %v\n%s", s.URI, port, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
