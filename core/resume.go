package core

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/replay"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Resume: a session outlives its connections. When one is lost the
// session reconnects with backoff and resumes (both sides replay what the
// other has not acknowledged, docs/protocol.md "Resume"); after a server
// restart it logs in again; when neither works before the resume grace
// runs out it ends with LineOff. The server side is server/resume.go.

// onConnClosed runs on c's reader goroutine once it has stopped. While the
// session is live, it reconnects and resumes. Takes mu.
func (s *session) onConnClosed(c *conn) {
	m := s.m
	m.mu.Lock()
	c.gone = true
	if s.ended || s.c != c || !s.loginDone {
		m.unlock()
		return
	}
	if c.oversize.Load() {
		// The server sent a message over our read limit. Resuming would
		// only have it sent again (it is unacknowledged), and again: end
		// the session instead, with ErrData.
		m.log.Warn("server sent a message over the read limit; session ended", "usrID", s.usrID, "limit", c.readLimit.Load())
		s.lostWith(protocol.ErrData)
		m.mu.Unlock()
		s.hangUp(false)
		return
	}
	s.connLost()
}

// recheck runs once a handshake has attached c to the session: if c died
// meanwhile, its close was ignored (c was not yet the session's), so it is
// handled now. mu must not be held.
func (s *session) recheck(c *conn) {
	m := s.m
	m.mu.Lock()
	if s.ended || s.c != c || !c.gone || !s.loginDone {
		m.unlock()
		return
	}
	m.later(func() { m.log.Debug("connection died during its handshake") })
	s.connLost()
}

// connLost detaches the session from its dead connection and reconnects
// (or, when it cannot be resumed, ends it). mu must be held; connLost
// unlocks it.
func (s *session) connLost() {
	m := s.m
	s.c = nil
	s.stream.Detach()
	if s.token == "" || s.limits.ResumeGrace <= 0 {
		s.lost()
		m.unlock()
		s.hangUp(false)
		return
	}
	deadline := time.Now().Add(time.Duration(s.limits.ResumeGrace) * time.Millisecond)
	usrID := s.usrID
	m.later(func() { m.log.Info("connection lost; reconnecting", "usrID", usrID) })
	m.wg.Add(1)
	m.unlock()
	go func() {
		defer m.wg.Done()
		s.reconnect(deadline)
	}()
}

// reconnect dials the server list again with backoff and jitter until the
// session is resumed, found gone, or the deadline passes. Runs in its own
// goroutine. The session's end (logout, Close) cancels its dials,
// handshakes and waits at once.
func (s *session) reconnect(deadline time.Time) {
	m := s.m
	ctx, cancel := context.WithDeadline(s.ctx, deadline)
	defer cancel()
	delay := reconnectMinDelay
	for {
		m.mu.Lock()
		ended := s.ended
		m.unlock()
		if ended {
			return
		}
		ws, code := dialAny(ctx, s.addr, s.tls, m.cfg.NetDial)
		if ws != nil && s.resumeOn(ctx, ws) {
			return
		}
		m.log.Debug("reconnect attempt failed", "code", code)
		left := time.Until(deadline)
		if left <= 0 {
			m.mu.Lock()
			s.lost()
			m.unlock()
			s.hangUp(false)
			return
		}
		// Jitter: between half and one and a half times the delay; the
		// last attempt is made at the deadline.
		t := time.NewTimer(min(delay/2+rand.N(delay), left))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return // ended: whoever ended it hangs up
		}
		delay = min(delay*2, reconnectMaxDelay)
	}
}

