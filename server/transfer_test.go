package server

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestSendCmd(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")

	payload := bytes.Repeat([]byte{0xAB}, protocol.MaxCmdBytes)
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c1", Peer: "bob"}, payload)
	h, p := b.expectBin()
	if h.Type != protocol.FrameCmd || h.Task != "c1" || h.Peer != "alice" || !bytes.Equal(p, payload) {
		t.Errorf("relayed FrameCmd: %+v, %d bytes", h, len(p))
	}
	// No result before the receiver acks.
	a.sync()
	if n := a.count(protocol.PushSendRslt, nil); n != 0 {
		t.Errorf("sendRslt before cmdAck")
	}
	b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: "c1"})
	if m := a.expect(protocol.PushSendRslt, nil); m.Task != "c1" || m.Code != 0 {
		t.Errorf("sendRslt %+v", m)
	}
	b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: "c1"}) // duplicate: ignored
	// A cmd cannot be cancelled.
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "c1"}); code != protocol.TransIDInvalid {
		t.Errorf("cancelSend of a cmd: %d, want 1104", code)
	}

	rslt := func(task string) int {
		t.Helper()
		return a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == task }).Code
	}
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c2", Peer: "bob"}, append(payload, 0))
	if code := rslt("c2"); code != protocol.SendCmdLarge {
		t.Errorf("50 KiB + 1: %d, want 1100", code)
	}
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c3", Peer: "nobody"}, []byte("x"))
	if code := rslt("c3"); code != protocol.SendDataTargetInvalid {
		t.Errorf("offline: %d, want 1102", code)
	}
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c4", Peer: "alice"}, []byte("x"))
	if code := rslt("c4"); code != protocol.SendDataTargetInvalid {
		t.Errorf("to self: %d, want 1102", code)
	}
	// Duplicate live task ID at the receiver.
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c5", Peer: "bob"}, []byte("x"))
	b.expectBin()
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c5", Peer: "bob"}, []byte("y"))
	if code := rslt("c5"); code != protocol.ParamErr {
		t.Errorf("duplicate task: %d, want 5", code)
	}
	// Receiver gone before its ack: 1000.
	b.ws.Close()
	if code := rslt("c5"); code != protocol.SendFail {
		t.Errorf("receiver gone: %d, want 1000", code)
	}
}

// beginXfer opens a buffer transfer a → b of total bytes and returns the reply.
func beginXfer(t *testing.T, a, b *tclient, task string, total int64) *protocol.Msg {
	t.Helper()
	r := a.req(protocol.Msg{Op: protocol.OpSendBegin, Task: task, To: b.name, Kind: protocol.KindBuffer, Total: total})
	if r.Code != 0 {
		t.Fatalf("sendBegin %s: %d", task, r.Code)
	}
	m := b.expect(protocol.PushXferBegin, func(m *protocol.Msg) bool { return m.Task == task })
	if m.From != a.name || m.Total != total || m.Kind != protocol.KindBuffer {
		t.Errorf("xferBegin %+v", m)
	}
	return r
}

