package agent

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestLookupUser(t *testing.T) {
	etc := t.TempDir()
	passwd := "root:x:0:0:root:/root:/bin/sh\n# comment\nalice:x:1000:1000::/home/alice:/bin/sh\nbroken line\n"
	group := "root:x:0:\nalice:x:1000:\nwheel:x:10:alice,bob\ndocker:x:999:bob\naudio:x:29:carol,alice\n"
	if err := os.WriteFile(filepath.Join(etc, "passwd"), []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "group"), []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec     string
		uid, gid uint32
		groups   []uint32
	}{
		{"alice", 1000, 1000, []uint32{1000, 10, 29}},
		{"1000", 1000, 1000, []uint32{1000, 10, 29}},
		{"alice:wheel", 1000, 10, []uint32{10, 29}},
		{"alice:4", 1000, 4, []uint32{4, 10, 29}},
		{"root", 0, 0, []uint32{0}},
		{"4242", 4242, 0, []uint32{0}},
		{"4242:77", 4242, 77, []uint32{77}},
		{"4242:docker", 4242, 999, []uint32{999}},
	}
	for _, tc := range cases {
		cred, err := lookupUser(tc.spec, etc)
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		if cred.Uid != tc.uid || cred.Gid != tc.gid || !slices.Equal(cred.Groups, tc.groups) {
			t.Errorf("%q: got uid %d gid %d groups %v", tc.spec, cred.Uid, cred.Gid, cred.Groups)
		}
	}
	for _, spec := range []string{"bob", "alice:nogroup", "", "alice:"} {
		if _, err := lookupUser(spec, etc); err == nil {
			t.Errorf("%q: want error", spec)
		}
	}
	// Without passwd and group files only numeric ids work.
	empty := t.TempDir()
	if cred, err := lookupUser("5:6", empty); err != nil || cred.Uid != 5 || cred.Gid != 6 {
		t.Errorf("numeric without files: %+v %v", cred, err)
	}
	if _, err := lookupUser("alice", empty); err == nil {
		t.Error("name without passwd: want error")
	}
}
