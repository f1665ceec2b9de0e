package core

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/protocol"
)

type fileCB struct {
	countingCB
	fmu   sync.Mutex
	files [][3]string // source, tmpFile, orgFileName
}

func (c *fileCB) NotifyFileData(src, tmp, org string) {
	c.fmu.Lock()
	c.files = append(c.files, [3]string{src, tmp, org})
	c.fmu.Unlock()
}

func (c *fileCB) got() [][3]string {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	return append([][3]string(nil), c.files...)
}

// TestHostileFileNames: whatever name a sender (or a compromised server)
// claims for a file, the library creates a new 0600 file directly in its
// temp directory, and reports a base name without separators or control
// characters. The server strips directories too; this checks the library
// on its own, with a fake server that passes the names through untouched.
func TestHostileFileNames(t *testing.T) {
	names := []string{
		"../../x", "../../../../../../etc/passwd", "/etc/passwd", "/tmp/abs.txt", `C:\Windows\system32\evil.dll`,
		`..\..\x.bat`, "a\x00b.txt", "\x00", strings.Repeat("A", 4096), strings.Repeat("界", 2000) + ".txt",
		"CON", "NUL.txt", "aux", "COM1", "LPT1.log", ".", "..", "", "dir/", "~/.ssh/authorized_keys",
		"name\nwith\rbreaks\t.txt", "\xff\xfe\xfd", "x/../../y", ".hidden", "a" + strings.Repeat("/", 100),
		// C1 controls and bidirectional formatting: invoice\u202efdp.exe
		// would display as invoiceexe.pdf.
		"invoice\u202efdp.exe", "c1\u0085\u009b[2J\u0080.txt", "\u2066\u2067\u2068\u2069\u202a\u202b\u202c\u202d",
		"\u200e\u200f\u061c.pdf", "line\u2028para\u2029.txt", "del\x7f.txt", "..\u202e",
	}
	parent := t.TempDir()
	dir := filepath.Join(parent, "recv")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fs := newFakeServer(t)
	cb := &fileCB{}
	m := New(Config{Callback: cb, TempDir: dir})
	defer m.Close()
	m.SetServerAddr(strings.TrimPrefix(fs.URL, "http://"))
	m.Login("a", "b", "", "me", "", "")
	waitCond(t, "login", func() bool { ok, _ := cb.get(); return ok })

	for i, name := range names {
		task := fmt.Sprint("t", i)
		body := []byte("data-" + task)
		fs.frames <- [2][]byte{{0}, protocol.Encode(&protocol.Msg{Push: protocol.PushXferBegin, Task: task, From: "peer",
			Kind: protocol.KindFile, Total: int64(len(body)), Name: name})}
		fs.frames <- [2][]byte{{1}, append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: task}), body...)}
		// As the server does: xferDone once the receiver has acknowledged
		// storing everything (chunks are stored off the reader goroutine).
		for a := range fs.acks {
			if a.Task == task && a.N == int64(len(body)) {
				break
			}
		}
		fs.frames <- [2][]byte{{0}, protocol.Encode(&protocol.Msg{Push: protocol.PushXferDone, Task: task})}
		waitCond(t, "file "+task, func() bool { return len(cb.got()) > i })
		f := cb.got()[i]
		tmp, org := f[1], f[2]
		if filepath.Dir(tmp) != dir {
			t.Errorf("name %q: file created at %q, outside %q", name, tmp, dir)
		}
		if org == "" || len(org) > 255 || strings.ContainsAny(org, "/\\\x00\n\r") || org == "." || org == ".." ||
			strings.ContainsFunc(org, func(r rune) bool { return protocol.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }) ||
			strings.ContainsAny(org, "\u2028\u2029") || (utf8.ValidString(name) && org != protocol.BaseName(name)) {
			t.Errorf("name %q: orgFileName %q", name, org)
		}
		if name == "invoice\u202efdp.exe" && org != "invoicefdp.exe" {
			t.Errorf("name %q: orgFileName %q, want %q", name, org, "invoicefdp.exe")
		}
		st, err := os.Stat(tmp)
		if err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
			t.Errorf("name %q: %v %v", name, st, err)
			continue
		}
		if got, _ := os.ReadFile(tmp); string(got) != string(body) {
			t.Errorf("name %q: content %q", name, got)
		}
	}
	// Nothing was created anywhere else under the parent.
	ents, _ := os.ReadDir(parent)
	if len(ents) != 1 || ents[0].Name() != "recv" {
		t.Errorf("parent dir holds %v", ents)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != len(names) {
		t.Errorf("%d files in the temp dir for %d transfers", len(ents), len(names))
	}
}
