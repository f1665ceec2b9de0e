package core

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

type lineOffCB struct {
	NopCallback
	mu       sync.Mutex
	loggedIn bool
	lineOff  []int
}

func (c *lineOffCB) LoginSuccess(string, string) { c.mu.Lock(); c.loggedIn = true; c.mu.Unlock() }
func (c *lineOffCB) LineOff(code int) {
	c.mu.Lock()
	c.lineOff = append(c.lineOff, code)
	c.mu.Unlock()
}
func (c *lineOffCB) state() (bool, []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn, append([]int(nil), c.lineOff...)
}

// A hostile (or broken) server that sends a message over the library's
// read limit, and again on every resumed connection (it is never
// acknowledged), must not keep the library reconnecting for ever: the
// session ends with LineOff(6). Before the fix the library resumed and read
// the same frame again, in a loop, until the server gave up.
func TestServerMessageOverReadLimitEndsSession(t *testing.T) {
	var conns atomic.Int32
	huge := `{"push":"userStatus","user":{"userID":"` + strings.Repeat("x", readLimitLoggedOut+1) + `"}}`
	srv := wsServer(t, func(ws *websocket.Conn) {
		conns.Add(1)
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		m, err := protocol.Decode(b)
		if err != nil {
			return
		}
		reply := &protocol.Msg{ID: m.ID}
		if m.Op == protocol.OpLogin {
			reply.UsrID, reply.Token, reply.Boot = "me", "tok", "boot"
			reply.Limits = &protocol.Limits{Chunk: 1024, Window: 4096, PingTimeout: 10000, ResumeGrace: 30000}
		}
		if ws.WriteMessage(websocket.TextMessage, protocol.Encode(reply)) != nil {
			return
		}
		_ = ws.WriteMessage(websocket.TextMessage, []byte(huge))
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})
	cb := &lineOffCB{}
	m := New(Config{Callback: cb, TempDir: t.TempDir()})
	defer m.Close()
	m.SetServerAddr(strings.TrimPrefix(srv.URL, "http://"))
	m.Login("a", "b", "", "me", "", "")
	waitCond(t, "LineOff", func() bool { _, l := cb.state(); return len(l) > 0 })
	if ok, l := cb.state(); !ok || len(l) != 1 || l[0] != protocol.ErrData {
		t.Fatalf("logged in %v, lineOff %v; want one LineOff(6)", ok, l)
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections: the library reconnected after the oversize message", n)
	}
}
