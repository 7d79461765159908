package luaapi_test

import (
	"sort"
	"testing"

	"github.com/pocketdock/pocketdock/luaapi"
)

// Every function and method the module exports has a help entry, and every
// help entry names something that exists.
func TestHelpCoversEveryExport(t *testing.T) {
	s := newState(t)
	exported := map[string]bool{}
	for _, n := range s.M.Exported() {
		exported[n] = true
	}
	docs := map[string]bool{}
	for _, n := range luaapi.DocNames() {
		docs[n] = true
	}
	var missing, stale []string
	for n := range exported {
		if !docs[n] {
			missing = append(missing, n)
		}
	}
	for n := range docs {
		if !exported[n] && !extraDoc[n] {
			stale = append(stale, n)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("exported without a help entry: %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("help entries for nothing exported: %v", stale)
	}
}

// extraDoc are entries for methods of values made later (processes, sessions).
var extraDoc = map[string]bool{
	"Process:running": true, "Process:wait": true, "Process:kill": true, "Process:read": true, "Process:peek": true,
	"Session:run": true, "Session:close": true,
}
