//go:build !crvideo_faults

package main

// The shipped build has no fault injection: these are empty (inlined
// away). faults.go, built with -tags crvideo_faults (the C tests' variant
// of the library, build/faults/), replaces them.

func loadFaults() {}

func fault(string) {}

func afterCallback() {}
