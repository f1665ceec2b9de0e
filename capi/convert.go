package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"runtime/debug"
	"unsafe"
)

// This file holds the boundary helpers every export uses: string conversion in
// both directions and panic recovery. Each concern lives here and nowhere else.

// goString copies a C string argument into Go; NULL reads as "".
func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// cString returns a malloc'd copy of s for the application, who frees it
// with crvideo_free. An embedded NUL ends the C string early.
func cString(s string) *C.char { return C.CString(s) }

// cStrs are C copies of callback string arguments, valid until free.
type cStrs []*C.char

// cStrings copies callback string arguments into C memory.
func cStrings(ss ...string) cStrs {
	c := make(cStrs, len(ss))
	for k, s := range ss {
		c[k] = C.CString(s)
	}
	return c
}

// free releases the copies once the callback has returned.
func (c cStrs) free() {
	for _, p := range c {
		C.free(unsafe.Pointer(p))
	}
}

// guard is deferred first by every export: it turns a panic into a log line
// and, when the export has one, its CRVIDEOSDK_INNER_ERR outcome (onPanic),
// so that no Go panic ever unwinds into the host.
func guard(name string, onPanic func()) {
	r := recover()
	if r == nil {
		return
	}
	logPanic(name, r)
	if onPanic != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					logger().Error("internal error while reporting an internal error", "func", name, "panic", fmt.Sprint(r))
				}
			}()
			onPanic()
		}()
	}
}

// logPanic logs a recovered panic with the stack that raised it (called
// while the panicking goroutine unwinds: from guard, and as the dispatcher's
// OnPanic for a panic inside a callback's dispatch).
func logPanic(name string, r any) {
	logger().Error("internal error (CRVIDEOSDK_INNER_ERR)", "func", name, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
}
