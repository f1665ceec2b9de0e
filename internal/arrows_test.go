package internal

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// layers orders the module's packages, by import path relative to the
// module: a package may import only packages of a lower layer, except that
// internal packages may import each other. Checking every direct import
// this way covers the transitive ones too (each step goes down).
var layers = []struct {
	prefix string
	layer  int
}{
	{"protocol", 0},
	{"internal", 0},
	{"core", 1},
	{"server", 1},
	{"capi", 2},
	{"cmd", 3},
	{"e2e", 3},
}

func layerOf(rel string) (int, bool) {
	for _, l := range layers {
		if rel == l.prefix || strings.HasPrefix(rel, l.prefix+"/") {
			return l.layer, true
		}
	}
	return 0, false
}

// protocolMayImport: the wire contract is the standard library and gjson.
func protocolMayImport(path string) bool {
	return isStd(path) || path == "github.com/tidwall/gjson"
}

// isStd reports whether path is a standard library package (no dot in its
// first element).
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// checkArrow returns why from (a package, relative to the module) may not
// import path, or "" when it may.
func checkArrow(module, from, path string) string {
	if from == "protocol" && !protocolMayImport(path) {
		return "protocol imports only the standard library and gjson"
	}
	to, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return ""
	}
	lf, ok1 := layerOf(from)
	lt, ok2 := layerOf(to)
	switch {
	case !ok1 || !ok2:
		return "package not in the layer table of internal/arrows_test.go"
	case strings.HasPrefix(from, "internal/") && strings.HasPrefix(to, "internal/"):
		return ""
	case lt >= lf:
		return fmt.Sprintf("layer %d may import only lower layers, %s is layer %d", lf, to, lt)
	}
	return ""
}

// imports returns, per package directory relative to root, the imports of
// all its Go files, test files included and build constraints ignored (the
// arrows hold on every platform and in every test).
func imports(t *testing.T, root string) map[string]map[string]bool {
	pkgs := map[string]map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (n == "testdata" || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		rel = filepath.ToSlash(rel)
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, s := range f.Imports {
			path, _ := strconv.Unquote(s.Path.Value)
			pkgs[rel][path] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func modulePath(t *testing.T, root string) string {
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod has no module line")
	return ""
}

// TestImportArrows: every import in the module follows the layers above:
// capi → core → {protocol, internal}, server → {protocol, internal}, server
// never imports core (nor core server), internal never imports protocol,
// core or server, and protocol imports only the standard library and gjson.
func TestImportArrows(t *testing.T) {
	root := ".."
	module := modulePath(t, root)
	pkgs := imports(t, root)
	for _, want := range []string{"protocol", "core", "server", "capi", "internal/netconn", "internal/outbox", "internal/msgbuf", "internal/replay"} {
		if pkgs[want] == nil {
			t.Fatalf("found no Go files in %s: the walk is broken", want)
		}
	}
	dirs := make([]string, 0, len(pkgs))
	for d := range pkgs {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, from := range dirs {
		if from == "." || from == "internal" {
			continue // this test's own directory and the module root
		}
		for path := range pkgs[from] {
			if why := checkArrow(module, from, path); why != "" {
				t.Errorf("%s imports %s: %s", from, path, why)
			}
		}
	}
}

// TestCheckArrow: the rule refuses the arrows it exists to refuse.
func TestCheckArrow(t *testing.T) {
	const m = "example.com/mod"
	bad := [][2]string{
		{"server", m + "/core"},
		{"core", m + "/server"},
		{"core", m + "/capi"},
		{"internal/outbox", m + "/core"},
		{"internal/replay", m + "/server"},
		{"internal/netconn", m + "/protocol"},
		{"protocol", m + "/internal/outbox"},
		{"protocol", "github.com/gorilla/websocket"},
		{"protocol", m + "/core"},
		{"newpkg", m + "/protocol"},
	}
	for _, b := range bad {
		if checkArrow(m, b[0], b[1]) == "" {
			t.Errorf("%s → %s allowed", b[0], b[1])
		}
	}
	good := [][2]string{
		{"capi", m + "/core"},
		{"core", m + "/protocol"},
		{"core", m + "/internal/netconn"},
		{"server", m + "/internal/replay"},
		{"internal/replay", m + "/internal/outbox"},
		{"protocol", "github.com/tidwall/gjson"},
		{"protocol", "encoding/binary"},
		{"server", "github.com/gorilla/websocket"},
		{"e2e", m + "/server"},
	}
	for _, g := range good {
		if why := checkArrow(m, g[0], g[1]); why != "" {
			t.Errorf("%s → %s refused: %s", g[0], g[1], why)
		}
	}
}
