package repl

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
)

// historyLimit is how many entries are loaded; the file is compacted to
// this size once it holds twice as many.
const historyLimit = 1000

// DefaultHistoryPath is $XDG_STATE_HOME/pocketdock/history, or
// ~/.local/state/pocketdock/history when XDG_STATE_HOME is unset. It is ""
// when neither can be determined.
func DefaultHistoryPath() string {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "pocketdock", "history")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "state", "pocketdock", "history")
}

// The history file holds one entry per line. A multi-line block is one
// entry: its newlines are stored as `\n` and backslashes as `\\`.
var (
	historyEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	historyUnescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n")
)

// loadHistory returns the last historyLimit entries of the file at path.
// A missing or unreadable file is an empty history.
func loadHistory(path string) []string {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var entries []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.TrimSpace(line) != "" {
			entries = append(entries, historyUnescaper.Replace(line))
		}
	}
	if len(entries) > 2*historyLimit {
		entries = entries[len(entries)-historyLimit:]
		rewriteHistory(path, entries)
	}
	if len(entries) > historyLimit {
		entries = entries[len(entries)-historyLimit:]
	}
	return entries
}

// appendHistory adds one entry to the file at path, creating the file
// (0600) and its parent directories (0700) as needed.
func appendHistory(path, entry string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(historyEscaper.Replace(entry) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func rewriteHistory(path string, entries []string) {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(historyEscaper.Replace(e) + "\n")
	}
	tmp := path + ".tmp"
	if os.WriteFile(tmp, []byte(b.String()), 0o600) == nil {
		_ = os.Rename(tmp, path)
	}
}
