package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The capi exports call core.Mgr methods with the arguments in the
// description's order, and the cgo adapter implements core.Callback with the
// description's parameters. Both only compile when the types agree; a swapped
// pair of same-typed parameters compiles too and swaps the strings at the C
// boundary. core.Callback is generated (core/zz_callback.go); the Mgr methods
// hold logic and are written by hand, so checkCore compares their source,
// parsed with go/parser, with the description: names, types and order of every
// parameter, and the result.

// coreDir is core's source directory, seen from this package's directory.
const coreDir = "../../core"

// parseCore parses core's non-test Go files, each source text passed
// through edit first when edit is not nil.
func parseCore(t *testing.T, edit func(src []byte) []byte) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(coreDir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			src = edit(src)
		}
		f, err := parser.ParseFile(fset, p, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", coreDir)
	}
	return files
}

// mgrMethods returns core's methods on *Mgr by name.
func mgrMethods(files []*ast.File) map[string]*ast.FuncType {
	out := map[string]*ast.FuncType{}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			if star, ok := fd.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Mgr" {
					out[fd.Name.Name] = fd.Type
				}
			}
		}
	}
	return out
}

// callbackMethods returns the methods of core's Callback interface in order;
// nil when there is no such interface.
func callbackMethods(files []*ast.File) []*ast.Field {
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				if it, ok := ts.Type.(*ast.InterfaceType); ok && ts.Name.Name == "Callback" {
					return it.Methods.List
				}
			}
		}
	}
	return nil
}

// flatten lists a field list one name at a time: (a, b string) is a string, b string.
func flatten(fl *ast.FieldList) []Param {
	var out []Param
	if fl == nil {
		return out
	}
	for _, fld := range fl.List {
		typ := types.ExprString(fld.Type)
		if len(fld.Names) == 0 {
			out = append(out, Param{Type: typ})
		}
		for _, n := range fld.Names {
			out = append(out, Param{Name: n.Name, Type: typ})
		}
	}
	return out
}

// compareSig reports how ft differs from the description's parameters and
// result (the Go spelling of each name, goParamName).
func compareSig(what string, ft *ast.FuncType, want []Param, returnsString bool) []string {
	var errs []string
	got := flatten(ft.Params)
	if len(got) != len(want) {
		errs = append(errs, fmt.Sprintf("%s: core has %d parameters, the description %d", what, len(got), len(want)))
	}
	for k := 0; k < len(got) && k < len(want); k++ {
		w := Param{Name: goParamName(want[k].Name), Type: want[k].Type}
		if got[k].Name != w.Name || got[k].Type != w.Type {
			errs = append(errs, fmt.Sprintf("%s: parameter %d is %q %s in core, %q %s in the description",
				what, k, got[k].Name, got[k].Type, w.Name, w.Type))
		}
	}
	var res []string
	for _, r := range flatten(ft.Results) {
		res = append(res, r.Type)
	}
	wantRes := []string(nil)
	if returnsString {
		wantRes = []string{"string"}
	}
	if strings.Join(res, ",") != strings.Join(wantRes, ",") {
		errs = append(errs, fmt.Sprintf("%s: core returns (%s), the description (%s)",
			what, strings.Join(res, ", "), strings.Join(wantRes, ", ")))
	}
	return errs
}

// checkCore compares core's parsed source with the description: one *Mgr
// method per function and the Callback interface, method by method.
func checkCore(files []*ast.File) []string {
	var errs []string
	mgr := mgrMethods(files)
	for _, f := range funcs {
		ft, ok := mgr[goName(f.Name)]
		if !ok {
			errs = append(errs, fmt.Sprintf("function %s: core.Mgr has no method %s", f.Name, goName(f.Name)))
			continue
		}
		errs = append(errs, compareSig("Mgr."+goName(f.Name), ft, f.Params, f.ReturnsID != "")...)
	}
	methods := callbackMethods(files)
	if methods == nil {
		return append(errs, "core has no Callback interface")
	}
	if len(methods) != len(callbacks) {
		errs = append(errs, fmt.Sprintf("core.Callback has %d methods, the description %d callbacks", len(methods), len(callbacks)))
	}
	for k := 0; k < len(methods) && k < len(callbacks); k++ {
		m, cb := methods[k], callbacks[k]
		ft, ok := m.Type.(*ast.FuncType)
		if !ok || len(m.Names) != 1 {
			errs = append(errs, fmt.Sprintf("core.Callback: entry %d is not a method", k))
			continue
		}
		if m.Names[0].Name != goName(cb.Name) {
			errs = append(errs, fmt.Sprintf("core.Callback: method %d is %s, the description's callback %d is %s",
				k, m.Names[0].Name, k, goName(cb.Name)))
			continue
		}
		errs = append(errs, compareSig("Callback."+goName(cb.Name), ft, cb.Params, false)...)
	}
	return errs
}

// TestCoreMatchesDescription: core's source agrees with the description,
// parameter by parameter.
func TestCoreMatchesDescription(t *testing.T) {
	for _, e := range checkCore(parseCore(t, nil)) {
		t.Error(e)
	}
}

