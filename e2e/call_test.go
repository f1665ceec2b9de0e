package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestCallAcceptHangupArguments(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	meet := `{"ID":42,"subject":"s"}`
	callID := a.Call("bob", meet, "ext-a", "ck-call")
	if ev := a.r.wait(t, "CallSuccess", nil); ev.S[0] != callID || ev.S[1] != "ck-call" {
		t.Fatalf("CallSuccess %v, want %s ck-call", ev, callID)
	}
	in := b.r.wait(t, "NotifyCallIn", nil)
	if fmt.Sprint(in.S) != fmt.Sprint([]string{callID, meet, "alice", "ext-a"}) {
		t.Fatalf("NotifyCallIn %q", in.S)
	}
	b.AcceptCall(callID, `{"ID":43}`, "ext-b", "ck-acc")
	if ev := b.r.wait(t, "AcceptCallSuccess", nil); ev.S[0] != callID || ev.S[1] != "ck-acc" {
		t.Fatalf("AcceptCallSuccess %v", ev)
	}
	acc := a.r.wait(t, "NotifyCallAccepted", nil)
	if fmt.Sprint(acc.S) != fmt.Sprint([]string{callID, "ext-b", `{"ID":43}`}) {
		t.Fatalf("NotifyCallAccepted %q (want callID, usrExtDat, meetObj)", acc.S)
	}
	b.HungupCall(callID, "bye", "ck-h")
	if ev := b.r.wait(t, "HungupCallSuccess", nil); ev.S[0] != callID || ev.S[1] != "ck-h" {
		t.Fatalf("HungupCallSuccess %v", ev)
	}
	if ev := a.r.wait(t, "NotifyCallHungup", nil); ev.S[0] != callID || ev.S[1] != "bye" {
		t.Fatalf("NotifyCallHungup %v", ev)
	}
	// Ended: every further action is 600.
	a.HungupCall(callID, "", "again")
	if ev := a.r.wait(t, "HungupCallFail", nil); ev.I[0] != protocol.InvalidCallID || ev.S[1] != "again" {
		t.Fatalf("hangup of ended call %v", ev)
	}
	// Both are idle again: a new call works.
	id2 := b.Call("alice", "", "", "")
	b.r.wait(t, "CallSuccess", withS(id2))
}

func TestCallErrors(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	c := e.login("demo", "carol")

	check := func(cl *client, id string, want int) {
		t.Helper()
		if ev := cl.r.wait(t, "CallFail", withS(id)); ev.I[0] != want {
			t.Fatalf("CallFail %v, want %d", ev, want)
		}
	}
	check(a, a.Call("nobody", "", "", ""), protocol.ErrOffline)
	check(a, a.Call("alice", "", "", ""), protocol.ParamErr)
	check(a, a.Call("", "", "", ""), protocol.ParamErr)
	check(a, a.Call("bob", "[1,2]", "", ""), protocol.ParamErr)
	check(a, a.Call("bob", "not json", "", ""), protocol.ParamErr)
	check(a, a.Call("bob", "", strings.Repeat("x", 8193), ""), protocol.ParamErr)
	check(a, a.Call("bob", "{"+strings.Repeat(" ", 8192)+"}", "", ""), protocol.ParamErr)

	// 8192 bytes exactly are fine.
	ok := a.Call("bob", "", strings.Repeat("x", 8192), "")
	a.r.wait(t, "CallSuccess", withS(ok))
	b.r.wait(t, "NotifyCallIn", withS(ok))

	// bob is ringing → busy for carol; alice already calling → 601.
	check(c, c.Call("bob", "", "", ""), protocol.ErrBusy)
	check(a, a.Call("carol", "", "", ""), protocol.ErrCallExist)

	// The caller cannot accept or reject its own call.
	a.AcceptCall(ok, "", "", "self")
	if ev := a.r.wait(t, "AcceptCallFail", nil); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("self-accept %v", ev)
	}
	a.RejectCall(ok, "", "self")
	if ev := a.r.wait(t, "RejectCallFail", nil); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("self-reject %v", ev)
	}
	// A third party cannot touch it.
	c.HungupCall(ok, "", "")
	if ev := c.r.wait(t, "HungupCallFail", nil); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("stranger hangup %v", ev)
	}
	// Unknown call ID.
	b.AcceptCall("no-such-call", "", "", "")
	if ev := b.r.wait(t, "AcceptCallFail", nil); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("unknown accept %v", ev)
	}
	// A call ID over protocol.MaxCallIDLen names no call: 600, from the
	// library (over 128 bytes) as from the server (at 128).
	for _, id := range []string{strings.Repeat("c", protocol.MaxCallIDLen), strings.Repeat("c", protocol.MaxCallIDLen+1)} {
		b.HungupCall(id, "", "")
		if ev := b.r.wait(t, "HungupCallFail", withS(id)); ev.I[0] != protocol.InvalidCallID {
			t.Fatalf("hangup of a %d-byte call ID: %v", len(id), ev)
		}
	}
	// Bad meetObj on accept: 5.
	b.AcceptCall(ok, "[]", "", "badmeet")
	if ev := b.r.wait(t, "AcceptCallFail", withS(ok)); ev.I[0] != protocol.ParamErr {
		t.Fatalf("accept with bad meetObj %v", ev)
	}
}

