package core

import (
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
)

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

// CreateMeeting creates a meeting (createPswd 1: the server generates a
// 6-digit password). Result: CreateMeetingSuccess (a MeetInfoObj) or
// CreateMeetingFail.
func (m *Mgr) CreateMeeting(meetSubject string, createPswd int, cookie string) {
	m.roundTrip(&protocol.Msg{Op: protocol.OpCreateMeeting, Subject: meetSubject, CreatePswd: createPswd}, func(r *protocol.Msg) event {
		if r.Code != 0 || r.Meeting == nil {
			code := r.Code
			if code == 0 {
				code = protocol.ErrData
			}
			return func(cb Callback) { cb.CreateMeetingFail(code, cookie) }
		}
		js := string(protocol.AppendMeetInfo(nil, r.Meeting))
		return func(cb Callback) { cb.CreateMeetingSuccess(js, cookie) }
	})
}

// DestroyMeeting destroys a meeting. Result: DestroyMeetingRslt.
func (m *Mgr) DestroyMeeting(meetID int, cookie string) {
	m.roundTrip(&protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: meetID}, func(r *protocol.Msg) event {
		return func(cb Callback) { cb.DestroyMeetingRslt(r.Code, cookie) }
	})
}

// GetMeetings lists the enterprise's meetings, newest first. Result:
// GetMeetingsSuccess (a MeetInfoObjs JSON array) or GetMeetingsFail. Paged
// on the wire like GetUserStatus.
func (m *Mgr) GetMeetings(cookie string) {
	var meetings []protocol.MeetInfo
	after := 0
	m.pagedRoundTrip(&protocol.Msg{Op: protocol.OpGetMeetings, Paged: true},
		func(r *protocol.Msg) (*protocol.Msg, int) {
			meetings = append(meetings, r.Meetings...)
			if !r.More {
				return nil, 0
			}
			if len(r.Meetings) == 0 || r.Meetings[len(r.Meetings)-1].ID == after {
				return nil, protocol.ErrData
			}
			after = r.Meetings[len(r.Meetings)-1].ID
			return &protocol.Msg{Op: protocol.OpGetMeetings, Paged: true, AfterID: after}, 0
		},
		func(code int) event {
			if code != 0 {
				return func(cb Callback) { cb.GetMeetingsFail(code, cookie) }
			}
			if meetings == nil {
				meetings = []protocol.MeetInfo{}
			}
			js := string(protocol.AppendMeetInfoList(nil, meetings))
			return func(cb Callback) { cb.GetMeetingsSuccess(js, cookie) }
		})
}

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
// (protocol.ValidID: 5) before the server sees them.
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
