//go:build !unit

package stdlib_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pocketdock/pocketdock/engine"
	"github.com/pocketdock/pocketdock/internal/enginetest"
)

// The CLI tests run the real pocketdock binary (bin) against the real engine.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pocketdock-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "pocketdock")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as make builds it, also under go test -race
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "cannot build pocketdock:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
	pid            int
	elapsed        time.Duration
}

// pd runs the binary in dir with extra environment variables.
func pd(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start), pid: cmd.Process.Pid}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("cannot run pocketdock: %v", err)
	}
	return r
}

// cleanEnv drops the project variables so the host's settings cannot leak into a test.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POCKETDOCK_PROJECT=") && !strings.HasPrefix(kv, "POCKETDOCK_IMAGE=") && !strings.HasPrefix(kv, "POCKETDOCK_PERSIST=") {
			out = append(out, kv)
		}
	}
	return out
}

func must(t *testing.T, r result, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func nonce() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// destroyLater removes a sandbox by name when the test ends, whatever happened.
func destroyLater(t *testing.T, name string) {
	eng := enginetest.Engine(t)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if s, err := eng.Find(ctx, name); err == nil {
			eng.Remove(ctx, s.ID)
		}
	})
}

// leftBy lists the sandboxes a finished pocketdock process left behind (by its owner label).
func leftBy(t *testing.T, pid int) []string {
	list, err := enginetest.Engine(t).List(context.Background(), engine.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range list {
		if strings.Contains(s.Owner, fmt.Sprintf(":%d:", pid)) {
			out = append(out, s.Name)
		}
	}
	return out
}

func writeRecipe(t *testing.T, dir, tag, marker, middle, last string) string {
	t.Helper()
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "files", "tool.sh"), []byte("#!/bin/sh\necho tool "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`return {
  tag = %q,
  env = {APP_ENV = "dev"}, workdir = "/opt/app",
  steps = {
    {run = "mkdir -p /opt/app && echo %s > /opt/app/marker"},
    {write = "/opt/app/config.ini", content = %q, mode = tonumber("600", 8)},
    {push = "files/tool.sh", to = "/usr/local/bin/tool"},
    {run = {"sh", "-c", %q}, user = "1000", env = {X = "1"}},
  },
}`, tag, marker, middle, last)
	path := filepath.Join(dir, "recipe.lua")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func stepStates(stderr string) []string {
	var out []string
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.HasPrefix(f[0], "[") {
			out = append(out, f[1])
		}
	}
	return out
}

func imageID(t *testing.T, ref string) string {
	id, err := enginetest.Engine(t).ImageID(context.Background(), ref)
	if err != nil {
		return ""
	}
	return id
}

