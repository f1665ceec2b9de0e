package server

import (
	"time"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// kindCmd marks a sendCmd task waiting for its cmdAck (not a wire value).
const kindCmd = "cmd"

// transfer is one task in flight from one session to another: a sendCmd
// waiting for its cmdAck, or a buffer/file transfer. It is indexed in
// from.out and to.in; a task is live exactly while it is in both. All
// fields but task, kind, from, to and total are guarded by the enterprise's mu.
type transfer struct {
	task  string
	kind  string // kindCmd, protocol.KindBuffer, protocol.KindFile
	from  *session
	to    *session
	total int64
	sent  int64 // bytes of chunks accepted from the sender and forwarded
	acked int64 // bytes the receiver has stored (xferAck)

	// A sendCmd (see cmdFrame): size is what it is charged, to its
	// sender (the frame as received) and, once forwarded, to its
	// receiver (the frame as forwarded). Until forwarded it waits in its
	// receiver's held queue (prev, next) with its frame.
	size, fwdSize int64
	forwarded     bool
	frame         []byte
	prev, next    *transfer

	// A buffer/file transfer waiting for a slot at its receiver (its
	// sendBegin, request reqID, unanswered) until it begins. since is when
	// it began waiting, then its last progress (chunk or xferAck).
	waiting bool
	reqID   uint64
	name    string
	since   time.Time
}

// addTransfer indexes t. e.mu must be held.
func (e *enterprise) addTransfer(t *transfer) {
	t.from.out[t.task] = t
	t.to.in[t.task] = t
	if t.kind == kindCmd {
		t.from.nCmds++
		t.from.cmdBytes += t.size
		return
	}
	e.xfers[t] = struct{}{}
	if t.waiting {
		t.to.waiting.push(t)
	} else {
		t.to.nIn++
	}
}

// dropTransfer unindexes t. A command's bytes are given back to its sender
// and, when it was forwarded, to its receiver, whose held commands then go
// on while its budget allows. e.mu must be held.
func (e *enterprise) dropTransfer(t *transfer) {
	if t.from.out[t.task] == t && t.kind == kindCmd {
		t.from.nCmds--
		t.from.cmdBytes -= t.size
		if t.forwarded {
			t.to.cmdIn -= t.fwdSize
			e.forwardHeld(t.to)
		} else {
			t.to.held.remove(t)
			t.frame = nil
		}
	}
	if t.kind != kindCmd && t.to.in[t.task] == t {
		delete(e.xfers, t)
		if t.waiting {
			t.to.waiting.remove(t)
		} else {
			t.to.nIn--
			defer e.startWaiting(t.to)
		}
	}
	delete(t.from.out, t.task)
	delete(t.to.in, t.task)
}

// startWaiting begins s's waiting transfers, oldest first, while it has
// fewer than MaxIncoming. e.mu must be held.
func (e *enterprise) startWaiting(s *session) {
	for !s.ended && s.nIn < e.srv.cfg.MaxIncoming && s.waiting.head != nil {
		t := s.waiting.head
		s.waiting.remove(t)
		t.waiting = false
		s.nIn++
		e.begin(t)
	}
}

// begin answers t's sendBegin (window, chunk) and announces t to its
// receiver. e.mu must be held.
func (e *enterprise) begin(t *transfer) {
	t.since = time.Now()
	t.from.reply(t.reqID, protocol.NoErr, &protocol.Msg{Window: e.srv.cfg.Window, Chunk: e.srv.cfg.Chunk})
	t.to.push(&protocol.Msg{Push: protocol.PushXferBegin, Task: t.task, From: t.from.usrID, Kind: t.kind, Total: t.total, Name: t.name})
}

// tqueue is a FIFO of transfers linked through their prev and next: a
// receiver's held commands, or its transfers waiting for a slot. Guarded
// by the enterprise's mu.
type tqueue struct{ head, tail *transfer }

// push appends t to q. e.mu must be held.
func (q *tqueue) push(t *transfer) {
	t.prev = q.tail
	if q.tail != nil {
		q.tail.next = t
	} else {
		q.head = t
	}
	q.tail = t
}

// remove unlinks t from q. e.mu must be held.
func (q *tqueue) remove(t *transfer) {
	if t.prev != nil {
		t.prev.next = t.next
	} else if q.head == t {
		q.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else if q.tail == t {
		q.tail = t.prev
	}
	t.prev, t.next = nil, nil
}

// fitsCmd reports whether a command of n bytes may be forwarded to s now:
// within its CmdWindow, or the only one in flight (so any command fits).
// e.mu must be held.
func (e *enterprise) fitsCmd(s *session, n int64) bool {
	return s.cmdIn == 0 || s.cmdIn+n <= e.srv.cfg.CmdWindow
}

// forwardCmd queues t's frame to its receiver and charges it there. e.mu
// must be held.
func (e *enterprise) forwardCmd(t *transfer) {
	t.forwarded = true
	t.fwdSize = int64(len(t.frame))
	t.to.cmdIn += t.fwdSize
	f := t.frame
	t.frame = nil
	t.to.sendCtrl(outbox.Frame{Binary: true, Head: f})
}

// forwardHeld forwards s's held commands, oldest first, while its budget
// allows. e.mu must be held.
func (e *enterprise) forwardHeld(s *session) {
	for !s.ended && s.held.head != nil && e.fitsCmd(s, int64(len(s.held.head.frame))) {
		t := s.held.head
		s.held.remove(t)
		e.forwardCmd(t)
	}
}

// validTask: 1..MaxIDLen bytes (it travels in the binary header), and
// protocol.ValidID.
func validTask(task string) bool {
	return task != "" && len(task) <= protocol.MaxIDLen && protocol.ValidID(task)
}

// target returns the online receiver usrID for s, or nil when it is offline
// or s itself. e.mu must be held.
func (e *enterprise) target(s *session, usrID string) *session {
	t := e.users[usrID]
	if t == s {
		return nil
	}
	return t
}

// cmdFrame relays a sendCmd FrameCmd to its target with the peer rewritten
// to the source (one copy of the payload): at once when the receiver's
// CmdWindow allows and no command waits for it, else it is held, in
// arrival order, until cmdAcks free the budget. A sender over MaxCmds or
// MaxCmdBytes in flight (held or forwarded) gets 8. Reader goroutine; takes e.mu.
func (e *enterprise) cmdFrame(s *session, h protocol.Header, payload []byte) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	fail := func(code int) {
		s.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: h.Task, Code: code})
	}
	if len(payload) > protocol.MaxCmdBytes {
		fail(protocol.SendCmdLarge)
		return
	}
	if !validTask(h.Task) || !protocol.ValidID(h.Peer) {
		fail(protocol.ParamErr)
		return
	}
	to := e.target(s, h.Peer)
	if to == nil {
		fail(protocol.SendDataTargetInvalid)
		return
	}
	if s.out[h.Task] != nil || to.in[h.Task] != nil {
		fail(protocol.ParamErr)
		return
	}
	size := int64(protocol.HeaderLen + len(h.Task) + len(h.Peer) + len(payload))
	if s.nCmds >= e.srv.cfg.MaxCmds || (s.cmdBytes > 0 && s.cmdBytes+size > e.srv.cfg.MaxCmdBytes) {
		fail(protocol.ServerException)
		return
	}
	t := &transfer{task: h.Task, kind: kindCmd, from: s, to: to, total: int64(len(payload)), size: size}
	e.addTransfer(t)
	// One allocation of the exact size: the read buffer is not kept for a
	// small frame that may wait long for its receiver.
	frame := make([]byte, 0, protocol.HeaderLen+len(h.Task)+len(s.usrID)+len(payload))
	frame = protocol.AppendHeader(frame, protocol.Header{Type: protocol.FrameCmd, Task: h.Task, Peer: s.usrID})
	t.frame = append(frame, payload...)
	if to.held.head == nil && e.fitsCmd(to, int64(len(t.frame))) {
		e.forwardCmd(t)
	} else {
		to.held.push(t)
	}
}

