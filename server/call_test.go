package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func callMsg(id, to string) protocol.Msg {
	return protocol.Msg{Op: protocol.OpCall, CallID: id, To: to, MeetObj: `{"ID":1}`, Ext: "hello"}
}

func TestCallParamsAndErrors(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	c := login(t, s, "ent1", "carol")

	cases := []struct {
		name string
		m    protocol.Msg
		want int
	}{
		{"self", callMsg("k1", "alice"), protocol.ParamErr},
		{"empty to", callMsg("k1", ""), protocol.ParamErr},
		{"empty callID", callMsg("", "bob"), protocol.ParamErr},
		{"long callID", callMsg(strings.Repeat("i", 129), "bob"), protocol.ParamErr},
		{"meetObj array", protocol.Msg{Op: protocol.OpCall, CallID: "k1", To: "bob", MeetObj: "[1]"}, protocol.ParamErr},
		{"meetObj not JSON", protocol.Msg{Op: protocol.OpCall, CallID: "k1", To: "bob", MeetObj: "{x"}, protocol.ParamErr},
		{"meetObj too long", protocol.Msg{Op: protocol.OpCall, CallID: "k1", To: "bob", MeetObj: `{"a":"` + strings.Repeat("x", 8192) + `"}`}, protocol.ParamErr},
		{"ext too long", protocol.Msg{Op: protocol.OpCall, CallID: "k1", To: "bob", Ext: strings.Repeat("x", 8193)}, protocol.ParamErr},
		{"offline", callMsg("k1", "nobody"), protocol.ErrOffline},
	}
	for _, tc := range cases {
		if code := a.code(tc.m); code != tc.want {
			t.Errorf("%s: code %d, want %d", tc.name, code, tc.want)
		}
	}
	// ext of exactly 8192 bytes is fine.
	ok := protocol.Msg{Op: protocol.OpCall, CallID: "k1", To: "bob", Ext: strings.Repeat("x", 8192)}
	if code := a.code(ok); code != 0 {
		t.Fatalf("call: %d", code)
	}
	if m := b.expect(protocol.PushCallIn, nil); m.CallID != "k1" || m.From != "alice" || len(m.Ext) != 8192 {
		t.Errorf("callIn %+v", m)
	}
	if code := a.code(callMsg("k2", "carol")); code != protocol.ErrCallExist {
		t.Errorf("caller in a call: %d, want 601", code)
	}
	if code := c.code(callMsg("k3", "bob")); code != protocol.ErrBusy {
		t.Errorf("callee ringing: %d, want 602", code)
	}
	if code := c.code(callMsg("k1", "bob")); code != protocol.ParamErr {
		t.Errorf("callID in use: %d, want 5", code)
	}
	if code := b.code(callMsg("k4", "carol")); code != protocol.ErrCallExist {
		t.Errorf("ringing callee calling out: %d, want 601", code)
	}
	// The caller can neither accept nor reject its own call; strangers can't touch it.
	if code := a.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("caller accepts: %d, want 600", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpRejectCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("caller rejects: %d, want 600", code)
	}
	if code := c.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("stranger hangs up: %d, want 600", code)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "k1", MeetObj: "nope"}); code != protocol.ParamErr {
		t.Errorf("accept with bad meetObj: %d, want 5", code)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "k1", MeetObj: `{"ID":7}`, Ext: "yes"}); code != 0 {
		t.Fatalf("accept: %d", code)
	}
	if m := a.expect(protocol.PushCallAccepted, nil); m.CallID != "k1" || m.MeetObj != `{"ID":7}` || m.Ext != "yes" {
		t.Errorf("callAccepted %+v", m)
	}
	if code := c.code(callMsg("k5", "alice")); code != protocol.ErrBusy {
		t.Errorf("callee connected: %d, want 602", code)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("accept twice: %d, want 600", code)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpRejectCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("reject connected: %d, want 600", code)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "k1", Ext: "bye"}); code != 0 {
		t.Fatalf("hangup: %d", code)
	}
	if m := a.expect(protocol.PushCallHungup, nil); m.CallID != "k1" || m.Ext != "bye" {
		t.Errorf("callHungup %+v", m)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "k1"}); code != protocol.InvalidCallID {
		t.Errorf("hangup after end: %d, want 600", code)
	}
	// The call ID is free again and both are idle.
	if code := c.code(callMsg("k1", "alice")); code != 0 {
		t.Errorf("new call after end: %d", code)
	}
}

