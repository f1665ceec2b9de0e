package server

import (
	"fmt"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// badIDs are IDs a C application cannot see or name: NUL (a C string
// ends there), other C0 controls, DEL, C1 controls. (Invalid UTF-8 cannot
// travel in a JSON text frame; binary headers test it too.)
var badIDs = []string{"bob\x00", "\x00bob", "bo\x01b", "bob\n", "bob\x1f", "bob\x7f", "bob\u0080", "bob\u0085", "b\u009fob"}

// TestIDsWithControlCharacters: every ID the server takes from a client —
// privAcnt (the usrID), nickName, authAcnt, call and invite IDs, `to`
// targets, task IDs — is refused with 5 when it holds a control character,
// so "bob\x00" is never a second bob that C shows as "bob".
func TestIDsWithControlCharacters(t *testing.T) {
	s := newTestServer(t, nil)
	alice, bob := login(t, s, "ent1", "alice"), login(t, s, "ent1", "bob")
	x := dial(t, s, "x")
	for _, id := range badIDs {
		m := loginMsg("ent1", id)
		if code := x.code(m); code != protocol.ParamErr {
			t.Errorf("login as %q: code %d, want 5", id, code)
		}
		m = loginMsg("ent1", "carol")
		m.Nick = id
		if code := x.code(m); code != protocol.ParamErr {
			t.Errorf("nickName %q: code %d, want 5", id, code)
		}
	}
	for _, acnt := range []string{"ent1\x00", "\x00ent1", "ent1\x1f", "ent1\x7f", "ent1\u0085"} {
		m := loginMsg("ent1", "carol")
		m.Acnt = acnt
		if code := x.code(m); code != protocol.ParamErr {
			t.Errorf("authAcnt %q: code %d, want 5", m.Acnt, code)
		}
	}
	if n := bob.count(protocol.PushLineOff, nil); n != 0 {
		t.Fatalf("the real bob got %d lineOffs", n)
	}

	for i, id := range badIDs {
		for _, m := range []protocol.Msg{
			{Op: protocol.OpCall, CallID: "c1", To: id},
			{Op: protocol.OpCall, CallID: id, To: "bob"},
			{Op: protocol.OpCallMoreParty, CallID: id, To: "bob"},
			{Op: protocol.OpCallMoreParty, CallID: "i1", To: id},
			{Op: protocol.OpAcceptCall, CallID: id},
			{Op: protocol.OpRejectCall, CallID: id},
			{Op: protocol.OpHungupCall, CallID: id},
			{Op: protocol.OpCancelCallMoreParty, CallID: id},
			{Op: protocol.OpSendBegin, Task: id, To: "bob", Kind: protocol.KindBuffer, Total: 1},
			{Op: protocol.OpSendBegin, Task: "t1", To: id, Kind: protocol.KindBuffer, Total: 1},
			{Op: protocol.OpCancelSend, Task: id},
		} {
			if code := alice.code(m); code != protocol.ParamErr {
				t.Errorf("%s callID %q to %q task %q: code %d, want 5", m.Op, m.CallID, m.To, m.Task, code)
			}
		}
		for _, h := range []protocol.Header{
			{Type: protocol.FrameCmd, Task: id, Peer: "bob"},
			{Type: protocol.FrameCmd, Task: fmt.Sprint("cmd-", i), Peer: id},
			{Type: protocol.FrameCmd, Task: fmt.Sprint("utf8-", i), Peer: "bob\xff"},
		} {
			alice.sendBin(h, []byte("x"))
			if r := alice.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == h.Task }); r.Code != protocol.ParamErr {
				t.Errorf("FrameCmd task %q peer %q: sendRslt %d, want 5", h.Task, h.Peer, r.Code)
			}
		}
	}
	bob.sync()
	if n := bob.count(protocol.PushCallIn, nil) + bob.count(protocol.PushXferBegin, nil) + bob.binCount(); n != 0 {
		t.Errorf("bob received %d frames from refused requests", n)
	}
}

// The server relays a file name reduced by protocol.BaseName: no
// directories, controls or bidirectional formatting.
func TestSendBeginNameIsBaseName(t *testing.T) {
	s := newTestServer(t, nil)
	alice, bob := login(t, s, "ent1", "alice"), login(t, s, "ent1", "bob")
	if code := alice.code(protocol.Msg{Op: protocol.OpSendBegin, Task: "f1", To: "bob", Kind: protocol.KindFile, Total: 1,
		Name: `C:\tmp\invoice` + "\u202efdp.exe"}); code != 0 {
		t.Fatalf("sendBegin: code %d", code)
	}
	if b := bob.expect(protocol.PushXferBegin, nil); b.Name != "invoicefdp.exe" {
		t.Errorf("xferBegin name %q, want %q", b.Name, "invoicefdp.exe")
	}
}
