package server

import (
	"sort"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// userStatus is s's UserStatusObj. ent.mu must be held.
func (s *session) userStatus() protocol.UserStatus {
	st := protocol.StatusIdle
	if len(s.calls) > 0 {
		st = protocol.StatusBusy
	}
	return protocol.UserStatus{UserID: s.usrID, UserStatus: st, DNDType: s.dnd}
}

// broadcastStatus pushes us to every status subscriber of the enterprise.
// e.mu must be held.
func (e *enterprise) broadcastStatus(us protocol.UserStatus) {
	if len(e.subs) == 0 {
		return
	}
	// Encoded once; each subscriber's copy differs only in its seq.
	t := protocol.NewPushTemplate(&protocol.Msg{Push: protocol.PushUserStatus, User: &us})
	for sub := range e.subs {
		sub.pushTemplate(t)
	}
}

// updateStatus announces s's status if its busy/idle state changed since the
// last announcement. e.mu must be held.
func (e *enterprise) updateStatus(s *session) {
	if s.ended {
		return
	}
	us := s.userStatus()
	if us.UserStatus == s.status {
		return
	}
	s.status = us.UserStatus
	e.broadcastStatus(us)
}

// setDND records the caller's DND value, replies, and announces a change.
// Reader goroutine; takes e.mu.
func (e *enterprise) setDND(s *session, m *protocol.Msg) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	changed := s.dnd != m.DND
	s.dnd = m.DND
	s.reply(m.ID, protocol.NoErr, nil)
	if changed {
		e.broadcastStatus(s.userStatus())
	}
}

// getUserStatus replies with the online users of the enterprise, the caller
// included, sorted by usrID: those after m.After, as many as fit in one
// page, with More when others follow. A request without Paged (an older
// library) gets the whole list in one reply, or 8 when it does not fit.
// Reader goroutine; takes e.mu (only to copy the statuses).
func (e *enterprise) getUserStatus(s *session, m *protocol.Msg) {
	e.mu.Lock()
	users := make([]protocol.UserStatus, 0, len(e.users))
	for id, u := range e.users {
		if id > m.After {
			users = append(users, u.userStatus())
		}
	}
	e.mu.Unlock()
	sort.Slice(users, func(i, j int) bool { return users[i].UserID < users[j].UserID })
	p := pager{budget: e.srv.pageBytes}
	n := 0
	for n < len(users) && p.fits(func(b []byte) []byte { return protocol.AppendUserStatus(b, &users[n]) }) {
		n++
	}
	more := n < len(users)
	if more && (!m.Paged || n == 0) {
		s.log().Warn("getUserStatus: list does not fit in one reply", "users", len(users), "paged", m.Paged)
		s.reply(m.ID, protocol.ServerException, nil)
		return
	}
	s.reply(m.ID, protocol.NoErr, &protocol.Msg{Users: users[:n], More: more})
}

// setNotify starts or stops the caller's status subscription and replies.
// Reader goroutine; takes e.mu.
func (e *enterprise) setNotify(s *session, m *protocol.Msg, on bool) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	if on {
		e.subs[s] = struct{}{}
	} else {
		delete(e.subs, s)
	}
	s.reply(m.ID, protocol.NoErr, nil)
}
