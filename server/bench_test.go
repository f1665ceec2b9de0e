package server

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// BenchmarkLogin measures dial + upgrade + login round trips with 8
// concurrent clients (the login cache makes all but the first cheap).
func BenchmarkLogin(b *testing.B) {
	dir := b.TempDir()
	if err := AddAccount(dir, "ent1", "pw1"); err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
				if err != nil {
					b.Error(err)
					return
				}
				m := protocol.Msg{ID: 1, Op: protocol.OpLogin, Ver: 1, Acnt: "ent1", Pswd: md5Hex("pw1"), Priv: "u" + strconv.FormatInt(i, 10)}
				ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m))
				_, data, err := ws.ReadMessage()
				if err != nil {
					b.Error(err)
					return
				}
				if r, _ := protocol.Decode(data); r == nil || r.Code != 0 {
					b.Errorf("login reply %s", data)
				}
				ws.Close()
			}
		}()
	}
	wg.Wait()
}
