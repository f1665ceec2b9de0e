package core

import (
	"context"
	"crypto/tls"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/internal/replay"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// session is one login: from Login until logout, kick, a lost connection
// that could not be resumed, or Close. It outlives its connections: every
// frame it sends after the login reply goes through stream (numbered, kept
// until the server acknowledges it, replayed after a reconnect) and every
// frame it receives is counted in recv. Fields are guarded by Mgr.mu unless
// noted.
type session struct {
	m           *Mgr
	loginCookie string
	loginReq    *protocol.Msg // the credentials, to log in again after a server restart
	addr        string        // server address list at Login
	tls         *tls.Config   // TLS settings at Login
	// ctx is the session's life: cancelled by end (logout, Close, kick),
	// it aborts dialing, handshakes and the reconnect loop's waits.
	ctx    context.Context
	cancel context.CancelFunc

	c         *conn // current connection; nil while reconnecting
	loginDone bool  // LoginSuccess or LoginFail has been emitted
	ended     bool  // no more events from this session's pushes
	usrID     string
	limits    protocol.Limits
	token     string // resume token
	boot      string // the server process we are logged in to

	stream *replay.Stream      // replaced on relogin; the Stream has its own lock
	recv   *replay.RecvCounter // replaced on relogin; has its own lock

	reqMu   sync.Mutex // guards pending and nextID
	pending map[uint64]*pendingReq
	nextID  uint64

	statusOn     bool
	statusCookie string
	dnd          int
	calls        map[string]int // live calls by ID: callMine, callTheirs, inviteMine

	out map[string]*outTask // tasks this user sends
	in  map[string]*inTask  // transfers this user receives

	// Chunks read but not yet stored, in order (see queueChunk). Guarded
	// by bulkMu, not Mgr.mu.
	bulkMu  sync.Mutex
	bulkQ   []queuedChunk
	storing bool // a storeChunks goroutine is draining bulkQ

	// Pacing by limits.MaxCmds, MaxCmdBytes / MaxTransfers: tasks on the wire hold a
	// slot until the server's answer ends them; the rest wait here, in order.
	cmdsOut, xfersOut int
	cmdBytesOut       int64 // frame bytes of the sendCmds on the wire (limits.MaxCmdBytes)
	cmdWait, xferWait []*outTask
}

func newSession(m *Mgr, cookie, addr string, req *protocol.Msg) *session {
	ctx, cancel := context.WithCancel(context.Background())
	return &session{
		m:           m,
		loginCookie: cookie,
		loginReq:    req,
		addr:        addr,
		ctx:         ctx,
		cancel:      cancel,
		stream:      replay.New(0),
		recv:        &replay.RecvCounter{},
		pending:     make(map[uint64]*pendingReq),
		calls:       make(map[string]int),
		out:         make(map[string]*outTask),
		in:          make(map[string]*inTask),
	}
}

// run dials the server and logs in. Runs in its own goroutine, started by
// Login; takes mu.
func (s *session) run() {
	m := s.m
	ws, code := dialAny(s.ctx, s.addr, s.tls, m.cfg.NetDial)
	m.mu.Lock()
	if s.ended {
		m.unlock()
		if ws != nil {
			_ = ws.Close()
		}
		return
	}
	if code != 0 {
		s.loginFailed(code)
		m.unlock()
		return
	}
	c := s.newConn(ws, defaultPingTimeout)
	s.c = c
	m.unlock()
	c.start(&m.wg)
	r, code, ok := s.loginHandshake(s.ctx, c)
	if !ok {
		return
	}
	if code != 0 {
		s.loginFailed(code)
		m.unlock()
		c.close()
		return
	}
	s.loggedIn(c, r)
	s.loginDone = true
	m.state = stateLoggedIn
	usrID, cookie := r.UsrID, s.loginCookie
	m.emit(func(cb Callback) { cb.LoginSuccess(usrID, cookie) })
	m.unlock()
	c.handshakeDone()
	s.recheck(c)
}

// loginHandshake sends the session's login request on c and returns the
// reply with mu held and code 0 when the server accepted it, or the code
// of the refusal (ConnectionLost when c failed, ErrData for a reply without
// a valid userID). ok is false when the session ended meanwhile: then c is
// closed and mu is not held. mu must not be held.
func (s *session) loginHandshake(ctx context.Context, c *conn) (r *protocol.Msg, code int, ok bool) {
	req := *s.loginReq
	r, err := c.handshake(ctx, &req)
	s.m.mu.Lock()
	if s.ended {
		s.m.unlock()
		c.close()
		return nil, 0, false
	}
	switch {
	case err != nil:
		code = protocol.ConnectionLost
	case r.Code != 0:
		code = r.Code
	case r.UsrID == "" || !protocol.ValidID(r.UsrID):
		code = protocol.ErrData
	}
	return r, code, true
}

// newConn makes a connection whose frames and loss are this session's.
func (s *session) newConn(ws *websocket.Conn, pingTimeout time.Duration) *conn {
	c := newConn(ws, pingTimeout)
	c.onFrame = s.onFrame
	c.onTick = s.onTick
	c.onClose = s.onConnClosed
	return c
}

// loggedIn records a successful login reply on c and attaches the stream.
// mu must be held.
func (s *session) loggedIn(c *conn, r *protocol.Msg) {
	s.usrID = r.UsrID
	s.token, s.boot = r.Token, r.Boot
	if r.Limits != nil {
		s.limits = *r.Limits
	}
	c.setLimits(r.Limits)
	s.c = c
	_ = s.stream.Attach(c.out, 0, 0)
}

// loginFailed ends a session whose login did not succeed. mu must be held.
func (s *session) loginFailed(code int) {
	m := s.m
	s.ended = true
	s.loginDone = true
	s.stream.Close()
	if m.sess == s {
		m.sess = nil
		m.state = stateIdle
	}
	cookie := s.loginCookie
	m.emit(func(cb Callback) { cb.LoginFail(code, cookie) })
}

// end marks the session over and fails what it had in flight: its own tasks
// with sendCode, incoming transfers with NotifyCancelSend (partial data
// removed); a login still in progress with LoginFail(LoginStateError). mu
// must be held; the caller detaches the session from the Mgr and, without
// mu, closes the connection and fails pending requests.
func (s *session) end(sendCode int) {
	if s.ended {
		return
	}
	s.ended = true
	s.cancel()
	if !s.loginDone {
		s.loginDone = true
		cookie := s.loginCookie
		s.m.emit(func(cb Callback) { cb.LoginFail(protocol.LoginStateError, cookie) })
	}
	s.failTransfers(sendCode)
}

// hangUp finishes an ended session: with logout set it first asks the
// server to end the session (waiting up to logoutWait for the answer, so
// replies to earlier requests still arrive), then closes the connection,
// fails requests still pending and releases the stream. mu must not be held.
func (s *session) hangUp(logout bool) {
	s.m.mu.Lock()
	c, loggedIn := s.c, s.usrID != ""
	s.m.unlock()
	if c != nil && logout && loggedIn {
		done := make(chan struct{})
		s.request(&protocol.Msg{Op: protocol.OpLogout}, func(*protocol.Msg) { close(done) })
		t := time.NewTimer(logoutWait)
		select {
		case <-done:
		case <-c.done: // no answer will come
		case <-t.C:
		}
		t.Stop()
	}
	if c != nil {
		c.close()
	}
	s.m.mu.Lock()
	stream := s.stream
	s.m.unlock()
	stream.Close()
	s.failPending(protocol.ConnectionLost)
}

// lost ends a session that cannot continue (grace ran out, resume refused):
// LineOff(ConnectionLost). mu must be held; the caller runs hangUp(false).
func (s *session) lost() { s.lostWith(protocol.ConnectionLost) }

// lostWith is lost reporting LineOff(code). mu must be held.
func (s *session) lostWith(code int) {
	m := s.m
	if s.ended {
		return
	}
	if m.sess == s {
		m.sess = nil
		m.state = stateIdle
	}
	s.end(protocol.SendFail)
	m.emit(func(cb Callback) { cb.LineOff(code) })
}

// Login connects to the server and logs in. Result: LoginSuccess or LoginFail.
func (m *Mgr) Login(authAcnt, authPswd, nickName, privAcnt, privAuthCode, cookie string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	fail := func(code int) { m.emit(func(cb Callback) { cb.LoginFail(code, cookie) }) }
	if m.state != stateIdle {
		fail(protocol.LoginStateError)
		return
	}
	if utf8.RuneCountInString(nickName) > protocol.MaxNameRunes || utf8.RuneCountInString(privAcnt) > protocol.MaxNameRunes ||
		len(authAcnt) > protocol.MaxIDLen || len(authPswd) > protocol.MaxIDLen || len(privAuthCode) > protocol.MaxExtBytes ||
		len(privAcnt) > protocol.MaxIDLen ||
		!protocol.ValidID(authAcnt) || !protocol.ValidID(nickName) || !protocol.ValidID(privAcnt) {
		fail(protocol.ParamErr)
		return
	}
	if len(splitAddrs(m.addr)) == 0 {
		fail(protocol.NoServerInfo)
		return
	}
	req := &protocol.Msg{Op: protocol.OpLogin, Ver: protocol.Version, Acnt: authAcnt, Pswd: authPswd,
		Nick: nickName, Priv: privAcnt, Auth: privAuthCode}
	s := newSession(m, cookie, m.addr, req)
	s.tls = m.tls
	m.sess = s
	m.state = stateLoggingIn
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.run()
	}()
}

// Logout ends the session. It has no callback; tasks in flight end with
// SendFail (1000) and incoming transfers with NotifyCancelSend. A login in
// progress ends with LoginFail(LoginStateError).
func (m *Mgr) Logout() {
	m.mu.Lock()
	s := m.sess
	if s == nil || m.closed {
		m.mu.Unlock()
		return
	}
	m.sess = nil
	m.state = stateIdle
	s.end(protocol.SendFail)
	m.unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		s.hangUp(true)
	}()
}

// current returns the logged-in session, or nil. mu must be held.
func (m *Mgr) current() *session {
	if m.closed || m.state != stateLoggedIn {
		return nil
	}
	return m.sess
}
