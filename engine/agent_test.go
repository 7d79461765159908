//go:build !unit

package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/agent"
	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/engine/agentbin"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// TestStartAgent copies the executor into a read-only sandbox, runs a
// command through it and checks that closing the client ends it.
func TestStartAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e := enginetest.Engine(t)
	id, err := e.Create(ctx, engine.Spec{Name: engine.RandomName(), ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Remove(context.Background(), id)
	if err := e.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	client, err := e.StartAgent(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	p, err := client.Start(ctx, agent.Command{Argv: []string{"/bin/sh", "-c", "id -u; echo err >&2; exit 4"}, User: "sandbox", Env: []string{"PATH=/bin"}},
		func(stream int, data []byte) {
			if stream == agent.Stdout {
				out = append(out, data...)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	exit, err := p.Wait(ctx)
	if err != nil || exit.Code != 4 || string(out) != "1000\n" {
		t.Fatalf("exit %+v err %v out %q", exit, err, out)
	}
	client.Close()
	if err := client.Ping(ctx); err == nil {
		t.Fatal("a closed client still answers")
	}
	// The agent exits with its connection: no process is left in the sandbox.
	for i := 0; ; i++ {
		res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"/bin/sh", "-c", "ps -o args | grep -c '^/.pocketdock/pocketdock-agent'"}})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Stdout) == "0\n" {
			break
		}
		if i > 20 {
			t.Fatalf("the agent still runs: %q", res.Stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestAgentDelivery covers each way the executor gets into a sandbox: on the
// exec's stdin, reused when it is already there, copied through the archive
// API when the image has no shell, and refused on another CPU architecture.
func TestAgentDelivery(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	e := enginetest.Engine(t)
	prepared := func(prep ...string) string {
		t.Helper()
		id := sandbox(t, engine.Spec{})
		if res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: prep}); err != nil || res.ExitCode != 0 {
			t.Fatalf("%s: %v %+v", prep, err, res)
		}
		return id
	}
	works := func(id string) {
		t.Helper()
		client, err := e.StartAgent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		p, err := client.Start(ctx, agent.Command{Argv: []string{"/bin/busybox", "true"}}, func(int, []byte) {})
		if err != nil {
			t.Fatal(err)
		}
		if exit, err := p.Wait(ctx); err != nil || exit.Code != 0 {
			t.Fatalf("exit %+v err %v", exit, err)
		}
	}
	inode := func(id string) string {
		t.Helper()
		res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"/bin/busybox", "stat", "-c", "%i %n", engine.AgentPath()}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("%v %+v", err, res)
		}
		return string(res.Stdout)
	}
	t.Run("stdin, then reused", func(t *testing.T) {
		id := sandbox(t, engine.Spec{})
		works(id)
		first := inode(id)
		works(id)
		if again := inode(id); again != first {
			t.Fatalf("the binary was sent again: %q then %q", first, again)
		}
	})
	t.Run("no shell: archive copy", func(t *testing.T) {
		id := prepared("/bin/busybox", "rm", "/bin/sh")
		works(id) // the plain path's own wrapper needs a shell: only the executor runs here
	})
	t.Run("other machine", func(t *testing.T) {
		id := sandbox(t, engine.Spec{})
		defer engine.SetAgentMachine("sparc64")()
		if _, err := e.StartAgent(ctx, id); !errors.Is(err, engine.ErrNoAgent) {
			t.Fatalf("want ErrNoAgent, got %v", err)
		}
		if res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"ls", "/.pocketdock"}}); err != nil || len(res.Stdout) != 0 {
			t.Fatalf("nothing may be copied in: %v %q", err, res.Stdout)
		}
	})
}

// An interrupted start leaves no partial binary behind, and the next start works.
func TestAgentDeliveryInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	e, id := enginetest.Engine(t), sandbox(t, engine.Spec{})
	interrupted := 0
	for delay := 10 * time.Millisecond; delay <= 150*time.Millisecond; delay += 20 * time.Millisecond {
		sctx, stop := context.WithTimeout(ctx, delay)
		client, err := e.StartAgent(sctx, id)
		stop()
		if err == nil {
			client.Close()
		} else {
			interrupted++
		}
		// The script sees its stdin end and removes what it wrote; give it a moment.
		var listing string
		for i := 0; i < 20; i++ {
			res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"ls", "/.pocketdock"}})
			if err != nil {
				t.Fatal(err)
			}
			listing = string(res.Stdout)
			if listing == "" || listing == agentbin.FileName()+"\n" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if listing != "" && listing != agentbin.FileName()+"\n" {
			t.Fatalf("after an interrupted start at %v: %q", delay, listing)
		}
	}
	t.Logf("%d of 8 starts interrupted", interrupted)
	if interrupted == 0 {
		t.Fatal("no start was interrupted")
	}
	client, err := e.StartAgent(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
}

// Whatever sits at the executor's path is run only on trust until it echoes
// the handshake's nonce: a script there that sleeps fails the start within
// its deadline (ErrAgentUnanswered, not ErrNoAgent: it can be mended), and
// ReplaceAgent delivers the real binary over it.
func TestPlantedAgentRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, id := enginetest.Engine(t), sandbox(t, engine.Spec{})
	client, err := e.StartAgent(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	plant := `printf '#!/bin/sh\nsleep 1000\n' > "$1.new" && chmod 755 "$1.new" && mv -f "$1.new" "$1"`
	if res, err := e.Exec(ctx, id, engine.ExecSpec{Argv: []string{"/bin/sh", "-c", plant, "sh", engine.AgentPath()}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("plant: %v %+v", err, res)
	}
	sctx, stop := context.WithTimeout(ctx, time.Second)
	start := time.Now()
	_, err = e.StartAgent(sctx, id)
	stop()
	if !errors.Is(err, engine.ErrAgentUnanswered) || errors.Is(err, engine.ErrNoAgent) {
		t.Fatalf("start with a planted script: %v, want ErrAgentUnanswered", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the refused start took %v", d)
	}
	client, err = e.ReplaceAgent(ctx, id)
	if err != nil {
		t.Fatalf("ReplaceAgent: %v", err)
	}
	defer client.Close()
	if err := client.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
