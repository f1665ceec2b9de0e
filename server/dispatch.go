package server

import (
	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Frame dispatch: a connection's reader hands every frame it reads to one
// function here — handleText before login or resume, sessionFrame after —
// and these route each request, one-way message and binary frame to the
// handler of its concern (session.go, status.go, meeting.go, call.go,
// transfer.go, resume.go).

// handleText handles a text frame of a connection without a session: only
// login and resume are accepted. Reader goroutine (strictly, one the reader
// starts and waits for, see readLoop: so are the login and resume handlers),
// no lock held.
func (c *conn) handleText(data []byte) {
	if len(data) > protocol.MaxTextFrame {
		c.log().Debug("text frame too large, dropped", "len", len(data))
		return
	}
	m, err := protocol.Decode(data)
	if err != nil {
		c.log().Debug("malformed text frame, dropped", "len", len(data))
		return
	}
	if m.Op == "" || m.ID == 0 {
		return
	}
	switch m.Op {
	case protocol.OpLogin:
		c.handleLogin(m)
	case protocol.OpResume:
		c.handleResume(m)
	default:
		c.reply(m.ID, protocol.NotLogin, nil)
	}
}

// sessionFrame handles one frame of a logged-in connection: acks are applied
// to the stream; every other frame is counted in its lane and dispatched.
// Frames of a connection that a resume has replaced are dropped. Reader
// goroutine; holds s.rmu so that an old and a new connection never run
// handlers of the same session at once.
func (c *conn) sessionFrame(s *session, typ int, buf *msgbuf.Buf) {
	data := buf.B
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if !c.isCurrent(s) {
		return
	}
	if typ == websocket.TextMessage {
		if len(data) > protocol.MaxTextFrame {
			s.recv.Count(false)
			return
		}
		m, err := protocol.Decode(data)
		if err == nil && m.Op == protocol.OpAck && m.ID == 0 {
			if err := s.stream.Ack(uint64(m.N), uint64(m.NB)); err != nil {
				c.kill("acknowledged frames never sent")
			}
			return
		}
		s.recv.Count(false)
		switch {
		case err != nil:
			c.log().Debug("malformed text frame, dropped", "len", len(data))
		case m.Op == "":
		case m.ID == 0:
			s.handleOneWay(m)
		default:
			s.handleRequest(m)
		}
	} else {
		h, payload, err := protocol.ParseHeader(data)
		s.recv.Count(err == nil && h.Type == protocol.FrameChunk)
		switch {
		case err != nil:
			c.log().Debug("malformed binary frame, dropped", "len", len(data))
		case h.Type == protocol.FrameCmd:
			s.ent.cmdFrame(s, h, payload)
		case h.Type == protocol.FrameChunk:
			s.ent.chunkFrame(s, h, buf, payload)
		}
	}
	c.sendAck(s, false)
}

// handleRequest runs one request of a logged-in session. Reader goroutine,
// under s.rmu (sessionFrame) and no other lock.
func (s *session) handleRequest(m *protocol.Msg) {
	e := s.ent
	switch m.Op {
	case protocol.OpLogin:
		s.reply(m.ID, protocol.LoginStateError, nil)
	case protocol.OpLogout:
		e.logout(s, m.ID)
	case protocol.OpSetDND:
		e.setDND(s, m)
	case protocol.OpGetUserStatus:
		e.getUserStatus(s, m)
	case protocol.OpStartStatusNotify:
		e.setNotify(s, m, true)
	case protocol.OpStopStatusNotify:
		e.setNotify(s, m, false)
	case protocol.OpCreateMeeting:
		e.createMeeting(s, m)
	case protocol.OpDestroyMeeting:
		e.destroyMeeting(s, m)
	case protocol.OpGetMeetings:
		e.getMeetings(s, m)
	case protocol.OpCall:
		e.call(s, m)
	case protocol.OpAcceptCall:
		e.acceptCall(s, m)
	case protocol.OpRejectCall:
		e.rejectCall(s, m)
	case protocol.OpHungupCall:
		e.hungupCall(s, m)
	case protocol.OpCallMoreParty:
		e.callMoreParty(s, m)
	case protocol.OpCancelCallMoreParty:
		e.cancelCallMoreParty(s, m)
	case protocol.OpSendBegin:
		e.sendBegin(s, m)
	case protocol.OpCancelSend:
		e.cancelSend(s, m)
	default:
		s.reply(m.ID, protocol.ErrData, nil)
	}
}

// handleOneWay runs one one-way message. Reader goroutine, under s.rmu
// (sessionFrame) and no other lock.
func (s *session) handleOneWay(m *protocol.Msg) {
	switch m.Op {
	case protocol.OpCmdAck:
		s.ent.cmdAck(s, m)
	case protocol.OpXferAck:
		s.ent.xferAck(s, m)
	case protocol.OpXferFail:
		s.ent.xferFail(s, m)
	}
}