func TestRejectAndRingTimeout(t *testing.T) {
	e := newEnv(t, 300*time.Millisecond)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")

	id := a.Call("bob", "", "", "")
	b.r.wait(t, "NotifyCallIn", withS(id))
	b.RejectCall(id, "no thanks", "rj")
	if ev := b.r.wait(t, "RejectCallSuccess", nil); ev.S[0] != id || ev.S[1] != "rj" {
		t.Fatalf("RejectCallSuccess %v", ev)
	}
	ev := a.r.wait(t, "NotifyCallRejected", withS(id))
	if ev.I[0] != protocol.ErrRefuse || ev.S[1] != "no thanks" {
		t.Fatalf("NotifyCallRejected %v, want 606 'no thanks'", ev)
	}

	id2 := a.Call("bob", "", "", "")
	b.r.wait(t, "NotifyCallIn", withS(id2))
	ev = a.r.wait(t, "NotifyCallRejected", withS(id2))
	if ev.I[0] != protocol.ErrNoAnswer || ev.S[1] != "" {
		t.Fatalf("ring timeout %v, want 604", ev)
	}
	if ev := b.r.wait(t, "NotifyCallHungup", withS(id2)); ev.S[1] != "" {
		t.Fatalf("callee after timeout %v", ev)
	}
	// Accepting after the timeout: 600.
	b.AcceptCall(id2, "", "", "late")
	if ev := b.r.wait(t, "AcceptCallFail", withS(id2)); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("late accept %v", ev)
	}
}

func TestAcceptAfterCallerHungUp600(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	id := a.Call("bob", "", "", "")
	b.r.wait(t, "NotifyCallIn", withS(id))
	a.HungupCall(id, "changed my mind", "h")
	a.r.wait(t, "HungupCallSuccess", withS(id))
	if ev := b.r.wait(t, "NotifyCallHungup", withS(id)); ev.S[1] != "changed my mind" {
		t.Fatalf("NotifyCallHungup %v", ev)
	}
	b.AcceptCall(id, "", "", "acc")
	if ev := b.r.wait(t, "AcceptCallFail", withS(id)); ev.I[0] != protocol.InvalidCallID || ev.S[1] != "acc" {
		t.Fatalf("AcceptCallFail %v, want 600", ev)
	}
}

// TestAcceptHangupCrossing fires accept and hangup at the same instant 100
// times; whichever the server takes first, both sides must agree.
func TestAcceptHangupCrossing(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	acceptWon := 0
	for i := 0; i < 100; i++ {
		id := a.Call("bob", "", "", "")
		a.r.wait(t, "CallSuccess", withS(id))
		b.r.wait(t, "NotifyCallIn", withS(id))
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); b.AcceptCall(id, "", "", "") }()
		go func() { defer wg.Done(); a.HungupCall(id, "", "") }()
		wg.Wait()
		// The caller's hangup always succeeds (ringing or connected).
		a.r.wait(t, "HungupCallSuccess", withS(id))
		acc := b.r.wait(t, "", func(ev Ev) bool {
			return (ev.Name == "AcceptCallSuccess" || ev.Name == "AcceptCallFail") && ev.S[0] == id
		})
		// Either way the callee is told the call ended.
		b.r.wait(t, "NotifyCallHungup", withS(id))
		_, callerSawAccept := a.r.find("NotifyCallAccepted", withS(id))
		if acc.Name == "AcceptCallSuccess" {
			acceptWon++
			if !callerSawAccept {
				t.Fatalf("round %d: callee accepted but caller never saw it", i)
			}
			// Ordering on the callee: accept success before hangup.
			if !before(b.r.all(), "AcceptCallSuccess", "NotifyCallHungup", id) {
				t.Fatalf("round %d: callee saw hangup before its accept succeeded", i)
			}
		} else {
			if acc.I[0] != protocol.InvalidCallID {
				t.Fatalf("round %d: accept failed with %d", i, acc.I[0])
			}
			if callerSawAccept {
				t.Fatalf("round %d: caller saw accept but callee's accept failed", i)
			}
		}
	}
	t.Logf("accept won %d of 100 races", acceptWon)
	// Both are idle: the server agrees nothing is left.
	id := b.Call("alice", "", "", "")
	b.r.wait(t, "CallSuccess", withS(id))
}

