package server

import (
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// FuzzServerInput sends arbitrary text and binary frames from a logged-in
// client; the server must neither crash nor stop answering. Run with
// `go test -fuzz FuzzServerInput ./server/`; plain `go test` runs the seeds.
func FuzzServerInput(f *testing.F) {
	dir := f.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			f.Fatal(err)
		}
	}
	// No login throttle: fuzzed logins fail by the thousand from one address.
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir, LoginFailIP: -1, LoginFailAcnt: -1})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })

	f.Add([]byte(`{"id":1,"op":"call","callID":"c","to":"peer","meetObj":"{}"}`), false)
	f.Add([]byte(`{"id":2,"op":"sendBegin","task":"t","to":"peer","kind":"file","total":5,"name":"../../x"}`), false)
	f.Add([]byte(`{"op":"xferAck","task":"t","n":5}`), false)
	f.Add([]byte(`{"id":3,"op":"createMeeting","subject":"s","createPswd":1}`), false)
	f.Add([]byte(`{"id":4,"op":"logout"}`), false)
	f.Add(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: "t", Peer: "peer"}), true)
	f.Add(append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: "t"}), 1, 2, 3), true)
	f.Add([]byte{2, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 't'}, true)

	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		peer := login(t, s, "ent1", "peer")
		c := login(t, s, "ent1", "fuzz")
		typ := websocket.TextMessage
		if binary {
			typ = websocket.BinaryMessage
		}
		c.write(typ, frame)
		// The server still answers (a fresh connection if the frame ended this one).
		if r := peer.req(protocol.Msg{Op: protocol.OpGetUserStatus}); r.Code != 0 {
			t.Fatalf("getUserStatus: %d", r.Code)
		}
		c2 := login(t, s, "ent1", "fuzz")
		c2.sync()
	})
}

// fuzzOps is every operation the server accepts from a client.
var fuzzOps = []string{
	protocol.OpLogin, protocol.OpLogout, protocol.OpSetDND, protocol.OpGetUserStatus, protocol.OpStartStatusNotify,
	protocol.OpStopStatusNotify, protocol.OpCreateMeeting, protocol.OpDestroyMeeting, protocol.OpGetMeetings,
	protocol.OpCall, protocol.OpAcceptCall, protocol.OpRejectCall, protocol.OpHungupCall, protocol.OpCallMoreParty,
	protocol.OpCancelCallMoreParty, protocol.OpSendBegin, protocol.OpCancelSend, protocol.OpResume,
	protocol.OpCmdAck, protocol.OpXferAck, protocol.OpXferFail, protocol.OpAck,
}

// knownCode reports whether code is one of REFERENCE §1's codes.
func knownCode(code int) bool {
	for _, c := range protocol.Codes {
		if c.Code == code {
			return true
		}
	}
	return false
}

// FuzzServerOps sends every operation the server accepts with fuzzed field
// values, before and after login: each request is answered exactly once
// with a code of REFERENCE §1 (or ends its own connection), and the server
// goes on serving everyone else. Run with
// `go test -run '^$' -fuzz FuzzServerOps ./server/`; plain `go test` runs the
// seeds and the committed corpus in testdata/fuzz.
func FuzzServerOps(f *testing.F) {
	dir := f.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			f.Fatal(err)
		}
	}
	// No login throttle: fuzzed logins fail by the thousand from one address.
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir, ResumeGrace: 10 * time.Millisecond, MaxBuffer: 1 << 20, MaxFile: 1 << 20,
		LoginFailIP: -1, LoginFailAcnt: -1})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	for i := range fuzzOps {
		f.Add(uint8(i), true, "peer", "{}", int64(1), int64(0))
		f.Add(uint8(i), false, "", "", int64(-1), int64(1<<62))
	}
	f.Add(uint8(9), true, "peer", `{"a":`, int64(0), int64(0))             // call, bad meetObj
	f.Add(uint8(15), true, "peer", "../../x", int64(1<<40), int64(0))      // sendBegin, huge
	f.Add(uint8(0), false, "ent1", md5Hex("pw1"), int64(1), int64(0))      // login
	f.Add(uint8(17), false, "token", "", int64(-5), int64(-9))             // resume
	f.Add(uint8(6), true, strings.Repeat("界", 60), "", int64(2), int64(0)) // createMeeting

	f.Fuzz(func(t *testing.T, op uint8, loggedIn bool, s1, s2 string, n1, n2 int64) {
		peer := login(t, s, "ent1", "peer")
		var c *tclient
		if loggedIn {
			c = login(t, s, "ent1", "fuzz")
		} else {
			c = dial(t, s, "fuzz")
		}
		m := protocol.Msg{Op: fuzzOps[int(op)%len(fuzzOps)],
			Ver: int(n2), Acnt: s1, Pswd: s2, Nick: s2, Priv: s1, Auth: s2, Token: s1, NB: n2,
			DND: int(n1), Subject: s1, CreatePswd: int(n1), MeetID: int(n1),
			CallID: s1, To: s1, MeetObj: s2, Ext: s2,
			Task: s1, Kind: s2, Name: s2, Total: n1, N: n2, Code: int(n2)}
		if m.Op == protocol.OpSendBegin && n2%2 == 0 {
			m.Kind = protocol.KindBuffer
		}
		switch m.Op {
		case protocol.OpCmdAck, protocol.OpXferAck, protocol.OpXferFail, protocol.OpAck:
			c.oneway(m) // one-way messages: no reply
			if r := peer.req(protocol.Msg{Op: protocol.OpGetUserStatus}); r.Code != 0 {
				t.Fatalf("getUserStatus after %s: %d", m.Op, r.Code)
			}
			return
		}
		id := c.send(m)
		// Every request is answered once, with a known code, unless it ended
		// its own connection (logout, a hostile resume).
		waitFor(t, waitTime, "a reply or the connection's end", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.replies[id] != nil || c.closed
		})
		c.mu.Lock()
		r := c.replies[id]
		c.mu.Unlock()
		if r != nil && !knownCode(r.Code) {
			t.Fatalf("%s: reply code %d is not a CRVIDEOSDK code", m.Op, r.Code)
		}
		if r := peer.req(protocol.Msg{Op: protocol.OpGetUserStatus}); r.Code != 0 {
			t.Fatalf("getUserStatus after %s: %d", m.Op, r.Code)
		}
	})
}
