//go:build !crvideo_faults

package main

import "github.com/crvideomgr/crvideomgr/core"

// The shipped build has no fault injection: these are empty (inlined away)
// and the callbacks go straight to the C adapter. faults.go, built with
// -tags crvideo_faults (the C tests' variant of the library, build/faults/),
// replaces them.

func loadFaults() {}

func fault(string) {}

var dispatchCallback core.Callback = cAdapter{}
