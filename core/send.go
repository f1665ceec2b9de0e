package core

import (
	"errors"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
)

// Sending: the tasks this user sends (sendCmd, sendBuffer, sendFile), paced
// by the server's MaxCmds, MaxCmdBytes and MaxTransfers, their chunks
// pumped within the flow-control window, and the pushes that end them.
// Receiving is receive.go; the server side is server/transfer.go.

// progressEvery bounds sendProgress to about ten per second per task.
const progressEvery = 100 * time.Millisecond

// outTask is a sendCmd, sendBuffer or sendFile task of this user. Its fields
// are guarded by Mgr.mu.
type outTask struct {
	id       string
	kind     int
	fileName string // as passed to SendFile
	data     []byte // sendBuffer payload
	file     *os.File
	total    int64
	sent     int64 // bytes handed to the connection
	acked    int64 // bytes the receiver has stored
	window   int64
	chunk    int

	pumping      bool
	cancelling   bool
	onWire       bool          // holds a pacing slot (see session.cmdsOut)
	waitFrame    outbox.Frame  // a paced sendCmd's frame, until sent
	wireLen      int64         // a sendCmd's frame length, once sent (session.cmdBytesOut)
	waitBegin    *protocol.Msg // a paced transfer's sendBegin, until sent
	lastProgress time.Time
	stop         chan struct{} // closed when the task is over
	credit       chan struct{} // signalled when acked grows
}

func newOutTask(id string, kind int) *outTask {
	return &outTask{id: id, kind: kind, stop: make(chan struct{}), credit: make(chan struct{}, 1)}
}

// finish releases the task's resources. mu must be held.
func (t *outTask) finish() {
	select {
	case <-t.stop:
		return
	default:
	}
	close(t.stop)
	if t.file != nil {
		_ = t.file.Close()
	}
	t.data = nil
}

// result returns the task's final callback.
func (t *outTask) result(code int) event {
	id, name := t.id, t.fileName
	switch t.kind {
	case kindCmd:
		return func(cb Callback) { cb.SendCmdRlst(id, code, "") }
	case kindBuffer:
		return func(cb Callback) { cb.SendBufferRlst(id, code, "") }
	default:
		return func(cb Callback) { cb.SendFileRlst(id, name, code, "") }
	}
}

// decodeData validates and decodes the base64 the API takes: standard
// alphabet, padded, no line breaks, so the receiver re-encodes it to the very
// same string. See b64Decode.
func decodeData(data string) ([]byte, bool) { return b64Decode(data) }

// SendCmd sends up to 50 KiB (decoded) to another user and returns the task
// ID at once. Result: SendCmdRlst, once the receiver has the data.
func (m *Mgr) SendCmd(targetUserID, data string) string {
	task := uuid.NewString()
	t := newOutTask(task, kindCmd)
	m.mu.Lock()
	defer m.unlock()
	if m.closed {
		return task
	}
	s := m.current()
	code := 0
	raw, ok := decodeData(data)
	switch {
	case s == nil:
		code = protocol.NotLogin
	case !ok:
		code = protocol.Base64CovErr
	case len(raw) > protocol.MaxCmdBytes:
		code = protocol.SendCmdLarge
	case targetUserID == "" || len(targetUserID) > protocol.MaxIDLen:
		code = protocol.SendDataTargetInvalid
	case !protocol.ValidID(targetUserID):
		code = protocol.ParamErr
	}
	if code != 0 {
		m.emit(t.result(code))
		return task
	}
	s.out[task] = t
	head := protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: task, Peer: targetUserID})
	t.waitFrame = outbox.Frame{Binary: true, Head: head, Body: raw}
	s.cmdWait = append(s.cmdWait, t)
	s.sendWaitingCmds()
	return task
}

// sendWaitingCmds puts waiting sendCmds on the wire while the server's
// MaxCmds
// and MaxCmdBytes allow (one command always may go). mu must be held.
func (s *session) sendWaitingCmds() {
	for len(s.cmdWait) > 0 {
		if h := s.cmdWait[0]; s.out[h.id] != h {
			s.cmdWait[0] = nil
			s.cmdWait = s.cmdWait[1:]
			continue
		}
		if n := int64(s.cmdWait[0].waitFrame.Len()); s.limits.MaxCmdBytes > 0 && s.cmdBytesOut > 0 && s.cmdBytesOut+n > s.limits.MaxCmdBytes {
			return
		}
		t := s.nextWaiting(&s.cmdWait, s.cmdsOut, s.limits.MaxCmds)
		if t == nil {
			return
		}
		s.cmdsOut++
		f := t.waitFrame
		t.waitFrame = outbox.Frame{}
		t.wireLen = int64(f.Len())
		s.cmdBytesOut += t.wireLen
		_ = s.stream.Send(f, false)
	}
}