// TestCoreCheckCatchesSwaps swaps, in the parsed core source, each pair of
// neighbouring same-typed parameters of every Mgr method the exports call and
// of every Callback method — the mistake the compiler lets through — and
// requires checkCore to report each one.
func TestCoreCheckCatchesSwaps(t *testing.T) {
	files := parseCore(t, nil)
	if errs := checkCore(files); len(errs) > 0 {
		t.Fatalf("core does not match before any swap: %v", errs)
	}
	var sigs []struct {
		what string
		ft   *ast.FuncType
	}
	mgr := mgrMethods(files)
	for _, f := range funcs {
		sigs = append(sigs, struct {
			what string
			ft   *ast.FuncType
		}{"Mgr." + goName(f.Name), mgr[goName(f.Name)]})
	}
	for _, m := range callbackMethods(files) {
		sigs = append(sigs, struct {
			what string
			ft   *ast.FuncType
		}{"Callback." + m.Names[0].Name, m.Type.(*ast.FuncType)})
	}
	swaps := 0
	for _, s := range sigs {
		var idents []*ast.Ident // every parameter name, in order
		var typs []string
		for _, fld := range s.ft.Params.List {
			for _, n := range fld.Names {
				idents = append(idents, n)
				typs = append(typs, types.ExprString(fld.Type))
			}
		}
		for k := 0; k+1 < len(idents); k++ {
			if typs[k] != typs[k+1] {
				continue
			}
			a, b := idents[k], idents[k+1]
			a.Name, b.Name = b.Name, a.Name
			errs := checkCore(files)
			a.Name, b.Name = b.Name, a.Name
			swaps++
			if len(errs) == 0 {
				t.Errorf("%s: swapping %s and %s went unnoticed", s.what, a.Name, b.Name)
				continue
			}
			for _, e := range errs {
				if !strings.HasPrefix(e, s.what+":") {
					t.Errorf("%s: swap reported as %q", s.what, e)
				}
			}
		}
	}
	if swaps < 40 {
		t.Errorf("only %d swaps tried", swaps)
	}
	t.Logf("%d swaps of same-typed parameters, each caught", swaps)
}

// TestCoreCheckCatchesSwapInSource runs the check on a doctored copy of the
// source text of Mgr.Login, its first two strings swapped.
func TestCoreCheckCatchesSwapInSource(t *testing.T) {
	decl := regexp.MustCompile(`func \(m \*Mgr\) Login\((\w+), (\w+),`)
	doctored := false
	files := parseCore(t, func(src []byte) []byte {
		if !decl.Match(src) {
			return src
		}
		doctored = true
		return decl.ReplaceAll(src, []byte("func (m *Mgr) Login($2, $1,"))
	})
	if !doctored {
		t.Fatal("no file declares Mgr.Login(a, b, ...)")
	}
	errs := checkCore(files)
	want := `Mgr.Login: parameter 0 is "authPswd" string in core, "authAcnt" string in the description`
	if len(errs) != 2 || errs[0] != want {
		t.Fatalf("got %q, want %q and the same for parameter 1", errs, want)
	}
}

// TestCheckCatchesStaleGeneratedFiles writes every generated file into a
// scratch root, then swaps two same-typed parameters in core/zz_callback.go
// and two function names in tests/c/zz_api_surface.h: `crvideogen -check`
// (staleFiles) must name exactly those two files.
func TestCheckCatchesStaleGeneratedFiles(t *testing.T) {
	files, err := outputs()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if stale := staleFiles(root, files); len(stale) != 0 {
		t.Fatalf("fresh copy reported stale: %v", stale)
	}
	doctor := func(path, old, new string) {
		t.Helper()
		p := filepath.Join(root, path)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s lacks %q", path, old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	doctor("core/zz_callback.go", "NotifyCallAccepted(callID, usrExtDat, meetObj string)\n",
		"NotifyCallAccepted(callID, meetObj, usrExtDat string)\n")
	doctor("tests/c/zz_api_surface.h", "X(SENDCMD, \"sendCmd\") \\\n    X(SENDBUFFER, \"sendBuffer\")",
		"X(SENDBUFFER, \"sendBuffer\") \\\n    X(SENDCMD, \"sendCmd\")")
	stale := staleFiles(root, files)
	sort.Strings(stale)
	if strings.Join(stale, " ") != "core/zz_callback.go tests/c/zz_api_surface.h" {
		t.Fatalf("stale = %v", stale)
	}
}

// TestSurfaceListsEveryExport: the functions of zz_api_surface.h are exactly
// the //export functions of capi, so a test that walks the list walks the
// whole C API.
func TestSurfaceListsEveryExport(t *testing.T) {
	exported := capiExports(t)
	var listed []string
	for _, f := range surfaceFuncs() {
		if strings.HasPrefix(f.name, "crvideo_") {
			listed = append(listed, f.name)
		} else {
			listed = append(listed, export(f.name))
		}
	}
	sort.Strings(listed)
	if strings.Join(exported, " ") != strings.Join(listed, " ") {
		t.Errorf("capi exports\n  %v\nzz_api_surface.h lists\n  %v", exported, listed)
	}
}