func TestProvisionCache(t *testing.T) {
	dir := t.TempDir()
	n := nonce()
	tag := "localhost/pdtest/recipe:" + n
	t.Cleanup(func() { enginetest.Engine(t).RemoveImage(context.Background(), tag, true) })
	recipe := writeRecipe(t, dir, tag, n, "mode=dev\n", "id -u > /tmp/uid; test $X = 1")

	first := must(t, pd(t, dir, nil, "provision", recipe), 0)
	if got := stepStates(first.stderr); strings.Join(got, " ") != "built built built built built" {
		t.Fatalf("first build steps %v\n%s", got, first.stderr)
	}
	id := strings.TrimSpace(first.stdout)
	if id == "" || imageID(t, tag) != id {
		t.Fatalf("tag %s is %q, provision printed %q", tag, imageID(t, tag), id)
	}

	again := must(t, pd(t, dir, nil, "provision", recipe), 0)
	if got := stepStates(again.stderr); strings.Join(got, " ") != "cached cached cached cached cached" {
		t.Fatalf("re-run steps %v\n%s", got, again.stderr)
	}
	if strings.TrimSpace(again.stdout) != id {
		t.Fatalf("re-run gave %q, want %q", again.stdout, id)
	}
	if again.elapsed > 2*time.Second {
		t.Fatalf("cached re-run took %v", again.elapsed)
	}
	t.Logf("first build %v, cached re-run %v", first.elapsed, again.elapsed)

	// The built image works: env, workdir, files, modes, the pushed tool, the uid-1000 step.
	name := "pdtest-prov-" + n
	destroyLater(t, name)
	must(t, pd(t, dir, nil, "create", "--name", name, "--image", tag), 0)
	r := must(t, pd(t, dir, nil, "exec", name, "--", "sh", "-c",
		`echo $APP_ENV; pwd; cat marker; stat -c %a config.ini; tool; cat /tmp/uid`), 0)
	if want := fmt.Sprintf("dev\n/opt/app\n%s\n600\ntool %s\n1000\n", n, n); r.stdout != want {
		t.Fatalf("image content %q, want %q", r.stdout, want)
	}
	must(t, pd(t, dir, nil, "destroy", "-y", name), 0)

	// Changing the middle step reuses the steps before it.
	writeRecipe(t, dir, tag, n, "mode=prod\n", "id -u > /tmp/uid; test $X = 1")
	changed := must(t, pd(t, dir, nil, "provision", recipe), 0)
	if got := stepStates(changed.stderr); strings.Join(got, " ") != "cached built built built built" {
		t.Fatalf("changed middle step: %v\n%s", got, changed.stderr)
	}
	goodID := strings.TrimSpace(changed.stdout)

	// A failing step names itself, shows its output, leaves no container and keeps the tag.
	writeRecipe(t, dir, tag, n, "mode=prod\n", "echo broken-output; exit 7")
	bad := must(t, pd(t, dir, nil, "provision", recipe), 1)
	if !strings.Contains(bad.stderr, "step 4 (run: sh -c echo broken-output; exit 7) failed with exit code 7") ||
		!strings.Contains(bad.stderr, "broken-output") || !strings.Contains(bad.stderr, "hint:") {
		t.Fatalf("failing step error:\n%s", bad.stderr)
	}
	if imageID(t, tag) != goodID {
		t.Fatalf("a failed build moved the tag")
	}
	if left := leftBy(t, bad.pid); len(left) > 0 {
		t.Fatalf("a failed build left containers %v", left)
	}

	// The step cache can be pruned.
	must(t, pd(t, dir, nil, "image", "prune-cache"), 1) // no terminal and no -y: refuses
	p := must(t, pd(t, dir, nil, "image", "prune-cache", "-y"), 0)
	if !strings.Contains(p.stdout, "removed") {
		t.Fatalf("prune-cache: %s", p.stdout)
	}
	if imageID(t, tag) != goodID {
		t.Fatalf("prune-cache removed the tagged image")
	}
	list := must(t, pd(t, dir, nil, "image", "list", "--json", "--all"), 0)
	var images []map[string]any
	if err := json.Unmarshal([]byte(list.stdout), &images); err != nil {
		t.Fatalf("image list --json: %v\n%s", err, list.stdout)
	}
	for _, im := range images {
		for _, tg := range im["tags"].([]any) {
			if strings.HasPrefix(tg.(string), "localhost/pocketdock/cache:") {
				t.Fatalf("cache image %s left after prune-cache", tg)
			}
		}
	}
}

