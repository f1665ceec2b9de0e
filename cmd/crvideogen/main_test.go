package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// TestIDFunctionsRefuse checks how each function reports a failure it cannot
// send: an ID function reports CRVIDEOSDK_NOT_INIT through Refuse (and an
// internal error as NULL, not through Fail); the others through Fail.
func TestIDFunctionsRefuse(t *testing.T) {
	for _, f := range funcs {
		if f.Fail != "" && f.ReturnsID != "" {
			t.Errorf("function %s: an ID function reports an internal error as NULL, not through Fail", f.Name)
		}
		if (f.Refuse != "") != (f.ReturnsID != "") {
			t.Errorf("function %s: an ID function, and only one, reports CRVIDEOSDK_NOT_INIT through Refuse", f.Name)
		}
	}
}

// TestFailCallsNameExistingCallbacks checks every Fail and Refuse against the
// callbacks.
func TestFailCallsNameExistingCallbacks(t *testing.T) {
	for _, f := range funcs {
		for _, c := range []string{f.Fail, f.Refuse} {
			if c == "" {
				continue
			}
			call := failCall(f, c, "protocol.NotInit")
			if !strings.Contains(call, "protocol.NotInit") {
				t.Errorf("%s: %q passes no error code", f.Name, call)
			}
			method := call[:strings.IndexByte(call, '(')]
			if _, ok := reflect.TypeOf((*core.Callback)(nil)).Elem().MethodByName(method); !ok {
				t.Errorf("%s: %q names %s, not a callback", f.Name, c, method)
			}
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

// TestHeaderStatesBoilerplateOnce: what holds for every function or every
// callback (string lifetime, thread safety, the cookie) is said in the
// header's introductions, not repeated at each declaration.
func TestHeaderStatesBoilerplateOnce(t *testing.T) {
	h := genHeader()
	for _, s := range []string{"valid only until", "thread-safe", "echoed back", "copied before", "NUL-terminated string owned"} {
		if n := strings.Count(strings.ToLower(h), strings.ToLower(s)); n > 2 {
			t.Errorf("the header says %q %d times", s, n)
		}
	}
}
