package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidID(t *testing.T) {
	good := []string{"", "bob", "u-0b0e", "用户", "a b", "émile", "x\u00a0y", "\ufffd", "\u202e", "a.b@c/d", strings.Repeat("界", 500)}
	bad := []string{"bob\x00", "\x00", "a\x01b", "tab\t", "new\nline", "\x1f", "del\x7f", "c1\u0080", "c1\u0085", "c1\u009f",
		"\xff", "a\xc3", "\xc2\x80", "\xed\xa0\x80" /* a surrogate */}
	for _, s := range good {
		if !ValidID(s) {
			t.Errorf("ValidID(%q) = false", s)
		}
	}
	for _, s := range bad {
		if ValidID(s) {
			t.Errorf("ValidID(%q) = true", s)
		}
	}
	// ValidID agrees with IsControl on every code point.
	for r := rune(0); r < 0x3000; r++ {
		if got := ValidID(string(r)); got == IsControl(r) && utf8.ValidRune(r) {
			t.Errorf("ValidID(%U) = %v, IsControl %v", r, got, IsControl(r))
		}
	}
}

// TestBaseName: the one rule the server and the library apply to a
// received file name (core/filename_test.go checks it end to end).
func TestBaseName(t *testing.T) {
	cases := map[string]string{
		"report.pdf":                "report.pdf",
		"/etc/passwd":               "passwd",
		"../../x":                   "x",
		`..\..\windows\system32\x`:  "x",
		"C:\\evil.exe":              "evil.exe",
		"a\x00b":                    "ab",
		"..":                        "file",
		".":                         "file",
		"":                          "file",
		"dir/":                      "file",
		"\xff\xfename":              "name",
		"tab\tnew\nline":            "tabnewline",
		strings.Repeat("界", 200):    strings.Repeat("界", 85),
		"CON":                       "CON",
		"invoice\u202efdp.exe":      "invoicefdp.exe",
		"c1\u0085\u009b\u0080x.txt": "c1x.txt",
		"del\x7f.txt":               "del.txt",
		"\u2066a\u2067b\u2068c\u2069\u202a\u202b\u202c\u202d.txt": "abc.txt",
		"\u200eleft\u200fright\u061c.txt":                         "leftright.txt",
		"line\u2028para\u2029.txt":                                "linepara.txt",
		".\u202e.":                                                "file",
		"a/\u202e":                                                "file",
		"日本語 ファイル.txt":                                            "日本語 ファイル.txt",
		strings.Repeat("a", 254) + "界":                            strings.Repeat("a", 254),
	}
	for in, want := range cases {
		got := BaseName(in)
		if got != want {
			t.Errorf("BaseName(%q) = %q, want %q", in, got, want)
		}
		if again := BaseName(got); again != got {
			t.Errorf("BaseName(BaseName(%q)) = %q, not %q", in, again, got)
		}
	}
}
