package core

import "github.com/crvideomgr/crvideomgr/protocol"

// Meetings: create, destroy and list (server/meeting.go).

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
