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

// getUserStatus replies with every online user of the enterprise, the caller
// included, sorted by usrID. Reader goroutine; takes e.mu.
func (e *enterprise) getUserStatus(s *session, m *protocol.Msg) {
	e.mu.Lock()
	defer e.mu.Unlock()
	users := make([]protocol.UserStatus, 0, len(e.users))
	for _, u := range e.users {
		users = append(users, u.userStatus())
	}
	sort.Slice(users, func(i, j int) bool { return users[i].UserID < users[j].UserID })
	s.reply(m.ID, protocol.NoErr, &protocol.Msg{Users: users})
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
