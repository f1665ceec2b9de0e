package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// faultBudget is how many faults TestFaultsExactlyOnce injects: a few
// hundred in make test, thousands in make soak (CRVIDEO_FAULTS).
func faultBudget() int {
	if n, err := strconv.Atoi(os.Getenv("CRVIDEO_FAULTS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// loginVia logs a new client in through addr (a fault proxy).
func (e *env) loginVia(addr, acnt, privAcnt string) *client {
	e.t.Helper()
	saved := e.addr
	e.addr = addr
	c := e.login(acnt, privAcnt)
	e.addr = saved
	return c
}

// injector cuts, resets and stalls the proxy's connections at random
// moments until stopped, and counts what it did.
type injector struct {
	cuts, resets, stalls atomic.Int64
	stop                 chan struct{}
	done                 chan struct{}
}

func startInjector(px *faultProxy, budget int, seed uint64) *injector {
	in := &injector{stop: make(chan struct{}), done: make(chan struct{})}
	r := rand.New(rand.NewPCG(seed, 7))
	go func() {
		defer close(in.done)
		for i := 0; i < budget; i++ {
			select {
			case <-in.stop:
				return
			case <-time.After(time.Duration(5+r.IntN(40)) * time.Millisecond):
			}
			switch k := r.IntN(100); {
			case k < 3: // stalls cost a ping timeout each: keep them rare
				if px.stall() > 0 {
					in.stalls.Add(1)
				}
			case k < 50:
				if px.reset() > 0 {
					in.resets.Add(1)
				}
			default:
				if px.cut() > 0 {
					in.cuts.Add(1)
				}
			}
		}
	}()
	return in
}

func (in *injector) finish() (total int64) {
	select {
	case <-in.stop:
	default:
		close(in.stop)
	}
	<-in.done
	return in.cuts.Load() + in.resets.Load() + in.stalls.Load()
}

// TestFaultsExactlyOnce runs sendCmd traffic, calls and a file transfer
// between two clients whose connections are cut, reset and stalled at
// random hundreds of times: every command arrives exactly once and in
// order, every call event exactly once, the file byte-exact, and nobody
// sees lineOff.
func TestFaultsExactlyOnce(t *testing.T) {
	e := newEnvWith(t, time.Minute, 20*time.Second, 400*time.Millisecond)
	px := newFaultProxy(t, e.addr)
	a := e.loginVia(px.Addr(), "demo", "alice")
	b := e.loginVia(px.Addr(), "demo", "bob")

	body := randBytes(8<<20+3, 11)
	src := filepath.Join(t.TempDir(), "through-faults.bin")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}

	inj := startInjector(px, faultBudget(), 1)
	fileTask := a.SendFile("bob", src)

	// Traffic in rounds until the injector has used its whole budget:
	// commands from alice to bob, and a call from bob to alice.
	var tasks, calls []string
	for round := 0; ; round++ {
		for i := 0; i < 40; i++ {
			n := len(tasks)
			tasks = append(tasks, a.SendCmd("bob", base64.StdEncoding.EncodeToString([]byte(fmt.Sprint("cmd-", n)))))
		}
		id := b.Call("alice", "", fmt.Sprint("x", round), "")
		b.r.wait(t, "CallSuccess", withS(id))
		a.r.wait(t, "NotifyCallIn", withS(id))
		a.AcceptCall(id, "", "", "")
		b.r.wait(t, "NotifyCallAccepted", withS(id))
		b.HungupCall(id, "bye", "")
		a.r.wait(t, "NotifyCallHungup", withS(id))
		calls = append(calls, id)
		select {
		case <-inj.done:
		default:
			continue
		}
		break
	}
	cmds := len(tasks)
	waitFor(t, 2*time.Minute, "all command results", func() bool { return a.r.count("SendCmdRlst", nil) >= cmds })
	waitFor(t, 2*time.Minute, "file result", func() bool { return a.r.count("SendFileRlst", withS(fileTask)) > 0 })
	faults := inj.finish()

	// Commands: one result each, all 0; received once each, in order.
	for i, task := range tasks {
		if n := a.r.count("SendCmdRlst", withS(task)); n != 1 {
			t.Fatalf("cmd %d: %d results", i, n)
		}
		if ev, _ := a.r.find("SendCmdRlst", withS(task)); ev.I[0] != 0 {
			t.Fatalf("cmd %d: %v", i, ev)
		}
	}
	waitFor(t, waitTimeout, "all commands received", func() bool { return b.r.count("NotifyCmdData", nil) >= cmds })
	k := 0
	for _, ev := range b.r.all() {
		if ev.Name != "NotifyCmdData" {
			continue
		}
		got, _ := base64.StdEncoding.DecodeString(ev.S[1])
		if want := fmt.Sprint("cmd-", k); string(got) != want {
			t.Fatalf("command %d received as %q, want %q (lost, duplicated or reordered)", k, got, want)
		}
		k++
	}
	if k != cmds {
		t.Fatalf("%d commands received, want %d", k, cmds)
	}
	// Calls: every event exactly once.
	for _, id := range calls {
		for _, c := range []struct {
			cl   *client
			name string
		}{{b, "CallSuccess"}, {a, "NotifyCallIn"}, {a, "AcceptCallSuccess"}, {b, "NotifyCallAccepted"},
			{b, "HungupCallSuccess"}, {a, "NotifyCallHungup"}} {
			if n := c.cl.r.count(c.name, withS(id)); n != 1 {
				t.Fatalf("call %s: %s seen %d times", id, c.name, n)
			}
		}
	}
	// The file: one result, byte-exact.
	if ev, _ := a.r.find("SendFileRlst", withS(fileTask)); ev.I[0] != 0 || a.r.count("SendFileRlst", withS(fileTask)) != 1 {
		t.Fatalf("file result %v", ev)
	}
	fev := b.r.wait(t, "NotifyFileData", nil)
	got, err := os.ReadFile(fev.S[1])
	if err != nil || sha256.Sum256(got) != sha256.Sum256(body) {
		t.Fatalf("file through faults differs (%d of %d bytes)", len(got), len(body))
	}
	for _, c := range []*client{a, b} {
		if ev, ok := c.r.find("LineOff", nil); ok {
			t.Fatalf("%s got %v", c.id, ev)
		}
	}
	t.Logf("faults injected and survived: %d (cuts %d, resets %d, stalls %d) over %d commands, %d calls and an 8 MiB file; lost: 0, duplicated: 0",
		faults, inj.cuts.Load(), inj.resets.Load(), inj.stalls.Load(), cmds, len(calls))
}

// TestStalledServerNoticed: when the network goes silent the library
// notices within the ping timeout, resumes, and the peer sees nothing.
func TestStalledConnectionResumes(t *testing.T) {
	e := newEnvWith(t, time.Minute, 10*time.Second, 300*time.Millisecond)
	px := newFaultProxy(t, e.addr)
	a := e.loginVia(px.Addr(), "demo", "alice")
	b := e.login("demo", "bob")
	callID := connectedCall(t, a, b)
	px.stall()
	// While alice is cut off, bob sends her a command; it arrives after the resume.
	task := b.SendCmd("alice", "aGVsbG8=")
	ev := a.r.wait(t, "NotifyCmdData", nil)
	if ev.S[0] != "bob" || ev.S[1] != "aGVsbG8=" {
		t.Fatalf("NotifyCmdData %v", ev)
	}
	if ev := b.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("SendCmdRlst %v", ev)
	}
	// The call survived.
	if _, ok := b.r.find("NotifyCallHungup", withS(callID)); ok {
		t.Fatal("call ended by a stall shorter than the grace")
	}
	a.HungupCall(callID, "", "")
	b.r.wait(t, "NotifyCallHungup", withS(callID))
}

// waitStored waits until c's library has stored part of an incoming file
// in its temporary directory.
func waitStored(t *testing.T, c *client) {
	t.Helper()
	waitFor(t, 10*time.Second, c.id+" storing part of the file", func() bool {
		ents, _ := os.ReadDir(c.tmp)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	})
}

// TestGraceRunsOut: a client that stays away longer than the grace is
// ended: its peer gets notifyCallHungup, status subscribers see it
// offline, a transfer fails at the sender with 1000, and the library
// reports lineOff(207).
func TestGraceRunsOut(t *testing.T) {
	e := newEnvWith(t, time.Minute, 400*time.Millisecond, 300*time.Millisecond)
	px := newFaultProxy(t, e.addr)
	a := e.loginVia(px.Addr(), "demo", "alice")
	b := e.login("demo", "bob")
	b.StartUserStatusNotify("w")
	b.r.wait(t, "StartUserStatusNotifyRslt", nil)
	callID := connectedCall(t, a, b)
	src := filepath.Join(t.TempDir(), "f.bin")
	os.WriteFile(src, randBytes(32<<20, 12), 0o644)
	// Alice gets at most 4 MiB more, so the file cannot finish before the
	// cut however fast the machine is (it used to, under load).
	px.limitDown(4 << 20)
	task := b.SendFile("alice", src)
	waitStored(t, a) // she knows of the transfer

	px.ln.Close() // nobody can reconnect
	px.cut()
	if ev := b.r.wait(t, "NotifyCallHungup", withS(callID)); ev.S[1] != "" {
		t.Fatalf("NotifyCallHungup %v", ev)
	}
	if ev := b.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.SendFail {
		t.Fatalf("SendFileRlst %v, want 1000", ev)
	}
	b.r.wait(t, "NotifyUserStatus", func(ev Ev) bool {
		return ev.S[0] == `{"userID":"alice","userStatus":0,"DNDType":0}`
	})
	if ev := a.r.wait(t, "LineOff", nil); ev.I[0] != protocol.ConnectionLost {
		t.Fatalf("LineOff %v", ev)
	}
	a.r.wait(t, "NotifyCancelSend", withS(task))
	if ents, _ := os.ReadDir(a.tmp); len(ents) != 0 {
		t.Fatalf("partial files left: %v", ents)
	}
}

// TestReconnectTriesEachAddress: when the address the library logged in
// through stops answering, it reconnects through the next address of its
// serverAddr list and resumes there: the call stays up, a command sent
// meanwhile arrives, and nobody sees lineOff.
func TestReconnectTriesEachAddress(t *testing.T) {
	e := newEnvWith(t, time.Minute, 20*time.Second, 2*time.Second)
	px := newFaultProxy(t, e.addr)
	a := e.loginVia(px.Addr()+";"+e.addr, "demo", "alice")
	b := e.login("demo", "bob")
	callID := connectedCall(t, a, b)
	px.ln.Close() // the first address is gone for good
	if px.cut() == 0 {
		t.Fatal("alice did not log in through the first address")
	}
	task := b.SendCmd("alice", "aGk=")
	if ev := a.r.wait(t, "NotifyCmdData", nil); ev.S[1] != "aGk=" {
		t.Fatalf("NotifyCmdData %v", ev)
	}
	if ev := b.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("SendCmdRlst %v", ev)
	}
	a.HungupCall(callID, "bye", "")
	if ev := b.r.wait(t, "NotifyCallHungup", withS(callID)); ev.S[1] != "bye" {
		t.Fatalf("NotifyCallHungup %v", ev)
	}
	for _, c := range []*client{a, b} {
		if ev, ok := c.r.find("LineOff", nil); ok {
			t.Fatalf("%s got %v", c.id, ev)
		}
	}
}