// resumeOn tries to resume the session on a fresh connection. It returns
// true when it is done: resumed, logged in again after a server restart, or
// the session ended; false to try again later. Reconnect goroutine; mu
// must not be held.
func (s *session) resumeOn(ctx context.Context, ws *websocket.Conn) bool {
	m := s.m
	m.mu.Lock()
	pt := time.Duration(s.limits.PingTimeout) * time.Millisecond
	token := s.token
	m.unlock()
	if pt <= 0 {
		pt = defaultPingTimeout
	}
	c := s.newConn(ws, pt)
	c.start(&m.wg)
	n, nb := s.recv.Counts()
	r, err := c.handshake(ctx, &protocol.Msg{Op: protocol.OpResume, Token: token, N: int64(n), NB: int64(nb)})
	if err != nil {
		m.log.Debug("resume handshake failed", "err", err)
		c.close()
		return false
	}
	m.log.Debug("resume answered", "code", r.Code)
	m.mu.Lock()
	if s.ended {
		m.unlock()
		c.close()
		return true
	}
	switch {
	case r.Code == 0:
		c.setLimits(&s.limits)
		// A c that died right after answering is attached all the same
		// (Attach leaves the stream detached): recheck, or c's reader,
		// then reconnects.
		if err := s.stream.Attach(c.out, uint64(r.N), uint64(r.NB)); err != nil {
			s.lost()
			m.unlock()
			c.close()
			s.hangUp(false)
			return true
		}
		s.c = c
		usrID := s.usrID
		m.later(func() { m.log.Info("session resumed", "usrID", usrID) })
		m.unlock()
		c.handshakeDone()
		s.recheck(c)
		return true
	case r.Code == protocol.ConnectionLost && r.Boot != "" && r.Boot != s.boot:
		m.unlock()
		c.handshakeDone()
		s.relogin(ctx, c)
		return true
	default:
		// The server forgot the session (grace ran out): it is over.
		s.lost()
		m.unlock()
		c.close()
		s.hangUp(false)
		return true
	}
}

// relogin logs in again with the same credentials after the server
// restarted (its sessions are gone). Calls that were up end with
// NotifyCallHungup (invitations with status 4), transfers fail, requests in
// flight fail with ConnectionLost; the status subscription and
// do-not-disturb are restored first: those events are held back until the
// server has answered the requests that restore them, so that an
// application (or another user) acting on the restart finds them in force
// — a user coming online is not missed. Reconnect goroutine; mu must not
// be held.
func (s *session) relogin(ctx context.Context, c *conn) {
	m := s.m
	r, code, ok := s.loginHandshake(ctx, c)
	if !ok {
		return
	}
	if code != 0 {
		s.lost()
		m.unlock()
		c.close()
		s.hangUp(false)
		return
	}
	old, oldPending := s.stream, s.takeAllPending()
	s.stream = replay.New(0)
	s.recv = &replay.RecvCounter{}
	s.loggedIn(c, r)
	// Each request gets exactly one reply: the server's, or NoServerRsp
	// after requestTimeout, or ConnectionLost if the session ends.
	restoring := 0
	restored := make(chan struct{}, 2)
	onRestored := func(*protocol.Msg) { restored <- struct{}{} }
	if s.statusOn {
		restoring++
		s.requestLocked(&protocol.Msg{Op: protocol.OpStartStatusNotify}, onRestored)
	}
	if s.dnd != 0 {
		restoring++
		s.requestLocked(&protocol.Msg{Op: protocol.OpSetDND, DND: s.dnd}, onRestored)
	}
	// The old session's state ends now (new calls and transfers may start
	// as soon as the reader goes on); its events wait.
	evs := s.endCalls()
	evs = append(evs, s.endTransfers(protocol.SendFail)...)
	usrID := s.usrID
	m.later(func() { m.log.Info("logged in again after a server restart", "usrID", usrID) })
	m.unlock()
	c.handshakeDone()
	// If c died before it was attached, reconnect now: the restoring
	// requests are replayed on the next connection.
	s.recheck(c)
	old.Close()
	for range restoring {
		<-restored
	}
	m.mu.Lock()
	for _, ev := range evs {
		m.emit(ev)
	}
	m.unlock()
	failAll(oldPending, protocol.ConnectionLost)
}
