package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// TestCallStateTable drives one call (alice → bob) into each state and
// applies each event: the reply, what each party is told, and whether the
// call is still live afterwards.
func TestCallStateTable(t *testing.T) {
	const ring = 400 * time.Millisecond
	type outcome struct {
		code    int    // reply to the actor (-1: no request)
		toAlice string // push to alice about the call ("" none)
		aliceC  int    // its code (callRejected)
		toBob   string
		live    bool // call still up afterwards
	}
	type event struct {
		name string
		do   func(a, b, c *tclient, id string) int // returns the reply code, or -1
	}
	req := func(who func(a, b, c *tclient) *tclient, op string) func(a, b, c *tclient, id string) int {
		return func(a, b, c *tclient, id string) int {
			return who(a, b, c).code(protocol.Msg{Op: op, CallID: id, Ext: "x"})
		}
	}
	alice := func(a, b, c *tclient) *tclient { return a }
	bob := func(a, b, c *tclient) *tclient { return b }
	carol := func(a, b, c *tclient) *tclient { return c }
	events := []event{
		{"accept by callee", req(bob, protocol.OpAcceptCall)},
		{"accept by caller", req(alice, protocol.OpAcceptCall)},
		{"reject by callee", req(bob, protocol.OpRejectCall)},
		{"reject by caller", req(alice, protocol.OpRejectCall)},
		{"hangup by caller", req(alice, protocol.OpHungupCall)},
		{"hangup by callee", req(bob, protocol.OpHungupCall)},
		{"hangup by stranger", req(carol, protocol.OpHungupCall)},
		{"accept by stranger", req(carol, protocol.OpAcceptCall)},
		{"ring timeout passes", func(a, b, c *tclient, id string) int { time.Sleep(ring + 200*time.Millisecond); return -1 }},
		{"caller logs out", func(a, b, c *tclient, id string) int {
			a.req(protocol.Msg{Op: protocol.OpLogout})
			a.waitClosed()
			return -1
		}},
		{"callee connection lost", func(a, b, c *tclient, id string) int { b.ws.Close(); b.waitClosed(); return -1 }},
	}
	none := outcome{code: protocol.InvalidCallID, live: true}
	gone := outcome{code: protocol.InvalidCallID}
	table := map[string][]outcome{ // per state, one outcome per event above
		"ringing": {
			{0, protocol.PushCallAccepted, 0, "", true},
			none,
			{0, protocol.PushCallRejected, protocol.ErrRefuse, "", false},
			none,
			{0, "", 0, protocol.PushCallHungup, false},
			{0, protocol.PushCallHungup, 0, "", false},
			none,
			none,
			{-1, protocol.PushCallRejected, protocol.ErrNoAnswer, protocol.PushCallHungup, false},
			{-1, "", 0, protocol.PushCallHungup, false},
			{-1, protocol.PushCallHungup, 0, "", false},
		},
		"connected": {
			none,
			none,
			none,
			none,
			{0, "", 0, protocol.PushCallHungup, false},
			{0, protocol.PushCallHungup, 0, "", false},
			none,
			none,
			{-1, "", 0, "", true},
			{-1, "", 0, protocol.PushCallHungup, false},
			{-1, protocol.PushCallHungup, 0, "", false},
		},
		"ended": {
			gone, gone, gone, gone, gone, gone, gone, gone,
			{-1, "", 0, "", false},
			{-1, "", 0, "", false},
			{-1, "", 0, "", false},
		},
	}
	// One server for all cases (each its own users), to keep the test fast.
	s := newTestServer(t, func(c *Config) { c.RingTimeout = ring })
	for _, state := range []string{"ringing", "connected", "ended"} {
		for i, ev := range events {
			want := table[state][i]
			t.Run(state+"/"+ev.name, func(t *testing.T) {
				t.Parallel()
				id := fmt.Sprintf("%s-%d", state, i)
				a := login(t, s, "ent1", "alice-"+id)
				b := login(t, s, "ent1", "bob-"+id)
				c := login(t, s, "ent1", "carol-"+id)
				if code := a.code(callMsg(id, b.name)); code != 0 {
					t.Fatalf("call: %d", code)
				}
				b.expect(protocol.PushCallIn, nil)
				switch state {
				case "connected":
					b.req(protocol.Msg{Op: protocol.OpAcceptCall, CallID: id})
					a.expect(protocol.PushCallAccepted, nil)
				case "ended":
					a.req(protocol.Msg{Op: protocol.OpHungupCall, CallID: id})
					b.expect(protocol.PushCallHungup, nil)
				}
				aBefore, bBefore := a.pushCount(), b.pushCount()

				if code := ev.do(a, b, c, id); code != want.code {
					t.Errorf("reply %d, want %d", code, want.code)
				}
				check := func(who *tclient, before int, push string, code int) {
					t.Helper()
					if who.isClosed() {
						return
					}
					if push != "" {
						m := who.expect(push, func(m *protocol.Msg) bool { return m.CallID == id })
						if m.Code != code {
							t.Errorf("%s: %s code %d, want %d", who.name, push, m.Code, code)
						}
					}
					who.sync()
					extra := who.pushesSince(before, func(m *protocol.Msg) bool { return m.CallID == id && m.Push != push })
					if len(extra) > 0 {
						t.Errorf("%s: unexpected pushes %v", who.name, extra)
					}
				}
				check(a, aBefore, want.toAlice, want.aliceC)
				check(b, bBefore, want.toBob, 0)
				// Live or not: a live call keeps both busy; the remaining
				// party of an ended one is idle.
				probe := a
				if a.isClosed() || probe.count(protocol.PushLineOff, nil) > 0 {
					probe = b
				}
				st := c.req(protocol.Msg{Op: protocol.OpGetUserStatus})
				for _, u := range st.Users {
					if u.UserID == probe.name {
						if busy := u.UserStatus == protocol.StatusBusy; busy != want.live {
							t.Errorf("%s busy=%v, want live=%v", u.UserID, busy, want.live)
						}
					}
				}
			})
		}
	}
}
