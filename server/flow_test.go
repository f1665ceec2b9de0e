package server

import (
	"fmt"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// TestCmdWindowHoldsInOrder: commands over a receiver's CmdWindow are held
// by the server and forwarded in arrival order as the receiver's cmdAcks
// free the budget; a cmdAck for a command still held is ignored; a sender
// over MaxCmdBytes in flight gets 8; held commands fail with 1000 when the
// receiver's session ends, and the budget is announced in the login limits.
func TestCmdWindowHoldsInOrder(t *testing.T) {
	const payload = 10 << 10
	s := newTestServer(t, func(c *Config) { c.CmdWindow, c.MaxCmdBytes = 3*payload, 5*payload })
	a := dial(t, s, "alice")
	if r := a.req(loginMsg("ent1", "alice")); r.Code != 0 || r.Limits.MaxCmdBytes != 5*payload {
		t.Fatalf("login %+v limits %+v", r, r.Limits)
	}
	c := login(t, s, "ent1", "carol")
	b := login(t, s, "ent1", "bob")
	data := make([]byte, payload)
	// alice: 4 commands (the 5th would pass MaxCmdBytes with the frame
	// headers), carol 2: the first 2 go at once (the third would pass
	// the window), the rest are held in arrival order.
	for i := range 4 {
		a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: fmt.Sprint("a", i), Peer: "bob"}, data)
	}
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "a4", Peer: "bob"}, data)
	if m := a.expect(protocol.PushSendRslt, nil); m.Task != "a4" || m.Code != protocol.ServerException {
		t.Fatalf("over MaxCmdBytes: %+v, want 8", m)
	}
	for i := range 2 {
		c.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: fmt.Sprint("c", i), Peer: "bob"}, data)
	}
	c.sync()
	var got []string
	for range 2 {
		h, _ := b.expectBin()
		got = append(got, h.Task)
	}
	b.sync()
	if n := b.binCount(); n != 2 {
		t.Fatalf("%d commands forwarded, want 2 within the window", n)
	}
	b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: "c1"}) // held: ignored
	b.sync()
	if n := b.binCount(); n != 2 {
		t.Fatalf("an ack of a held command freed budget: %d forwarded", n)
	}
	for _, want := range []string{"a2", "a3", "c0"} {
		b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: got[0]})
		got = got[1:]
		h, _ := b.expectBin()
		if h.Task != want {
			t.Fatalf("forwarded %s, want %s (arrival order)", h.Task, want)
		}
		got = append(got, h.Task)
	}
	for range 3 {
		a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Code == 0 })
	}
	// c1 is still held: bob leaving fails it (and those in flight) with 1000.
	b.req(protocol.Msg{Op: protocol.OpLogout})
	c.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "c1" && m.Code == protocol.SendFail })
	c.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "c0" && m.Code == protocol.SendFail })
}
