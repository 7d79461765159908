// Package repl is pocketdock's interactive Lua REPL: line editing, history,
// completion, multi-line input, printing of results and Ctrl-C handling.
//
// It depends on no other pocketdock package; everything it needs from the
// rest of the program comes in through Options.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/pocketdock/pocketdock/stdlib"
)

// Options configures Run. The zero value is usable.
type Options struct {
	// HistoryPath is the history file; "" means DefaultHistoryPath().
	// History is only read and written when Stdin is a terminal.
	HistoryPath string

	// Stdin, Stdout and Stderr default to the process's.
	Stdin          io.ReadCloser
	Stdout, Stderr io.Writer

	// Names lists sandbox names, offered as completions inside the string
	// argument of e.g. pocketdock.resume_container(". May be nil.
	Names func(ctx context.Context) []string

	// OnExit is called once when the REPL ends, e.g. to report which
	// ephemeral containers were removed. May be nil.
	OnExit func(w io.Writer)

	// Prompt and ContinuePrompt default to "> " and ">> ".
	Prompt, ContinuePrompt string
}

// Run reads, evaluates and prints Lua chunks in L until Ctrl-D or end of
// input, when it returns nil. It returns ctx's error if ctx is cancelled.
// Run is meant for terminal input; scripts are run elsewhere.
func Run(ctx context.Context, L *lua.LState, opts Options) error {
	opts = withDefaults(opts)
	comp := &completer{ctx: ctx, L: L, names: opts.Names}
	lr, err := newReadlineReader(opts.Stdin, opts.Stdout, opts.Stderr, comp)
	if err != nil {
		return fmt.Errorf("repl: %w", err)
	}
	historyPath := ""
	if isTerminal(opts.Stdin) {
		historyPath = opts.HistoryPath
		for _, e := range loadHistory(historyPath) {
			lr.AddHistory(e)
		}
	}
	stop := context.AfterFunc(ctx, func() { lr.Close() })
	defer stop()
	return runLoop(ctx, L, lr, opts, historyPath)
}

func withDefaults(opts Options) Options {
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.HistoryPath == "" {
		opts.HistoryPath = DefaultHistoryPath()
	}
	if opts.Prompt == "" {
		opts.Prompt = "> "
	}
	if opts.ContinuePrompt == "" {
		opts.ContinuePrompt = ">> "
	}
	return opts
}

// runLoop is the read-eval-print loop behind Run. Entries are appended to
// the history file at historyPath unless it is "".
func runLoop(ctx context.Context, L *lua.LState, lr lineReader, opts Options, historyPath string) error {
	defer func() {
		lr.Close()
		if opts.OnExit != nil {
			opts.OnExit(opts.Stdout)
		}
	}()
	var block []string // lines of an unfinished chunk
	last := ""         // the previous history entry
	for {
		prompt := opts.Prompt
		if len(block) > 0 {
			prompt = opts.ContinuePrompt
		}
		line, err := lr.ReadLine(prompt)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		switch {
		case errors.Is(err, errInterrupt):
			block = nil // Ctrl-C abandons the line or block being typed
			continue
		case err != nil:
			return nil // Ctrl-D or end of input
		}
		if len(block) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		block = append(block, line)
		src := strings.Join(block, "\n")
		fn, err := compileChunk(L, src)
		if err != nil && Incomplete(err) {
			continue
		}
		block = nil
		lr.AddHistory(src)
		if historyPath != "" && src != last {
			if herr := appendHistory(historyPath, src); herr != nil {
				fmt.Fprintf(opts.Stderr, "history: %v\n", herr)
				historyPath = "" // say so once
			}
		}
		last = src
		if err != nil {
			fmt.Fprintln(opts.Stderr, syntaxMessage(err))
			continue
		}
		evaluate(ctx, L, fn, opts.Stdout, opts.Stderr)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// evaluate calls fn, printing its results to stdout or its error to stderr.
// Ctrl-C (SIGINT) while it runs cancels the context L runs under. The Lua
// stack is left as it was found.
func evaluate(parent context.Context, L *lua.LState, fn *lua.LFunction, stdout, stderr io.Writer) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	prevCtx := L.Context()
	L.SetContext(ctx)
	defer func() {
		if prevCtx != nil {
			L.SetContext(prevCtx)
		} else {
			L.RemoveContext()
		}
	}()

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
		}
	}()
	defer func() {
		signal.Stop(sigs)
		close(done)
	}()

	top := L.GetTop()
	defer L.SetTop(top)
	L.Push(fn)
	err := L.PCall(0, lua.MultRet, nil)
	if err != nil {
		if ctx.Err() != nil && parent.Err() == nil {
			// The terminal has echoed ^C; start a line of our own.
			fmt.Fprintln(stderr, "\nInterrupted")
			return
		}
		fmt.Fprintln(stderr, clipLines(errorMessage(L, err)))
		return
	}
	n := L.GetTop() - top
	if n == 0 {
		return
	}
	results := make([]string, n)
	for i := range n {
		results[i] = Format(L, L.Get(top+1+i))
	}
	fmt.Fprintln(stdout, clipLines(strings.Join(results, "\t")))
}

// errorMessage renders a runtime error: its value (through __tostring if it
// has one) and, when the error was raised inside nested Lua functions, the
// traceback.
func errorMessage(L *lua.LState, err error) string {
	var apiErr *lua.ApiError
	if !errors.As(err, &apiErr) {
		return Escape(err.Error())
	}
	var msg string
	if s, ok := apiErr.Object.(lua.LString); ok {
		msg = Escape(string(s))
	} else {
		msg = Format(L, apiErr.Object)
	}
	if msg = strings.TrimSpace(msg); msg == "" {
		msg = "error"
	}
	if trace := stdlib.CleanTraceback(apiErr.StackTrace); tracebackHelps(trace) {
		msg += "\n" + Escape(trace)
	}
	return msg
}

// tracebackHelps reports whether a traceback passes through a Lua function
// other than the chunk typed at the prompt.
func tracebackHelps(trace string) bool {
	for _, line := range strings.Split(trace, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[G]") && strings.Contains(line, ": in function") {
			return true
		}
	}
	return false
}
