package luaapi_test

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// sandboxState is a Lua state with a sandbox `c` (created with the given
// option table source), shut down after the test.
func sandboxState(t *testing.T, opts string) *state {
	t.Helper()
	s := newState(t)
	s.run(t, `pd = require("pocketdock"); c = pd.create_new_container(`+opts+`)`)
	t.Cleanup(func() { s.L.DoString(`c:shutdown()`) })
	return s
}

// Paths are never pasted into a shell: metacharacters are just part of a
// (missing) path.
func TestFilePathsNeverReachAShell(t *testing.T) {
	s := sandboxState(t, `{}`)
	for _, call := range []string{
		`c:list_files("/tmp; touch /tmp/pwned")`,
		`c:read_file("/tmp/$(touch /tmp/pwned)")`,
		"c:read_file(\"/tmp/`touch /tmp/pwned`\")",
		`c:pull("/tmp/x' && touch /tmp/pwned '", T_dir)`,
	} {
		s.L.SetGlobal("T_dir", lua.LString(t.TempDir()))
		errv, _ := s.eval(`local ok, err = pcall(function() return ` + call + ` end); assert(not ok); return error(err)`)
		if kind := errKind(errv); kind != "FileNotFound" {
			t.Errorf("%s: kind %q (%v), want FileNotFound", call, kind, errv)
		}
	}
	s.run(t, `assert(c:write_file("/tmp/a b; touch /tmp/pwned", "x"))
		assert(c:read_file("/tmp/a b; touch /tmp/pwned") == "x")
		assert(c:stat("/tmp/pwned") == nil, "a shell ran")`)
	errv, _ := s.eval(`c:read_file("tmp/relative")`)
	if errKind(errv) != "InvalidArgument" {
		t.Errorf("relative path: %v, want InvalidArgument", errv)
	}
}

func errKind(v lua.LValue) string {
	if t, ok := v.(*lua.LTable); ok {
		return lua.LVAsString(t.RawGetString("kind"))
	}
	return ""
}

// A file written for a user=1000 sandbox belongs to 1000, parents too, and
// that user can change it; existing directories keep their modes.
func TestWriteFileOwnedBySandboxUser(t *testing.T) {
	s := sandboxState(t, `{user = "1000"}`)
	s.run(t, `
		assert(c:write_file("/tmp/deep/er/notes.txt", "one\n"))
		local r = c:run("echo two >> /tmp/deep/er/notes.txt && stat -c '%u:%g %a' /tmp/deep /tmp/deep/er /tmp/deep/er/notes.txt /tmp")
		assert(r.ok, r.stderr)
		assert(r.stdout == "1000:1000 755\n1000:1000 755\n1000:1000 644\n0:0 1777\n", r.stdout)
		assert(c:read_file("/tmp/deep/er/notes.txt") == "one\ntwo\n")
		assert(c:run("touch /tmp/deep/er/new").ok, "sandbox user can write in created parents")

		-- owner overrides, by number or by name from the sandbox's /etc/passwd
		assert(c:write_file("/tmp/root.txt", "r", {owner = "0:0", mode = tonumber("600", 8)}))
		assert(c:write_file("/tmp/named.txt", "n", {owner = "sandbox"}))
		r = c:run("stat -c '%u:%g %a' /tmp/root.txt /tmp/named.txt")
		assert(r.stdout == "0:0 600\n1000:1000 644\n", r.stdout)
		assert(not c:run("echo x >> /tmp/root.txt").ok, "0600 root file is not writable by 1000")
		local ok, err = pcall(c.write_file, c, "/tmp/x", "x", {owner = "nobody-here"})
		assert(not ok and err.kind == "InvalidArgument" and err.message:find("nobody%-here"), tostring(err))
	`)
}

// push keeps the executable bit and puts a file or a tree at the full dest path.
func TestPushKeepsModesAndPlacesAtDest(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "x.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho pushed\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tree := filepath.Join(dir, "tree")
	os.MkdirAll(filepath.Join(tree, "bin"), 0o750)
	os.Chmod(tree, 0o750)
	os.WriteFile(filepath.Join(tree, "bin", "tool"), []byte("#!/bin/sh\necho tool\n"), 0o700)
	os.WriteFile(filepath.Join(tree, "README"), []byte("r"), 0o600)

	s := sandboxState(t, `{}`)
	s.L.SetGlobal("script", lua.LString(script))
	s.L.SetGlobal("tree", lua.LString(tree))
	s.run(t, `
		assert(c:push(script, "/usr/local/bin/x") == true)
		local r = c:run("x")
		assert(r.stdout == "pushed\n", r.stderr)
		assert(c:stat("/usr/local/bin/x").mode == tonumber("755", 8))
		assert(c:push(tree, "/opt/dir"))
		r = c:run("stat -c '%n %a' /opt/dir /opt/dir/bin /opt/dir/bin/tool /opt/dir/README && /opt/dir/bin/tool")
		assert(r.stdout == "/opt/dir 750\n/opt/dir/bin 750\n/opt/dir/bin/tool 700\n/opt/dir/README 600\ntool\n", r.stdout)
		-- trailing slash: into the directory, base name kept
		assert(c:push(script, "/opt/dir/"))
		assert(c:run("/opt/dir/x.sh").stdout == "pushed\n")
		local ok, err = pcall(c.push, c, "/no/such/host/file", "/tmp/x")
		assert(not ok and err.kind == "FileNotFound", tostring(err))
	`)
}