func TestDND(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	b.req(protocol.Msg{Op: protocol.OpSetDND, DND: 2})
	if code := a.code(callMsg("d1", "bob")); code != protocol.ErrBusy {
		t.Errorf("call to DND user: %d, want 602", code)
	}
	if code := b.code(callMsg("d2", "alice")); code != 0 {
		t.Errorf("DND user calls out: %d, want 0", code)
	}
	a.expect(protocol.PushCallIn, nil)
	b.req(protocol.Msg{Op: protocol.OpHungupCall, CallID: "d2"})
	b.req(protocol.Msg{Op: protocol.OpSetDND, DND: 0})
	if code := a.code(callMsg("d3", "bob")); code != 0 {
		t.Errorf("call after DND off: %d, want 0", code)
	}
}

func TestRejectAndBusyStatus(t *testing.T) {
	s := newTestServer(t, nil)
	w := login(t, s, "ent1", "watcher")
	w.req(protocol.Msg{Op: protocol.OpStartStatusNotify})
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	a.req(callMsg("r1", "bob"))
	for _, u := range []string{"alice", "bob"} {
		w.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == u && m.User.UserStatus == protocol.StatusBusy })
	}
	st := a.req(protocol.Msg{Op: protocol.OpGetUserStatus})
	for _, u := range st.Users {
		if (u.UserID == "alice" || u.UserID == "bob") && u.UserStatus != protocol.StatusBusy {
			t.Errorf("getUserStatus during call: %+v", u)
		}
	}
	if code := b.code(protocol.Msg{Op: protocol.OpRejectCall, CallID: "r1", Ext: "no thanks"}); code != 0 {
		t.Fatal(code)
	}
	if m := a.expect(protocol.PushCallRejected, nil); m.CallID != "r1" || m.Code != protocol.ErrRefuse || m.Ext != "no thanks" {
		t.Errorf("callRejected %+v", m)
	}
	for _, u := range []string{"alice", "bob"} {
		w.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == u && m.User.UserStatus == protocol.StatusIdle })
	}
	if code := b.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "r1"}); code != protocol.InvalidCallID {
		t.Errorf("hangup after reject: %d, want 600", code)
	}
}

func TestRingTimeout(t *testing.T) {
	s := newTestServer(t, nil) // RingTimeout 300ms
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	start := time.Now()
	a.req(callMsg("t1", "bob"))
	m := a.expect(protocol.PushCallRejected, nil)
	if m.CallID != "t1" || m.Code != protocol.ErrNoAnswer || m.Ext != "" {
		t.Errorf("callRejected %+v", m)
	}
	if el := time.Since(start); el < 250*time.Millisecond {
		t.Errorf("timed out after %v, before the ring timeout", el)
	}
	if h := b.expect(protocol.PushCallHungup, nil); h.CallID != "t1" || h.Ext != "" {
		t.Errorf("callee callHungup %+v", h)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "t1"}); code != protocol.InvalidCallID {
		t.Errorf("accept after timeout: %d, want 600", code)
	}
	// An accepted call does not time out.
	a.req(callMsg("t2", "bob"))
	b.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "t2"})
	time.Sleep(500 * time.Millisecond) // longer than the ring timeout: nothing may happen
	a.sync()
	b.sync()
	if n := a.count(protocol.PushCallRejected, func(m *protocol.Msg) bool { return m.CallID == "t2" }) + b.count(protocol.PushCallHungup, func(m *protocol.Msg) bool { return m.CallID == "t2" }); n != 0 {
		t.Errorf("connected call timed out")
	}
}

