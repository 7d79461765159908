package engine

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine/agentbin"
)

// TestDeliverScript runs the delivery script under the host's own shell
// (dash, not busybox) in a folder whose PATH has or lacks gzip, and checks
// the executor it starts answers: both the compressed and the raw branch.
func TestDeliverScript(t *testing.T) {
	if agentbin.Compressed() == nil {
		t.Fatal("this build has no executor: run make agent")
	}
	if agentbin.Size() != len(agentbin.Binary()) {
		t.Fatalf("Size %d, but the binary has %d bytes", agentbin.Size(), len(agentbin.Binary()))
	}
	for _, tools := range [][]string{{"uname", "head", "chmod", "mv", "gzip"}, {"uname", "head", "chmod", "mv"}} {
		bin := t.TempDir()
		for _, tool := range tools {
			path, err := exec.LookPath(tool)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(path, filepath.Join(bin, tool)); err != nil {
				t.Fatal(err)
			}
		}
		target := filepath.Join(t.TempDir(), "agent")
		cmd := exec.Command("/bin/sh", "-c", deliverScript, "sh", target,
			strconv.Itoa(len(agentbin.Compressed())), strconv.Itoa(len(agentbin.Binary())), agentMachine)
		cmd.Env = []string{"PATH=" + bin}
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out := bufio.NewReader(stdout)
		if err := answerDelivery(stdin, out); err != nil {
			t.Fatalf("tools %v: %v (%s)", tools, err, stderr.String())
		}
		client := agent.NewClient(out, stdin)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := client.Ping(ctx)
		cancel()
		client.Close()
		cmd.Wait()
		if err != nil {
			t.Fatalf("tools %v: %v", tools, err)
		}
		if fi, err := os.Stat(target); err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("tools %v: %v %v", tools, fi.Mode(), err)
		}
	}
}
