package repl

import (
	"errors"
	"io"
	"os"

	"github.com/chzyer/readline"
)

// errInterrupt is returned by lineReader.ReadLine when Ctrl-C is pressed.
var errInterrupt = errors.New("interrupt")

// lineReader is the line editor as the evaluation loop sees it.
type lineReader interface {
	// ReadLine shows prompt and returns the line typed, errInterrupt on
	// Ctrl-C or io.EOF on Ctrl-D at an empty line.
	ReadLine(prompt string) (string, error)
	// AddHistory makes entry recallable with the up arrow.
	AddHistory(entry string)
	Close() error
}

// readlineReader is the lineReader for a real terminal.
type readlineReader struct {
	rl    *readline.Instance
	stdin *readline.CancelableStdin
}

func newReadlineReader(stdin io.ReadCloser, stdout, stderr io.Writer, complete readline.AutoCompleter) (*readlineReader, error) {
	cancelable := readline.NewCancelableStdin(stdin)
	cfg := &readline.Config{
		Stdin:                  cancelable,
		Stdout:                 stdout,
		Stderr:                 stderr,
		AutoComplete:           complete,
		DisableAutoSaveHistory: true, // blocks are added whole by the loop
		HistoryLimit:           historyLimit,
		EOFPrompt:              "\n", // Ctrl-D just ends the line
	}
	// Line editing and raw mode apply to the terminal given as stdin, not
	// necessarily the process's own.
	fd := -1
	if isTerminal(stdin) {
		fd = int(stdin.(*os.File).Fd())
	}
	var saved *readline.State
	cfg.FuncIsTerminal = func() bool { return fd >= 0 }
	cfg.FuncMakeRaw = func() (err error) {
		saved, err = readline.MakeRaw(fd)
		return err
	}
	cfg.FuncExitRaw = func() error {
		if saved == nil {
			return nil
		}
		defer func() { saved = nil }()
		return readline.Restore(fd, saved)
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, err
	}
	return &readlineReader{rl: rl, stdin: cancelable}, nil
}

func (r *readlineReader) ReadLine(prompt string) (string, error) {
	r.rl.SetPrompt(prompt)
	line, err := r.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", errInterrupt
	}
	return line, err
}

func (r *readlineReader) AddHistory(entry string) { _ = r.rl.SaveHistory(entry) }

// Close stops the editor. The cancelable stdin is closed first because
// readline only closes the wrapper around it, which can leave its reader
// goroutine blocked and Close waiting for it.
func (r *readlineReader) Close() error {
	r.stdin.Close()
	return r.rl.Close()
}

// isTerminal reports whether r is a terminal device.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}