func TestAcceptAfterCallerHungup(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	a.req(callMsg("h1", "bob"))
	b.expect(protocol.PushCallIn, nil)
	if code := a.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "h1", Ext: "sorry"}); code != 0 {
		t.Fatal(code)
	}
	if h := b.expect(protocol.PushCallHungup, nil); h.Ext != "sorry" {
		t.Errorf("callHungup %+v", h)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "h1"}); code != protocol.InvalidCallID {
		t.Errorf("accept after hangup: %d, want 600", code)
	}
}

// TestAcceptHangupRace crosses the callee's accept and the caller's hangup
// 100 times: exactly one wins and both sides agree.
func TestAcceptHangupRace(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RingTimeout = 10 * time.Second })
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	acceptWins := 0
	for i := range 100 {
		id := fmt.Sprintf("race%d", i)
		a.req(callMsg(id, "bob"))
		b.expect(protocol.PushCallIn, func(m *protocol.Msg) bool { return m.CallID == id })
		var acc, hang *protocol.Msg
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); acc = b.reply(b.send(protocol.Msg{Op: protocol.OpAcceptCall, CallID: id})) }()
		go func() { defer wg.Done(); hang = a.reply(a.send(protocol.Msg{Op: protocol.OpHungupCall, CallID: id})) }()
		wg.Wait()
		if hang.Code != 0 {
			t.Fatalf("%s: hangup %d (a party may always hang up)", id, hang.Code)
		}
		// The callee always ends with callHungup from the caller.
		b.expect(protocol.PushCallHungup, func(m *protocol.Msg) bool { return m.CallID == id })
		switch acc.Code {
		case 0:
			acceptWins++
			a.expect(protocol.PushCallAccepted, func(m *protocol.Msg) bool { return m.CallID == id })
		case protocol.InvalidCallID:
			a.sync()
			if a.count(protocol.PushCallAccepted, func(m *protocol.Msg) bool { return m.CallID == id }) != 0 {
				t.Fatalf("%s: accept failed but caller saw callAccepted", id)
			}
		default:
			t.Fatalf("%s: accept %d", id, acc.Code)
		}
	}
	t.Logf("accept won %d of 100", acceptWins)
}

func TestSessionEndHangsUp(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	a.req(callMsg("e1", "bob"))
	b.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "e1"})
	a.ws.Close() // connection lost
	if h := b.expect(protocol.PushCallHungup, nil); h.CallID != "e1" || h.Ext != "" {
		t.Errorf("callHungup %+v", h)
	}
	if code := b.code(callMsg("e2", "carol")); code != protocol.ErrOffline {
		t.Errorf("b is idle again: %d, want 603", code)
	}
	// Logout ends a ringing call too.
	c := login(t, s, "ent1", "carol")
	b.req(callMsg("e3", "carol"))
	c.expect(protocol.PushCallIn, nil)
	c.req(protocol.Msg{Op: protocol.OpLogout})
	if h := b.expect(protocol.PushCallHungup, nil); h.CallID != "e3" {
		t.Errorf("callHungup %+v", h)
	}
}