// before reports whether event a for call id comes before event b for it.
func before(evs []Ev, a, b, id string) bool {
	ia, ib := -1, -1
	for i, ev := range evs {
		if len(ev.S) == 0 || ev.S[0] != id {
			continue
		}
		if ev.Name == a && ia < 0 {
			ia = i
		}
		if ev.Name == b && ib < 0 {
			ib = i
		}
	}
	return ia >= 0 && ib >= 0 && ia < ib
}

func TestCallMoreParty(t *testing.T) {
	e := newEnv(t, 400*time.Millisecond)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	c := e.login("demo", "carol")

	// Not in a connected call: 600.
	inv := a.CallMoreParty("carol", "", "", "nocall")
	if ev := a.r.wait(t, "CallMorePartyRslt", withS(inv)); ev.I[0] != protocol.InvalidCallID || ev.S[1] != "nocall" {
		t.Fatalf("invite outside a call %v", ev)
	}

	callID := connectedCall(t, a, b)
	status := func(id string, s int) {
		t.Helper()
		a.r.wait(t, "NotifyCallMorePartyStatus", func(ev Ev) bool { return ev.S[0] == id && ev.I[0] == s })
	}

	// Offline 603.
	off := a.CallMoreParty("nobody", "", "", "")
	if ev := a.r.wait(t, "CallMorePartyRslt", withS(off)); ev.I[0] != protocol.ErrOffline {
		t.Fatalf("invite offline %v", ev)
	}

	// Ringing (0) then accepted (1), then hung up by the invitee (4).
	meet := `{"ID":7}`
	i1 := a.CallMoreParty("carol", meet, "join us", "inv1")
	if ev := a.r.wait(t, "CallMorePartyRslt", withS(i1)); ev.I[0] != 0 || ev.S[1] != "inv1" {
		t.Fatalf("CallMorePartyRslt %v", ev)
	}
	status(i1, protocol.PartyRinging)
	in := c.r.wait(t, "NotifyCallIn", withS(i1))
	if fmt.Sprint(in.S) != fmt.Sprint([]string{i1, meet, "alice", "join us"}) {
		t.Fatalf("invitee NotifyCallIn %q", in.S)
	}
	// Busy while invited (602).
	bz := b.CallMoreParty("carol", "", "", "")
	if ev := b.r.wait(t, "CallMorePartyRslt", withS(bz)); ev.I[0] != protocol.ErrBusy {
		t.Fatalf("invite a ringing user %v", ev)
	}
	c.AcceptCall(i1, "", "", "")
	c.r.wait(t, "AcceptCallSuccess", withS(i1))
	status(i1, protocol.PartyAccepted)
	c.HungupCall(i1, "", "")
	c.r.wait(t, "HungupCallSuccess", withS(i1))
	status(i1, protocol.PartyHungup)

	// Rejected (2).
	i2 := a.CallMoreParty("carol", meet, "", "")
	c.r.wait(t, "NotifyCallIn", withS(i2))
	c.RejectCall(i2, "", "")
	status(i2, protocol.PartyRejected)

	// No answer (3): the invitee gets notifyCallHungup.
	i3 := a.CallMoreParty("carol", meet, "", "")
	c.r.wait(t, "NotifyCallIn", withS(i3))
	status(i3, protocol.PartyNoAnswer)
	if ev := c.r.wait(t, "NotifyCallHungup", withS(i3)); ev.S[1] != "" {
		t.Fatalf("invitee after no answer %v", ev)
	}

	// Cancel while ringing: 0, invitee hung up with the usrExtDat; again: 600.
	i4 := a.CallMoreParty("carol", meet, "", "")
	c.r.wait(t, "NotifyCallIn", withS(i4))
	a.CancelCallMoreParty(i4, "never mind", "cx")
	if ev := a.r.wait(t, "CancelCallMorePartyRslt", withS(i4)); ev.I[0] != 0 || ev.S[1] != "cx" {
		t.Fatalf("CancelCallMorePartyRslt %v", ev)
	}
	if ev := c.r.wait(t, "NotifyCallHungup", withS(i4)); ev.S[1] != "never mind" {
		t.Fatalf("invitee after cancel %v", ev)
	}
	a.CancelCallMoreParty(i4, "", "cx2")
	if ev := a.r.wait(t, "CancelCallMorePartyRslt", func(ev Ev) bool { return ev.S[1] == "cx2" }); ev.I[0] != protocol.InvalidCallID {
		t.Fatalf("second cancel %v", ev)
	}

	// The original call was unaffected throughout.
	if _, hung := a.r.find("NotifyCallHungup", withS(callID)); hung {
		t.Fatal("original call ended")
	}
	a.HungupCall(callID, "", "end")
	a.r.wait(t, "HungupCallSuccess", withS(callID))
	b.r.wait(t, "NotifyCallHungup", withS(callID))
}
