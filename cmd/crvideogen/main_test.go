package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// TestFailCallsNameExistingCallbacks checks every Fail against the callbacks.
func TestFailCallsNameExistingCallbacks(t *testing.T) {
	for _, f := range funcs {
		if f.Fail == "" {
			continue
		}
		call := failCall(f)
		if !strings.Contains(call, "protocol.InnerErr") {
			t.Errorf("%s: %q passes no error code", f.Name, call)
		}
		method := call[:strings.IndexByte(call, '(')]
		if _, ok := reflect.TypeOf((*core.Callback)(nil)).Elem().MethodByName(method); !ok {
			t.Errorf("%s: Fail names %s, not a callback", f.Name, method)
		}
	}
}

// TestGeneratedFilesUpToDate is `crvideogen -check` as a Go test.
func TestGeneratedFilesUpToDate(t *testing.T) {
	files, err := outputs()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range staleFiles(filepath.Join("..", ".."), files) {
		t.Errorf("%s is stale: run make generate", path)
	}
}

// TestHeaderListsEveryCode checks the enum against protocol.Codes.
func TestHeaderListsEveryCode(t *testing.T) {
	h := genHeader()
	for _, c := range protocol.Codes {
		if !strings.Contains(h, c.Name) {
			t.Errorf("header lacks %s", c.Name)
		}
	}
}
