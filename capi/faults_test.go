package main

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fault injection is in the test build only: without the crvideo_faults
// tag no Go file of the library names CRVIDEOMGR_TEST_FAULT (so the shipped
// library cannot read it), with it faults.go is compiled.
// (make test-nofaults checks the built .so files the same way.)
func TestShippedBuildHasNoFaultHook(t *testing.T) {
	files := func(tags ...string) []string {
		ctx := build.Default
		ctx.CgoEnabled = true
		ctx.BuildTags = tags
		pkg, err := ctx.ImportDir(".", 0)
		if err != nil {
			t.Fatal(err)
		}
		return append(pkg.GoFiles, pkg.CgoFiles...)
	}
	for _, f := range files() {
		src, err := os.ReadFile(filepath.Clean(f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "CRVIDEOMGR_TEST_FAULT") || strings.Contains(string(src), "getenv") {
			t.Errorf("%s, in the shipped build, reads the environment or names CRVIDEOMGR_TEST_FAULT", f)
		}
	}
	with := strings.Join(files("crvideo_faults"), " ")
	for _, f := range []string{"faults.go"} {
		if !strings.Contains(with, f) {
			t.Errorf("the test build lacks %s (files: %s)", f, with)
		}
	}
}
