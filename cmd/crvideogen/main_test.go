package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// TestDescriptionMatchesCore checks the API description against the engine it
// wraps: one callback per core.Callback method with the same parameter types in
// the same order, and one function per seed method of core.Mgr.
func TestDescriptionMatchesCore(t *testing.T) {
	cbType := reflect.TypeOf((*core.Callback)(nil)).Elem()
	if cbType.NumMethod() != len(callbacks) {
		t.Errorf("core.Callback has %d methods, the description %d callbacks", cbType.NumMethod(), len(callbacks))
	}
	for _, cb := range callbacks {
		m, ok := cbType.MethodByName(goName(cb.Name))
		if !ok {
			t.Errorf("callback %s: core.Callback has no %s", cb.Name, goName(cb.Name))
			continue
		}
		checkParams(t, cb.Name, m.Type, 0, cb.Params)
	}
	mgr := reflect.TypeOf(&core.Mgr{})
	for _, f := range funcs {
		m, ok := mgr.MethodByName(goName(f.Name))
		if !ok {
			t.Errorf("function %s: core.Mgr has no %s", f.Name, goName(f.Name))
			continue
		}
		checkParams(t, f.Name, m.Type, 1, f.Params)
		wantOut := 0
		if f.ReturnsID != "" {
			wantOut = 1
		}
		if m.Type.NumOut() != wantOut {
			t.Errorf("function %s: core returns %d values, the description %d", f.Name, m.Type.NumOut(), wantOut)
		}
		if f.Fail != "" && f.ReturnsID != "" {
			t.Errorf("function %s: an ID function reports an internal error as NULL, not through Fail", f.Name)
		}
		if (f.Refuse != "") != (f.ReturnsID != "") {
			t.Errorf("function %s: an ID function, and only one, reports CRVIDEOSDK_NOT_INIT through Refuse", f.Name)
		}
	}
}

func checkParams(t *testing.T, name string, ft reflect.Type, skip int, ps []Param) {
	t.Helper()
	if ft.NumIn()-skip != len(ps) {
		t.Errorf("%s: core has %d parameters, the description %d", name, ft.NumIn()-skip, len(ps))
		return
	}
	for k, p := range ps {
		if got := ft.In(k + skip).Kind().String(); got != p.Type {
			t.Errorf("%s: parameter %d (%s) is %s in core, %s in the description", name, k, p.Name, got, p.Type)
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
	for path, want := range map[string]string{
		"include/crvideomgr.h":        genHeader(),
		"include/CloudroomVideoMgr.h": genCpp(),
		"capi/zz_bridge.h":            genBridgeH(),
		"capi/zz_bridge.c":            genBridgeC(),
	} {
		got, err := os.ReadFile(filepath.Join("..", "..", path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("%s is stale: run make generate", path)
		}
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
