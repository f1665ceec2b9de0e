package server

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// heapMiB returns the heap in use after a GC, in MiB.
func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapInuse) / (1 << 20)
}

// maskedText appends payload as one masked client text frame (< 126 bytes).
func maskedText(b, payload []byte) []byte {
	b = append(b, 0x81, 0x80|byte(len(payload)), 0, 0, 0, 0) // mask key 0: payload as is
	return append(b, payload...)
}

// TestPreLoginFloodCutOff: a connection that has not logged in sends
// requests (each answered with 12) and never reads: its reply queue is
// bounded (64 KiB) and the server cuts it off, instead of queueing
// without limit.
func TestPreLoginFloodCutOff(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = time.Minute })
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	nc := ws.UnderlyingConn()
	var batch []byte
	for i := range 2000 {
		batch = maskedText(batch, protocol.Encode(&protocol.Msg{ID: uint64(i + 1), Op: protocol.OpGetUserStatus}))
	}
	h0 := heapMiB()
	sent, cut := 0, false
	for sent < 20_000_000 {
		nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(batch); err != nil {
			cut = true
			break
		}
		sent += 2000
		if sent%200_000 == 0 && len(s.connSnapshot()) == 0 {
			cut = true
			break
		}
	}
	t.Logf("%d requests sent before the cut-off; heap %.1f → %.1f MiB", sent, h0, heapMiB())
	if !cut {
		t.Fatal("a client flooding requests before login was never cut off")
	}
	waitFor(t, waitTime, "connection gone", func() bool { return len(s.connSnapshot()) == 0 })
}

// connSnapshot returns the server's live connections.
func (s *Server) connSnapshot() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		out = append(out, c)
	}
	return out
}

// TestAckAheadDoesNotEscape: a logged-in client that never reads but
// acknowledges every frame the server numbered for it (counts it can work
// out without reading) is still cut off as a slow consumer: its acks are
// clamped to what was actually written, so what is queued keeps counting.
func TestAckAheadDoesNotEscape(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = time.Minute })
	a := login(t, s, "ent1", "alice")
	a.req(protocol.Msg{Op: protocol.OpStartStatusNotify})
	ws := loginNeverRead(t, s, a, "ent1", "bob")
	offline := func(m *protocol.Msg) bool {
		return m.User.UserID == "bob" && m.User.UserStatus == protocol.StatusOffline
	}
	ext := strings.Repeat("x", protocol.MaxExtBytes)
	h0 := heapMiB()
	cycles := 0
	for ; cycles < 4000 && a.count(protocol.PushUserStatus, offline) == 0; cycles++ {
		id := "k" + strconv.Itoa(cycles)
		if a.code(protocol.Msg{Op: protocol.OpCall, CallID: id, To: "bob", Ext: ext}) != 0 {
			break
		}
		a.code(protocol.Msg{Op: protocol.OpHungupCall, CallID: id})
		// bob has been sent callIn and callHungup for every cycle.
		ack := protocol.Encode(&protocol.Msg{Op: protocol.OpAck, N: int64(2 * (cycles + 1))})
		ws.SetWriteDeadline(time.Now().Add(time.Second))
		if ws.WriteMessage(websocket.TextMessage, ack) != nil {
			break
		}
	}
	t.Logf("%d calls of 8 KiB acknowledged ahead; heap %.1f → %.1f MiB", cycles, h0, heapMiB())
	if a.count(protocol.PushUserStatus, offline) == 0 && cycles == 4000 {
		t.Fatal("a client acknowledging frames it never read escaped the slow-consumer bound")
	}
	a.expect(protocol.PushUserStatus, offline)
}

// TestBulkUnackedCutOff: a receiver that reads every chunk and answers
// xferAck, so the sender goes on, but never acknowledges the chunks in its
// stream ack, is cut off once more than its bulk bound is unacknowledged
// (with one incoming transfer: window + 8 chunks) instead of making the
// server keep every byte relayed. The transfer fails with 1000.
func TestBulkUnackedCutOff(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxIncoming, c.PingTimeout = 1, time.Minute })
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	b.mu.Lock()
	b.noAck = true
	b.mu.Unlock()
	const total = 32 << 20
	beginXfer(t, a, b, "big", total)
	chunk := bytes.Repeat([]byte{7}, DefaultChunk)
	h0 := heapMiB()
	var off, acked int64
	for off < total && a.count(protocol.PushSendRslt, nil) == 0 {
		for off < total && off-acked < DefaultWindow {
			a.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "big", Offset: off}, chunk)
			off += DefaultChunk
		}
		// bob stores what arrives and says so, but never acks the frames.
		waitFor(t, waitTime, "chunks at bob", func() bool {
			return b.isClosed() || int64(b.binCount())*DefaultChunk > acked
		})
		if b.isClosed() {
			break
		}
		acked = int64(b.binCount()) * DefaultChunk
		b.oneway(protocol.Msg{Op: protocol.OpXferAck, Task: "big", N: acked})
		waitFor(t, waitTime, "xferAck or result", func() bool {
			return a.count(protocol.PushSendRslt, nil) > 0 ||
				a.count(protocol.PushXferAck, func(m *protocol.Msg) bool { return m.N == acked }) > 0
		})
	}
	t.Logf("%d MiB relayed before the cut-off; heap %.1f → %.1f MiB", off>>20, h0, heapMiB())
	if m := a.expect(protocol.PushSendRslt, nil); m.Code != protocol.SendFail {
		t.Fatalf("transfer ended with %d, want 1000", m.Code)
	}
	if off >= total {
		t.Fatal("a receiver that never acknowledged bulk frames got the whole transfer")
	}
}
