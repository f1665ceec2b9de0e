package main

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// refSDK are the SDK-level functions REFERENCE §4 names beside the
// CloudroomVideoMgr ones (funcs); docs/capi.md lists what the library
// exports beyond them.
var refSDK = []string{"crvideo_init", "crvideo_uninit", "crvideo_setServerAddr", "crvideo_setCallbacks",
	"crvideo_strerror", "crvideo_version", "crvideo_free"}

// capiExports returns the names of capi's //export functions, sorted.
func capiExports(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "capi", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^//export (\w+)$`)
	var names []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			names = append(names, string(m[1]))
		}
	}
	sort.Strings(names)
	return names
}

// TestExportsMatchHeaderAndDoc: the //export functions of capi are exactly
// the functions include/crvideomgr.h declares, and those beyond REFERENCE §4
// are exactly the ones docs/capi.md's "Functions beyond REFERENCE §4" block
// declares, as many as its first paragraph says.
func TestExportsMatchHeaderAndDoc(t *testing.T) {
	root := filepath.Join("..", "..")
	exported := map[string]bool{}
	for _, n := range capiExports(t) {
		exported[n] = true
	}
	h, err := os.ReadFile(filepath.Join(root, "include", "crvideomgr.h"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^CRVIDEO_API [^(]*?\b(crvideo\w+)\(`).FindAllStringSubmatch(string(h), -1) {
		declared[m[1]] = true
	}
	if len(exported) < 20 || len(declared) < 20 {
		t.Fatalf("found %d exports and %d declarations: the parse is broken", len(exported), len(declared))
	}
	for n := range exported {
		if !declared[n] {
			t.Errorf("capi exports %s, which the header does not declare", n)
		}
	}
	for n := range declared {
		if !exported[n] {
			t.Errorf("the header declares %s, which capi does not export", n)
		}
	}

	ref := map[string]bool{}
	for _, n := range refSDK {
		ref[n] = true
	}
	for _, f := range funcs {
		ref[export(f.Name)] = true
	}
	var extra []string
	for n := range exported {
		if !ref[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)

	doc, err := os.ReadFile(filepath.Join(root, "docs", "capi.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	sec := text[strings.Index(text, "## Functions beyond REFERENCE §4"):]
	block := sec[strings.Index(sec, "```c")+4:]
	block = block[:strings.Index(block, "```")]
	var listed []string
	for _, m := range regexp.MustCompile(`\b(crvideo\w+)\(`).FindAllStringSubmatch(block, -1) {
		listed = append(listed, m[1])
	}
	sort.Strings(listed)
	if strings.Join(listed, " ") != strings.Join(extra, " ") {
		t.Errorf("docs/capi.md lists %v beyond REFERENCE §4; the library exports %v", listed, extra)
	}
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	m := regexp.MustCompile(`REFERENCE §4\s+plus\s+(?:the\s+)?(\w+)\s+functions`).FindStringSubmatch(text)
	if m == nil || len(extra) >= len(words) || m[1] != words[len(extra)] {
		t.Errorf("docs/capi.md's count of functions beyond REFERENCE §4 is %v, want %q", m, words[min(len(extra), len(words)-1)])
	}
}