// TestServerRestartLogsInAgain: after a server restart (sessions gone) the
// libraries log in again with the same credentials by themselves: the call
// that was up ends with notifyCallHungup on both sides, a transfer in
// flight fails (sender 1000, receiver notifyCancelSend, no file left), the
// status subscription and do-not-disturb are restored, and nobody sees
// lineOff.
func TestServerRestartLogsInAgain(t *testing.T) {
	e := newEnvWith(t, time.Minute, 20*time.Second, 2*time.Second)
	px := newFaultProxy(t, e.addr)
	a := e.loginVia(px.Addr(), "demo", "alice")
	b := e.login("demo", "bob")
	a.StartUserStatusNotify("watch")
	a.r.wait(t, "StartUserStatusNotifyRslt", nil)
	a.SetDNDStatus(1, "dnd")
	a.r.wait(t, "SetDNDStatusSuccess", nil)
	callID := connectedCall(t, a, b) // DND users may call out
	src := filepath.Join(t.TempDir(), "big.bin")
	os.WriteFile(src, randBytes(64<<20, 3), 0o644)
	// Alice's connection gets at most 4 MiB more, so the file cannot
	// finish before the restart however fast the machine is; and it is
	// held before and through the restart, so that every event below
	// comes from her login after it. (The limit used to be lifted here,
	// for her next connection, usually before the 4 MiB had passed: the
	// old server's shutdown pushes — callHungup, xferCancel — then reached
	// her, the waits below were met before she had logged in again, and
	// carol came online before her subscription was restored.) Her next
	// connection is not limited.
	px.limitDown(4 << 20)
	task := b.SendFile("alice", src)
	waitStored(t, a) // she knows of the transfer
	waitFor(t, waitTimeout, "alice's connection to be held", func() bool { return px.held.Load() == 1 })

	e.restart()
	for _, c := range []*client{a, b} {
		if ev := c.r.wait(t, "NotifyCallHungup", withS(callID)); ev.S[1] != "" {
			t.Fatalf("%s: %v", c.id, ev)
		}
	}
	if ev := b.r.wait(t, "SendFileRlst", withS(task)); ev.I[0] != protocol.SendFail {
		t.Fatalf("SendFileRlst %v, want 1000", ev)
	}
	a.r.wait(t, "NotifyCancelSend", withS(task))
	if ents, _ := os.ReadDir(a.tmp); len(ents) != 0 {
		t.Fatalf("partial files left: %v", ents)
	}
	// Both are back: a newcomer sees them online, alice's subscription
	// reports the newcomer, and alice's DND still turns calls away.
	c := e.login("demo", "carol")
	a.r.wait(t, "NotifyUserStatus", func(ev Ev) bool {
		return ev.S[0] == `{"userID":"carol","userStatus":1,"DNDType":0}` && ev.S[1] == "watch"
	})
	n := 0
	waitFor(t, waitTimeout, "alice and bob online again", func() bool {
		n++
		cookie := fmt.Sprint("st", n)
		c.GetUserStatus(cookie)
		ev := c.r.wait(t, "GetUserStatusSuccess", func(ev Ev) bool { return ev.S[1] == cookie })
		return strings.Contains(ev.S[0], `"alice"`) && strings.Contains(ev.S[0], `"bob"`)
	})
	id := c.Call("alice", "", "", "")
	if ev := c.r.wait(t, "CallFail", withS(id)); ev.I[0] != protocol.ErrBusy {
		t.Fatalf("call to alice (DND) after the restart: %v, want 602", ev)
	}
	for _, cl := range []*client{a, b} {
		if ev, ok := cl.r.find("LineOff", nil); ok {
			t.Fatalf("%s got %v", cl.id, ev)
		}
	}
}
