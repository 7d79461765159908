package engine

import (
	"reflect"
	"strings"
	"time"

	"github.com/containers/podman/v5/libpod/define"
)

// Record is the engine's record of a container: the fields pocketdock reads
// by name, and the whole record as plain data (Full). No Podman type leaves
// the package through it.
type Record struct {
	ID              string
	Name            string
	ImageName       string
	State           RecordState
	Config          RecordConfig
	HostConfig      *RecordHostConfig // nil when the engine sent none
	NetworkSettings *RecordNetwork    // nil when the engine sent none

	raw *define.InspectContainerData
}

// RecordState is a container's run state.
type RecordState struct {
	Status    string
	Running   bool
	StartedAt time.Time
	Pid       int
	OOMKilled bool
}

// RecordConfig is what a container was created with that commands inherit.
type RecordConfig struct {
	Env        []string
	WorkingDir string
	User       string
	Labels     map[string]string
}

// RecordHostConfig holds a container's limits and network mode.
type RecordHostConfig struct {
	Memory         int64
	PidsLimit      int64
	ReadonlyRootfs bool
	NetworkMode    string
	PortBindings   map[string][]PortBinding // "80/tcp" -> host sides
}

// RecordNetwork holds the ports a running container has published.
type RecordNetwork struct {
	Ports map[string][]PortBinding
}

// PortBinding is the host side of a published port.
type PortBinding struct {
	HostIP   string
	HostPort string
}

func newRecord(d *define.InspectContainerData) *Record {
	r := &Record{ID: d.ID, Name: d.Name, ImageName: d.ImageName, raw: d}
	if s := d.State; s != nil {
		r.State = RecordState{Status: s.Status, Running: s.Running, StartedAt: s.StartedAt, Pid: s.Pid, OOMKilled: s.OOMKilled}
	}
	if c := d.Config; c != nil {
		r.Config = RecordConfig{Env: c.Env, WorkingDir: c.WorkingDir, User: c.User, Labels: c.Labels}
	}
	if h := d.HostConfig; h != nil {
		r.HostConfig = &RecordHostConfig{Memory: h.Memory, PidsLimit: h.PidsLimit, ReadonlyRootfs: h.ReadonlyRootfs,
			NetworkMode: h.NetworkMode, PortBindings: map[string][]PortBinding{}}
		for port, binds := range h.PortBindings {
			for _, b := range binds {
				r.HostConfig.PortBindings[port] = append(r.HostConfig.PortBindings[port], PortBinding{HostIP: b.HostIP, HostPort: b.HostPort})
			}
		}
	}
	if n := d.NetworkSettings; n != nil {
		r.NetworkSettings = &RecordNetwork{Ports: map[string][]PortBinding{}}
		for port, binds := range n.Ports {
			for _, b := range binds {
				r.NetworkSettings.Ports[port] = append(r.NetworkSettings.Ports[port], PortBinding{HostIP: b.HostIP, HostPort: b.HostPort})
			}
		}
	}
	return r
}

// Full is the whole record as plain data: maps with snake_case field names
// ("HostConfig" -> "host_config", "ID" -> "id"; map keys such as label
// names stay as they are), slices, strings, numbers, booleans, and times
// as RFC 3339 strings. Absent parts (nil pointers) are left out.
func (r *Record) Full() map[string]any {
	m, _ := plain(reflect.ValueOf(r.raw)).(map[string]any)
	return m
}

var timeType = reflect.TypeOf(time.Time{})

func plain(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem())
	case reflect.Struct:
		if v.Type() == timeType {
			return v.Interface().(time.Time).UTC().Format(time.RFC3339Nano)
		}
		out := map[string]any{}
		addFields(out, v)
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := make(map[string]any, v.Len())
		iter := v.MapRange()
		for iter.Next() {
			if x := plain(iter.Value()); x != nil {
				out[iter.Key().String()] = x
			}
		}
		return out
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i))
		}
		return out
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(v.Uint())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return nil // channels, functions: not data
}

// addFields puts a struct's exported fields into out; an embedded struct's
// fields are promoted, as Go does.
func addFields(out map[string]any, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous {
			for fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					break
				}
				fv = fv.Elem()
			}
			if fv.Kind() == reflect.Struct && fv.Type() != timeType {
				addFields(out, fv)
				continue
			}
		}
		if x := plain(fv); x != nil {
			out[snake(f.Name)] = x
		}
	}
}

// snake maps a Go field name to snake_case: "HostConfig" -> "host_config",
// "ID" -> "id", "OOMKilled" -> "oom_killed".
func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		upper := r >= 'A' && r <= 'Z'
		if upper && i > 0 {
			prevLower := rs[i-1] >= 'a' && rs[i-1] <= 'z' || rs[i-1] >= '0' && rs[i-1] <= '9'
			nextLower := i+1 < len(rs) && rs[i+1] >= 'a' && rs[i+1] <= 'z'
			if prevLower || (nextLower && rs[i-1] >= 'A' && rs[i-1] <= 'Z') {
				b.WriteByte('_')
			}
		}
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
