package core

import "github.com/crvideomgr/crvideomgr/protocol"

// Presence: do-not-disturb, the user status list and the status
// subscription, with the status pushes it delivers. The server side is
// server/status.go.

// SetDNDStatus sets do-not-disturb (0 off, anything else on). Result:
// SetDNDStatusSuccess or SetDNDStatusFail.
func (m *Mgr) SetDNDStatus(DNDStatus int, cookie string) {
	m.mu.Lock()
	s := m.current()
	m.mu.Unlock()
	m.roundTrip(&protocol.Msg{Op: protocol.OpSetDND, DND: DNDStatus}, func(r *protocol.Msg) event {
		// Runs with mu held: the value a relogin after a server restart
		// sets again.
		if r.Code == 0 && s != nil {
			s.dnd = DNDStatus
		}
		if r.Code != 0 {
			return func(cb Callback) { cb.SetDNDStatusFail(r.Code, cookie) }
		}
		return func(cb Callback) { cb.SetDNDStatusSuccess(cookie) }
	})
}

// GetUserStatus lists the online users of the enterprise. Result:
// GetUserStatusSuccess (a UserStatusObjs JSON array) or GetUserStatusFail.
// The list arrives in pages (docs/protocol.md), assembled here into one
// array; a server that does not page sends it whole.
func (m *Mgr) GetUserStatus(cookie string) {
	var users []protocol.UserStatus
	after := ""
	m.pagedRoundTrip(&protocol.Msg{Op: protocol.OpGetUserStatus, Paged: true},
		func(r *protocol.Msg) (*protocol.Msg, int) {
			users = append(users, r.Users...)
			if !r.More {
				return nil, 0
			}
			// A page must move the cursor forward, or a faulty server
			// could keep us asking forever.
			if len(r.Users) == 0 || r.Users[len(r.Users)-1].UserID <= after {
				return nil, protocol.ErrData
			}
			after = r.Users[len(r.Users)-1].UserID
			return &protocol.Msg{Op: protocol.OpGetUserStatus, Paged: true, After: after}, 0
		},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.GetUserStatusFail(code, cookie) }
			}
			if users == nil {
				users = []protocol.UserStatus{}
			}
			js := string(protocol.AppendUserStatusList(nil, validUsers(users)))
			return func(cb Callback) { cb.GetUserStatusSuccess(js, cookie) }
		})
}

// StartUserStatusNotify subscribes to status changes of the enterprise's
// users; each arrives as NotifyUserStatus with this cookie. Result:
// StartUserStatusNotifyRslt.
func (m *Mgr) StartUserStatusNotify(cookie string) {
	m.statusNotify(true, cookie)
}

// StopUserStatusNotify ends the subscription. Result: StopUserStatusNotifyRslt.
func (m *Mgr) StopUserStatusNotify(cookie string) {
	m.statusNotify(false, cookie)
}

// statusNotify is StartUserStatusNotify (on) and StopUserStatusNotify.
// Takes mu.
func (m *Mgr) statusNotify(on bool, cookie string) {
	op := protocol.OpStopStatusNotify
	if on {
		op = protocol.OpStartStatusNotify
	}
	m.mu.Lock()
	s := m.current()
	m.mu.Unlock()
	m.roundTrip(&protocol.Msg{Op: op}, func(r *protocol.Msg) event {
		// Runs with mu held, on the reader goroutine: the
		// subscription changes in wire order, before any push that follows.
		if r.Code == 0 && s != nil {
			s.statusOn = on
			s.statusCookie = cookie
		}
		code := r.Code
		if on {
			return func(cb Callback) { cb.StartUserStatusNotifyRslt(code, cookie) }
		}
		return func(cb Callback) { cb.StopUserStatusNotifyRslt(code, cookie) }
	})
}

// onUserStatus delivers a status push while the application is
// subscribed. Reader goroutine; mu must be held.
func (s *session) onUserStatus(p *protocol.Msg) {
	m := s.m
	if s.statusOn && p.User != nil {
		var buf [128]byte
		st, cookie := string(protocol.AppendUserStatus(buf[:0], p.User)), s.statusCookie
		m.emit(func(cb Callback) { cb.NotifyUserStatus(st, cookie) })
	}
}
