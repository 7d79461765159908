//go:build !unit

package sandbox_test

import (
	"context"
	"fmt"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/sandbox"
)

// A throwaway sandbox: create it, run a command, move a file in and out.
// Cleanup removes it (and any other ephemeral sandbox the registry made).
func Example() {
	ctx := context.Background()
	reg := sandbox.New(sandbox.Options{})
	defer reg.Cleanup()

	c, err := reg.Create(ctx, sandbox.CreateOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Run(ctx, sandbox.Shell("echo hello from $(uname -s)"), sandbox.RunOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("exit %d: %s", res.ExitCode, res.Stdout)

	if err := c.WriteFile(ctx, "/tmp/note.txt", []byte("kept\n"), sandbox.WriteOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	data, err := c.ReadFile(ctx, "/tmp/note.txt", 0)
	fmt.Printf("%s%v\n", data, err)
	// Output:
	// exit 0: hello from Linux
	// kept
	// <nil>
}

// A persistent sandbox outlives its handle: stop it, resume it by name,
// snapshot it as an image, find it in the list, and prune it once stopped.
func Example_persistent() {
	ctx := context.Background()
	reg := sandbox.New(sandbox.Options{})
	defer reg.Cleanup()
	name, proj := engine.RandomName(), "example-"+engine.RandomName()

	c, err := reg.Create(ctx, sandbox.CreateOptions{Spec: engine.Spec{Name: name, Persist: true, Project: proj}})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = c.WriteFile(ctx, "/root/state", []byte("v1\n"), sandbox.WriteOptions{})
	fmt.Println("shutdown:", c.Shutdown(ctx, false), c.Status()) // persistent: stopped, kept

	c, err = reg.Resume(ctx, "", name, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := c.ReadFile(ctx, "/root/state", 0)
	fmt.Printf("resumed %s, state %s", c.Status(), data)

	image := "localhost/pocketdock-example/" + name + ":latest"
	id, err := c.Snapshot(ctx, image, engine.CommitOptions{})
	fmt.Println("snapshot:", id != "", err)
	_ = c.Engine().RemoveImage(ctx, image, true)

	list, _ := reg.List(ctx, "", proj)
	fmt.Println("listed:", len(list) == 1 && list[0].Name == name)

	_ = c.Stop(ctx, 0)
	pruned, err := reg.Prune(ctx, "", proj, false)
	fmt.Println("pruned:", len(pruned) == 1 && pruned[0] == name, err)
	// Output:
	// shutdown: <nil> exited
	// resumed running, state v1
	// snapshot: true <nil>
	// listed: true
	// pruned: true <nil>
}