// cmdAck completes a sendCmd: sendRslt 0 to its sender. Reader goroutine
// of the receiver; takes e.mu.
func (e *enterprise) cmdAck(s *session, m *protocol.Msg) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.in[m.Task]
	if t == nil || t.kind != kindCmd || !t.forwarded {
		return // a held command has not reached s: its ack is a lie
	}
	e.dropTransfer(t)
	t.from.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: protocol.NoErr})
}

// sendBegin opens a buffer or file transfer: reply (window, chunk) to the
// sender, xferBegin to the receiver. Reader goroutine; takes e.mu.
func (e *enterprise) sendBegin(s *session, m *protocol.Msg) {
	cfg := &e.srv.cfg
	switch {
	case !validTask(m.Task) || !protocol.ValidID(m.To) || (m.Kind != protocol.KindBuffer && m.Kind != protocol.KindFile) || m.Total < 0:
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	case m.Kind == protocol.KindBuffer && m.Total > cfg.MaxBuffer:
		s.reply(m.ID, protocol.SendBufferLarge, nil)
		return
	case m.Kind == protocol.KindFile && m.Total > cfg.MaxFile:
		s.reply(m.ID, protocol.FileSizeUnsupport, nil)
		return
	}
	name := ""
	if m.Kind == protocol.KindFile {
		name = protocol.BaseName(m.Name)
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	to := e.target(s, m.To)
	if to == nil {
		s.reply(m.ID, protocol.SendDataTargetInvalid, nil)
		return
	}
	if s.out[m.Task] != nil || to.in[m.Task] != nil {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if len(s.out)-s.nCmds >= cfg.MaxTransfers {
		s.reply(m.ID, protocol.ServerException, nil)
		return
	}
	t := &transfer{task: m.Task, kind: m.Kind, from: s, to: to, total: m.Total, reqID: m.ID, name: name}
	if to.nIn >= cfg.MaxIncoming || to.waiting.head != nil {
		// Paced: the reply waits for a slot at the receiver (see sweep).
		t.waiting, t.since = true, time.Now()
		e.addTransfer(t)
		return
	}
	e.addTransfer(t)
	e.begin(t)
}

// chunkFrame checks a FrameChunk against the task's order, chunk size,
// total and window, and forwards the very same frame (no copy) to the
// receiver's bulk queue. A violation fails the task (sendRslt 6, xferCancel). Chunks of
// unknown tasks are dropped. Reader goroutine of the sender; takes e.mu.
func (e *enterprise) chunkFrame(s *session, h protocol.Header, buf *msgbuf.Buf, payload []byte) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.out[h.Task]
	if t == nil || t.kind == kindCmd || t.waiting {
		return
	}
	n := int64(len(payload))
	// Every chunk but the last is full-sized, so a transfer's window is
	// at most window/chunk + 1 frames (each holds a read buffer).
	short := n < int64(e.srv.cfg.Chunk) && t.sent+n != t.total
	if h.Offset != t.sent || n == 0 || short || len(payload) > e.srv.cfg.Chunk || t.sent+n > t.total ||
		t.sent+n-t.acked > e.srv.cfg.Window {
		e.dropTransfer(t)
		s.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: protocol.ErrData})
		t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
		return
	}
	t.sent += n
	t.since = time.Now()
	// A closed outbox means the receiver is going; its session end cleans up.
	// The frame is relayed from the read buffer itself, which it holds
	// until written and acknowledged.
	t.to.sendBulk(buf.Frame(buf.B))
}