func TestTransferFlow(t *testing.T) {
	const chunk, window = 1000, 3000
	s := newTestServer(t, func(c *Config) { c.Chunk, c.Window, c.MaxBuffer, c.MaxFile = chunk, window, 10000, 20000 })
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")

	// Parameter and limit checks.
	begin := func(m protocol.Msg) int {
		m.Op = protocol.OpSendBegin
		return a.code(m)
	}
	for _, tc := range []struct {
		m    protocol.Msg
		want int
	}{
		{protocol.Msg{Task: "", To: "bob", Kind: "buffer", Total: 1}, protocol.ParamErr},
		{protocol.Msg{Task: strings.Repeat("t", 1025), To: "bob", Kind: "buffer", Total: 1}, protocol.ParamErr},
		{protocol.Msg{Task: "t", To: "bob", Kind: "pipe", Total: 1}, protocol.ParamErr},
		{protocol.Msg{Task: "t", To: "bob", Kind: "buffer", Total: -1}, protocol.ParamErr},
		{protocol.Msg{Task: "t", To: "bob", Kind: "buffer", Total: 10001}, protocol.SendBufferLarge},
		{protocol.Msg{Task: "t", To: "bob", Kind: "file", Total: 20001}, protocol.FileSizeUnsupport},
		{protocol.Msg{Task: "t", To: "nobody", Kind: "buffer", Total: 1}, protocol.SendDataTargetInvalid},
		{protocol.Msg{Task: "t", To: "alice", Kind: "buffer", Total: 1}, protocol.SendDataTargetInvalid},
	} {
		if code := begin(tc.m); code != tc.want {
			t.Errorf("sendBegin %+v: %d, want %d", tc.m, code, tc.want)
		}
	}

	// A file transfer of 2500 bytes, acked as it arrives; the name is reduced to its base.
	data := make([]byte, 2500)
	for i := range data {
		data[i] = byte(i * 7)
	}
	r := a.req(protocol.Msg{Op: protocol.OpSendBegin, Task: "f1", To: "bob", Kind: protocol.KindFile, Total: 2500, Name: `C:\dir/sub\..\report.pdf`})
	if r.Code != 0 || r.Window != window || r.Chunk != chunk {
		t.Fatalf("sendBegin reply %+v", r)
	}
	if m := b.expect(protocol.PushXferBegin, nil); m.Task != "f1" || m.Name != "report.pdf" || m.Kind != "file" || m.Total != 2500 || m.From != "alice" {
		t.Errorf("xferBegin %+v", m)
	}
	if code := begin(protocol.Msg{Task: "f1", To: "bob", Kind: "buffer", Total: 1}); code != protocol.ParamErr {
		t.Errorf("duplicate live task: %d, want 5", code)
	}
	var got []byte
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "f1", Offset: int64(off)}, data[off:end])
		h, p := b.expectBin()
		if h.Type != protocol.FrameChunk || h.Task != "f1" || h.Offset != int64(off) {
			t.Fatalf("forwarded chunk header %+v", h)
		}
		got = append(got, p...)
		b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: "f1", N: int64(end)})
		if m := a.expect(protocol.PushXferAck, nil); m.N != int64(end) {
			t.Errorf("xferAck to sender: %d, want %d", m.N, end)
		}
	}
	if !bytes.Equal(got, data) {
		t.Error("data changed in transit")
	}
	b.expect(protocol.PushXferDone, func(m *protocol.Msg) bool { return m.Task == "f1" })
	if m := a.expect(protocol.PushSendRslt, nil); m.Task != "f1" || m.Code != 0 {
		t.Errorf("sendRslt %+v", m)
	}
	// Cancel after completion: 1104; the task ID is free again.
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "f1"}); code != protocol.TransIDInvalid {
		t.Errorf("cancel after done: %d, want 1104", code)
	}

	// An empty buffer completes on the receiver's xferAck(0).
	beginXfer(t, a, b, "z", 0)
	b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: "z"})
	b.expect(protocol.PushXferDone, func(m *protocol.Msg) bool { return m.Task == "z" })
	a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "z" && m.Code == 0 })

	// Flow-control violations fail the task: 6 to the sender, xferCancel to the receiver.
	violations := []struct {
		name  string
		sends func(task string)
	}{
		{"beyond the window", func(task string) {
			for off := 0; off <= window; off += chunk {
				a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: int64(off)}, make([]byte, chunk))
			}
		}},
		{"chunk too large", func(task string) {
			a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task}, make([]byte, chunk+1))
		}},
		{"offset gap", func(task string) {
			a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: 10}, make([]byte, 10))
		}},
		{"past total", func(task string) {
			b.drainBins()
			off := 0
			for ; off+chunk < 9999; off += chunk {
				a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: int64(off)}, make([]byte, chunk))
				b.expectBin() // acks count only forwarded bytes
				b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: task, N: int64(off + chunk)})
				a.expect(protocol.PushXferAck, func(m *protocol.Msg) bool { return m.Task == task && m.N == int64(off+chunk) })
			}
			// 9000 + 1000 > 9999
			a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: int64(off)}, make([]byte, chunk))
		}},
	}
	for i, v := range violations {
		task := "v" + string(rune('0'+i))
		total := int64(9999)
		beginXfer(t, a, b, task, total)
		v.sends(task)
		if m := a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == task }); m.Code != protocol.ErrData {
			t.Errorf("%s: sendRslt %d, want 6", v.name, m.Code)
		}
		b.expect(protocol.PushXferCancel, func(m *protocol.Msg) bool { return m.Task == task })
		// Later chunks of the failed task are dropped silently.
		before := b.binCount()
		a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: 0}, []byte("late"))
		a.sync()
		b.sync()
		if b.binCount() != before {
			t.Errorf("%s: chunk of a failed task forwarded", v.name)
		}
	}
	a.sync()
	if n := a.count(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task[0] == 'v' }); n != len(violations) {
		t.Errorf("%d sendRslt for %d failed tasks", n, len(violations))
	}
}