// startWaitingTransfers sends the sendBegin of waiting transfers while the
// server's MaxTransfers allows. mu must be held.
func (s *session) startWaitingTransfers() {
	for t := s.nextWaiting(&s.xferWait, s.xfersOut, s.limits.MaxTransfers); t != nil; t = s.nextWaiting(&s.xferWait, s.xfersOut, s.limits.MaxTransfers) {
		s.xfersOut++
		req := t.waitBegin
		t.waitBegin = nil
		// Sent now, under mu: a CancelSend or anything else the
		// application does next must reach the server after it.
		s.requestLocked(req, func(r *protocol.Msg) { s.onBeginReply(t, r) })
	}
}

// nextWaiting takes the first task of queue that is still live, marked as
// on the wire, when inFlight is under limit (0: none); nil otherwise. The
// caller counts it in. mu must be held.
func (s *session) nextWaiting(queue *[]*outTask, inFlight, limit int) *outTask {
	for len(*queue) > 0 && (limit <= 0 || inFlight < limit) {
		t := (*queue)[0]
		(*queue)[0] = nil
		*queue = (*queue)[1:]
		if s.out[t.id] == t {
			t.onWire = true
			return t
		}
	}
	return nil
}

// release gives t's pacing slot back once the server has ended the task,
// and lets the next waiting task of its kind go. mu must be held.
func (s *session) release(t *outTask) {
	if !t.onWire {
		return
	}
	t.onWire = false
	if t.kind == kindCmd {
		s.cmdsOut--
		s.cmdBytesOut -= t.wireLen
		s.sendWaitingCmds()
	} else {
		s.xfersOut--
		s.startWaitingTransfers()
	}
}

// SendBuffer sends a block of data of any size up to the server's limit,
// in chunks, and returns the task ID at once. Progress: SendProgress.
// Result: SendBufferRlst, once the receiver has everything.
func (m *Mgr) SendBuffer(targetUserID, data string) string {
	task := uuid.NewString()
	t := newOutTask(task, kindBuffer)
	raw, ok := decodeData(data)
	m.mu.Lock()
	if m.closed {
		m.unlock()
		return task
	}
	s := m.current()
	switch {
	case s == nil:
		m.emit(t.result(protocol.NotLogin))
	case !ok:
		m.emit(t.result(protocol.Base64CovErr))
	default:
		t.data, t.total = raw, int64(len(raw))
		s.begin(t, targetUserID, "")
		m.unlock()
		return task
	}
	m.unlock()
	return task
}

// SendFile sends a file in chunks and returns the task ID at once.
// Progress: SendProgress. Result: SendFileRlst, once the receiver has the
// whole file.
func (m *Mgr) SendFile(targetUserID, fileName string) string {
	task := uuid.NewString()
	t := newOutTask(task, kindFile)
	t.fileName = fileName
	code := 0
	var f *os.File
	st, err := os.Stat(fileName)
	switch {
	case errors.Is(err, fs.ErrNotExist) || fileName == "":
		code = protocol.FileNotExist
	case err != nil || !st.Mode().IsRegular():
		code = protocol.FileReadErr
	default:
		if f, err = os.Open(fileName); err != nil {
			code = protocol.FileReadErr
		}
	}
	m.mu.Lock()
	if m.closed {
		m.unlock()
		if f != nil {
			_ = f.Close()
		}
		return task
	}
	s := m.current()
	if s == nil {
		code = protocol.NotLogin
	}
	if code != 0 {
		if f != nil {
			_ = f.Close()
		}
		m.emit(t.result(code))
		m.unlock()
		return task
	}
	t.file, t.total = f, st.Size()
	s.begin(t, targetUserID, protocol.BaseName(fileName))
	m.unlock()
	return task
}

// begin registers t and queues its sendBegin request, which goes out as
// soon as the server's MaxTransfers allows. mu must be held.
func (s *session) begin(t *outTask, to, name string) {
	if to == "" || len(to) > protocol.MaxIDLen {
		t.finish()
		s.m.emit(t.result(protocol.SendDataTargetInvalid))
		return
	}
	if !protocol.ValidID(to) {
		t.finish()
		s.m.emit(t.result(protocol.ParamErr))
		return
	}
	s.out[t.id] = t
	kind := protocol.KindBuffer
	if t.kind == kindFile {
		kind = protocol.KindFile
	}
	t.waitBegin = &protocol.Msg{Op: protocol.OpSendBegin, Task: t.id, To: to, Kind: kind, Total: t.total, Name: name}
	s.xferWait = append(s.xferWait, t)
	s.startWaitingTransfers()
}

// onBeginReply handles the server's answer to sendBegin. A replyFunc: the
// reader goroutine, or a timer's or whoever fails the session's requests;
// takes mu.
func (s *session) onBeginReply(t *outTask, r *protocol.Msg) {
	m := s.m
	m.mu.Lock()
	defer m.unlock()
	if s.out[t.id] != t {
		return // cancelled or the session ended meanwhile
	}
	if r.Code != 0 {
		delete(s.out, t.id)
		t.finish()
		s.release(t) // the server did not open it
		m.emit(t.result(r.Code))
		return
	}
	t.window, t.chunk = r.Window, r.Chunk
	if t.chunk <= 0 || t.window < int64(t.chunk) {
		delete(s.out, t.id)
		t.finish()
		m.emit(t.result(protocol.ErrData))
		return
	}
	t.lastProgress = time.Now()
	id, total := t.id, int(t.total)
	m.emit(func(cb Callback) { cb.SendProgress(id, 0, total, "") })
	if !t.cancelling && t.total > 0 {
		t.pumping = true
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			s.pump(t)
		}()
	}
}