// xferAck records that the receiver stored n bytes: xferAck to the sender
// and, when n reaches total, xferDone to the receiver and sendRslt 0 to the
// sender — the one moment the transfer counts as complete. Acks for unknown
// tasks, going backwards or beyond what was forwarded are ignored. Reader
// goroutine of the receiver; takes e.mu.
func (e *enterprise) xferAck(s *session, m *protocol.Msg) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.in[m.Task]
	if t == nil || t.kind == kindCmd || t.waiting || m.N < t.acked || m.N > t.sent {
		return
	}
	if m.N > t.acked {
		t.since = time.Now()
		t.acked = m.N
		t.from.push(&protocol.Msg{Push: protocol.PushXferAck, Task: t.task, N: t.acked})
	}
	if t.acked == t.total {
		e.dropTransfer(t)
		s.push(&protocol.Msg{Push: protocol.PushXferDone, Task: t.task})
		t.from.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: protocol.NoErr})
	}
}

// xferFail ends a transfer the receiver cannot store: sendRslt(code, 1402
// when none is given) to the sender. Reader goroutine of the receiver; takes e.mu.
func (e *enterprise) xferFail(s *session, m *protocol.Msg) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.in[m.Task]
	if t == nil || t.kind == kindCmd || t.waiting {
		return
	}
	code := m.Code
	if code == protocol.NoErr {
		code = protocol.FileWriteErr
	}
	e.dropTransfer(t)
	t.from.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: code})
}

// cancelSend cancels a buffer or file transfer of s still in flight: reply
// 0 and xferCancel to the receiver; 1104 when there is none. Reader
// goroutine; takes e.mu.
func (e *enterprise) cancelSend(s *session, m *protocol.Msg) {
	if !protocol.ValidID(m.Task) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.out[m.Task]
	if t == nil || t.kind == kindCmd {
		s.reply(m.ID, protocol.TransIDInvalid, nil)
		return
	}
	waiting := t.waiting
	e.dropTransfer(t)
	s.reply(m.ID, protocol.NoErr, nil)
	if waiting {
		// Its receiver never heard of it; its sendBegin is answered after
		// the cancel (the library ignores it by then).
		s.reply(t.reqID, protocol.SendFail, nil)
		return
	}
	t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
}

// sweep ends the enterprise's transfers that have waited too long for a
// slot (their sendBegin is answered 8, before the library's 30 s request
// timeout) or made no progress for StallTimeout (sendRslt 1000 to the
// sender, xferCancel to the receiver). sweepLoop's goroutine; takes e.mu.
func (e *enterprise) sweep(now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for t := range e.xfers {
		switch {
		case t.waiting && now.Sub(t.since) > e.srv.beginWait:
			e.dropTransfer(t)
			t.from.reply(t.reqID, protocol.ServerException, nil)
		case !t.waiting && now.Sub(t.since) > e.srv.cfg.StallTimeout:
			e.dropTransfer(t)
			t.from.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: protocol.SendFail})
			t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
		}
	}
}
