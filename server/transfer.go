package server

import (
	"strings"

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
}

// addTransfer indexes t. e.mu must be held.
func (e *enterprise) addTransfer(t *transfer) {
	t.from.out[t.task] = t
	t.to.in[t.task] = t
	if t.kind == kindCmd {
		t.from.nCmds++
		t.from.cmdBytes += t.size
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
			t.to.unhold(t)
			t.frame = nil
		}
	}
	delete(t.from.out, t.task)
	delete(t.to.in, t.task)
}

// hold appends t to s's queue of held commands. e.mu must be held.
func (s *session) hold(t *transfer) {
	t.prev = s.heldTail
	if s.heldTail != nil {
		s.heldTail.next = t
	} else {
		s.heldHead = t
	}
	s.heldTail = t
}

// unhold removes t from s's held queue. e.mu must be held.
func (s *session) unhold(t *transfer) {
	if t.prev != nil {
		t.prev.next = t.next
	} else if s.heldHead == t {
		s.heldHead = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else if s.heldTail == t {
		s.heldTail = t.prev
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
	t.to.sendCtrl(protocol.Frame{Binary: true, Head: f})
}

// forwardHeld forwards s's held commands, oldest first, while its budget
// allows. e.mu must be held.
func (e *enterprise) forwardHeld(s *session) {
	for !s.ended && s.heldHead != nil && e.fitsCmd(s, int64(len(s.heldHead.frame))) {
		t := s.heldHead
		s.unhold(t)
		e.forwardCmd(t)
	}
}

// validTask: 1..MaxIDLen bytes (it travels in the binary header).
func validTask(task string) bool { return task != "" && len(task) <= protocol.MaxIDLen }

// baseName reduces a file name to its last element, whatever the sender's
// path separator.
func baseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return name
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
	if to.heldHead == nil && e.fitsCmd(to, int64(len(t.frame))) {
		e.forwardCmd(t)
	} else {
		to.hold(t)
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
	case !validTask(m.Task) || (m.Kind != protocol.KindBuffer && m.Kind != protocol.KindFile) || m.Total < 0:
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
		name = baseName(m.Name)
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
	t := &transfer{task: m.Task, kind: m.Kind, from: s, to: to, total: m.Total}
	e.addTransfer(t)
	s.reply(m.ID, protocol.NoErr, &protocol.Msg{Window: cfg.Window, Chunk: cfg.Chunk})
	to.push(&protocol.Msg{Push: protocol.PushXferBegin, Task: t.task, From: s.usrID, Kind: t.kind, Total: t.total, Name: name})
}

// chunkFrame checks a FrameChunk against the task's order, chunk size,
// total and window, and forwards the very same frame (no copy) to the
// receiver's bulk queue. A violation fails the task (sendRslt 6, xferCancel). Chunks of
// unknown tasks are dropped. Reader goroutine of the sender; takes e.mu.
func (e *enterprise) chunkFrame(s *session, h protocol.Header, buf *protocol.Buf, payload []byte) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.out[h.Task]
	if t == nil || t.kind == kindCmd {
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
	if t == nil || t.kind == kindCmd || m.N < t.acked || m.N > t.sent {
		return
	}
	if m.N > t.acked {
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
	if t == nil || t.kind == kindCmd {
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
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.out[m.Task]
	if t == nil || t.kind == kindCmd {
		s.reply(m.ID, protocol.TransIDInvalid, nil)
		return
	}
	e.dropTransfer(t)
	s.reply(m.ID, protocol.NoErr, nil)
	t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
}
