package repl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	lua "github.com/yuin/gopher-lua"
)

// The terminal tests run this test binary again as the REPL process, on a
// real pseudo-terminal, and type into it.

func TestMain(m *testing.M) {
	if os.Getenv("REPL_TEST_CHILD") == "1" {
		os.Exit(runChildREPL())
	}
	os.Exit(m.Run())
}

// runChildREPL runs the REPL with the base libraries and a few test globals:
//
//	sleep_ms(n)                 waits n ms or until interrupted
//	box                         a container-like userdata; box:greet(), box:status()
//	pocketdock.resume_container(name)
func runChildREPL() int {
	L := lua.NewState()
	defer L.Close()

	L.SetGlobal("sleep_ms", L.NewFunction(func(L *lua.LState) int {
		d := time.Duration(L.CheckInt(1)) * time.Millisecond
		var done <-chan struct{}
		if ctx := L.Context(); ctx != nil {
			done = ctx.Done()
		}
		fmt.Println("[sleeping]")
		select {
		case <-time.After(d):
		case <-done:
			L.RaiseError("sleep interrupted")
		}
		return 0
	}))

	methods := L.NewTable()
	L.SetField(methods, "greet", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("hello from test-box"))
		return 1
	}))
	L.SetField(methods, "status", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("running"))
		return 1
	}))
	meta := L.NewTable()
	L.SetField(meta, "__index", methods)
	L.SetField(meta, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("<container test-box running 3f2a1c9b persist>"))
		return 1
	}))
	box := L.NewUserData()
	box.Metatable = meta
	L.SetGlobal("box", box)

	pd := L.NewTable()
	L.SetField(pd, "resume_container", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("resumed " + L.CheckString(1)))
		return 1
	}))
	L.SetGlobal("pocketdock", pd)

	err := Run(context.Background(), L, Options{
		HistoryPath: os.Getenv("REPL_TEST_HISTORY"),
		Names: func(context.Context) []string {
			return []string{"alpha-box", "beta-box"}
		},
		OnExit: func(w io.Writer) { fmt.Fprintln(w, "[exit hook ran]") },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "repl:", err)
		return 1
	}
	return 0
}

// terminal is a REPL child process on a pseudo-terminal.
type terminal struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	exit chan error

	mu   sync.Mutex
	out  bytes.Buffer
	seen int // output before this offset has been matched already
}

const expectTimeout = 5 * time.Second

// startTerminal starts the REPL with history in historyPath.
func startTerminal(t *testing.T, historyPath string) *terminal {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		"REPL_TEST_CHILD=1",
		"REPL_TEST_HISTORY="+historyPath,
		"XDG_STATE_HOME="+t.TempDir(),
		"TERM=xterm",
	)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting the REPL on a pty: %v", err)
	}
	term := &terminal{t: t, pty: f, cmd: cmd, exit: make(chan error, 1)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { term.exit <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-term.exit:
		default:
			_ = cmd.Process.Kill()
			<-term.exit
		}
		f.Close()
	})
	return term
}

