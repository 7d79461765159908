package engine

import (
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
