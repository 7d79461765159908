// Package runner runs Lua chunks for the pocketdock command: scripts, -e code,
// stdin, the management commands and the REPL, with signal handling, error
// reporting, exit codes and the removal of ephemeral sandboxes at the end.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/luaapi"
	"github.com/pocketdock/pocketdock/repl"
	"github.com/pocketdock/pocketdock/stdlib"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitError     = 1
	ExitHangup    = 129
	ExitInterrupt = 130
	ExitTerm      = 143
)

// Runner is one pocketdock process's Lua state and module.
type Runner struct {
	L       *lua.LState
	Module  *luaapi.Module
	Stderr  io.Writer
	Verbose bool
	ctx     context.Context
	cancel  context.CancelFunc
	signal  os.Signal
	// exitFromResult makes a chunk's returned number the exit code (management commands).
	exitFromResult bool
}

// New makes a state with the standard libraries, the pocketdock module and
// the embedded Lua library.
func New(opts luaapi.Options) *Runner {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	L := lua.NewState()
	m := luaapi.New(opts)
	m.Preload(L)
	stdlib.Preload(L)
	ctx, cancel := context.WithCancel(context.Background())
	L.SetContext(ctx)
	r := &Runner{L: L, Module: m, Stderr: opts.Stderr, ctx: ctx, cancel: cancel}
	r.replaceExit()
	return r
}

// replaceExit makes os.exit end the process as any other end does: the
// ephemeral sandboxes go first. (The standard os.exit would leave them running
// until the next invocation reaps them.)
func (r *Runner) replaceExit() {
	osLib, ok := r.L.GetGlobal("os").(*lua.LTable)
	if !ok {
		return
	}
	r.L.SetField(osLib, "exit", r.L.NewFunction(func(L *lua.LState) int {
		code := ExitOK
		switch v := L.Get(1).(type) {
		case *lua.LNilType:
		case lua.LBool:
			if !v {
				code = ExitError
			}
		case lua.LNumber:
			code = int(v)
		default:
			L.ArgError(1, "must be a number or a boolean, got "+v.Type().String())
		}
		r.Close(true)
		os.Exit(code)
		return 0
	}))
}

// watchSignals cancels the running chunk on the given signals and remembers which came.
func (r *Runner) watchSignals(sigs ...os.Signal) func() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			r.signal = s
			r.cancel()
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// Close removes the ephemeral sandboxes this process made and closes the state.
func (r *Runner) Close(announce bool) {
	names := r.Module.Cleanup()
	if announce && len(names) > 0 {
		fmt.Fprintf(r.Stderr, "pocketdock: removed ephemeral sandboxes: %s\n", strings.Join(names, ", "))
	}
	r.L.Close()
}

// SetArgs sets the `arg` table as lua(1) does: arg[0] the script, arg[1..] its arguments.
func (r *Runner) SetArgs(script string, args []string) {
	t := r.L.NewTable()
	t.RawSetInt(0, lua.LString(script))
	for i, a := range args {
		t.RawSetInt(i+1, lua.LString(a))
	}
	r.L.SetGlobal("arg", t)
}

// RunFile runs a script file (a #! first line is skipped) and returns the exit code.
func (r *Runner) RunFile(path string, args []string) int {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(r.Stderr, "pocketdock: cannot read %s: %v\n", path, errText(err))
		return ExitError
	}
	r.SetArgs(path, args)
	return r.RunString(stripShebang(string(src)), path, args)
}

// RunStdin runs the script read from stdin (a #! first line is skipped), with
// arg[0] = "-" as lua(1) sets it.
func (r *Runner) RunStdin(args []string) int {
	src, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintf(r.Stderr, "pocketdock: cannot read stdin: %v\n", errText(err))
		return ExitError
	}
	r.SetArgs("-", args)
	return r.RunString(stripShebang(string(src)), "stdin", args)
}

// RunString runs a chunk with its arguments as `...` and returns the exit code.
// gopher-lua shows a chunk's name as it is given (lua(1)'s "@file" and "=name"
// prefixes mean nothing to it), so names are plain: "stdin", a path.
func (r *Runner) RunString(src, name string, args []string) int {
	stop := r.watchSignals(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	fn, err := r.L.Load(strings.NewReader(src), name)
	if err != nil {
		fmt.Fprintf(r.Stderr, "pocketdock: %s\n", err.Error())
		return ExitError
	}
	return r.call(fn, args)
}

func (r *Runner) call(fn *lua.LFunction, args []string) int {
	r.L.Push(fn)
	for _, a := range args {
		r.L.Push(lua.LString(a))
	}
	handler, _ := r.L.LoadString(tracebackHandler)
	err := r.L.PCall(len(args), 1, handler)
	if err == nil {
		ret := r.L.Get(-1)
		r.L.Pop(1)
		if n, ok := ret.(lua.LNumber); ok && r.exitFromResult {
			return int(n)
		}
		return ExitOK
	}
	if r.signal != nil || r.ctx.Err() != nil {
		fmt.Fprintln(r.Stderr, "pocketdock: interrupted")
		switch r.signal {
		case syscall.SIGTERM:
			return ExitTerm
		case syscall.SIGHUP:
			return ExitHangup
		}
		return ExitInterrupt
	}
	r.report(err)
	return ExitError
}

// tracebackHandler is the error handler: it keeps the error value and adds the Lua stack.
const tracebackHandler = `local e = ...; return {err = e, tb = debug.traceback("", 2)}`

// report prints a Lua error as its message plus the Lua traceback.
func (r *Runner) report(err error) {
	var value lua.LValue = lua.LString(err.Error())
	tb := ""
	var ae *lua.ApiError
	if errors.As(err, &ae) {
		value = ae.Object
		if t, ok := ae.Object.(*lua.LTable); ok && t.RawGetString("tb") != lua.LNil {
			value = t.RawGetString("err")
			tb = lua.LVAsString(t.RawGetString("tb"))
		}
	}
	// Error text can come from inside a sandbox: its control characters are
	// shown escaped, not sent to the terminal.
	fmt.Fprintf(r.Stderr, "pocketdock: %s\n", repl.Escape(luaapi.ErrorText(value)))
	if tb = stdlib.CleanTraceback(tb); tb != "" {
		fmt.Fprintln(r.Stderr, repl.Escape(tb))
	}
}

func stripShebang(src string) string {
	if strings.HasPrefix(src, "#!") {
		if i := strings.IndexByte(src, '\n'); i >= 0 {
			return "--" + src[i:] // keep line numbers
		}
		return ""
	}
	return src
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// REPL runs the interactive REPL until Ctrl-D; Ctrl-C is the REPL's own.
func (r *Runner) REPL() int {
	stop := r.watchSignals(syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := repl.Run(r.ctx, r.L, repl.Options{
		Names: r.Module.Names,
		OnExit: func(w io.Writer) {
			if names := r.Module.Cleanup(); len(names) > 0 {
				fmt.Fprintf(w, "removed ephemeral sandboxes: %s\n", strings.Join(names, ", "))
			}
		},
	})
	if r.signal != nil {
		return ExitTerm
	}
	if err != nil {
		fmt.Fprintf(r.Stderr, "pocketdock: %v\n", err)
		return ExitError
	}
	return ExitOK
}

// Command runs a management command (stdlib/cli.lua) with its arguments.
func (r *Runner) Command(args []string) int {
	r.SetArgs("pocketdock", args)
	r.exitFromResult = true
	return r.RunString(`return require("pocketdock.cli").main(...)`, "pocketdock", args)
}
