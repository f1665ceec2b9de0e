package server

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// TestHostileClient sends garbage text and binary frames before and after
// login; the server must survive and keep serving everyone else.
func TestHostileClient(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	b := login(t, s, "ent1", "bob")
	rng := rand.New(rand.NewPCG(1, 2))

	garbage := func(h *tclient) {
		texts := []string{"", "{", "null", "[]", "[1,2]", `"str"`, "{}", `{"id":-1}`, `{"id":1}`, `{"op":"call"}`,
			`{"id":18446744073709551615,"op":"login","ver":"x"}`, `{"id":5,"op":"call","callID":{"x":1}}`,
			`{"op":"xferAck","task":"nope","n":-5}`, `{"op":"cmdAck"}`, `{"op":"xferFail","task":"x"}`,
			strings.Repeat("[", 10000), `{"id":7,"op":"sendBegin","task":"t","to":"bob","kind":"buffer","total":-9223372036854775808}`}
		for _, x := range texts {
			h.write(websocket.TextMessage, []byte(x))
		}
		h.write(websocket.TextMessage, make([]byte, protocol.MaxTextFrame+1))
		for range 300 {
			n := rng.IntN(64)
			f := make([]byte, n)
			for i := range f {
				f[i] = byte(rng.UintN(256))
			}
			if n > 0 && rng.IntN(2) == 0 {
				f[0] = byte(1 + rng.IntN(2))
			}
			if n >= protocol.HeaderLen && rng.IntN(2) == 0 {
				binary.BigEndian.PutUint16(f[2:], uint16(rng.IntN(4)))
				binary.BigEndian.PutUint16(f[4:], uint16(rng.IntN(4)))
			}
			h.write(websocket.BinaryMessage, f)
		}
		// Valid headers with hostile values.
		h.sendBin(protocol.Header{Type: protocol.FrameChunk, Task: "none", Offset: 1 << 61}, []byte("x"))
		h.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "c", Peer: "bob"}, nil)
	}

	// Before login.
	pre := dial(t, s, "pre")
	garbage(pre)
	if code := pre.code(protocol.Msg{Op: protocol.OpGetMeetings}); code != protocol.NotLogin {
		t.Errorf("after garbage, before login: %d, want 12", code)
	}
	// After login.
	h := login(t, s, "ent1", "hostile")
	garbage(h)
	h.sync()
	// A message over the read limit closes only that connection.
	big := dial(t, s, "big")
	big.write(websocket.BinaryMessage, make([]byte, s.readLimit+1))
	big.waitClosed()

	// Everyone else is fine.
	if code := a.code(callMsg("ok", "bob")); code != 0 {
		t.Fatalf("call after hostile traffic: %d", code)
	}
	b.expect(protocol.PushCallIn, nil)
	r := b.req(protocol.Msg{Op: protocol.OpGetUserStatus})
	if len(r.Users) != 3 {
		t.Errorf("users %+v", r.Users)
	}
}

// TestSilentConnectionDies checks that a peer that stops answering pings is
// declared dead within the ping timeout and its session ends.
func TestSilentConnectionDies(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = 300 * time.Millisecond })
	a := login(t, s, "ent1", "alice")
	a.req(protocol.Msg{Op: protocol.OpStartStatusNotify})
	// bob's connection never reads, so it never answers pings (gorilla
	// answers pings while reading) and sends nothing.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	m := loginMsg("ent1", "bob")
	m.ID = 1
	ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m))
	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == "bob" && m.User.UserStatus == protocol.StatusIdle })
	start := time.Now()
	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return m.User.UserID == "bob" && m.User.UserStatus == protocol.StatusOffline
	})
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("silent connection declared dead after %v", el)
	}
	// alice, whose client answers pings, stays.
	a.sync()
}

// TestSlowConsumerCutOff floods a receiver that never reads with sendCmd
// frames: once more than 8 MiB of signaling is unacknowledged, the server
// cuts it off, its session ends (pending cmds fail with 1000) and the
// sender and everyone else carry on.
func TestSlowConsumerCutOff(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	a.req(protocol.Msg{Op: protocol.OpStartStatusNotify})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	m := loginMsg("ent1", "bob")
	m.ID = 1
	ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m)) // and never read (nor ack) again
	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == "bob" && m.User.UserStatus == protocol.StatusIdle })

	payload := make([]byte, protocol.MaxCmdBytes)
	offline := func(m *protocol.Msg) bool {
		return m.User.UserID == "bob" && m.User.UserStatus == protocol.StatusOffline
	}
	sent := 0
	for ; sent < 2000 && a.count(protocol.PushUserStatus, offline) == 0; sent++ {
		a.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "f" + strconv.Itoa(sent), Peer: "bob"}, payload)
	}
	a.expect(protocol.PushUserStatus, offline)
	waitFor(t, waitTime, "sendRslt 1000", func() bool {
		return a.count(protocol.PushSendRslt, func(m *protocol.Msg) bool { return m.Code == protocol.SendFail }) > 0
	})
	t.Logf("cut off after %d cmds of 50 KiB", sent)
	a.sync()
}

// TestLoginDeadline: a connection that keeps pinging but never logs in is
// closed at the login deadline.
func TestLoginDeadline(t *testing.T) {
	dir := t.TempDir()
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir, PingTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.loginTimeout = 600 * time.Millisecond
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, s, "idle")
	start := time.Now()
	for !c.isClosed() && time.Since(start) < 5*time.Second {
		c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
		time.Sleep(50 * time.Millisecond)
	}
	if el := time.Since(start); !c.isClosed() || el < 500*time.Millisecond {
		t.Errorf("closed=%v after %v, want closed at about 600ms", c.isClosed(), el)
	}
}
