package server

import (
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
}

// addTransfer indexes t. e.mu must be held.
func (e *enterprise) addTransfer(t *transfer) {
	t.from.out[t.task] = t
	t.to.in[t.task] = t
	if t.kind == kindCmd {
		t.from.nCmds++
	}
}

// dropTransfer unindexes t. e.mu must be held.
func (e *enterprise) dropTransfer(t *transfer) {
	if t.from.out[t.task] == t && t.kind == kindCmd {
		t.from.nCmds--
	}
	delete(t.from.out, t.task)
	delete(t.to.in, t.task)
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
// to the source (one copy of the payload). Reader goroutine; takes e.mu.
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
	if s.nCmds >= e.srv.cfg.MaxCmds {
		fail(protocol.ServerException)
		return
	}
	t := &transfer{task: h.Task, kind: kindCmd, from: s, to: to, total: int64(len(payload))}
	e.addTransfer(t)
	// One allocation of the exact size: the read buffer is not kept for a
	// small frame that may wait long for its receiver.
	frame := make([]byte, 0, protocol.HeaderLen+len(h.Task)+len(s.usrID)+len(payload))
	frame = protocol.AppendHeader(frame, protocol.Header{Type: protocol.FrameCmd, Task: h.Task, Peer: s.usrID})
	to.sendCtrl(protocol.Frame{Binary: true, Head: append(frame, payload...)})
}

// cmdAck completes a sendCmd: sendRslt 0 to its sender. Reader goroutine
// of the receiver; takes e.mu.
func (e *enterprise) cmdAck(s *session, m *protocol.Msg) {
	if !e.lockLive(s) {
		return
	}
	defer e.mu.Unlock()
	t := s.in[m.Task]
	if t == nil || t.kind != kindCmd {
		return
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
	if h.Offset != t.sent || len(payload) > e.srv.cfg.Chunk || t.sent+n > t.total ||
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
	e.dropTransfer(t)
	s.reply(m.ID, protocol.NoErr, nil)
	t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
}
