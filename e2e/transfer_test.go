package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func randBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

func TestSendCmd(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")

	max := base64.StdEncoding.EncodeToString(randBytes(protocol.MaxCmdBytes, 1))
	task := a.SendCmd("bob", max)
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != 0 || ev.S[1] != "" {
		t.Fatalf("SendCmdRlst %v", ev)
	}
	ev := b.r.wait(t, "NotifyCmdData", nil)
	if ev.S[0] != "alice" || ev.S[1] != max {
		t.Fatalf("NotifyCmdData from %q altered (%d chars, want %d)", ev.S[0], len(ev.S[1]), len(max))
	}

	over := base64.StdEncoding.EncodeToString(randBytes(protocol.MaxCmdBytes+1, 2))
	task = a.SendCmd("bob", over)
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != protocol.SendCmdLarge {
		t.Fatalf("50 KiB + 1: %v, want 1100", ev)
	}
	for _, bad := range []string{"not base64!", "aGk", "aGk=\n", "a GkK"} {
		task = a.SendCmd("bob", bad)
		if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != protocol.Base64CovErr {
			t.Fatalf("sendCmd(%q): %v, want 13", bad, ev)
		}
	}
	task = a.SendCmd("nobody", "aGk=")
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != protocol.SendDataTargetInvalid {
		t.Fatalf("offline target: %v, want 1102", ev)
	}
	// sendCmd tasks cannot be cancelled.
	task = a.SendCmd("bob", "aGk=")
	a.CancelSend(task)
	if ev := a.r.wait(t, "CancelSendRlst", withS(task)); ev.I[0] != protocol.TransIDInvalid {
		t.Fatalf("cancel sendCmd: %v, want 1104", ev)
	}
	if b.r.count("NotifyCmdData", nil) != 1 {
		waitFor(t, waitTimeout, "second cmd", func() bool { return b.r.count("NotifyCmdData", nil) == 2 })
	}
}

func TestSendBufferWithProgress(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	data := randBytes(3<<20+17, 3)
	b64 := base64.StdEncoding.EncodeToString(data)
	task := a.SendBuffer("bob", b64)
	if ev := a.r.wait(t, "SendBufferRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("SendBufferRlst %v", ev)
	}
	got := b.r.wait(t, "NotifyBufferData", nil)
	if got.S[0] != "alice" || got.S[1] != b64 {
		t.Fatalf("NotifyBufferData from %q altered", got.S[0])
	}
	checkProgress(t, a.r, task, len(data))

	task = a.SendBuffer("bob", "%%%")
	if ev := a.r.wait(t, "SendBufferRlst", withS(task)); ev.I[0] != protocol.Base64CovErr {
		t.Fatalf("bad base64 buffer %v", ev)
	}
	task = a.SendBuffer("nobody", "aGk=")
	if ev := a.r.wait(t, "SendBufferRlst", withS(task)); ev.I[0] != protocol.SendDataTargetInvalid {
		t.Fatalf("offline buffer target %v", ev)
	}
}

// checkProgress asserts the task reported progress at start (0) and end
// (total), monotonically, and before its result.
func checkProgress(t *testing.T, r *rec, task string, total int) {
	t.Helper()
	var seen []int
	for _, ev := range r.all() {
		if ev.Name == "SendProgress" && ev.S[0] == task {
			if ev.I[1] != total {
				t.Fatalf("progress total %d, want %d", ev.I[1], total)
			}
			seen = append(seen, ev.I[0])
		}
	}
	if len(seen) < 2 || seen[0] != 0 || seen[len(seen)-1] != total {
		t.Fatalf("progress %v: want 0 first and %d last", seen, total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("progress went backwards: %v", seen)
		}
	}
}