func TestExampleRecipes(t *testing.T) {
	for _, f := range []string{"tools.lua", "webroot.lua"} {
		must(t, pd(t, "..", nil, "provision", "--quiet", "scripts/recipes/"+f), 0)
	}
}

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	name := "pdtest-cli-" + nonce()
	destroyLater(t, name)
	snap := "localhost/pdtest/snap:" + nonce()
	t.Cleanup(func() { enginetest.Engine(t).RemoveImage(context.Background(), snap, true) })

	r := must(t, pd(t, dir, nil, "create", "--name", name, "-e", "GREETING=hi", "--mem", "128m"), 0)
	if strings.TrimSpace(r.stdout) != name {
		t.Fatalf("create printed %q", r.stdout)
	}
	var list []map[string]any
	r = must(t, pd(t, dir, nil, "list", "--json"), 0)
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	found := false
	for _, s := range list {
		if s["name"] == name {
			found = s["status"] == "running" && s["persist"] == true
		}
	}
	if !found {
		t.Fatalf("list --json lacks a running persistent %s: %s", name, r.stdout)
	}
	if r = must(t, pd(t, dir, nil, "list"), 0); !strings.Contains(r.stdout, name) || !strings.HasPrefix(r.stdout, "NAME") {
		t.Fatalf("list: %s", r.stdout)
	}

	r = must(t, pd(t, dir, nil, "exec", name, "--", "sh", "-c", "echo $GREETING; echo oops >&2; exit 3"), 3)
	if r.stdout != "hi\n" || r.stderr != "oops\n" {
		t.Fatalf("exec output %q / %q", r.stdout, r.stderr)
	}

	var info map[string]any
	r = must(t, pd(t, dir, nil, "info", name, "--json"), 0)
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil || info["name"] != name || info["mem_limit"].(float64) != 128<<20 {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	if r = must(t, pd(t, dir, nil, "snapshot", name, snap), 0); imageID(t, snap) != strings.TrimSpace(r.stdout) {
		t.Fatalf("snapshot printed %q", r.stdout)
	}

	must(t, pd(t, dir, nil, "stop", name), 0)
	r = must(t, pd(t, dir, nil, "info", name, "--json"), 0)
	json.Unmarshal([]byte(r.stdout), &info)
	if info["status"] == "running" {
		t.Fatalf("info started a stopped sandbox")
	}
	r = must(t, pd(t, dir, nil, "exec", name, "--", "true"), 1)
	if !strings.Contains(r.stderr, "not running") || !strings.Contains(r.stderr, "hint: start it with pocketdock resume") {
		t.Fatalf("exec on a stopped sandbox: %s", r.stderr)
	}
	r = must(t, pd(t, dir, nil, "prune", "--dry-run", "--json"), 0)
	var pr map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &pr); err != nil || !strings.Contains(r.stdout, name) {
		t.Fatalf("prune --dry-run --json: %v %s", err, r.stdout)
	}
	must(t, pd(t, dir, nil, "resume", name), 0)
	must(t, pd(t, dir, nil, "exec", name, "--", "true"), 0)

	r = must(t, pd(t, dir, nil, "destroy", name), 1)
	if !strings.Contains(r.stderr, "pass -y") {
		t.Fatalf("destroy without -y: %s", r.stderr)
	}
	if r = must(t, pd(t, dir, nil, "destroy", name, "-y"), 0); r.stdout != "destroyed "+name+"\n" {
		t.Fatalf("destroy: %q", r.stdout)
	}
	r = must(t, pd(t, dir, nil, "info", name), 1)
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "pocketdock: ") || !strings.HasPrefix(lines[1], "hint: ") {
		t.Fatalf("missing sandbox error: %q", r.stderr)
	}

	// Usage errors, help, doctor.
	for _, args := range [][]string{{"list", "--bogus"}, {"image", "frob"}, {"destroy"}, {"exec", name}} {
		r = must(t, pd(t, dir, nil, args...), 2)
		if !strings.Contains(r.stderr, "hint: see pocketdock") {
			t.Fatalf("%v: %s", args, r.stderr)
		}
	}
	for _, c := range []string{"list", "create", "resume", "stop", "destroy", "prune", "snapshot", "exec", "shell", "info", "logs", "doctor", "provision", "init"} {
		if r = must(t, pd(t, dir, nil, c, "--help"), 0); !strings.HasPrefix(r.stdout, "usage: pocketdock "+c) {
			t.Fatalf("%s --help: %s", c, r.stdout)
		}
	}
	must(t, pd(t, dir, nil, "image", "--help"), 0)
	must(t, pd(t, dir, nil, "help"), 0)
	r = must(t, pd(t, dir, nil, "doctor", "--json"), 0)
	var d map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d["ok"] != true || d["engine_version"] == "" {
		t.Fatalf("doctor --json: %v %s", err, r.stdout)
	}
	must(t, pd(t, dir, nil, "shell", "x"), 1) // no terminal
}

