package server

import (
	"strings"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// Call states.
const (
	callRinging = iota
	callConnected
	callEnded
)

// call is one call (caller → callee) or one callMoreParty invite (inviter →
// invitee). The server is its single authority: the first of accept /
// reject / hangup / ring timeout / session end changes state, and every
// later action finds it gone (600). All fields but id, invite, caller and
// callee are guarded by the enterprise's mu.
type call struct {
	id     string
	invite bool     // a callMoreParty leg
	caller *session // the inviter for invites
	callee *session // the invitee for invites
	state  int
	timer  *time.Timer
}

// other returns the party of c that is not s.
func (c *call) other(s *session) *session {
	if c.caller == s {
		return c.callee
	}
	return c.caller
}

// validMeetObj: empty, or a JSON object of at most 8 KiB.
func validMeetObj(v string) bool {
	if v == "" {
		return true
	}
	if len(v) > protocol.MaxExtBytes || !protocol.ValidJSON(v) {
		return false
	}
	return strings.HasPrefix(strings.TrimLeft(v, " \t\r\n"), "{")
}

// checkCallParams validates the parameters of call / callMoreParty.
func checkCallParams(s *session, m *protocol.Msg) bool {
	return m.CallID != "" && len(m.CallID) <= protocol.MaxCallIDLen && protocol.ValidID(m.CallID) &&
		m.To != "" && m.To != s.usrID && protocol.ValidID(m.To) &&
		validMeetObj(m.MeetObj) && len(m.Ext) <= protocol.MaxExtBytes
}

// register adds c to the enterprise and both parties and arms its ring
// timer. e.mu must be held.
func (e *enterprise) register(c *call) {
	e.calls[c.id] = c
	c.caller.calls[c.id] = c
	c.callee.calls[c.id] = c
	c.timer = time.AfterFunc(e.srv.cfg.RingTimeout, func() { e.ringTimeout(c) })
}

// remove takes c out of the enterprise and both parties, stops its timer
// and announces the parties' status changes. e.mu must be held.
func (e *enterprise) remove(c *call) {
	c.state = callEnded
	if c.timer != nil {
		c.timer.Stop()
	}
	delete(e.calls, c.id)
	delete(c.caller.calls, c.id)
	delete(c.callee.calls, c.id)
	e.updateStatus(c.caller)
	e.updateStatus(c.callee)
}

// lookup returns the live call id if s is one of its parties.
// e.mu must be held.
func (e *enterprise) lookup(s *session, id string) *call {
	c := e.calls[id]
	if c == nil || (c.caller != s && c.callee != s) {
		return nil
	}
	return c
}

// callee returns the target of a call or invite from s, or the error code
// (603 offline, 602 busy or DND). e.mu must be held.
func (e *enterprise) callee(m *protocol.Msg) (*session, int) {
	t := e.users[m.To]
	if t == nil {
		return nil, protocol.ErrOffline
	}
	if len(t.calls) > 0 || t.dnd != 0 {
		return nil, protocol.ErrBusy
	}
	return t, protocol.NoErr
}

// call starts ringing m.To: callIn to the callee, then reply 0 to the
// caller. Reader goroutine; takes e.mu.
func (e *enterprise) call(s *session, m *protocol.Msg) {
	if !checkCallParams(s, m) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !pushFits(&protocol.Msg{Push: protocol.PushCallIn, CallID: m.CallID, From: s.usrID, MeetObj: m.MeetObj, Ext: m.Ext}) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	if e.calls[m.CallID] != nil {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if len(s.calls) > 0 {
		s.reply(m.ID, protocol.ErrCallExist, nil)
		return
	}
	t, code := e.callee(m)
	if code != protocol.NoErr {
		s.reply(m.ID, code, nil)
		return
	}
	c := &call{id: m.CallID, caller: s, callee: t, state: callRinging}
	e.register(c)
	t.push(&protocol.Msg{Push: protocol.PushCallIn, CallID: c.id, From: s.usrID, MeetObj: m.MeetObj, Ext: m.Ext})
	s.reply(m.ID, protocol.NoErr, nil)
	e.updateStatus(s)
	e.updateStatus(t)
}

// callMoreParty invites m.To while s is in a connected call: reply 0 and
// partyStatus 0 to the inviter, callIn to the invitee. Reader goroutine;
// takes e.mu.
func (e *enterprise) callMoreParty(s *session, m *protocol.Msg) {
	if !checkCallParams(s, m) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !pushFits(&protocol.Msg{Push: protocol.PushCallIn, CallID: m.CallID, From: s.usrID, MeetObj: m.MeetObj, Ext: m.Ext}) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	connected := false
	for _, c := range s.calls {
		if !c.invite && c.state == callConnected {
			connected = true
			break
		}
	}
	if !connected {
		s.reply(m.ID, protocol.InvalidCallID, nil)
		return
	}
	if e.calls[m.CallID] != nil {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	t, code := e.callee(m)
	if code != protocol.NoErr {
		s.reply(m.ID, code, nil)
		return
	}
	c := &call{id: m.CallID, invite: true, caller: s, callee: t, state: callRinging}
	e.register(c)
	s.reply(m.ID, protocol.NoErr, nil)
	s.push(&protocol.Msg{Push: protocol.PushPartyStatus, CallID: c.id, Status: protocol.PartyRinging})
	t.push(&protocol.Msg{Push: protocol.PushCallIn, CallID: c.id, From: s.usrID, MeetObj: m.MeetObj, Ext: m.Ext})
	e.updateStatus(t)
}

// acceptCall connects a ringing call or invite of which s is the callee.
// Reader goroutine; takes e.mu.
func (e *enterprise) acceptCall(s *session, m *protocol.Msg) {
	if !validMeetObj(m.MeetObj) || len(m.Ext) > protocol.MaxExtBytes || !protocol.ValidID(m.CallID) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !pushFits(&protocol.Msg{Push: protocol.PushCallAccepted, CallID: m.CallID, MeetObj: m.MeetObj, Ext: m.Ext}) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	c := e.lookup(s, m.CallID)
	if c == nil || c.callee != s || c.state != callRinging {
		s.reply(m.ID, protocol.InvalidCallID, nil)
		return
	}
	c.state = callConnected
	c.timer.Stop()
	s.reply(m.ID, protocol.NoErr, nil)
	if c.invite {
		c.caller.push(&protocol.Msg{Push: protocol.PushPartyStatus, CallID: c.id, Status: protocol.PartyAccepted})
	} else {
		c.caller.push(&protocol.Msg{Push: protocol.PushCallAccepted, CallID: c.id, MeetObj: m.MeetObj, Ext: m.Ext})
	}
}

// rejectCall ends a ringing call or invite of which s is the callee.
// Reader goroutine; takes e.mu.
func (e *enterprise) rejectCall(s *session, m *protocol.Msg) {
	if len(m.Ext) > protocol.MaxExtBytes || !protocol.ValidID(m.CallID) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	c := e.lookup(s, m.CallID)
	if c == nil || c.callee != s || c.state != callRinging {
		s.reply(m.ID, protocol.InvalidCallID, nil)
		return
	}
	e.remove(c)
	s.reply(m.ID, protocol.NoErr, nil)
	if c.invite {
		c.caller.push(&protocol.Msg{Push: protocol.PushPartyStatus, CallID: c.id, Status: protocol.PartyRejected})
	} else {
		c.caller.push(&protocol.Msg{Push: protocol.PushCallRejected, CallID: c.id, Code: protocol.ErrRefuse, Ext: m.Ext})
	}
}

// hungupCall ends a ringing or connected call or invite of which s is a
// party. Reader goroutine; takes e.mu.
func (e *enterprise) hungupCall(s *session, m *protocol.Msg) {
	if len(m.Ext) > protocol.MaxExtBytes || !protocol.ValidID(m.CallID) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	c := e.lookup(s, m.CallID)
	if c == nil {
		s.reply(m.ID, protocol.InvalidCallID, nil)
		return
	}
	e.remove(c)
	s.reply(m.ID, protocol.NoErr, nil)
	e.notifyEnd(c, s, m.Ext)
}

// notifyEnd tells the party of c other than by that by ended it: callHungup,
// or partyStatus 4 when the invitee of an invite ended it. e.mu must be held.
func (e *enterprise) notifyEnd(c *call, by *session, ext string) {
	if c.invite && by == c.callee {
		c.caller.push(&protocol.Msg{Push: protocol.PushPartyStatus, CallID: c.id, Status: protocol.PartyHungup})
		return
	}
	c.other(by).push(&protocol.Msg{Push: protocol.PushCallHungup, CallID: c.id, Ext: ext})
}

// cancelCallMoreParty withdraws a ringing invite of s. Reader goroutine; takes e.mu.
func (e *enterprise) cancelCallMoreParty(s *session, m *protocol.Msg) {
	if len(m.Ext) > protocol.MaxExtBytes || !protocol.ValidID(m.CallID) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	c := e.lookup(s, m.CallID)
	if c == nil || !c.invite || c.caller != s || c.state != callRinging {
		s.reply(m.ID, protocol.InvalidCallID, nil)
		return
	}
	e.remove(c)
	s.reply(m.ID, protocol.NoErr, nil)
	c.callee.push(&protocol.Msg{Push: protocol.PushCallHungup, CallID: c.id, Ext: m.Ext})
}

// ringTimeout ends c if it is still ringing: a call gets callRejected(604)
// at the caller, an invite partyStatus 3 at the inviter; the callee gets
// callHungup. Runs in the timer's goroutine; takes e.mu.
func (e *enterprise) ringTimeout(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls[c.id] != c || c.state != callRinging {
		return
	}
	e.remove(c)
	if c.invite {
		c.caller.push(&protocol.Msg{Push: protocol.PushPartyStatus, CallID: c.id, Status: protocol.PartyNoAnswer})
	} else {
		c.caller.push(&protocol.Msg{Push: protocol.PushCallRejected, CallID: c.id, Code: protocol.ErrNoAnswer})
	}
	c.callee.push(&protocol.Msg{Push: protocol.PushCallHungup, CallID: c.id})
}

// endCallBySessionEnd ends c because party gone's session ended: the other
// party gets callHungup("") (an inviter partyStatus 4). e.mu must be held.
func (e *enterprise) endCallBySessionEnd(c *call, gone *session) {
	e.remove(c)
	e.notifyEnd(c, gone, "")
}