func TestTransferCancelAndFailures(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.Chunk, c.Window = 100, 1000 })
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")

	// cancel in flight: reply 0, xferCancel, later acks ignored, no sendRslt.
	beginXfer(t, a, b, "k1", 500)
	a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "k1"}, make([]byte, 100))
	b.expectBin()
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "k1"}); code != 0 {
		t.Errorf("cancel: %d", code)
	}
	b.expect(protocol.PushXferCancel, func(m *protocol.Msg) bool { return m.Task == "k1" })
	b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: "k1", N: 100})
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "k1"}); code != protocol.TransIDInvalid {
		t.Errorf("cancel twice: %d, want 1104", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "never"}); code != protocol.TransIDInvalid {
		t.Errorf("cancel unknown: %d, want 1104", code)
	}
	a.sync()
	if n := a.count(protocol.PushSendRslt, nil) + a.count(protocol.PushXferAck, nil); n != 0 {
		t.Errorf("cancelled task still got %d result/ack pushes", n)
	}

	// Cancel versus done: the final ack and the cancel cross; the server
	// decides once and both sides agree.
	for i := range 30 {
		task := "cd" + string(rune('a'+i%26)) + string(rune('0'+i/26))
		beginXfer(t, a, b, task, 100)
		a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: task}, make([]byte, 100))
		b.expectBin()
		id := a.send(protocol.Msg{Op: protocol.OpCancelSend, Task: task})
		b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: task, N: 100})
		code := a.reply(id).Code
		a.sync()
		b.sync()
		done := b.count(protocol.PushXferDone, func(m *protocol.Msg) bool { return m.Task == task })
		cancel := b.count(protocol.PushXferCancel, func(m *protocol.Msg) bool { return m.Task == task })
		ok := a.count(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == task && m.Code == 0 })
		switch code {
		case 0:
			if done != 0 || cancel != 1 || ok != 0 {
				t.Fatalf("%s: cancel won but done=%d cancel=%d rslt0=%d", task, done, cancel, ok)
			}
		case protocol.TransIDInvalid:
			if done != 1 || cancel != 0 || ok != 1 {
				t.Fatalf("%s: done won but done=%d cancel=%d rslt0=%d", task, done, cancel, ok)
			}
		default:
			t.Fatalf("%s: cancel %d", task, code)
		}
	}

	// Receiver cannot write: xferFail → sendRslt 1402.
	beginXfer(t, a, b, "w1", 100)
	b.oneway(protocol.Msg{Op: protocol.OpXferFail, Task: "w1", Code: protocol.FileWriteErr})
	if m := a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "w1" }); m.Code != protocol.FileWriteErr {
		t.Errorf("xferFail: sendRslt %d, want 1402", m.Code)
	}

	// Sender gone: receiver xferCancel. Receiver gone: sender 1000.
	c := login(t, s, "ent1", "carol")
	beginXfer(t, c, b, "g1", 100)
	beginXfer(t, a, c, "g2", 100)
	c.ws.Close()
	b.expect(protocol.PushXferCancel, func(m *protocol.Msg) bool { return m.Task == "g1" })
	if m := a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "g2" }); m.Code != protocol.SendFail {
		t.Errorf("receiver gone: %d, want 1000", m.Code)
	}
}

