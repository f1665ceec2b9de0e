package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// serverSideWS returns the accepting end of a WebSocket connection that is
// not the server's: a conn built on it is driven by the test alone.
func serverSideWS(t *testing.T) *websocket.Conn {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		got <- ws
	}))
	t.Cleanup(hs.Close)
	peer, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	ws := <-got
	t.Cleanup(func() { ws.Close() })
	return ws
}

// TestResumeOnDyingConnectionKeepsSession: a connection whose writer fails
// (so its outbox closes) between the resume reply and the replay is a lost
// connection like any other: the session stays resumable. It used to be
// taken for a refused resume and ended, so that the client's next resume
// got 207 and its session ended with lineOff (TestFaultsExactlyOnce's
// stuck client).
func TestResumeOnDyingConnectionKeepsSession(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.ResumeGrace = time.Minute })
	a := dial(t, s, "alice")
	r := a.req(loginMsg("ent1", "alice"))
	if r.Code != 0 || r.Token == "" {
		t.Fatalf("login: %+v", r)
	}
	// A reply after login is a frame of the session's stream: unacked, it
	// is to be replayed on the resumed connection.
	if code := a.code(protocol.Msg{Op: protocol.OpStartStatusNotify}); code != 0 {
		t.Fatalf("startStatusNotify: code %d", code)
	}
	a.ws.Close()

	// The resumed connection, with its writer already gone: the state
	// handleResume finds when the reply it queued has kicked a writer
	// that failed on a reset socket at once.
	c := newConn(s, serverSideWS(t))
	c.pingTimer = time.NewTimer(time.Hour)
	s.wg.Add(1) // the writer's final exit
	c.out.Close()
	waitFor(t, waitTime, "the writer to finish", func() bool {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		return c.wdone
	})
	c.handleResume(&protocol.Msg{Op: protocol.OpResume, ID: 1, Token: r.Token})

	// The client comes back once more: the session is still there.
	b := dial(t, s, "alice-again")
	if rr := b.req(protocol.Msg{Op: protocol.OpResume, Token: r.Token}); rr.Code != 0 {
		t.Fatalf("resume after a connection that died while resuming: code %d, want 0", rr.Code)
	}
}
