package engine

import (
	"context"
	"testing"
)

func TestDefaultMemFor(t *testing.T) {
	for total, want := range map[int64]int64{0: 1 << 30, 2 << 30: 512 << 20, 4 << 30: 1 << 30, 64 << 30: 1 << 30} {
		if got := defaultMemFor(total); got != want {
			t.Errorf("defaultMemFor(%d) = %d, want %d", total, got, want)
		}
	}
}

func TestProjectQuotaMount(t *testing.T) {
	info := `22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
30 22 254:16 / /var/lib/containers rw,relatime shared:2 - xfs /dev/vdb rw,attr2,inode64,prjquota
31 22 254:32 / /srv rw,relatime shared:3 - xfs /dev/vdc rw,attr2,inode64,noquota`
	cases := map[string]bool{
		"/var/lib/containers/storage": true,
		"/var/lib/containers":         true,
		"/var/lib/containers2":        false,
		"/srv/storage":                false,
		"/root/.local/share":          false,
	}
	for path, want := range cases {
		if got := projectQuotaMount(info, path); got != want {
			t.Errorf("projectQuotaMount(%s) = %v, want %v", path, got, want)
		}
	}
}

// Every sandbox gets a memory limit unless it asks for none; a disk limit is
// refused where the engine's storage has no quotas (ext4 here) and applied
// where it has.
func TestDefaultLimits(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		spec Spec
		want int64
	}{{Spec{}, testEngine.DefaultMemLimit()}, {Spec{MemLimit: -1}, 0}, {Spec{MemLimit: 64 << 20}, 64 << 20}} {
		id := sandbox(t, c.spec)
		d, err := testEngine.Inspect(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.HostConfig.Memory != c.want {
			t.Errorf("MemLimit %d: engine has %d, want %d", c.spec.MemLimit, d.HostConfig.Memory, c.want)
		}
	}
	if m := testEngine.DefaultMemLimit(); m <= 0 || m > 1<<30 || (hostMemTotal() >= 4<<30 && m != 1<<30) {
		t.Errorf("default memory limit %d on a host with %d", m, hostMemTotal())
	}
	id, err := testEngine.Create(ctx, Spec{Name: RandomName(), DiskLimit: 1 << 30})
	if err == nil {
		testEngine.Remove(ctx, id)
	}
	if testEngine.DiskQuotas() {
		if err != nil {
			t.Errorf("disk_limit on a storage with quotas: %v", err)
		}
	} else if !IsKind(err, InvalidArgument) {
		t.Errorf("disk_limit without quotas: %v, want InvalidArgument", err)
	}
	t.Logf("FIGURE limits: default memory %d MiB (host %d MiB); disk quotas %v", testEngine.DefaultMemLimit()>>20, hostMemTotal()>>20, testEngine.DiskQuotas())
}