func TestSendFileErrorsAndNames(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.bin")
	task := a.SendFile("bob", missing)
	if ev := a.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.FileNotExist || ev.S[1] != missing {
		t.Fatalf("missing file %v, want 1400 with the name", ev)
	}
	task = a.SendFile("bob", dir) // a directory cannot be read as a file
	if ev := a.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.FileReadErr {
		t.Fatalf("directory %v, want 1401", ev)
	}

	src := filepath.Join(dir, "report.final.PDF")
	body := randBytes(300_000, 4)
	os.WriteFile(src, body, 0o644)
	task = a.SendFile("bob", src)
	if ev := a.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != 0 || ev.S[1] != src {
		t.Fatalf("SendFileRlst %v", ev)
	}
	ev := b.r.wait(t, "NotifyFileData", nil)
	if ev.S[0] != "alice" || ev.S[2] != "report.final.PDF" {
		t.Fatalf("NotifyFileData %q", ev.S)
	}
	checkReceivedFile(t, b, ev.S[1], body)
	checkProgress(t, a.r, task, len(body))

	// Empty files travel too.
	empty := filepath.Join(dir, "empty.txt")
	os.WriteFile(empty, nil, 0o644)
	task = a.SendFile("bob", empty)
	if ev := a.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("empty file %v", ev)
	}
	ev = b.r.wait(t, "NotifyFileData", func(ev Ev) bool { return ev.S[2] == "empty.txt" })
	checkReceivedFile(t, b, ev.S[1], nil)
}

// checkReceivedFile asserts path is a new 0600 file directly in the
// client's temp dir with the expected content.
func checkReceivedFile(t *testing.T, c *client, path string, want []byte) {
	t.Helper()
	if filepath.Dir(path) != c.tmp {
		t.Fatalf("received file %s is not directly in %s", path, c.tmp)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("received file mode %v, want 0600", st.Mode().Perm())
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatalf("received %d bytes, want %d (content differs)", len(got), len(want))
	}
}

func TestCancelSend(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	data := base64.StdEncoding.EncodeToString(randBytes(16<<20, 5))
	task := a.SendBuffer("bob", data)
	a.r.wait(t, "SendProgress", withS(task))
	a.CancelSend(task)
	ev := a.r.wait(t, "CancelSendRlst", withS(task))
	if ev.I[0] != 0 {
		// The transfer may only have won if it had already finished.
		if _, done := a.r.find("SendBufferRlst", withS(task)); !done || ev.I[0] != protocol.TransIDInvalid {
			t.Fatalf("CancelSendRlst %v", ev)
		}
		t.Fatal("16 MiB transfer finished before the cancel: test did not exercise cancel")
	}
	b.r.wait(t, "NotifyCancelSend", withS(task))
	// Cancelled again / unknown: 1104; never a result for the task.
	a.CancelSend(task)
	waitFor(t, waitTimeout, "second cancel", func() bool { return a.r.count("CancelSendRlst", withS(task)) == 2 })
	evs := a.r.all()
	for _, ev := range evs {
		if ev.Name == "CancelSendRlst" && ev.S[0] == task && ev.I[0] != 0 && ev.I[0] != protocol.TransIDInvalid {
			t.Fatalf("second cancel %v", ev)
		}
	}
	a.CancelSend("no-such-task")
	if ev := a.r.wait(t, "CancelSendRlst", withS("no-such-task")); ev.I[0] != protocol.TransIDInvalid {
		t.Fatalf("unknown task %v", ev)
	}
	// A fence: a later sendCmd round trip; then no result and no data for the task.
	fence := a.SendCmd("bob", "aGk=")
	a.r.wait(t, "SendCmdRlst", withS(fence))
	if _, ok := a.r.find("SendBufferRlst", withS(task)); ok {
		t.Fatal("SendBufferRlst after a successful cancel")
	}
	if _, ok := b.r.find("NotifyBufferData", nil); ok {
		t.Fatal("receiver got the cancelled buffer")
	}

	// A finished task: 1104.
	small := a.SendBuffer("bob", "aGVsbG8=")
	a.r.wait(t, "SendBufferRlst", withS(small))
	a.CancelSend(small)
	if ev := a.r.wait(t, "CancelSendRlst", withS(small)); ev.I[0] != protocol.TransIDInvalid {
		t.Fatalf("cancel finished %v", ev)
	}
}

