package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestFuzzTargetsListed: every Go fuzz target of the module is in
// docs/SECURITY.md's fuzzing table (as "`pkg` `FuzzX`") and in
// tests/fuzz.sh, which `make fuzz` runs, and neither names one that does
// not exist.
func TestFuzzTargetsListed(t *testing.T) {
	root := ".."
	have := map[string]bool{} // "pkg FuzzX"
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`)
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(b), -1) {
			rel, _ := filepath.Rel(root, filepath.Dir(p))
			have[filepath.ToSlash(rel)+" "+m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(have) < 5 {
		t.Fatalf("found %d fuzz targets: the walk is broken", len(have))
	}
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sec := read("docs/SECURITY.md")
	sec = sec[strings.Index(sec, "## Fuzzing"):]
	sec = sec[:strings.Index(sec, "\n## ")]
	inDoc := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(\\w+)` `(Fuzz\\w+)`").FindAllStringSubmatch(sec, -1) {
		inDoc[m[1]+" "+m[2]] = true
	}
	inScript := map[string]bool{}
	for _, m := range regexp.MustCompile(`"\./(\S+) (Fuzz\w+)"`).FindAllStringSubmatch(read("tests/fuzz.sh"), -1) {
		inScript[m[1]+" "+m[2]] = true
	}
	for _, list := range []struct {
		where string
		set   map[string]bool
	}{{"docs/SECURITY.md's fuzzing table", inDoc}, {"tests/fuzz.sh", inScript}} {
		var missing, unknown []string
		for k := range have {
			if !list.set[k] {
				missing = append(missing, k)
			}
		}
		for k := range list.set {
			if !have[k] {
				unknown = append(unknown, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(unknown)
		if len(missing) > 0 || len(unknown) > 0 {
			t.Errorf("%s: lacks %v; names %v, which do not exist", list.where, missing, unknown)
		}
	}
}
