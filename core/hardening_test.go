package core

import (
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
