package core

// Transfers: what sending (send.go) and receiving (receive.go) share — the
// kinds of task, and ending every task of a session at once.

// Kinds of task.
const (
	kindCmd = iota
	kindBuffer
	kindFile
)

// failTransfers ends every task of the session: the sender side with code,
// the receiver side with NotifyCancelSend and no data left. mu must be held.
func (s *session) failTransfers(code int) {
	for _, ev := range s.endTransfers(code) {
		s.m.emit(ev)
	}
}

// endTransfers is failTransfers returning the events instead of emitting
// them. mu must be held.
func (s *session) endTransfers(code int) []event {
	var evs []event
	s.cmdsOut, s.xfersOut = 0, 0
	s.cmdWait, s.xferWait = nil, nil
	for id, t := range s.out {
		delete(s.out, id)
		t.finish()
		t.onWire = false
		evs = append(evs, t.result(code))
	}
	for id, t := range s.in {
		delete(s.in, id)
		evs = append(evs, cancelled(id, t.discard(s.m)))
	}
	return evs
}
