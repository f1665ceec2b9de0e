//go:build crvideo_faults

package main

/*
#include <stdlib.h>
*/
import "C"

import "sync/atomic"

// The tests' fault injection, in the test build of the library only
// (`-tags crvideo_faults`, the Makefile's build/faults/libcrvideomgr.so):
// the environment variable CRVIDEOMGR_TEST_FAULT, read with C's getenv at
// crvideo_init (the host may setenv after load), names a CloudroomVideoMgr
// function whose export then panics on purpose, or "dispatch": a panic
// after every callback (afterCallback, called by cAdapter). The tests use it to
// check that a panic inside the library becomes CRVIDEOSDK_INNER_ERR or a
// log line, not a crash. nofaults.go is the shipped build's counterpart.
var (
	faultFunc atomic.Value
	cFaultEnv = C.CString("CRVIDEOMGR_TEST_FAULT") // allocated once, never freed
)

func loadFaults() { faultFunc.Store(goString(C.getenv(cFaultEnv))) }

// fault panics if fn is the function named by CRVIDEOMGR_TEST_FAULT.
func fault(fn string) {
	if f, _ := faultFunc.Load().(string); f == fn {
		panic("CRVIDEOMGR_TEST_FAULT: injected fault in " + fn)
	}
}

// afterCallback panics if CRVIDEOMGR_TEST_FAULT is "dispatch"; every
// cAdapter method calls it once its C callback has returned.
func afterCallback() {
	if f, _ := faultFunc.Load().(string); f == "dispatch" {
		panic("CRVIDEOMGR_TEST_FAULT: injected fault after a callback")
	}
}
