package main

// The API surface as the C tests enumerate it (tests/c/zz_api_surface.h): every
// error code, every exported function and every callback, as X-macro lists, so
// that no test keeps its own copy of a list that grows with the API.

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/crvideomgr/crvideomgr/protocol"
)

var sdkDeclRE = regexp.MustCompile(`(?m)^CRVIDEO_API [^;(]*\b(crvideo_\w+)\(`)

// sdkFuncs lists the SDK-level functions (crvideo_*) in the order sdkDecls
// declares them: the header text is their description.
func sdkFuncs() []string {
	var out []string
	for _, m := range sdkDeclRE.FindAllStringSubmatch(sdkDecls, -1) {
		out = append(out, m[1])
	}
	return out
}

// surfaceFunc is one exported function as the C tests name it: id is its name
// in capitals without prefix, name is "crvideo_init" for the SDK level and the
// seed's method name ("login") for the crvideomgr_ functions.
type surfaceFunc struct{ id, name string }

func surfaceFuncs() []surfaceFunc {
	var out []surfaceFunc
	for _, n := range sdkFuncs() {
		out = append(out, surfaceFunc{strings.ToUpper(strings.TrimPrefix(n, "crvideo_")), n})
	}
	for _, f := range funcs {
		out = append(out, surfaceFunc{strings.ToUpper(f.Name), f.Name})
	}
	return out
}

// xList is "#define NAME(X) \" followed by one "    X(item) \" line per item.
func xList(b *strings.Builder, name string, items []string) {
	fmt.Fprintf(b, "#define %s(X) \\\n", name)
	for k, it := range items {
		end := " \\"
		if k == len(items)-1 {
			end = ""
		}
		fmt.Fprintf(b, "    X(%s)%s\n", it, end)
	}
}

// genCSurface is tests/c/zz_api_surface.h.
func genCSurface() string {
	var b strings.Builder
	b.WriteString("/* zz_api_surface.h: the API surface of crvideomgr.h as lists for the C tests.\n * " + genNote + "\n *\n" +
		" * Each CRV_EACH_*(X) applies the macro X to every item, in the header's order, with\n" +
		" * nothing between the items: X supplies its own separator. */\n")
	b.WriteString("#ifndef CRV_TEST_ZZ_API_SURFACE_H\n#define CRV_TEST_ZZ_API_SURFACE_H\n\n")

	var codes []string
	for _, c := range protocol.Codes {
		codes = append(codes, c.Name)
	}
	b.WriteString("/* CRV_EACH_CODE: every value of CRVIDEOSDK_ERR_DEF, in ascending order. */\n")
	xList(&b, "CRV_EACH_CODE", codes)
	fmt.Fprintf(&b, "#define CRV_NCODES %d\n\n", len(codes))
	fmt.Fprintf(&b, "/* CRV_UNKNOWN_CODE_TEXT is crvideo_strerror's text for a value not in CRVIDEOSDK_ERR_DEF. */\n"+
		"#define CRV_UNKNOWN_CODE_TEXT %q\n\n", protocol.CodeText(-1))

	var fns []string
	for _, f := range surfaceFuncs() {
		fns = append(fns, fmt.Sprintf("%s, %q", f.id, f.name))
	}
	b.WriteString("/* CRV_EACH_FUNCTION: X(ID, name) for every exported function, the crvideo_ ones first\n" +
		" * (name \"crvideo_init\"), then the crvideomgr_ ones (name the seed's method: \"login\").\n" +
		" * ID is the name in capitals without its prefix (INIT, LOGIN). */\n")
	xList(&b, "CRV_EACH_FUNCTION", fns)
	fmt.Fprintf(&b, "#define CRV_NFUNCTIONS %d\n\n", len(fns))

	var cbs []string
	for _, cb := range callbacks {
		cbs = append(cbs, cb.Name)
	}
	b.WriteString("/* CRV_EACH_CALLBACK: the name of every field of CRVideoMgrCallbacks. */\n")
	xList(&b, "CRV_EACH_CALLBACK", cbs)
	fmt.Fprintf(&b, "#define CRV_NCALLBACKS %d\n\n", len(cbs))
	b.WriteString("#endif\n")
	return b.String()
}
