// Package project holds project folders: .pocketdock/pocketdock.yaml, the
// precedence of settings (explicit option, then environment, then the file)
// and the run history of persistent project sandboxes. It knows no Lua.
package project

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pocketdock/pocketdock/engine"
)

// Project files: .pocketdock/pocketdock.yaml marks a project folder; persistent
// project sandboxes keep their history under .pocketdock/instances/NAME.
const (
	projectDir  = ".pocketdock"
	projectFile = "pocketdock.yaml"
	instanceDir = "instances"
)

// Config is .pocketdock/pocketdock.yaml.
type Config struct {
	Name    string `yaml:"name"`
	Image   string `yaml:"image,omitempty"`
	Persist *bool  `yaml:"persist,omitempty"`
}

// Project is a project folder found from the working directory.
type Project struct {
	Root   string // the folder holding .pocketdock
	Config Config
}

// Find searches upward from dir for .pocketdock/pocketdock.yaml; nil when there is none.
func Find(dir string) (*Project, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil
	}
	for {
		path := filepath.Join(dir, projectDir, projectFile)
		if data, err := os.ReadFile(path); err == nil {
			p := &Project{Root: dir}
			if err := yaml.Unmarshal(data, &p.Config); err != nil {
				return nil, engine.Errorf(engine.InvalidArgument, "cannot read %s: %v", path, err).
					WithHint("fix the file or recreate it with pocketdock init")
			}
			if p.Config.Name == "" {
				p.Config.Name = filepath.Base(dir)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}

// Init writes dir/.pocketdock/pocketdock.yaml and returns its path.
func Init(dir string, cfg Config, force bool) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if cfg.Name == "" {
		cfg.Name = filepath.Base(dir)
	}
	path := filepath.Join(dir, projectDir, projectFile)
	if _, err := os.Stat(path); err == nil && !force {
		return "", engine.Errorf(engine.InvalidArgument, "%s already exists", path).
			WithHint("edit it, or pass --force to overwrite it")
	}
	if err := os.MkdirAll(filepath.Join(dir, projectDir, instanceDir), 0o755); err != nil {
		return "", engine.Errorf(engine.InvalidArgument, "cannot create %s: %v", filepath.Dir(path), err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return "", err
	}
	header := "# pocketdock project: defaults for sandboxes created in this folder.\n" +
		"# Explicit options win, then POCKETDOCK_PROJECT / POCKETDOCK_IMAGE / POCKETDOCK_PERSIST, then this file.\n"
	if err := os.WriteFile(path, append([]byte(header), data...), 0o644); err != nil {
		return "", engine.Errorf(engine.InvalidArgument, "cannot write %s: %v", path, err)
	}
	return path, nil
}

// Info describes the project as pd.project() gives it to scripts: its
// json names are the Lua keys.
type Info struct {
	Name      string   `json:"name"`
	Root      string   `json:"root"`
	Image     string   `json:"image,omitempty"`
	Persist   bool     `json:"persist"`
	Instances []string `json:"instances"` // names of its sandboxes' folders
}

// Info describes the project.
func (p *Project) Info() *Info {
	return &Info{Name: p.Config.Name, Root: p.Root, Image: p.Config.Image, Persist: p.Config.Persist != nil && *p.Config.Persist,
		Instances: append([]string{}, p.Instances()...)}
}

// Instances lists the project's instance folders (a link counts: it is
// refused only when removing).
func (p *Project) Instances() []string {
	var out []string
	entries, _ := os.ReadDir(filepath.Join(p.Root, projectDir, instanceDir))
	for _, e := range entries {
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			out = append(out, e.Name())
		}
	}
	return out
}

// Apply fills the options of spec the caller did not give (explicit reports
// which were): environment first, then the project file found from the
// working directory. A persistent sandbox of that project gets its instance
// folder and the data-path label.
func Apply(s *engine.Spec, explicit func(option string) bool) error {
	cwd, _ := os.Getwd()
	p, err := Find(cwd)
	if err != nil {
		return err
	}
	if !explicit("project") {
		if v := os.Getenv("POCKETDOCK_PROJECT"); v != "" {
			s.Project = v
		} else if p != nil {
			s.Project = p.Config.Name
		}
	}
	if !explicit("image") {
		if v := os.Getenv("POCKETDOCK_IMAGE"); v != "" {
			s.Image = v
		} else if p != nil && p.Config.Image != "" {
			s.Image = p.Config.Image
		}
	}
	if !explicit("persist") {
		if v, ok := os.LookupEnv("POCKETDOCK_PERSIST"); ok && v != "" {
			b, ok := ParseBool(v)
			if !ok {
				return engine.Errorf(engine.InvalidArgument, "POCKETDOCK_PERSIST=%q is not a boolean", v).WithHint("use true or false")
			}
			s.Persist = b
		} else if p != nil && p.Config.Persist != nil {
			s.Persist = *p.Config.Persist
		}
	}
	if p == nil || !s.Persist || s.Project != p.Config.Name || s.Name == "" {
		return nil
	}
	// The folder itself is made once the engine has created the sandbox.
	s.DataPath = filepath.Join(p.Root, projectDir, instanceDir, s.Name)
	return nil
}

// ParseBool reads the booleans an environment variable may hold.
func ParseBool(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, true
	case "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// historyEntry is one line of an instance's history.jsonl.
type historyEntry struct {
	Command    string  `json:"command"`
	ExitCode   int     `json:"exit_code"`
	DurationMS float64 `json:"duration_ms"`
	Time       string  `json:"time"`
}

// RecordRun appends a run to the history in a persistent project sandbox's
// folder (dataPath; nothing when it is not an instance folder). History is
// best effort: a full disk must not fail the command itself.
func RecordRun(dataPath string, argv []string, res *engine.ExecResult) {
	if dataPath == "" || !UnderInstances(dataPath) {
		return
	}
	line, err := json.Marshal(historyEntry{Command: engine.CommandText(argv), ExitCode: res.ExitCode,
		DurationMS: float64(res.Duration.Microseconds()) / 1000, Time: time.Now().UTC().Format(time.RFC3339Nano)})
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dataPath, "history.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	f.Write(append(line, '\n'))
}

// UnderInstances reports whether path, with symlinks resolved, is a folder
// directly inside some .pocketdock/instances folder. Only such a folder may be
// removed because a label points at it.
func UnderInstances(path string) bool {
	if !filepath.IsAbs(path) {
		return false
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	parent := filepath.Dir(real)
	return filepath.Base(parent) == instanceDir && filepath.Base(filepath.Dir(parent)) == projectDir &&
		filepath.Base(real) != instanceDir
}

// RemoveDataPath removes a destroyed sandbox's instance folder, only when it
// really lies under .pocketdock/instances: a label can say anything.
func RemoveDataPath(path string) {
	if path == "" || !UnderInstances(path) {
		return
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return
	}
	os.RemoveAll(real)
}