func TestImageSaveLoad(t *testing.T) {
	dir := t.TempDir()
	tar := filepath.Join(dir, "min.tar")
	must(t, pd(t, dir, nil, "image", "bootstrap"), 0)
	must(t, pd(t, dir, nil, "image", "save", engine.DefaultImage, tar), 0)
	if r := must(t, pd(t, dir, nil, "image", "load", tar), 0); !strings.Contains(r.stdout, "pocketdock/minimal") {
		t.Fatalf("image load: %s", r.stdout)
	}
	must(t, pd(t, dir, nil, "image", "remove", "localhost/pdtest/none:"+nonce(), "-y"), 1)
}

// luaCreate creates a sandbox from a script in dir and prints image, persist, project, data path.
const luaCreate = `local pd = require("pocketdock")
local c = pd.create_new_container(%s)
local s
for _, x in ipairs(pd.list_containers()) do if x.name == c.name then s = x end end
print(c.image, c.persist, c.project or "-", s.data_path or "-")`

func TestProjectPrecedence(t *testing.T) {
	eng := enginetest.Engine(t)
	ctx := context.Background()
	root := t.TempDir()
	sub := filepath.Join(root, "src", "deep")
	os.MkdirAll(sub, 0o755)
	n := nonce()
	projImg, envImg, optImg := "localhost/pdtest/proj:"+n, "localhost/pdtest/env:"+n, "localhost/pdtest/opt:"+n
	for _, ref := range []string{projImg, envImg, optImg} {
		if err := eng.Tag(ctx, engine.DefaultImage, ref); err != nil {
			t.Fatal(err)
		}
		ref := ref
		t.Cleanup(func() { eng.RemoveImage(context.Background(), ref, false) })
	}
	r := must(t, pd(t, root, nil, "init", "--name", "proj-"+n, "--image", projImg, "--persist"), 0)
	if !strings.Contains(r.stdout, filepath.Join(root, ".pocketdock", "pocketdock.yaml")) {
		t.Fatalf("init: %s", r.stdout)
	}
	must(t, pd(t, root, nil, "init"), 1) // exists

	run := func(env []string, opts string) []string {
		name := "pdtest-proj-" + nonce()
		destroyLater(t, name)
		opts = strings.Replace(opts, "{", fmt.Sprintf("{name = %q, ", name), 1)
		r := must(t, pd(t, sub, env, "-e", fmt.Sprintf(luaCreate, opts)), 0)
		return append(strings.Fields(r.stdout), name)
	}
	// project file
	got := run(nil, "{}")
	inst := filepath.Join(root, ".pocketdock", "instances", got[4])
	if got[0] != projImg || got[1] != "true" || got[2] != "proj-"+n || got[3] != inst {
		t.Fatalf("project defaults: %v", got)
	}
	if st, err := os.Stat(inst); err != nil || !st.IsDir() {
		t.Fatalf("instance folder: %v", err)
	}
	// environment beats the file
	got = run([]string{"POCKETDOCK_IMAGE=" + envImg, "POCKETDOCK_PERSIST=false", "POCKETDOCK_PROJECT=envproj"}, "{}")
	if got[0] != envImg || got[1] != "false" || got[2] != "envproj" || got[3] != "-" {
		t.Fatalf("environment: %v", got)
	}
	// explicit options beat both
	got = run([]string{"POCKETDOCK_IMAGE=" + envImg, "POCKETDOCK_PERSIST=false"}, fmt.Sprintf("{image = %q, persist = true, project = 'mine'}", optImg))
	if got[0] != optImg || got[1] != "true" || got[2] != "mine" || got[3] != "-" {
		t.Fatalf("explicit: %v", got)
	}
	// outside any project: the defaults
	r = must(t, pd(t, t.TempDir(), nil, "-e", `local c = pocketdock.create_new_container{}; print(c.image, c.persist, c.project or "-")`), 0)
	if r.stdout != engine.DefaultImage+"\tfalse\t-\n" {
		t.Fatalf("no project: %q", r.stdout)
	}
}

