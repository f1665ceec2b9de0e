package main

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/server"
)

// srvFlag is one flag as `crvideosrv -h` prints it.
type srvFlag struct {
	name, typ, def string // def "" when the default is the zero value
}

// helpFlags parses `crvideosrv -h`.
func helpFlags(t *testing.T) map[string]srvFlag {
	t.Helper()
	code, _, help := runCmd("-h")
	if code != 2 {
		t.Fatalf("-h: exit %d", code)
	}
	flags := map[string]srvFlag{}
	head := regexp.MustCompile(`^  -([a-z][a-z-]*)(?: (\S+))?$`)
	def := regexp.MustCompile(`\(default ("[^"]*"|[^)]*)\)$`)
	var last string
	for _, line := range strings.Split(help, "\n") {
		if m := head.FindStringSubmatch(line); m != nil {
			last = m[1]
			flags[last] = srvFlag{name: m[1], typ: m[2]}
			continue
		}
		if m := def.FindStringSubmatch(line); m != nil && last != "" {
			f := flags[last]
			f.def = strings.Trim(m[1], `"`)
			flags[last] = f
		}
	}
	if len(flags) < 25 {
		t.Fatalf("parsed only %d flags from -h: the parse is broken:\n%s", len(flags), help)
	}
	return flags
}

// usageBlock returns the server's synopsis lines of text: from the first line
// starting with prefix+"crvideosrv [" up to the first "crvideosrv account" line.
func usageBlock(t *testing.T, text, prefix, where string) string {
	t.Helper()
	start := strings.Index(text, prefix+"crvideosrv [")
	if start < 0 {
		t.Fatalf("%s: no usage block", where)
	}
	end := strings.Index(text[start:], prefix+"crvideosrv account")
	if end < 0 {
		t.Fatalf("%s: usage block without the account lines", where)
	}
	return text[start : start+end]
}

// sameDefault reports whether a value written in a doc ("30s", "1m",
// "1024", "24h") is the flag's default as -h prints it.
func sameDefault(f srvFlag, doc string) bool {
	if f.typ == "duration" {
		want, err1 := time.ParseDuration(f.def)
		got, err2 := time.ParseDuration(doc)
		return err1 == nil && err2 == nil && want == got
	}
	return doc == f.def
}

