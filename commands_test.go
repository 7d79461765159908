//go:build !unit

package main

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/luaapi"
	"github.com/pocketdock/pocketdock/stdlib"
)

// The commands are cli.lua's list: the binary's usage shows every one, help
// describes every one, and each is run as a command, not looked for as a
// script file.
func TestCommandsComeFromCLILua(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	m := luaapi.New(luaapi.Options{})
	m.Preload(L)
	stdlib.Preload(L)
	names, err := stdlib.Commands(L)
	if err != nil || len(names) < 10 {
		t.Fatalf("stdlib.Commands: %v %v", names, err)
	}
	usage := runBin(t, "", "--help")
	overview := runBin(t, "", "help")
	for _, n := range names {
		if !strings.Contains(usage.stdout, " "+n) {
			t.Errorf("--help does not list %s:\n%s", n, usage.stdout)
		}
		if !strings.Contains(overview.stdout, "\n  "+n+" ") {
			t.Errorf("help has no line for %s:\n%s", n, overview.stdout)
		}
		if r := runBin(t, "", n, "--help"); r.code != 0 || !strings.HasPrefix(r.stdout, "usage:") {
			t.Errorf("%s --help: code %d, %q %q", n, r.code, r.stdout, r.stderr)
		}
	}
}