func TestProjectHistoryAndDataPath(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	must(t, pd(t, root, nil, "init", "--persist"), 0)
	name := "pdtest-hist-" + nonce()
	destroyLater(t, name)
	must(t, pd(t, root, nil, "create", "--name", name), 0)
	inst := filepath.Join(root, ".pocketdock", "instances", name)
	must(t, pd(t, root, nil, "exec", name, "--", "sh", "-c", "exit 4"), 4)
	must(t, pd(t, root, nil, "exec", name, "--", "echo", "hello"), 0)
	data, err := os.ReadFile(filepath.Join(inst, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("history: %s", data)
	}
	var e struct {
		Command    string  `json:"command"`
		ExitCode   int     `json:"exit_code"`
		DurationMS float64 `json:"duration_ms"`
		Time       string  `json:"time"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Command != "sh -c exit 4" || e.ExitCode != 4 || e.Time == "" || e.DurationMS <= 0 {
		t.Fatalf("history line %s: %v", lines[0], err)
	}
	r := must(t, pd(t, root, nil, "logs", name), 0)
	if !strings.Contains(r.stdout, "exit 4") || !strings.Contains(r.stdout, "echo hello") {
		t.Fatalf("logs: %s", r.stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if ts := strings.Fields(line)[0]; len(ts) != len("2006-01-02T15:04:05.000Z") {
			t.Fatalf("logs timestamps do not line up: %q\n%s", ts, r.stdout)
		}
	}
	var entries []map[string]any
	if r = must(t, pd(t, root, nil, "logs", name, "--json"), 0); json.Unmarshal([]byte(r.stdout), &entries) != nil || len(entries) != 2 {
		t.Fatalf("logs --json: %s", r.stdout)
	}
	must(t, pd(t, root, nil, "destroy", "-y", name), 0)
	if _, err := os.Stat(inst); !os.IsNotExist(err) {
		t.Fatalf("destroy left %s", inst)
	}

	// Labels pointing elsewhere never delete anything: a plain folder, and a
	// symlink inside instances/ that leads out of it.
	outside := t.TempDir()
	keep := filepath.Join(outside, "keep")
	os.MkdirAll(keep, 0o755)
	link := filepath.Join(root, ".pocketdock", "instances", "evil")
	if err := os.Symlink(keep, link); err != nil {
		t.Fatal(err)
	}
	for _, dp := range []string{keep, link, filepath.Join(root, ".pocketdock", "instances")} {
		bad := "pdtest-evil-" + nonce()
		destroyLater(t, bad)
		if _, err := enginetest.Engine(t).Create(ctx, engine.Spec{Name: bad, Persist: true, DataPath: dp}); err != nil {
			t.Fatal(err)
		}
		must(t, pd(t, root, nil, "destroy", "-y", bad), 0)
		if _, err := os.Stat(dp); err != nil {
			t.Fatalf("destroy removed %s (label %s)", dp, dp)
		}
	}
	if r := must(t, pd(t, root, nil, "doctor", "--json"), 0); !strings.Contains(r.stdout, "instances/evil") {
		t.Fatalf("doctor does not report the stale folder: %s", r.stdout)
	}
}

// The create, exec, list, info, help and doctor commands: flags mean what they
// say, stdin reaches exec'd commands, text from sandboxes is shown escaped.
func TestCommandFlagsAndOutput(t *testing.T) {
	dir := t.TempDir()
	name := "pdtest-flags-" + nonce()
	destroyLater(t, name)

	r := must(t, pd(t, dir, nil, "create", "--name", ""), 2)
	if !strings.Contains(r.stderr, "--name needs a name") {
		t.Fatalf("create --name '': %s", r.stderr)
	}
	r = must(t, pd(t, dir, nil, "create", "--persist=false"), 2)
	if !strings.Contains(r.stderr, "--persist=false") || !strings.Contains(r.stderr, "hint:") {
		t.Fatalf("create --persist=false: %s", r.stderr)
	}
	// -v with a relative host path means this folder, not a named volume
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "f"), []byte("from the host\n"), 0o644)
	must(t, pd(t, dir, nil, "create", "--name", name, "--persist", "-v", "./src:/src:ro"), 0)

	// exec without --: the command's own flags are its own
	if r = must(t, pd(t, dir, nil, "exec", name, "sh", "-c", "cat /src/f"), 0); r.stdout != "from the host\n" {
		t.Fatalf("exec without --: %q %q", r.stdout, r.stderr)
	}
	if r = must(t, pd(t, dir, nil, "exec", name, "--bogus", "x"), 2); !strings.Contains(r.stderr, "after --") {
		t.Fatalf("exec with an unknown flag: %s", r.stderr)
	}

	// stdin that is not a terminal reaches the command
	input := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	cmd := exec.Command(bin, "exec", name, "--", "sh", "-c", "wc -c; echo done")
	cmd.Dir, cmd.Env, cmd.Stdin = dir, cleanEnv(), bytes.NewReader(input)
	out, err := cmd.CombinedOutput()
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	t.Logf("exec with 3 MiB on stdin: peak RSS %d MiB", rss>>20)
	if err != nil || strings.Fields(string(out))[0] != strconv.Itoa(len(input)) {
		t.Fatalf("exec stdin: %v %q", err, out)
	}
	if rss > 150<<20 {
		t.Errorf("peak RSS %d MiB for 3 MiB of stdin", rss>>20)
	}
	cmd = exec.Command(bin, "exec", name, "--no-stdin", "--", "sh", "-c", "wc -c")
	cmd.Dir, cmd.Env, cmd.Stdin = dir, cleanEnv(), bytes.NewReader(input)
	if out, err = cmd.Output(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("exec --no-stdin: %v %q", err, out)
	}

	// list is sorted by name
	r = must(t, pd(t, dir, nil, "list"), 0)
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		names = append(names, strings.Fields(line)[0])
	}
	if !sort.StringsAreSorted(names) {
		t.Fatalf("list is not sorted by name: %v", names)
	}

	// text from a sandbox's labels reaches the terminal escaped
	esc := "pdtest-esc-" + nonce()
	destroyLater(t, esc)
	must(t, pd(t, dir, nil, "-e", `pd.create_new_container{name = "`+esc+`", persist = true, labels = {x = "\27]0;owned\7\27[2J"}}`), 0)
	r = must(t, pd(t, dir, nil, "info", esc), 0)
	if strings.ContainsRune(r.stdout, 0x1b) || !strings.Contains(r.stdout, `\27]0;owned\7\27[2J`) {
		t.Fatalf("info shows a raw escape: %q", r.stdout)
	}

	// help
	if r = must(t, pd(t, dir, nil, "help", "nope"), 2); strings.Contains(r.stderr, "--help") || !strings.Contains(r.stderr, "commands are") {
		t.Fatalf("help nope: %s", r.stderr)
	}
}

// doctor reports the orphans that pocketdock removed on connecting.
func TestDoctorReportsRemovedOrphans(t *testing.T) {
	dir := t.TempDir()
	orphan := "pdtest-orphan-" + nonce()
	destroyLater(t, orphan)
	cmd := exec.Command(bin, "-e", `pd.create_new_container{name = "`+orphan+`"}; print("ready"); io.stdout:flush(); pd.clock(); while true do end`)
	cmd.Dir, cmd.Env = dir, cleanEnv()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, _ := stdout.Read(buf); !strings.Contains(string(buf[:n]), "ready") {
		t.Fatalf("the orphan maker said %q", buf[:n])
	}
	cmd.Process.Kill()
	cmd.Wait()
	r := must(t, pd(t, dir, nil, "doctor", "--json"), 0)
	var d struct {
		Removed []string `json:"removed_orphans"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || !slices.Contains(d.Removed, orphan) {
		t.Fatalf("doctor --json does not report %s as removed: %v\n%s", orphan, err, r.stdout)
	}
}

// A recipe whose pushed file is missing fails before anything is built, and
// names the step.
func TestRecipeInputsCheckedFirst(t *testing.T) {
	dir := t.TempDir()
	recipe := filepath.Join(dir, "recipe.lua")
	os.WriteFile(recipe, []byte(`return {steps = {
  {run = "echo `+nonce()+` > /tmp/x"},
  {push = "files/missing.sh", to = "/usr/local/bin/missing"},
}}`), 0o644)
	r := must(t, pd(t, dir, nil, "provision", recipe), 1)
	if !strings.Contains(r.stderr, "step 2 (push files/missing.sh") || len(stepStates(r.stderr)) != 0 {
		t.Fatalf("missing pushed file:\n%s", r.stderr)
	}
	if left := leftBy(t, r.pid); len(left) > 0 {
		t.Fatalf("left containers %v", left)
	}
	t.Logf("refused in %v", r.elapsed)
}

// The ImageNotFound hint sends people to pocketdock image pull: it exists,
// shows progress on stderr, and a registry that cannot be reached is a clear
// failure with what else to do.
func TestImagePull(t *testing.T) {
	dir := t.TempDir()
	ref := "localhost/pdtest/no-such-image:" + nonce()
	r := must(t, pd(t, dir, nil, "create", "--image", ref), 1)
	if !strings.Contains(r.stderr, "pocketdock image pull") {
		t.Fatalf("create from a missing image: %q", r.stderr)
	}
	r = must(t, pd(t, dir, nil, "image", "pull", "--help"), 0)
	if !strings.Contains(r.stdout, "usage: pocketdock image pull IMAGE [--quiet]") {
		t.Fatalf("image pull --help: %q", r.stdout)
	}
	// Port 1 on this machine: nothing listens, nothing leaves the host.
	unreachable := "127.0.0.1:1/pdtest/nothing:1"
	r = must(t, pd(t, dir, nil, "image", "pull", unreachable), 1)
	if r.stdout != "" || !strings.Contains(r.stderr, "Trying to pull "+unreachable) ||
		!strings.Contains(r.stderr, "pocketdock: cannot pull "+unreachable+": connection refused\nhint: check the name") {
		t.Fatalf("pull from nowhere: stdout %q stderr %q", r.stdout, r.stderr)
	}
	if r.elapsed > 30*time.Second {
		t.Errorf("the failing pull took %v", r.elapsed)
	}
	r = must(t, pd(t, dir, nil, "image", "pull", "--quiet", unreachable), 1)
	if strings.Contains(r.stderr, "Trying to pull") || !strings.Contains(r.stderr, "cannot pull") {
		t.Fatalf("pull --quiet: %q", r.stderr)
	}
	r = must(t, pd(t, dir, nil, "image", "pull", "Not A Name"), 1)
	if !strings.Contains(r.stderr, "cannot pull Not A Name: invalid reference format") {
		t.Fatalf("pull of a bad name: %q", r.stderr)
	}
	must(t, pd(t, dir, nil, "image", "pull"), 2)
}