func TestCallMoreParty(t *testing.T) {
	s := newTestServer(t, nil) // RingTimeout 300ms
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	c := login(t, s, "ent1", "carol")
	d := login(t, s, "ent1", "dave")

	inv := func(id, to string) protocol.Msg {
		return protocol.Msg{Op: protocol.OpCallMoreParty, CallID: id, To: to, MeetObj: `{"ID":5}`, Ext: "join"}
	}
	if code := a.code(inv("i0", "carol")); code != protocol.InvalidCallID {
		t.Errorf("invite without a call: %d, want 600", code)
	}
	a.req(callMsg("m1", "bob"))
	if code := a.code(inv("i0", "carol")); code != protocol.InvalidCallID {
		t.Errorf("invite while ringing: %d, want 600", code)
	}
	b.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "m1"})
	a.expect(protocol.PushCallAccepted, nil)

	status := func(id string, want int) {
		t.Helper()
		m := a.expect(protocol.PushPartyStatus, func(m *protocol.Msg) bool { return m.CallID == id })
		if m.Status != want {
			t.Errorf("%s: partyStatus %d, want %d", id, m.Status, want)
		}
	}
	if code := a.code(inv("i1", "nobody")); code != protocol.ErrOffline {
		t.Errorf("invite offline: %d, want 603", code)
	}
	if code := a.code(inv("i1", "bob")); code != protocol.ErrBusy {
		t.Errorf("invite busy: %d, want 602", code)
	}
	if code := a.code(inv("i1", "alice")); code != protocol.ParamErr {
		t.Errorf("invite self: %d, want 5", code)
	}
	if code := a.code(inv("m1", "carol")); code != protocol.ParamErr {
		t.Errorf("invite ID in use: %d, want 5", code)
	}

	// 1 accepted, then 4 when the invitee hangs up.
	if code := a.code(inv("i1", "carol")); code != 0 {
		t.Fatal(code)
	}
	status("i1", protocol.PartyRinging)
	if m := c.expect(protocol.PushCallIn, nil); m.CallID != "i1" || m.From != "alice" || m.MeetObj != `{"ID":5}` || m.Ext != "join" {
		t.Errorf("callIn %+v", m)
	}
	c.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "i1"})
	status("i1", protocol.PartyAccepted)
	if code := a.code(protocol.Msg{Op: protocol.OpCancelCallMoreParty, CallID: "i1"}); code != protocol.InvalidCallID {
		t.Errorf("cancel accepted invite: %d, want 600", code)
	}
	c.req(protocol.Msg{Op: protocol.OpHungupCall, CallID: "i1"})
	status("i1", protocol.PartyHungup)

	// 2 rejected.
	a.req(inv("i2", "carol"))
	status("i2", protocol.PartyRinging)
	c.req(protocol.Msg{Op: protocol.OpRejectCall, CallID: "i2"})
	status("i2", protocol.PartyRejected)

	// 3 no answer: the invitee gets callHungup.
	a.req(inv("i3", "carol"))
	status("i3", protocol.PartyRinging)
	status("i3", protocol.PartyNoAnswer)
	c.expect(protocol.PushCallHungup, func(m *protocol.Msg) bool { return m.CallID == "i3" && m.Ext == "" })

	// cancel while ringing: the invitee gets callHungup with the ext.
	a.req(inv("i4", "carol"))
	status("i4", protocol.PartyRinging)
	if code := b.code(protocol.Msg{Op: protocol.OpCancelCallMoreParty, CallID: "i4"}); code != protocol.InvalidCallID {
		t.Errorf("cancel by non-inviter: %d, want 600", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCancelCallMoreParty, CallID: "i4", Ext: "never mind"}); code != 0 {
		t.Errorf("cancel: %d", code)
	}
	c.expect(protocol.PushCallHungup, func(m *protocol.Msg) bool { return m.CallID == "i4" && m.Ext == "never mind" })
	if code := a.code(protocol.Msg{Op: protocol.OpCancelCallMoreParty, CallID: "i4"}); code != protocol.InvalidCallID {
		t.Errorf("cancel twice: %d, want 600", code)
	}

	// 4 when the invitee's session ends; the inviter hanging up a connected invite.
	a.req(inv("i5", "carol"))
	c.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "i5"})
	a.req(inv("i6", "dave"))
	d.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: "i6"})
	status("i5", protocol.PartyRinging)
	status("i5", protocol.PartyAccepted)
	c.ws.Close()
	status("i5", protocol.PartyHungup)
	if code := a.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "i6", Ext: "out"}); code != 0 {
		t.Errorf("inviter hangs up invite: %d", code)
	}
	d.expect(protocol.PushCallHungup, func(m *protocol.Msg) bool { return m.CallID == "i6" && m.Ext == "out" })

	// The original call was unaffected throughout.
	b.sync()
	if n := b.count(protocol.PushCallHungup, nil); n != 0 {
		t.Errorf("original call's callee got %d callHungup", n)
	}
	if code := b.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: "m1"}); code != 0 {
		t.Errorf("original call still up: %d", code)
	}
}