// pull never writes outside host_dest: symlinks inside the sandbox (to /etc,
// climbing with ..) are recreated as links, never followed.
func TestPullNeverWritesOutsideDest(t *testing.T) {
	parent := t.TempDir()
	dest := filepath.Join(parent, "dest")
	os.Mkdir(dest, 0o755)
	s := sandboxState(t, `{}`)
	s.L.SetGlobal("dest", lua.LString(dest))
	s.run(t, `
		local r = c:run([[mkdir -p /tmp/tree/sub && ln -s /etc /tmp/evil && ln -s /etc /tmp/tree/etc &&
			ln -s ../../.. /tmp/tree/sub/up && echo pwn > /tmp/tree/sub/file && ln -s ../../../../../../tmp /tmp/tree/tmp]])
		assert(r.ok, r.stderr)
		n = c:pull("/tmp/tree", dest)
		n2 = c:pull("/tmp/evil", dest)   -- a link given as src: its target's content, inside dest
	`)
	if got := s.L.GetGlobal("n"); got.String() != "6" {
		t.Errorf("tree entries %s, want 6", got)
	}
	for link, want := range map[string]string{"tree/etc": "/etc", "tree/sub/up": "../../..", "tree/tmp": "../../../../../../tmp"} {
		fi, err := os.Lstat(filepath.Join(dest, link))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: not recreated as a symlink (%v)", link, err)
			continue
		}
		if got, _ := os.Readlink(filepath.Join(dest, link)); got != want {
			t.Errorf("%s -> %q, want %q", link, got, want)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dest, "evil", "passwd")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("evil/passwd should be a regular file inside dest: %v", err)
	}
	var outside []string
	filepath.Walk(parent, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != parent && !strings.HasPrefix(p, dest) {
			outside = append(outside, p)
		}
		return nil
	})
	if len(outside) > 0 {
		t.Errorf("written outside dest: %v", outside)
	}
	if b, err := os.ReadFile("/etc/hostname"); err == nil && strings.Contains(string(b), "pwn") {
		t.Error("host /etc touched")
	}
}

// pull's destination rules: into an existing directory under the base name,
// else created with src's content; a missing parent is an error.
func TestPullDestinations(t *testing.T) {
	dir := t.TempDir()
	s := sandboxState(t, `{}`)
	s.L.SetGlobal("dir", lua.LString(dir))
	s.run(t, `
		assert(c:write_file("/data/a/one.txt", "1"))
		assert(c:pull("/data/a/one.txt", dir) == 1)
		assert(c:pull("/data/a/one.txt", dir .. "/renamed.txt") == 1)
		assert(c:pull("/data/a", dir .. "/copy") == 2)
		local ok, err = pcall(c.pull, c, "/data/a", dir .. "/no/such/parent")
		assert(not ok and err.kind == "FileNotFound", tostring(err))
		ok, err = pcall(c.pull, c, "/data/missing", dir)
		assert(not ok and err.kind == "FileNotFound" and err.message:find("/data/missing", 1, true), tostring(err))
	`)
	var got []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, rel)
		}
		return nil
	})
	sort.Strings(got)
	want := []string{"copy", "copy/one.txt", "one.txt", "renamed.txt"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("host holds %v, want %v", got, want)
	}
}

// 8 MiB through write_file and read_file, and a 48 MiB file pulled, streamed.
func TestLargeFiles(t *testing.T) {
	s := sandboxState(t, `{}`)
	s.run(t, `big = string.rep("0123456789abcdef", 512 * 1024)`) // 8 MiB
	start := time.Now()
	s.run(t, `assert(c:write_file("/tmp/big.bin", big))`)
	wrote := time.Since(start)
	start = time.Now()
	s.run(t, `back = c:read_file("/tmp/big.bin")`)
	read := time.Since(start)
	s.run(t, `assert(#back == #big and back == big, "round trip differs")`)
	t.Logf("8 MiB write_file %d ms, read_file %d ms", wrote.Milliseconds(), read.Milliseconds())

	dest := filepath.Join(t.TempDir(), "huge")
	s.L.SetGlobal("dest", lua.LString(dest))
	start = time.Now()
	s.run(t, `assert(c:run("head -c 50331648 /dev/zero > /tmp/huge").ok); assert(c:pull("/tmp/huge", dest) == 1)`)
	t.Logf("48 MiB create+pull %d ms", time.Since(start).Milliseconds())
	if fi, err := os.Stat(dest); err != nil || fi.Size() != 48<<20 {
		t.Errorf("pulled %v (%v)", fi, err)
	}
}