// TestSignalingAheadOfBulk checks that a call still reaches a receiver that
// holds a full window of unacknowledged chunks, and that the transfer is not
// failed for it. (That control frames overtake queued bulk frames is
// outbox.Outbox's own property.)
func TestSignalingAheadOfBulk(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	c := login(t, s, "ent1", "carol")
	beginXfer(t, a, b, "big", 1<<20)
	// b does not ack: the server holds at most the window of chunks.
	for off := 0; off < 1<<20; off += DefaultChunk {
		a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "big", Offset: int64(off)}, make([]byte, DefaultChunk))
	}
	c.req(callMsg("sig", "bob"))
	b.expect(protocol.PushCallIn, func(m *protocol.Msg) bool { return m.CallID == "sig" })
	waitFor(t, waitTime, "all chunks", func() bool { return b.binCount() == 1<<20/DefaultChunk })
	a.sync()
	if n := a.count(protocol.PushSendRslt, nil); n != 0 {
		t.Errorf("transfer failed: %d", n)
	}
}

// TestInFlightLimits: one user may have at most MaxCmds unacknowledged
// sendCmds and MaxTransfers transfers in flight; beyond them the server
// answers 8, and a slot frees as soon as a task ends. The login reply
// announces both limits (the library paces itself by them).
func TestInFlightLimits(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxCmds, c.MaxTransfers = 3, 2 })
	a := dial(t, s, "alice")
	r := a.req(loginMsg("ent1", "alice"))
	if r.Code != 0 || r.Limits == nil || r.Limits.MaxCmds != 3 || r.Limits.MaxTransfers != 2 {
		t.Fatalf("login reply %+v limits %+v", r, r.Limits)
	}
	b := login(t, s, "ent1", "bob")
	for i := range 4 {
		a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: fmt.Sprint("c", i), Peer: "bob"}, []byte("x"))
	}
	if m := a.expect(protocol.PushSendRslt, nil); m.Task != "c3" || m.Code != protocol.ServerException {
		t.Fatalf("4th cmd: %+v, want 8", m)
	}
	for range 3 {
		b.expectBin()
	}
	b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: "c0"})
	if m := a.expect(protocol.PushSendRslt, nil); m.Task != "c0" || m.Code != 0 {
		t.Fatalf("c0: %+v", m)
	}
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c4", Peer: "bob"}, []byte("x"))
	if h, _ := b.expectBin(); h.Task != "c4" {
		t.Fatalf("after an ack, the next cmd is relayed: %+v", h)
	}

	begin := func(task string) int {
		return a.code(protocol.Msg{Op: protocol.OpSendBegin, Task: task, To: "bob", Kind: protocol.KindBuffer, Total: 5})
	}
	if begin("x0") != 0 || begin("x1") != 0 {
		t.Fatal("two transfers refused")
	}
	if code := begin("x2"); code != protocol.ServerException {
		t.Fatalf("third transfer: %d, want 8", code)
	}
	// Commands in flight do not count against transfers, nor the reverse.
	if code := a.code(protocol.Msg{Op: protocol.OpCancelSend, Task: "x0"}); code != 0 {
		t.Fatalf("cancel: %d", code)
	}
	if code := begin("x3"); code != 0 {
		t.Fatalf("after a cancel: %d", code)
	}
	b.oneway(protocol.Msg{Op: protocol.OpCmdAck, Task: "c1"})
	a.expect(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Task == "c1" && m.Code == 0 })
	a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c5", Peer: "bob"}, []byte("x"))
	if h, _ := b.expectBin(); h.Task != "c5" {
		t.Fatalf("cmd while two transfers run: %+v", h)
	}
}