// chunkPool recycles file read buffers of the negotiated chunk size.
var chunkPool sync.Pool

func getChunkBuf(n int) []byte {
	if b, ok := chunkPool.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n)
}

// pump sends t's chunks within the flow-control window. Runs in its own
// goroutine until the task is sent, cancelled or over.
func (s *session) pump(t *outTask) {
	m := s.m
	for {
		m.mu.Lock()
		select {
		case <-t.stop:
			m.unlock()
			return
		default:
		}
		if t.cancelling || t.sent >= t.total {
			m.unlock()
			return
		}
		off := t.sent
		n := int64(t.chunk)
		if rest := t.total - off; rest < n {
			n = rest
		}
		if t.sent-t.acked+n > t.window {
			m.unlock()
			select {
			case <-t.credit:
			case <-t.stop:
				return
			}
			continue
		}
		t.sent += n
		data, file, stream := t.data, t.file, s.stream
		m.unlock()

		f := outbox.Frame{Binary: true, Head: protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: t.id, Offset: off})}
		if data != nil {
			f.Body = data[off : off+n]
		} else {
			buf := getChunkBuf(int(n))
			if _, err := file.ReadAt(buf, off); err != nil {
				chunkPool.Put(&buf)
				s.abortRead(t)
				return
			}
			f.Body = buf
			f.Release = func() { chunkPool.Put(&buf) }
		}
		if stream.Send(f, true) != nil {
			return
		}
	}
}

// abortRead ends a file task whose file could not be read mid-transfer:
// SendFileRlst(FileReadErr) here, and a cancel towards the receiver. Pump
// goroutine; mu must not be held.
func (s *session) abortRead(t *outTask) {
	m := s.m
	m.mu.Lock()
	if s.out[t.id] != t {
		m.unlock()
		return
	}
	delete(s.out, t.id)
	t.finish()
	m.emit(t.result(protocol.FileReadErr))
	m.unlock()
	s.request(&protocol.Msg{Op: protocol.OpCancelSend, Task: t.id}, func(*protocol.Msg) {
		m.mu.Lock()
		s.release(t) // the server has dropped it
		m.unlock()
	})
}

// CancelSend cancels a sendBuffer or sendFile task in flight. Result:
// CancelSendRlst: 0, or TransIDInvalid for an unknown, finished, cancelled
// or sendCmd task.
func (m *Mgr) CancelSend(taskID string) {
	m.mu.Lock()
	if m.closed {
		m.unlock()
		return
	}
	result := func(code int) event {
		return func(cb Callback) { cb.CancelSendRlst(taskID, code, "") }
	}
	s := m.current()
	if s == nil {
		m.emit(result(protocol.NotLogin))
		m.unlock()
		return
	}
	if !protocol.ValidID(taskID) {
		m.emit(result(protocol.ParamErr))
		m.mu.Unlock()
		return
	}
	t := s.out[taskID]
	if t == nil || t.kind == kindCmd || t.cancelling {
		m.emit(result(protocol.TransIDInvalid))
		m.unlock()
		return
	}
	if t.waitBegin != nil {
		// Still waiting for a slot: the server and the receiver never
		// heard of it.
		delete(s.out, taskID)
		t.finish()
		m.emit(result(protocol.NoErr))
		m.unlock()
		return
	}
	t.cancelling = true
	m.unlock()
	s.request(&protocol.Msg{Op: protocol.OpCancelSend, Task: taskID}, func(r *protocol.Msg) {
		m.mu.Lock()
		defer m.unlock()
		if r.Code == 0 && s.out[taskID] == t {
			delete(s.out, taskID)
			t.finish()
			s.release(t)
		}
		m.emit(result(r.Code))
	})
}

// onSendRslt delivers a task's final result. mu must be held.
func (s *session) onSendRslt(task string, code int) {
	t := s.out[task]
	if t == nil {
		return
	}
	delete(s.out, task)
	t.finish()
	s.release(t)
	if code == 0 && t.kind != kindCmd {
		id, total := t.id, int(t.total)
		s.m.emit(func(cb Callback) { cb.SendProgress(id, total, total, "") })
	}
	s.m.emit(t.result(code))
}

// onXferAck records the receiver's progress: credit for the pump and, at
// most ten times a second, SendProgress. mu must be held.
func (s *session) onXferAck(task string, n int64) {
	t := s.out[task]
	if t == nil || n <= t.acked || n > t.total {
		return
	}
	t.acked = n
	select {
	case t.credit <- struct{}{}:
	default:
	}
	if n < t.total && time.Since(t.lastProgress) >= progressEvery {
		t.lastProgress = time.Now()
		id, total := t.id, int(t.total)
		s.m.emit(func(cb Callback) { cb.SendProgress(id, int(n), total, "") })
	}
}
