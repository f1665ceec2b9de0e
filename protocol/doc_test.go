package protocol

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// TestDocListsEveryMessage: docs/protocol.md, the contract between server
// and library, names every operation, push, JSON field, frame type, limit
// field and error code this package defines, so the doc cannot fall behind
// the code.
func TestDocListsEveryMessage(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	mention := func(what, v string) {
		if !strings.Contains(text, "`"+v+"`") {
			t.Errorf("docs/protocol.md does not mention %s `%s`", what, v)
		}
	}
	// Every Op* and Push* string constant of msg.go.
	fs := token.NewFileSet()
	f, err := parser.ParseFile(fs, "msg.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		vs, ok := node.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range vs.Names {
			if i >= len(vs.Values) || !(strings.HasPrefix(name.Name, "Op") || strings.HasPrefix(name.Name, "Push")) {
				continue
			}
			if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				mention(name.Name, v)
				n++
			}
		}
		return true
	})
	if n < 30 {
		t.Fatalf("found only %d Op/Push constants: the parse is broken", n)
	}
	// Every JSON field of Msg and Limits.
	for _, typ := range []reflect.Type{reflect.TypeOf(Msg{}), reflect.TypeOf(Limits{})} {
		for i := 0; i < typ.NumField(); i++ {
			tag := strings.Split(typ.Field(i).Tag.Get("json"), ",")[0]
			if tag != "" && tag != "-" {
				mention(typ.Name()+" field", tag)
			}
		}
	}
	// Every error code, by number.
	for _, c := range Codes {
		if !strings.Contains(text, strconv.Itoa(c.Code)) {
			t.Errorf("docs/protocol.md does not mention code %d (%s)", c.Code, c.Name)
		}
	}
}
