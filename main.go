// Command pocketdock drives container sandboxes on Podman from Lua: an
// interactive REPL, .lua scripts, -e chunks and management commands.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/term"

	"github.com/pocketdock/pocketdock/luaapi"
	"github.com/pocketdock/pocketdock/runner"
	"github.com/pocketdock/pocketdock/stdlib"
)

// commit is the commit the binary was built from, -dirty when the tree had
// changes; make sets it (-ldflags -X main.commit=...), a plain go build does not.
var commit = "unknown"

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("pocketdock", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	socket := fs.String("socket", "", "engine URI (unix://, tcp://, ssh://)")
	connection := fs.String("connection", "", "a named podman connection")
	verbose := fs.Bool("verbose", false, "more output")
	version := fs.Bool("version", false, "print the version")
	code := fs.String("e", "", "run a chunk of Lua")
	interactive := fs.Bool("i", false, "open the REPL after the script or chunk")
	// Asked-for help goes to stdout, as `pocketdock help` does; the usage
	// after a flag error goes to stderr with the error.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			usage(os.Stdout, commandNames(nil))
			return 0
		}
		usage(os.Stderr, commandNames(nil))
		return 1
	}
	if *version {
		fmt.Printf("pocketdock %s (commit %s)\n", luaapi.Version, commit)
		return 0
	}
	r := runner.New(luaapi.Options{Socket: *socket, Connection: *connection})
	r.Verbose = *verbose
	rest := fs.Args()
	code1 := runner.ExitOK
	switch {
	case *code != "":
		r.SetArgs("-e", rest)
		code1 = r.RunString(*code, "(command line)", rest)
	case len(rest) > 0 && rest[0] == "-":
		// As lua(1): "-" is the script on stdin, terminal or not; what follows is its arguments.
		code1 = r.RunStdin(rest[1:])
	case len(rest) > 0 && isCommand(r, rest[0]):
		code1 = r.Command(rest)
		r.Close(false)
		return code1
	case len(rest) > 0 && looksLikeCommand(rest[0]):
		names := commandNames(r)
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "pocketdock: %q is neither a command nor a script file\nhint: commands are %s; pocketdock --help shows usage\n",
			rest[0], strings.Join(names, ", "))
		r.Close(false)
		return 1
	case len(rest) > 0:
		code1 = r.RunFile(rest[0], rest[1:])
	case !*interactive && !term.IsTerminal(int(os.Stdin.Fd())):
		code1 = r.RunStdin(nil)
	default:
		*interactive = true
	}
	if *interactive && code1 == runner.ExitOK {
		if !term.IsTerminal(int(os.Stdin.Fd())) {
			fmt.Fprintln(os.Stderr, "pocketdock: -i needs a terminal")
			r.Close(true)
			return 1
		}
		code1 = r.REPL()
		r.Close(false)
		return code1
	}
	r.Close(true)
	return code1
}

// looksLikeCommand: a bare word that is not a file was meant as a command.
func looksLikeCommand(arg string) bool {
	if strings.ContainsAny(arg, "/.") {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

// isCommand says whether arg names a management command. A path never does,
// so a script runs without the cost of loading the commands' Lua.
func isCommand(r *runner.Runner, arg string) bool {
	if strings.ContainsAny(arg, "/.") {
		return false
	}
	for _, n := range commandNames(r) {
		if n == arg {
			return true
		}
	}
	return false
}

// commandNames lists the management commands, as stdlib/lua/cli.lua defines
// them, from r's state (nil: a state made for the purpose).
func commandNames(r *runner.Runner) []string {
	if r == nil {
		r = runner.New(luaapi.Options{})
		defer r.Close(false)
	}
	names, err := stdlib.Commands(r.L)
	if err != nil {
		panic("pocketdock: the commands' Lua: " + err.Error()) // a build defect, caught by every test
	}
	return names
}

func usage(w io.Writer, commands []string) {
	fmt.Fprint(w, strings.TrimLeft(`
usage: pocketdock [--socket URI] [--connection NAME] [--verbose] [--version]
       pocketdock                     REPL on a terminal; a script from stdin otherwise
       pocketdock FILE.lua [ARGS...]  run a script
       pocketdock - [ARGS...]         run the script on stdin (a terminal too, until Ctrl-D)
       pocketdock -e CODE [-i]        run a chunk (-i: then open the REPL)
`, "\n"))
	// The commands, wrapped under the line that introduces them.
	line := "       pocketdock COMMAND [--help]   "
	for i, n := range commands {
		if i > 0 && len(line)+1+len(n) > 100 {
			fmt.Fprintln(w, line)
			line = strings.Repeat(" ", 37)
		}
		line += " " + n
	}
	fmt.Fprintln(w, line)
}
