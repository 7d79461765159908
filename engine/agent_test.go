package engine

import (
	"context"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/agent"
)

// TestStartAgent copies the executor into a read-only sandbox, runs a
// command through it and checks that closing the client ends it.
func TestStartAgent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	e, err := Connect(ctx, "", ConnectOptions{Autostart: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.Create(ctx, Spec{Name: RandomName(), ReadOnly: true})
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
		res, err := e.Exec(ctx, id, ExecSpec{Argv: []string{"/bin/sh", "-c", "ps -o args | grep -c '^/.pocketdock/pocketdock-agent'"}})
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
