package core

import (
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
)

// Call handling: the call and invitation requests, the live calls a
// session tracks (s.calls) and the call pushes that change them. The server
// side is server/call.go.

// Kinds of live call a session tracks, so that a server restart can end
// them locally.
const (
	callMine   = 1 // we called (or were invited: the invitee side is callTheirs)
	callTheirs = 2 // we were called or invited
	inviteMine = 3 // we invited a third party
)

// Call rings calledUserID and returns the new call's ID at once. Result:
// CallSuccess once the callee is ringing, or CallFail.
func (m *Mgr) Call(calledUserID, meetObj, usrExtDat, cookie string) string {
	callID := uuid.NewString()
	m.callRequest(&protocol.Msg{Op: protocol.OpCall, CallID: callID, To: calledUserID, MeetObj: meetObj, Ext: usrExtDat},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.CallFail(callID, code, cookie) }
			}
			return func(cb Callback) { cb.CallSuccess(callID, cookie) }
		})
	return callID
}

// AcceptCall accepts a call (or an invitation) ringing at this user. Result:
// AcceptCallSuccess or AcceptCallFail.
func (m *Mgr) AcceptCall(callID, meetObj, usrExtDat, cookie string) {
	m.callRequest(&protocol.Msg{Op: protocol.OpAcceptCall, CallID: callID, MeetObj: meetObj, Ext: usrExtDat},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.AcceptCallFail(callID, code, cookie) }
			}
			return func(cb Callback) { cb.AcceptCallSuccess(callID, cookie) }
		})
}

// RejectCall rejects a call ringing at this user. Result: RejectCallSuccess
// or RejectCallFail.
func (m *Mgr) RejectCall(callID, usrExtDat, cookie string) {
	m.callRequest(&protocol.Msg{Op: protocol.OpRejectCall, CallID: callID, Ext: usrExtDat},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.RejectCallFail(callID, code, cookie) }
			}
			return func(cb Callback) { cb.RejectCallSuccess(callID, cookie) }
		})
}

// HungupCall ends a ringing or connected call. Result: HungupCallSuccess or
// HungupCallFail.
func (m *Mgr) HungupCall(callID, usrExtDat, cookie string) {
	m.callRequest(&protocol.Msg{Op: protocol.OpHungupCall, CallID: callID, Ext: usrExtDat},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.HungupCallFail(callID, code, cookie) }
			}
			return func(cb Callback) { cb.HungupCallSuccess(callID, cookie) }
		})
}

// CallMoreParty invites a third user while in a connected call and returns
// the invitation's ID at once. Result: CallMorePartyRslt, then
// NotifyCallMorePartyStatus as the invitation progresses.
func (m *Mgr) CallMoreParty(called, meetObj, usrExtDat, cookie string) string {
	inviteID := uuid.NewString()
	m.callRequest(&protocol.Msg{Op: protocol.OpCallMoreParty, CallID: inviteID, To: called, MeetObj: meetObj, Ext: usrExtDat},
		func(code int) event {
			return func(cb Callback) { cb.CallMorePartyRslt(inviteID, code, cookie) }
		})
	return inviteID
}

// CancelCallMoreParty withdraws a ringing invitation. Result:
// CancelCallMorePartyRslt.
func (m *Mgr) CancelCallMoreParty(inviteID, usrExtDat, cookie string) {
	m.callRequest(&protocol.Msg{Op: protocol.OpCancelCallMoreParty, CallID: inviteID, Ext: usrExtDat},
		func(code int) event {
			return func(cb Callback) { cb.CancelCallMorePartyRslt(inviteID, code, cookie) }
		})
}

// callRequest checks the sizes the API bounds (REFERENCE §3: usrExtDat and
// meetObj at most 8 KiB) and the characters of the target and call ID
// (protocol.ValidID: 5) before the server sees them. Takes mu.
func (m *Mgr) callRequest(req *protocol.Msg, result func(code int) event) {
	if len(req.MeetObj) > protocol.MaxExtBytes || len(req.Ext) > protocol.MaxExtBytes ||
		len(req.To) > protocol.MaxIDLen || len(req.CallID) > protocol.MaxCallIDLen ||
		!protocol.ValidID(req.To) || !protocol.ValidID(req.CallID) {
		code := protocol.ParamErr
		if len(req.CallID) > protocol.MaxCallIDLen {
			code = protocol.InvalidCallID
		}
		m.mu.Lock()
		loggedIn := m.current() != nil
		m.mu.Unlock()
		if !loggedIn {
			code = protocol.NotLogin
		}
		m.failNow(result(code))
		return
	}
	m.roundTrip(req, func(r *protocol.Msg) event {
		if s := m.sess; s != nil {
			s.trackCall(req.Op, req.CallID, r.Code)
		}
		return result(r.Code)
	})
}

// trackCall keeps s.calls in step with a call request's result, so a server
// restart can end the calls that were up. mu must be held.
func (s *session) trackCall(op, id string, code int) {
	switch op {
	case protocol.OpCall:
		if code == 0 {
			s.calls[id] = callMine
		}
	case protocol.OpCallMoreParty:
		if code == 0 {
			s.calls[id] = inviteMine
		}
	case protocol.OpAcceptCall:
		if code != 0 {
			delete(s.calls, id)
		}
	case protocol.OpRejectCall, protocol.OpHungupCall, protocol.OpCancelCallMoreParty:
		delete(s.calls, id)
	}
}

// onCallPush keeps s.calls in step with a call push and emits its
// notification. Reader goroutine; mu must be held.
func (s *session) onCallPush(p *protocol.Msg) {
	m := s.m
	switch p.Push {
	case protocol.PushCallIn:
		s.calls[p.CallID] = callTheirs
		m.emit(func(cb Callback) { cb.NotifyCallIn(p.CallID, p.MeetObj, p.From, p.Ext) })
	case protocol.PushCallAccepted:
		m.emit(func(cb Callback) { cb.NotifyCallAccepted(p.CallID, p.Ext, p.MeetObj) })
	case protocol.PushCallRejected:
		delete(s.calls, p.CallID)
		m.emit(func(cb Callback) { cb.NotifyCallRejected(p.CallID, p.Code, p.Ext) })
	case protocol.PushCallHungup:
		delete(s.calls, p.CallID)
		m.emit(func(cb Callback) { cb.NotifyCallHungup(p.CallID, p.Ext) })
	case protocol.PushPartyStatus:
		if p.Status != protocol.PartyRinging && p.Status != protocol.PartyAccepted {
			delete(s.calls, p.CallID)
		}
		m.emit(func(cb Callback) { cb.NotifyCallMorePartyStatus(p.CallID, p.Status) })
	}
}

// endCalls ends the session's calls locally after a server restart forgot
// them (relogin): NotifyCallHungup for each call, NotifyCallMorePartyStatus
// (PartyHungup) for each invitation of ours. It returns the events instead
// of emitting them. mu must be held.
func (s *session) endCalls() []event {
	var evs []event
	for id, kind := range s.calls {
		id := id
		if kind == inviteMine {
			evs = append(evs, func(cb Callback) { cb.NotifyCallMorePartyStatus(id, protocol.PartyHungup) })
		} else {
			evs = append(evs, func(cb Callback) { cb.NotifyCallHungup(id, "") })
		}
	}
	clear(s.calls)
	return evs
}
