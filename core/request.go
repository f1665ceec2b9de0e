package core

import (
	"slices"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// Requests: each request a session sends gets exactly one reply — the
// server's, NoServerRsp after requestTimeout, or ConnectionLost when the
// session ends first. Mgr.roundTrip and Mgr.pagedRoundTrip (mgr.go) build
// the API's requests on these.

// replyFunc handles the reply to one request. It runs on the reader
// goroutine, a timer goroutine (timeout) or whoever fails the session's
// requests; it must not block.
type replyFunc func(m *protocol.Msg)

type pendingReq struct {
	fn    replyFunc
	timer *time.Timer
}

// request sends req on the session's stream and arranges for fn to get
// exactly one reply: the server's, or a synthetic one with NoServerRsp on
// timeout or ConnectionLost when the session ends first. Never blocks and
// never calls fn itself unless the session is already over. mu must not be
// held (it takes it).
func (s *session) request(req *protocol.Msg, fn replyFunc) {
	id := s.register(req, fn)
	s.m.mu.Lock()
	stream := s.stream
	s.m.unlock()
	if err := stream.Send(outbox.Frame{Head: protocol.Encode(req)}, false); err != nil {
		s.failRequest(id, protocol.ConnectionLost)
	}
}

// requestLocked is request for callers holding mu: the request is on the
// stream, in order, when it returns; a failure to send is reported to fn
// from another goroutine (fn takes mu).
func (s *session) requestLocked(req *protocol.Msg, fn replyFunc) {
	id := s.register(req, fn)
	if err := s.stream.Send(outbox.Frame{Head: protocol.Encode(req)}, false); err != nil {
		go s.failRequest(id, protocol.ConnectionLost)
	}
}

// register gives req its ID and records fn as its reply handler, with the
// request timeout running. Takes reqMu; mu may be held.
func (s *session) register(req *protocol.Msg, fn replyFunc) uint64 {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	s.nextID++
	id := s.nextID
	req.ID = id
	p := &pendingReq{fn: fn}
	p.timer = time.AfterFunc(requestTimeout, func() { s.failRequest(id, protocol.NoServerRsp) })
	s.pending[id] = p
	return id
}

// send sends a one-way message on the session's stream. mu must be held.
func (s *session) send(m *protocol.Msg) {
	_ = s.stream.Send(outbox.Frame{Head: protocol.Encode(m)}, false)
}

// takePending removes and returns the handler of request id, nil when it
// has been answered. Takes reqMu.
func (s *session) takePending(id uint64) *pendingReq {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	p := s.pending[id]
	delete(s.pending, id)
	return p
}

// failRequest answers request id with code unless it has been answered.
// Any goroutine (its timer's on timeout); mu must not be held (fn takes it).
func (s *session) failRequest(id uint64, code int) {
	if p := s.takePending(id); p != nil {
		p.timer.Stop()
		p.fn(&protocol.Msg{ID: id, Code: code})
	}
}

// failPending fails every request still waiting, in request order. mu must
// not be held (the handlers take it).
func (s *session) failPending(code int) { failAll(s.takeAllPending(), code) }

// takeAllPending empties the table of requests awaiting replies. Takes
// reqMu; mu may be held (relogin).
func (s *session) takeAllPending() map[uint64]*pendingReq {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	pend := s.pending
	s.pending = make(map[uint64]*pendingReq)
	return pend
}

// failAll fails the given requests, in request order. mu must not be held.
func failAll(pend map[uint64]*pendingReq, code int) {
	ids := make([]uint64, 0, len(pend))
	for id := range pend {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		pend[id].timer.Stop()
		pend[id].fn(&protocol.Msg{ID: id, Code: code})
	}
}

// requestSession returns the logged-in session to send req on, or nil
// after emitting fail's event: NotLogin without a session, ParamErr when
// req would not fit in a text frame. Nothing is emitted after Close (nil
// then too). Takes mu.
func (m *Mgr) requestSession(req *protocol.Msg, fail func(code int) event) *session {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	s := m.current()
	if s == nil {
		m.emit(fail(protocol.NotLogin))
		return nil
	}
	var buf [512]byte // the size check needs no heap copy of the frame
	if len(protocol.AppendEncode(buf[:0], req)) > protocol.MaxTextFrame {
		m.emit(fail(protocol.ParamErr))
		return nil
	}
	return s
}

// roundTrip sends a request on the logged-in session and turns its reply
// into one event; result runs with mu held. Without a session the event
// gets NotLogin; a request too large for a frame gets ParamErr. Nothing is
// emitted after Close.
func (m *Mgr) roundTrip(req *protocol.Msg, result func(r *protocol.Msg) event) {
	s := m.requestSession(req, func(code int) event { return result(&protocol.Msg{Code: code}) })
	if s == nil {
		return
	}
	s.request(req, func(r *protocol.Msg) {
		m.mu.Lock()
		m.emit(result(r))
		m.mu.Unlock()
	})
}

// pagedRoundTrip fetches a paged list: it sends req, hands each reply with
// code 0 to page, and sends the request page returns for the next page,
// until page returns nil (the list is complete) or a code. result then
// makes the one event, with the first non-zero code of a reply or of page,
// or 0. page and result run one at a time, in order; result runs with mu
// held. Without a session the event gets NotLogin.
func (m *Mgr) pagedRoundTrip(req *protocol.Msg, page func(r *protocol.Msg) (*protocol.Msg, int), result func(code int) event) {
	s := m.requestSession(req, result)
	if s == nil {
		return
	}
	var onReply replyFunc
	onReply = func(r *protocol.Msg) {
		code := r.Code
		if code == 0 {
			next, c := page(r)
			if next != nil && c == 0 {
				s.request(next, onReply)
				return
			}
			code = c
		}
		m.mu.Lock()
		m.emit(result(code))
		m.mu.Unlock()
	}
	s.request(req, onReply)
}

// failNow emits ev with the given code without contacting the server.
func (m *Mgr) failNow(ev event) {
	m.mu.Lock()
	if !m.closed {
		m.emit(ev)
	}
	m.mu.Unlock()
}