func TestReceiverGoneMidTransfer1000(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	src := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(src, randBytes(64<<20, 6), 0o644)
	task := a.SendFile("bob", src)
	// Wait until the receiver holds a partial temp file, then log it out.
	waitFor(t, waitTimeout, "partial temp file", func() bool {
		ents, _ := os.ReadDir(b.tmp)
		return len(ents) == 1
	})
	b.Logout()
	if ev := a.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.SendFail {
		t.Fatalf("sender after receiver left %v, want 1000", ev)
	}
	b.r.wait(t, "NotifyCancelSend", withS(task))
	ents, _ := os.ReadDir(b.tmp)
	if len(ents) != 0 {
		t.Fatalf("temp files left behind: %v", ents)
	}

	// Sender gone mid-transfer: receiver notifyCancelSend, no file left.
	c := e.login("demo", "carol")
	task = c.SendFile("alice", src)
	waitFor(t, waitTimeout, "partial temp file at alice", func() bool {
		ents, _ := os.ReadDir(a.tmp)
		return len(ents) == 1
	})
	c.Logout()
	a.r.wait(t, "NotifyCancelSend", withS(task))
	if ev := c.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.SendFail {
		t.Fatalf("sender logging out %v, want 1000", ev)
	}
	ents, _ = os.ReadDir(a.tmp)
	if len(ents) != 0 {
		t.Fatalf("temp files left at receiver: %v", ents)
	}
}

func TestFile100MiBByteExact(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	body := randBytes(100<<20, 7)
	src := filepath.Join(t.TempDir(), "hundred.bin")
	os.WriteFile(src, body, 0o644)
	task := a.SendFile("bob", src)
	waitFor(t, 2*time.Minute, "100 MiB transfer", func() bool {
		_, ok := a.r.find("SendFileRlst", withS(task))
		return ok
	})
	if ev, _ := a.r.find("SendFileRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("SendFileRlst %v", ev)
	}
	ev := b.r.wait(t, "NotifyFileData", nil)
	got, err := os.ReadFile(ev.S[1])
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(body) {
		t.Fatalf("100 MiB file differs (%d bytes received)", len(got))
	}
	checkProgress(t, a.r, task, len(body))
	n := a.r.count("SendProgress", withS(task))
	t.Logf("%d progress events", n)
}

func TestSignalingNotQueuedBehindBulk(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	src := filepath.Join(t.TempDir(), "bulk.bin")
	os.WriteFile(src, randBytes(100<<20, 8), 0o644)
	task := a.SendFile("bob", src)
	a.r.wait(t, "SendProgress", func(ev Ev) bool { return ev.S[0] == task && ev.I[0] > 0 })

	callID := connectedCall(t, a, b)
	cmd := a.SendCmd("bob", base64.StdEncoding.EncodeToString([]byte("urgent")))
	a.r.wait(t, "SendCmdRlst", withS(cmd))
	_, fileDone := b.r.find("NotifyFileData", nil)
	if fileDone {
		t.Fatal("the 100 MiB transfer finished before the call and sendCmd: the test proves nothing")
	}
	a.HungupCall(callID, "", "")
	waitFor(t, 2*time.Minute, "bulk transfer", func() bool {
		_, ok := a.r.find("SendFileRlst", withS(task))
		return ok
	})
	if ev, _ := a.r.find("SendFileRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("bulk transfer %v", ev)
	}
}

func TestSanitizedOrgFileName(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	dir := t.TempDir()
	name := filepath.Join(dir, "..\\..\\evil name.txt")
	os.WriteFile(name, []byte("x"), 0o644)
	task := a.SendFile("bob", name)
	a.r.wait(t, "SendFileRlst", withS(task))
	ev := b.r.wait(t, "NotifyFileData", nil)
	if ev.S[2] != "evil name.txt" || strings.ContainsAny(ev.S[2], `/\`) {
		t.Fatalf("orgFileName %q", ev.S[2])
	}
	checkReceivedFile(t, b, ev.S[1], []byte("x"))
}
