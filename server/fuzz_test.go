package server

import (
	"testing"

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
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir})
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
