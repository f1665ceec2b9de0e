package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

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

// repliedTo reports whether c has the reply to request id.
func (c *tclient) repliedTo(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.replies[id] != nil
}

// TestIncomingTransfersPaced: a receiver has at most MaxIncoming buffer/file
// transfers in flight towards it, whoever sends them; a sendBegin over it
// waits, unanswered, and begins (reply 0, xferBegin) as soon as a slot
// frees; cancelling a waiting one answers 0 and its receiver never hears
// of it.
func TestIncomingTransfersPaced(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxIncoming = 2 })
	a := login(t, s, "ent1", "alice")
	c := login(t, s, "ent1", "carol")
	b := login(t, s, "ent1", "bob")
	beginXfer(t, a, b, "x0", 5)
	beginXfer(t, c, b, "x1", 5)
	wait := a.send(protocol.Msg{Op: protocol.OpSendBegin, Task: "x2", To: "bob", Kind: protocol.KindBuffer, Total: 5})
	gone := c.send(protocol.Msg{Op: protocol.OpSendBegin, Task: "x3", To: "bob", Kind: protocol.KindBuffer, Total: 5})
	if code := c.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "x3"}); code != 0 {
		t.Fatalf("cancel of a waiting transfer: %d", code)
	}
	if r := c.reply(gone); r.Code != protocol.SendFail {
		t.Fatalf("begin of the cancelled waiting transfer: %d, want 1000", r.Code)
	}
	a.sync()
	b.sync()
	if a.repliedTo(wait) || b.count(protocol.PushXferBegin, nil) != 2 {
		t.Fatal("a third transfer towards a receiver with MaxIncoming=2 began")
	}
	// x1 completes: x2 begins.
	c.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "x1"}, []byte("hello"))
	b.expectBin()
	b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: "x1", N: 5})
	c.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "x1" && m.Code == 0 })
	if r := a.reply(wait); r.Code != 0 || r.Window == 0 {
		t.Fatalf("paced sendBegin: %+v", r)
	}
	b.expect(protocol.PushXferBegin, func(m *protocol.Msg) bool { return m.Task == "x2" })
	b.sync()
	if n := b.count(protocol.PushXferBegin, func(m *protocol.Msg) bool { return m.Task == "x3" }); n != 0 {
		t.Fatal("the receiver heard of a cancelled waiting transfer")
	}
}

// TestStalledTransferTimesOut: a transfer without progress (no chunk, no
// xferAck) for StallTimeout fails: sendRslt 1000 to its sender, xferCancel
// to its receiver; its slot frees for a waiting one.
func TestStalledTransferTimesOut(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxIncoming, c.StallTimeout = 1, 300*time.Millisecond })
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	beginXfer(t, a, b, "y0", 5)
	a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "y0"}, []byte("hello"))
	next := a.send(protocol.Msg{Op: protocol.OpSendBegin, Task: "y1", To: "bob", Kind: protocol.KindBuffer, Total: 5})
	if m := a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "y0" }); m.Code != protocol.SendFail {
		t.Fatalf("stalled transfer: %d, want 1000", m.Code)
	}
	b.expect(protocol.PushXferCancel, func(m *protocol.Msg) bool { return m.Task == "y0" })
	// y1 waited as long as y0 stalled: it began or timed out waiting (8).
	switch r := a.reply(next); r.Code {
	case 0:
		a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "y1" && m.Code == protocol.SendFail })
	case protocol.ServerException:
	default:
		t.Fatalf("waiting sendBegin: %d", r.Code)
	}
}

// blockingHandler is a log handler that blocks every record whose message
// is msg until release is closed: a log call made under a lock would hold
// the lock as long.
type blockingHandler struct {
	msg     string
	hit     chan struct{}
	release chan struct{}
	once    *sync.Once
}

func (h blockingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h blockingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h blockingHandler) WithGroup(string) slog.Handler            { return h }
func (h blockingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		h.once.Do(func() { close(h.hit) })
		<-h.release
	}
	return nil
}

// TestNoLoggingUnderEnterpriseLock: the session's log lines are written
// after the enterprise's mutex is released (copy under the lock, act after
// it): a log write that blocks (a slow disk, a full pipe) stalls only the
// goroutine that logs, never the enterprise's other users.
func TestNoLoggingUnderEnterpriseLock(t *testing.T) {
	for _, msg := range []string{"connection lost; waiting for resume", "session resumed"} {
		t.Run(msg, func(t *testing.T) {
			h := blockingHandler{msg: msg, hit: make(chan struct{}), release: make(chan struct{}), once: &sync.Once{}}
			defer close(h.release)
			s := newTestServer(t, func(c *Config) { c.Logger, c.ResumeGrace = slog.New(h), time.Minute })
			a := login(t, s, "ent1", "alice")
			b := dial(t, s, "bob")
			r := b.req(loginMsg("ent1", "bob"))
			if msg == "session resumed" {
				b.ws.Close()
				b2 := dial(t, s, "bob")
				waitFor(t, waitTime, "bob's connection lost", func() bool {
					return len(s.connSnapshot()) == 2
				})
				b2.send(protocol.Msg{Op: protocol.OpResume, Token: r.Token})
			} else {
				b.ws.Close()
			}
			<-h.hit
			a.sync() // needs the enterprise's mutex
		})
	}
}