// TestUsageBlocksListEveryFlag: README.md's and main.go's synopses of the
// server name every flag of `crvideosrv -h` and no other, and every value
// they show that is not a placeholder (DIR, FILE, N…) is the flag's default.
func TestUsageBlocksListEveryFlag(t *testing.T) {
	flags := helpFlags(t)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	opt := regexp.MustCompile(`-([a-z][a-z-]*)(?: ([^\s\]]+))?`)
	placeholder := regexp.MustCompile(`^[A-Z]+$`)
	for _, doc := range []struct{ where, block string }{
		{"README.md", usageBlock(t, string(readme), "", "README.md")},
		{"cmd/crvideosrv/main.go", usageBlock(t, string(src), "//\t", "main.go")},
	} {
		seen := map[string]bool{}
		for _, m := range opt.FindAllStringSubmatch(doc.block, -1) {
			name, val := m[1], m[2]
			f, ok := flags[name]
			if !ok {
				t.Errorf("%s: usage names -%s, which crvideosrv does not have", doc.where, name)
				continue
			}
			seen[name] = true
			if val == "" || strings.HasPrefix(val, "-") || placeholder.MatchString(val) {
				continue
			}
			if !sameDefault(f, val) {
				t.Errorf("%s: usage shows -%s %s, the default is %q", doc.where, name, val, f.def)
			}
		}
		var missing []string
		for name := range flags {
			if !seen[name] {
				missing = append(missing, "-"+name)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: usage lacks %s", doc.where, strings.Join(missing, " "))
		}
	}
}

// docQuantity matches a quantity as the docs write it ("100 MiB", "30 s",
// "1 min", "24 h", "100,000", "64"), at the start of a string.
var docQuantity = regexp.MustCompile(`^([0-9][0-9,]*(?:\.[0-9]+)?)(?: ?(KiB|MiB|GiB|ms|s|min|h)\b)?`)

// quantity returns the number and the unit (empty: a plain number) of the
// quantity s starts with; matchesDefault converts them to the flag's unit.
func quantity(s string) (num float64, unit string, ok bool) {
	m := docQuantity.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	num, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	return num, m[2], err == nil
}

// matchesDefault reports whether the doc's quantity (num, unit) is flag f's
// default.
func matchesDefault(f srvFlag, num float64, unit string) bool {
	if f.typ == "duration" {
		want, err := time.ParseDuration(f.def)
		if err != nil {
			return false
		}
		mult := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "min": time.Minute, "h": time.Hour}[unit]
		return mult != 0 && time.Duration(num*float64(mult)) == want
	}
	want, err := strconv.ParseFloat(f.def, 64)
	if err != nil {
		return false
	}
	mult := map[string]float64{"": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[unit]
	return mult != 0 && num*mult == want
}

// computedDefaults are the flags whose default 0 stands for a value derived
// at start, with the text every doc must give for it.
var computedDefaults = map[string]string{
	"stall-timeout": "2 × ping timeout + resume grace",
	"max-conns":     "open-file limit − 256",
}

// TestDocDefaultsMatchFlags: every default the docs state for a server flag
// is the flag's default — SECURITY.md's "Limits and their defaults" table
// (the default column of each row whose "where" names a flag), and every
// "`-flag` … (default X" in README.md, SECURITY.md and protocol.md.
func TestDocDefaultsMatchFlags(t *testing.T) {
	flags := helpFlags(t)
	if d := 2*server.DefaultPingTimeout + server.DefaultResumeGrace; d != 50*time.Second {
		t.Fatalf("the computed stall timeout is %v; update computedDefaults and the docs' 50 s", d)
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	sec := read("../../docs/SECURITY.md")

	// The table.
	tbl := sec[strings.Index(sec, "## Limits and their defaults"):]
	tbl = tbl[:strings.Index(tbl, "\n\n|")+1+strings.Index(tbl[strings.Index(tbl, "\n\n|")+1:], "\n\n")]
	flagRef := regexp.MustCompile("`-([a-z][a-z-]*)`")
	rows := 0
	for _, line := range strings.Split(tbl, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || strings.HasPrefix(strings.TrimSpace(cells[1]), "---") {
			continue
		}
		def, where := strings.TrimSpace(cells[2]), cells[3]
		for _, m := range flagRef.FindAllStringSubmatch(where, -1) {
			f, ok := flags[m[1]]
			if !ok {
				t.Errorf("SECURITY.md table: row %q names -%s, which crvideosrv does not have", cells[1], m[1])
				continue
			}
			rows++
			if text, ok := computedDefaults[f.name]; ok {
				if f.def != "" {
					t.Errorf("-%s has default %q now, not a computed one", f.name, f.def)
				}
				if !strings.Contains(def, text) {
					t.Errorf("SECURITY.md table: -%s default %q does not say %q", f.name, def, text)
				}
				continue
			}
			num, unit, ok := quantity(strings.TrimPrefix(def, "for "))
			if !ok || !matchesDefault(f, num, unit) {
				t.Errorf("SECURITY.md table: -%s default %q, the flag's is %q", f.name, def, f.def)
			}
		}
	}
	if rows < 15 {
		t.Fatalf("checked only %d table rows: the parse is broken", rows)
	}

	// "`-flag` … (default X" in the prose of every doc.
	prose := regexp.MustCompile("`-([a-z][a-z-]*)`([^`]{0,40}?)\\(default:? ([^;)]+)")
	for _, path := range []string{"../../README.md", "../../docs/SECURITY.md", "../../docs/protocol.md"} {
		for _, m := range prose.FindAllStringSubmatch(read(path), -1) {
			f, ok := flags[m[1]]
			if !ok {
				t.Errorf("%s: names -%s, which crvideosrv does not have", path, m[1])
				continue
			}
			if strings.Contains(m[2], "`") || strings.Contains(m[2], ".") {
				continue // the default belongs to something else
			}
			if text, ok := computedDefaults[f.name]; ok {
				if !strings.Contains(strings.Join(strings.Fields(m[3]), " "), text) {
					t.Errorf("%s: -%s (default %s), want %q", path, f.name, m[3], text)
				}
				continue
			}
			num, unit, ok := quantity(m[3])
			if !ok || !matchesDefault(f, num, unit) {
				t.Errorf("%s: -%s (default %s), the flag's is %q", path, f.name, m[3], f.def)
			}
		}
	}
}
