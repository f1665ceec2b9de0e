package e2e

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/server"
)

// TestLibraryPacesToServerLimits: with a server that allows one user 2
// unacknowledged sendCmds and 1 transfer, a burst of 60 commands and 5
// buffers all arrive (the library queues what is over the limits instead
// of failing it), in order; cancelling a transfer still waiting for its
// turn answers 0 and its receiver never hears of it.
func TestLibraryPacesToServerLimits(t *testing.T) {
	e := newEnvMod(t, time.Second, 2*time.Second, 2*time.Second, func(c *server.Config) { c.MaxCmds, c.MaxTransfers = 2, 1 })
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")

	var cmds, bufs []string
	for i := range 60 {
		cmds = append(cmds, a.SendCmd("bob", base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("c", i)))))
	}
	for i := range 5 {
		bufs = append(bufs, a.SendBuffer("bob", base64.StdEncoding.EncodeToString(randBytes(200<<10, uint64(i)))))
	}
	cancelled := a.SendBuffer("bob", "aGVsbG8=") // behind the five: still waiting
	a.CancelSend(cancelled)
	if ev := a.r.wait(t, "CancelSendRlst", withS(cancelled)); ev.I[0] != 0 {
		t.Fatalf("cancel of a waiting transfer: %v", ev)
	}
	for _, id := range cmds {
		if ev := a.r.wait(t, "SendCmdRlst", withS(id)); ev.I[0] != 0 {
			t.Fatalf("paced sendCmd: %v", ev)
		}
	}
	for _, id := range bufs {
		if ev := a.r.wait(t, "SendBufferRlst", withS(id)); ev.I[0] != 0 {
			t.Fatalf("paced sendBuffer: %v", ev)
		}
	}
	k := 0
	for _, ev := range b.r.all() {
		if ev.Name == "NotifyCmdData" {
			if got, _ := base64.StdEncoding.DecodeString(ev.S[1]); string(got) != fmt.Sprint("c", k) {
				t.Fatalf("command %d arrived as %q", k, got)
			}
			k++
		}
	}
	if k != len(cmds) {
		t.Fatalf("%d commands arrived, want %d", k, len(cmds))
	}
	waitFor(t, waitTimeout, "all buffers received", func() bool { return b.r.count("NotifyBufferData", nil) == len(bufs) })
	if n := b.r.count("NotifyCancelSend", nil); n != 0 {
		t.Fatalf("receiver heard of the cancelled waiting transfer: %d NotifyCancelSend", n)
	}
	if n := a.r.count("SendBufferRlst", withS(cancelled)); n != 0 {
		t.Fatalf("a result for the cancelled transfer")
	}
}

// TestCancelRightAfterSend: a cancel issued the moment sendFile/sendBuffer
// returns reaches the server after the transfer's begin: cancelSendRlst 0,
// no send*Rlst, and the receiver keeps nothing, every time.
func TestCancelRightAfterSend(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	src := filepath.Join(t.TempDir(), "f.bin")
	if err := os.WriteFile(src, randBytes(4<<20, 5), 0o644); err != nil {
		t.Fatal(err)
	}
	var tasks []string
	for i := range 20 {
		var id string
		if i%2 == 0 {
			id = a.SendFile("bob", src)
		} else {
			id = a.SendBuffer("bob", base64.StdEncoding.EncodeToString(randBytes(1<<20, uint64(i))))
		}
		a.CancelSend(id)
		tasks = append(tasks, id)
	}
	for _, id := range tasks {
		if ev := a.r.wait(t, "CancelSendRlst", withS(id)); ev.I[0] != 0 {
			t.Fatalf("cancel right after send: %v", ev)
		}
	}
	// A command sent after everything arrives after everything: by then the
	// server has handled every cancel.
	cmd := a.SendCmd("bob", "aGk=")
	a.r.wait(t, "SendCmdRlst", withS(cmd))
	for _, id := range tasks {
		for _, name := range []string{"SendFileRlst", "SendBufferRlst"} {
			if ev, ok := a.r.find(name, withS(id)); ok {
				t.Fatalf("result after a successful cancel: %v", ev)
			}
		}
	}
	if n := b.r.count("NotifyFileData", nil) + b.r.count("NotifyBufferData", nil); n != 0 {
		t.Fatalf("receiver got %d cancelled transfers", n)
	}
	waitFor(t, waitTimeout, "no temp files left", func() bool {
		ents, _ := os.ReadDir(b.tmp)
		return len(ents) == 0
	})
}
