package core

import (
	"context"
	"github.com/gorilla/websocket"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// loginFake logs a new Mgr in to fs and waits for LoginSuccess.
func loginFake(t *testing.T, fs *fakeServer, cb *countingCB) *Mgr {
	t.Helper()
	m := New(Config{Callback: cb})
	t.Cleanup(m.Close)
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	return m
}

// curConn returns the session's current connection, nil while reconnecting.
func curConn(m *Mgr) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil
	}
	return m.sess.c
}

// The client pings every third of the ping timeout the server announces in
// its login reply, not of the 10 s default it starts with (it used to keep
// the default's 3.3 s period for the life of the connection), and so on the
// connection of a resumed session too.
func TestPingPeriodFollowsServer(t *testing.T) {
	fs := newFakeServer(t)
	fs.onLogin = func(r *protocol.Msg) {
		r.Limits.PingTimeout = 300 // ms: a ping every 100 ms
		r.Limits.ResumeGrace = 10000
		r.Token, r.Boot = "tok", "boot"
	}
	m := loginFake(t, fs, &countingCB{})
	c := curConn(m)
	// At the default's period 10 pings would take 33 s (waitCond gives up
	// after 10 s), and the connection, whose read deadline is the announced
	// 300 ms, would die without the pongs: it must be the same connection.
	waitCond(t, "10 pings at the announced period", func() bool { return fs.pings.Load() >= 10 })
	if curConn(m) != c {
		t.Fatal("the connection died: the client did not ping at the announced period")
	}

	// A resumed session's new connection pings at the same period.
	c.kill()
	var c2 *conn
	waitCond(t, "resumed", func() bool { c2 = curConn(m); return c2 != nil && c2 != c })
	p0 := fs.pings.Load()
	waitCond(t, "10 pings on the resumed connection", func() bool { return fs.pings.Load() >= p0+10 })
	if curConn(m) != c2 {
		t.Fatal("the resumed connection died: the client did not ping at the announced period")
	}

	// A longer timeout than the default (a server at -ping-timeout 30s)
	// lengthens the period: 10 s, not 3.3 s.
	fs2 := newFakeServer(t)
	fs2.onLogin = func(r *protocol.Msg) { r.Limits.PingTimeout = 30000 }
	m2 := loginFake(t, fs2, &countingCB{})
	if got := curConn(m2).pingPeriod(); got != 10*time.Second {
		t.Fatalf("ping period with a 30 s server timeout = %v, want 10s", got)
	}
}

// blackHole is a TCP listener that never accepts: a connection to it
// completes in the kernel's backlog and then hears nothing, so a WebSocket
// dial to it waits for its whole timeout.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// switchDial dials the given address until dead is set, then the black
// hole instead, whatever address the engine asks for.
type switchDial struct {
	hole string
	dead atomic.Bool
}

func (d *switchDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.dead.Load() {
		addr = d.hole
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// timeClose returns how long m.Close takes.
func timeClose(m *Mgr) time.Duration {
	t0 := time.Now()
	m.Close()
	return time.Since(t0)
}

// closeBound is a hang guard, not a performance threshold: before the fix
// Close waited for a reconnect dial (5 s) or a handshake (10 s).
const closeBound = 2 * time.Second

// Close is prompt while the engine reconnects to a dead address list: the
// reconnect loop's dials, handshakes and backoff waits end with the session
// (they used to run on to their own timeouts: 5 s per dial).
func TestCloseIsPromptWhileReconnecting(t *testing.T) {
	fs := newFakeServer(t)
	fs.onLogin = func(r *protocol.Msg) {
		r.Limits.ResumeGrace = 60000
		r.Token, r.Boot = "tok", "boot"
	}
	d := &switchDial{hole: blackHole(t)}
	cb := &countingCB{}
	m := New(Config{Callback: cb, NetDial: d.dial})
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	d.dead.Store(true)
	curConn(m).kill()
	waitCond(t, "reconnecting", func() bool { return curConn(m) == nil })
	// Let a dial to the black hole start (reconnectMinDelay is 50 ms); the
	// Close must not wait for it either way.
	time.Sleep(200 * time.Millisecond)
	took := timeClose(m)
	t.Logf("Close while reconnecting to a dead address: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while reconnecting", took)
	}
}

// Close is prompt mid-login: dialing a server that never answers, and
// waiting for a login reply that never comes.
func TestCloseIsPromptMidLogin(t *testing.T) {
	hole := blackHole(t)
	m := New(Config{})
	m.SetServerAddr(hole)
	m.Login("acnt", "pswd", "nick", "me", "", "")
	time.Sleep(100 * time.Millisecond) // the dial is under way
	took := timeClose(m)
	t.Logf("Close while dialing: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while dialing", took)
	}

	// A WebSocket server that accepts and never replies to the login.
	up := websocket.Upgrader{}
	mute := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer mute.Close()
	m = New(Config{})
	m.SetServerAddr(mute.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	time.Sleep(200 * time.Millisecond) // the login request is sent
	took = timeClose(m)
	t.Logf("Close while waiting for the login reply: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while waiting for the login reply", took)
	}
}

// blockingCmdCB blocks in NotifyCmdData until released.
type blockingCmdCB struct {
	countingCB
	entered chan string
	release chan struct{}
}

func (c *blockingCmdCB) NotifyCmdData(from, data string) {
	c.entered <- data
	<-c.release
}

// The library acknowledges a sendCmd (cmdAck, the sender's SendCmdRlst(0))
// once the application has the data — NotifyCmdData has returned — not when
// it queues the callback: it used to ack at once, so a busy application's
// queue grew without bound while its senders saw success.
func TestCmdAckAfterTheCallback(t *testing.T) {
	fs := newFakeServer(t)
	cb := &blockingCmdCB{entered: make(chan string, 1), release: make(chan struct{})}
	m := New(Config{Callback: cb})
	defer m.Close()
	released := false
	defer func() { // before Close, which waits for a running callback
		if !released {
			close(cb.release)
		}
	}()
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	cmd := func(task string) []byte {
		return append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: task, Peer: "peer"}), "hi"...)
	}
	fs.frames <- [2][]byte{{1}, cmd("c1")}
	fs.frames <- [2][]byte{{1}, cmd("c2")}
	<-cb.entered // the application is busy in c1's callback
	// No cmdAck for either while it is: nothing to poll for, so a bounded
	// wait (the old code acked both within microseconds).
	select {
	case a := <-fs.acks:
		t.Fatalf("%s for %s while the application had not returned from the callback", a.Op, a.Task)
	case <-time.After(300 * time.Millisecond):
	}
	cb.release <- struct{}{}
	if a := <-fs.acks; a.Op != protocol.OpCmdAck || a.Task != "c1" {
		t.Fatalf("got %s %s, want cmdAck c1", a.Op, a.Task)
	}
	<-cb.entered
	select {
	case a := <-fs.acks:
		t.Fatalf("%s for %s before c2's callback returned", a.Op, a.Task)
	case <-time.After(100 * time.Millisecond):
	}
	close(cb.release)
	released = true
	if a := <-fs.acks; a.Op != protocol.OpCmdAck || a.Task != "c2" {
		t.Fatalf("got %s %s, want cmdAck c2", a.Op, a.Task)
	}
}
