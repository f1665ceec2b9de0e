package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// session is one login: from Login until logout, kick, connection loss or
// Close. Its fields are guarded by Mgr.mu unless noted.
type session struct {
	m           *Mgr
	loginCookie string
	cancel      context.CancelFunc // aborts dialing

	c         *conn
	loginDone bool // LoginSuccess or LoginFail has been emitted
	ended     bool // no more events from this session's pushes
	usrID     string
	limits    protocol.Limits

	statusOn     bool
	statusCookie string

	out map[string]*outTask // tasks this user sends
	in  map[string]*inTask  // transfers this user receives
}

func newSession(m *Mgr, cookie string, cancel context.CancelFunc) *session {
	return &session{
		m:           m,
		loginCookie: cookie,
		cancel:      cancel,
		out:         make(map[string]*outTask),
		in:          make(map[string]*inTask),
	}
}

// run dials the server and sends the login request. Runs in its own goroutine.
func (s *session) run(ctx context.Context, addr string, req *protocol.Msg) {
	m := s.m
	ws, code := dialAny(ctx, addr, m.cfg.TLSConfig)
	m.mu.Lock()
	if s.ended {
		m.mu.Unlock()
		if ws != nil {
			_ = ws.Close()
		}
		return
	}
	if code != 0 {
		s.loginFailed(code)
		m.mu.Unlock()
		return
	}
	c := newConn(ws)
	c.onText = s.onPush
	c.onBinary = s.onBinary
	c.onClose = s.onConnClosed
	s.c = c
	m.mu.Unlock()
	c.start(&m.wg)
	c.request(req, s.onLoginReply)
}

// loginFailed ends a session whose login did not succeed. mu must be held.
func (s *session) loginFailed(code int) {
	m := s.m
	s.ended = true
	s.loginDone = true
	if m.sess == s {
		m.sess = nil
		m.state = stateIdle
	}
	cookie := s.loginCookie
	m.emit(func(cb Callback) { cb.LoginFail(code, cookie) })
}

// onLoginReply runs on the reader goroutine (or wherever the request failed).
func (s *session) onLoginReply(r *protocol.Msg) {
	m := s.m
	m.mu.Lock()
	if s.ended {
		m.mu.Unlock()
		return
	}
	if r.Code != 0 || r.UsrID == "" {
		code := r.Code
		if code == 0 {
			code = protocol.ErrData
		}
		s.loginFailed(code)
		m.mu.Unlock()
		s.c.close()
		return
	}
	s.loginDone = true
	s.usrID = r.UsrID
	if r.Limits != nil {
		s.limits = *r.Limits
	}
	s.c.setLimits(r.Limits)
	m.state = stateLoggedIn
	usrID, cookie := r.UsrID, s.loginCookie
	m.emit(func(cb Callback) { cb.LoginSuccess(usrID, cookie) })
	m.mu.Unlock()
}

// end marks the session over and fails what it had in flight: its own tasks
// with sendCode, incoming transfers with NotifyCancelSend (partial data
// removed); a login still in progress with LoginFail(LoginStateError). mu
// must be held; the caller detaches the session from the Mgr.
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

// hangUpConn closes the session's connection; with logout set it first asks
// the server to end the session and waits up to logoutWait for the answer.
func (s *session) hangUpConn(logout bool) {
	s.m.mu.Lock()
	c, loggedIn := s.c, s.usrID != ""
	s.m.mu.Unlock()
	if c == nil {
		return
	}
	if logout && loggedIn {
		done := make(chan struct{})
		c.request(&protocol.Msg{Op: protocol.OpLogout}, func(*protocol.Msg) { close(done) })
		t := time.NewTimer(logoutWait)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	c.close()
}

// onConnClosed runs once when the connection is gone, on whichever goroutine
// noticed. A session that was still live ends with LineOff(ConnectionLost).
func (s *session) onConnClosed(error) {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.ended {
		return
	}
	wasUp := s.loginDone
	if m.sess == s {
		m.sess = nil
		m.state = stateIdle
	}
	s.end(protocol.SendFail)
	if wasUp {
		m.emit(func(cb Callback) { cb.LineOff(protocol.ConnectionLost) })
	}
}

// onPush handles a server push. Runs on the reader goroutine.
func (s *session) onPush(p *protocol.Msg) {
	m := s.m
	if p.Push == protocol.PushLineOff {
		m.mu.Lock()
		if !s.ended {
			if m.sess == s {
				m.sess = nil
				m.state = stateIdle
			}
			code := p.Code
			m.emit(func(cb Callback) { cb.LineOff(code) })
			s.end(protocol.SendFail)
		}
		m.mu.Unlock()
		s.c.close()
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.ended {
		return
	}
	switch p.Push {
	case protocol.PushUserStatus:
		if s.statusOn && p.User != nil {
			js, _ := json.Marshal(p.User)
			st, cookie := string(js), s.statusCookie
			m.emit(func(cb Callback) { cb.NotifyUserStatus(st, cookie) })
		}
	case protocol.PushCallIn:
		m.emit(func(cb Callback) { cb.NotifyCallIn(p.CallID, p.MeetObj, p.From, p.Ext) })
	case protocol.PushCallAccepted:
		m.emit(func(cb Callback) { cb.NotifyCallAccepted(p.CallID, p.Ext, p.MeetObj) })
	case protocol.PushCallRejected:
		m.emit(func(cb Callback) { cb.NotifyCallRejected(p.CallID, p.Code, p.Ext) })
	case protocol.PushCallHungup:
		m.emit(func(cb Callback) { cb.NotifyCallHungup(p.CallID, p.Ext) })
	case protocol.PushPartyStatus:
		m.emit(func(cb Callback) { cb.NotifyCallMorePartyStatus(p.CallID, p.Status) })
	case protocol.PushSendRslt:
		s.onSendRslt(p.Task, p.Code)
	case protocol.PushXferAck:
		s.onXferAck(p.Task, p.N)
	case protocol.PushXferBegin:
		s.onXferBegin(p)
	case protocol.PushXferDone:
		s.onXferDone(p.Task)
	case protocol.PushXferCancel:
		s.onXferCancel(p.Task)
	default:
		m.log.Debug("unknown push", "push", p.Push)
	}
}
