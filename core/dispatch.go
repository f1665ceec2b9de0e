package core

import (
	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Frame dispatch: a connection's reader hands every frame after the
// handshake to onFrame, which routes it — acks to the stream, replies to
// their request (request.go), pushes through onPush to the concern they
// belong to (status.go, call.go, send.go, receive.go), binary frames to
// receive.go. The server side is server/dispatch.go.

// onFrame handles one frame after the handshake: acks release the stream;
// every other frame is counted in its lane, then handled. Reader
// goroutine; mu must not be held.
func (s *session) onFrame(c *conn, mt int, buf *msgbuf.Buf) {
	m := s.m
	data := buf.B
	m.mu.Lock()
	current := s.c == c
	recv, stream := s.recv, s.stream
	m.unlock()
	if !current {
		return
	}
	if mt == websocket.TextMessage {
		p, err := protocol.Decode(data)
		if err == nil && p.Push == protocol.PushAck {
			if stream.Ack(uint64(p.N), uint64(p.NB)) != nil {
				c.kill()
			}
			return
		}
		recv.Count(false)
		switch {
		case err != nil:
		case p.Push != "":
			s.onPush(p)
		case p.ID != 0:
			if pr := s.takePending(p.ID); pr != nil {
				pr.timer.Stop()
				pr.fn(p)
			}
		}
	} else {
		h, payload, err := protocol.ParseHeader(data)
		recv.Count(err == nil && h.Type == protocol.FrameChunk)
		switch {
		case err != nil:
		case h.Type == protocol.FrameChunk:
			s.queueChunk(h, buf.Frame(payload))
		default:
			s.onBinary(h, payload)
		}
	}
	if n, nb, due := recv.AckDue(false); due {
		_ = c.out.PushCtrl(outbox.Frame{Head: protocol.Encode(&protocol.Msg{Op: protocol.OpAck, N: int64(n), NB: int64(nb)})})
	}
}

// onTick acknowledges whatever arrived since the last ack. Writer
// goroutine; takes mu.
func (s *session) onTick(c *conn) {
	s.m.mu.Lock()
	recv, attached := s.recv, s.c == c
	s.m.unlock()
	// Until a handshake has attached c, the counts may belong to another
	// server session (a relogin after a restart has yet to reset them).
	if !attached {
		return
	}
	if n, nb, due := recv.AckDue(true); due {
		_ = c.out.PushCtrl(outbox.Frame{Head: protocol.Encode(&protocol.Msg{Op: protocol.OpAck, N: int64(n), NB: int64(nb)})})
	}
}

// onPush handles a server push. Reader goroutine; mu must not be held.
func (s *session) onPush(p *protocol.Msg) {
	m := s.m
	if !validPush(p) {
		m.log.Warn("push with an invalid ID dropped", "push", p.Push)
		return
	}
	if p.Push == protocol.PushLineOff {
		m.mu.Lock()
		if s.ended {
			m.unlock()
			return
		}
		if m.sess == s {
			m.sess = nil
			m.state = stateIdle
		}
		code := p.Code
		m.emit(func(cb Callback) { cb.LineOff(code) })
		s.end(protocol.SendFail)
		m.unlock()
		go s.hangUp(false)
		return
	}
	if p.Push == protocol.PushXferBegin {
		s.onXferBegin(p) // creates the temp file with mu released
		return
	}
	m.mu.Lock()
	defer m.unlock()
	if s.ended {
		return
	}
	switch p.Push {
	case protocol.PushUserStatus:
		s.onUserStatus(p)
	case protocol.PushCallIn, protocol.PushCallAccepted, protocol.PushCallRejected,
		protocol.PushCallHungup, protocol.PushPartyStatus:
		s.onCallPush(p)
	case protocol.PushSendRslt:
		s.onSendRslt(p.Task, p.Code)
	case protocol.PushXferAck:
		s.onXferAck(p.Task, p.N)
	case protocol.PushXferDone:
		s.onXferDone(p.Task)
	case protocol.PushXferCancel:
		s.onXferCancel(p.Task)
	case protocol.PushLineOff:
	default:
		push := p.Push
		m.later(func() { m.log.Debug("unknown push", "push", push) })
	}
}