// send types s.
func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := term.pty.Write([]byte(s)); err != nil {
		term.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until want appears in output not yet matched; it fails the
// test after timeout.
func (term *terminal) expect(want string, timeout time.Duration) {
	term.t.Helper()
	start := time.Now()
	for {
		term.mu.Lock()
		rest := term.out.String()[term.seen:]
		if i := strings.Index(rest, want); i >= 0 {
			term.seen += i + len(want)
			term.mu.Unlock()
			return
		}
		term.mu.Unlock()
		if time.Since(start) > timeout {
			term.t.Fatalf("timed out after %v waiting for %q; screen since last match:\n%q", timeout, want, rest)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitExit waits for the REPL process to end and fails if it does not end
// cleanly.
func (term *terminal) waitExit() {
	term.t.Helper()
	select {
	case err := <-term.exit:
		term.exit <- err // for the cleanup
		if err != nil {
			term.t.Fatalf("REPL exited with %v; output:\n%q", err, term.out.String())
		}
	case <-time.After(expectTimeout):
		term.cmd.Process.Signal(syscall.SIGQUIT)
		time.Sleep(time.Second)
		term.mu.Lock()
		defer term.mu.Unlock()
		term.t.Fatalf("REPL did not exit; output:\n%s", term.out.String())
	}
}

func TestTerminalStartupAndExit(t *testing.T) {
	start := time.Now()
	term := startTerminal(t, filepath.Join(t.TempDir(), "history"))
	term.expect("> ", expectTimeout)
	startup := time.Since(start)
	t.Logf("start-up to first prompt (process start included): %v", startup)
	if startup > 500*time.Millisecond {
		t.Errorf("start-up took %v, want < 500ms", startup)
	}
	term.send("\x04") // Ctrl-D
	term.expect("[exit hook ran]", expectTimeout)
	term.waitExit()
}

func TestTerminalEvaluation(t *testing.T) {
	term := startTerminal(t, filepath.Join(t.TempDir(), "history"))
	term.expect("> ", expectTimeout)

	// Expressions print their values; results are never what was typed,
	// so the echo of the input cannot match.
	term.send("40 + 2\r")
	term.expect("\r\n42\r\n", expectTimeout)
	term.send("return 10 * 10, 'x' .. 'y'\r")
	term.expect("100\t\"xy\"", expectTimeout)
	term.send("box\r")
	term.expect("<container test-box running 3f2a1c9b persist>", expectTimeout)

	// A multi-line block continues on the continuation prompt.
	term.send("function add(a, b)\r")
	term.expect(">> ", expectTimeout)
	term.send("return a + b\r")
	term.expect(">> ", expectTimeout)
	term.send("end\r")
	term.expect("> ", expectTimeout)
	term.send("add(300, 33)\r")
	term.expect("333\r\n", expectTimeout)

	// An error is reported and the REPL carries on.
	term.send("error('bo' .. 'om')\r")
	term.expect("stdin:1: boom", expectTimeout)
	term.send("5 * 5\r")
	term.expect("25\r\n", expectTimeout)

	// Ctrl-C at the continuation prompt abandons the block.
	term.send("1 +\r")
	term.expect(">> ", expectTimeout)
	term.send("\x03")
	term.expect("> ", expectTimeout)
	term.send("100 + 11\r")
	term.expect("111\r\n", expectTimeout)

	term.send("\x04")
	term.expect("[exit hook ran]", expectTimeout)
	term.waitExit()
}

func TestTerminalCompletion(t *testing.T) {
	term := startTerminal(t, filepath.Join(t.TempDir(), "history"))
	term.expect("> ", expectTimeout)

	// A global: "prin" completes to "print".
	term.send("prin\t")
	term.expect("print", expectTimeout)
	term.send("(1000 + 234)\r")
	term.expect("1234\r\n", expectTimeout)

	// A method of a live userdata: "box:gr" completes to "box:greet".
	term.send("box:gr\t")
	term.expect("greet", expectTimeout)
	term.send("()\r")
	term.expect(`"hello from test-box"`, expectTimeout)

	// A sandbox name inside the string argument.
	term.send(`pocketdock.resume_container("al` + "\t")
	term.expect(`pha-box"`, expectTimeout)
	term.send(")\r")
	term.expect(`"resumed alpha-box"`, expectTimeout)

	term.send("\x04")
	term.waitExit()
}

func TestTerminalInterruptDuringEvaluation(t *testing.T) {
	term := startTerminal(t, filepath.Join(t.TempDir(), "history"))
	term.expect("> ", expectTimeout)
	term.send("x = 21\r")
	term.expect("> ", expectTimeout)
	term.send("sleep_ms(30000)\r")
	term.expect("[sleeping]", expectTimeout)

	sent := time.Now()
	term.send("\x03")
	term.expect("Interrupted", time.Second)
	t.Logf("Ctrl-C stopped the chunk after %v", time.Since(sent))
	term.expect("> ", expectTimeout)

	// The state survived and the REPL still evaluates.
	term.send("x * 2\r")
	term.expect("42\r\n", expectTimeout)

	// A pure Lua loop is interrupted too.
	term.send("while true do end\r")
	time.Sleep(100 * time.Millisecond)
	term.send("\x03")
	term.expect("Interrupted", time.Second)
	term.send("x + 1\r")
	term.expect("22\r\n", expectTimeout)

	term.send("\x04")
	term.expect("[exit hook ran]", expectTimeout)
	term.waitExit()
}

func TestTerminalHistoryAcrossSessions(t *testing.T) {
	history := filepath.Join(t.TempDir(), "nested", "dir", "history")

	first := startTerminal(t, history)
	first.expect("> ", expectTimeout)
	first.send("function hist_fn()\r")
	first.expect(">> ", expectTimeout)
	first.send("return 700 + 77\r")
	first.expect(">> ", expectTimeout)
	first.send("end\r")
	first.expect("> ", expectTimeout)
	first.send("\x04")
	first.waitExit()

	data, err := os.ReadFile(history)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	if got, want := string(data), `function hist_fn()\nreturn 700 + 77\nend`+"\n"; got != want {
		t.Errorf("history file = %q, want %q", got, want)
	}

	second := startTerminal(t, history)
	second.expect("> ", expectTimeout)
	second.send("\x1b[A") // up arrow recalls the whole block
	second.expect("700 + 77", expectTimeout)
	second.send("\r")
	second.expect("> ", expectTimeout)
	second.send("hist_fn()\r")
	second.expect("777\r\n", expectTimeout)
	second.send("\x04")
	second.waitExit()
}
