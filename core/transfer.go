package core

import (
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
)

// Kinds of task.
const (
	kindCmd = iota
	kindBuffer
	kindFile
)

// progressEvery bounds sendProgress to about ten per second per task.
const progressEvery = 100 * time.Millisecond

// bufferPrealloc bounds the encoding allocated at the first chunk of an
// incoming sendBuffer: the declared total is the sender's word, so the
// encoding grows with what arrives (doubling, capped at the total's).
const bufferPrealloc = 1 << 20

// Receive limits: what a peer (or a busy server) can make this library hold.
const (
	// DefaultMaxIncoming is how many incoming transfers (each a temp file
	// and descriptor, or a buffer) a Mgr receives at once by default; a
	// further xferBegin is answered with xferFail(ServerException).
	DefaultMaxIncoming = 64
	// defaultStallTimeout is the stall timeout when the server announced
	// neither a ping timeout nor a resume grace.
	defaultStallTimeout = 40 * time.Second
)

// createTemp creates the temp file of an incoming file (tests replace it).
var createTemp = os.CreateTemp

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

// inTask is a transfer this user receives. Guarded by Mgr.mu.
type inTask struct {
	id       string
	from     string
	kind     int
	name     string // sanitized base name (files)
	total    int64
	received int64
	ackedN   int64 // bytes acknowledged with xferAck
	staged   bool  // everything received; waiting for xferDone
	file     *os.File
	path     string
	// last is when the transfer last made progress (begin, a chunk); the
	// stall timer discards it after the stall timeout without any.
	last  time.Time
	stall *time.Timer
	// A buffer is base64-encoded as its chunks arrive (spreading the work
	// over the transfer and keeping no raw copy): enc holds the encoding
	// of all but the last len(received)%3 bytes, which wait in carry.
	// Until staged these three belong to the storing goroutine, not mu.
	enc    []byte
	carry  [2]byte
	nCarry int
}

// encodeChunk appends p to t's encoding. mu must be held.
func (t *inTask) encodeChunk(p []byte) {
	// Room for p (and the carry) in one allocation of at most the total's
	// encoding, at least doubling: a lying total costs at most twice what
	// has arrived, an honest one a few copies.
	if need := len(t.enc) + b64EncodedLen(len(p)+t.nCarry); need > cap(t.enc) {
		full := b64EncodedLen(int(t.total))
		c := max(min(2*cap(t.enc), full), need)
		if t.enc == nil {
			c = max(min(full, b64EncodedLen(bufferPrealloc)), need)
		}
		enc := make([]byte, len(t.enc), c)
		copy(enc, t.enc)
		t.enc = enc
	}
	if t.nCarry > 0 {
		var q [3]byte
		n := copy(q[:], t.carry[:t.nCarry])
		k := copy(q[n:], p)
		p = p[k:]
		if n+k < 3 {
			t.nCarry = copy(t.carry[:], q[:n+k])
			return
		}
		t.enc = b64AppendEncode(t.enc, q[:])
		t.nCarry = 0
	}
	full := len(p) / 3 * 3
	t.enc = b64AppendEncode(t.enc, p[:full])
	t.nCarry = copy(t.carry[:], p[full:])
}

// encoded finishes and returns t's base64, without copying it: enc is not
// touched again.
func (t *inTask) encoded() string {
	enc := b64AppendEncode(t.enc, t.carry[:t.nCarry])
	t.enc, t.nCarry = nil, 0
	return unsafe.String(unsafe.SliceData(enc), len(enc))
}

// discard drops partial data and hands the temp file to m's junk, closed
// and removed once mu is released (Mgr.unlock), or before the callback the
// returned junk's event runs, whichever comes first. mu must be held.
func (t *inTask) discard(m *Mgr) *junk {
	if t.stall != nil {
		t.stall.Stop()
	}
	j := m.trash(t.file, t.path)
	t.file, t.path = nil, ""
	// t.enc is left alone: the storing goroutine may be encoding into it
	// (see storeChunk); it goes with the task.
	return j
}

// cancelled returns the NotifyCancelSend event of a discarded transfer: its
// temp file is gone by the time the application hears of it.
func cancelled(id string, j *junk) event {
	return func(cb Callback) {
		j.do()
		cb.NotifyCancelSend(id)
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

// onBeginReply handles the server's answer to sendBegin. Runs on the reader
// goroutine.
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
// SendFileRlst(FileReadErr) here, and a cancel towards the receiver.
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

// failTransfers ends every task of the session: the sender side with code,
// the receiver side with NotifyCancelSend and no data left. mu must be held.
func (s *session) failTransfers(code int) {
	for _, ev := range s.endTransfers(code) {
		s.m.emit(ev)
	}
}

// endTransfers is failTransfers returning the events instead of emitting
// them. mu must be held.
func (s *session) endTransfers(code int) []event {
	var evs []event
	s.cmdsOut, s.xfersOut = 0, 0
	s.cmdWait, s.xferWait = nil, nil
	for id, t := range s.out {
		delete(s.out, id)
		t.finish()
		t.onWire = false
		evs = append(evs, t.result(code))
	}
	for id, t := range s.in {
		delete(s.in, id)
		evs = append(evs, cancelled(id, t.discard(s.m)))
	}
	return evs
}

// onXferBegin prepares to receive a transfer: at most maxIncoming at once
// (beyond, xferFail(ServerException) and nothing opened), each with a stall
// timer. A file's temp file is created with mu released. Reader goroutine;
// mu must not be held.
func (s *session) onXferBegin(p *protocol.Msg) {
	m := s.m
	m.mu.Lock()
	if s.ended || p.Task == "" || s.in[p.Task] != nil || p.Total < 0 {
		m.unlock()
		return
	}
	if len(s.in) >= m.maxIncoming {
		s.send(&protocol.Msg{Op: protocol.OpXferFail, Task: p.Task, Code: protocol.ServerException})
		m.unlock()
		m.log.Warn("incoming transfer refused: too many at once", "task", p.Task, "max", m.maxIncoming)
		return
	}
	t := &inTask{id: p.Task, from: p.From, total: p.Total, kind: kindBuffer, last: time.Now()}
	if p.Kind == protocol.KindFile {
		t.kind = kindFile
		t.name = protocol.BaseName(p.Name)
	}
	s.in[t.id] = t // counted at once; the reader opens nothing else meanwhile
	stall := s.stallTimeout()
	t.stall = time.AfterFunc(stall, func() { s.checkStall(t, stall) })
	m.unlock()

	var f *os.File
	var err error
	if t.kind == kindFile {
		f, err = createTemp(m.tempDir, "crvideo-*"+safeExt(t.name))
	}

	m.mu.Lock()
	defer m.unlock()
	if s.in[t.id] != t {
		m.trash(f, fileName(f)) // ended meanwhile (the session, a cancel)
		return
	}
	if err != nil {
		delete(s.in, t.id)
		t.stall.Stop()
		s.send(&protocol.Msg{Op: protocol.OpXferFail, Task: p.Task, Code: protocol.FileWriteErr})
		m.emit(cancelled(t.id, nil))
		m.later(func() { m.log.Warn("cannot create temp file", "err", err) })
		return
	}
	if f != nil {
		t.file, t.path = f, f.Name()
	}
	if t.total == 0 {
		t.staged = true
		s.send(&protocol.Msg{Op: protocol.OpXferAck, Task: t.id, N: 0})
	}
}

func fileName(f *os.File) string {
	if f == nil {
		return ""
	}
	return f.Name()
}

// stallTimeout is how long an incoming transfer may go without progress:
// Config.StallTimeout, or the server's ping timeout plus its resume grace
// (a sender that went silent is declared gone by then). mu must be held.
func (s *session) stallTimeout() time.Duration {
	if d := s.m.cfg.StallTimeout; d > 0 {
		return d
	}
	if d := time.Duration(s.limits.PingTimeout+s.limits.ResumeGrace) * time.Millisecond; d > 0 {
		return d
	}
	return defaultStallTimeout
}

// checkStall runs when t's stall timer fires: a transfer without progress
// for stall is given up (xferFail(SendFail) to the server, NotifyCancelSend,
// temp file removed); one that progressed meanwhile is checked again later.
// Timer goroutine.
func (s *session) checkStall(t *inTask, stall time.Duration) {
	m := s.m
	m.mu.Lock()
	defer m.unlock()
	if s.ended || s.in[t.id] != t {
		return
	}
	if idle := time.Since(t.last); idle < stall {
		t.stall.Reset(stall - idle)
		return
	}
	s.failIn(t, protocol.SendFail)
	id := t.id
	m.later(func() { m.log.Info("incoming transfer stalled: discarded", "task", id, "after", stall) })
}

// onBinary handles a FrameCmd (chunks go to storeChunk). Runs on the
// reader goroutine.
func (s *session) onBinary(h protocol.Header, payload []byte) {
	m := s.m
	m.mu.Lock()
	defer m.unlock()
	if s.ended {
		return
	}
	switch h.Type {
	case protocol.FrameCmd:
		if !protocol.ValidID(h.Peer) || !protocol.ValidID(h.Task) {
			m.later(func() { m.log.Warn("FrameCmd with an invalid ID dropped") })
			return
		}
		// The cmdAck (and so the sender's SendCmdRlst(0)) waits until the
		// application has the data: NotifyCmdData has returned (or been
		// polled). A busy application's queue of commands is then bounded
		// by what the server lets through un-acknowledged, not by how fast
		// senders send. It goes on the stream it came from: after a
		// relogin the new server session has not heard of the command.
		from, task, data := h.Peer, h.Task, base64.StdEncoding.EncodeToString(payload)
		stream := s.stream
		m.emit(func(cb Callback) {
			cb.NotifyCmdData(from, data)
			m.mu.Lock()
			if !s.ended && s.stream == stream {
				s.send(&protocol.Msg{Op: protocol.OpCmdAck, Task: task})
			}
			m.unlock()
		})
	}
}

// storeChunk stores one chunk of an incoming transfer: checked and counted
// under mu, but written to the file (or encoded) outside it, so that
// neither the reader nor the application's calls wait for the write. Only
// the storing goroutine (storeChunks) calls it, one chunk at a time, so it
// alone writes t.file and t.enc while the task is live; another goroutine
// may meanwhile end the task (discard closes the file: the write fails),
// which the second locked part sees.
func (s *session) storeChunk(h protocol.Header, payload []byte) {
	m := s.m
	m.mu.Lock()
	t := s.in[h.Task]
	if s.ended || t == nil || t.staged {
		m.unlock()
		return
	}
	if h.Offset != t.received || t.received+int64(len(payload)) > t.total {
		s.failIn(t, protocol.ErrData)
		m.unlock()
		return
	}
	file := t.file
	m.unlock()

	var err error
	if t.kind == kindFile {
		_, err = file.Write(payload)
	} else {
		t.encodeChunk(payload)
	}

	m.mu.Lock()
	defer m.unlock()
	if s.ended || s.in[h.Task] != t {
		return // ended meanwhile, and discarded
	}
	if err != nil {
		s.failIn(t, protocol.FileWriteErr)
		return
	}
	t.received += int64(len(payload))
	t.last = time.Now()
	if t.received == t.total {
		t.staged = true
		if f := t.file; f != nil {
			// Closed with mu released (it may flush); t stays staged
			// and unacknowledged meanwhile.
			t.file = nil
			m.unlock()
			err := f.Close()
			m.mu.Lock()
			if s.ended || s.in[h.Task] != t {
				return
			}
			if err != nil {
				s.failIn(t, protocol.FileWriteErr)
				return
			}
		}
	}
	// Acknowledge every quarter window (and at the end) rather than
	// every chunk: the sender always has three quarters of its window
	// of credit, and there are fewer control frames to send and relay.
	if t.staged || s.limits.Window <= 0 || t.received-t.ackedN >= s.limits.Window/4 {
		t.ackedN = t.received
		s.send(&protocol.Msg{Op: protocol.OpXferAck, Task: t.id, N: t.received})
	}
}

// failIn gives up an incoming transfer: the server is told (the sender gets
// code) and the application gets NotifyCancelSend. mu must be held.
func (s *session) failIn(t *inTask, code int) {
	delete(s.in, t.id)
	j := t.discard(s.m)
	s.send(&protocol.Msg{Op: protocol.OpXferFail, Task: t.id, Code: code})
	s.m.emit(cancelled(t.id, j))
}

// onXferDone delivers a completely received transfer. mu must be held.
func (s *session) onXferDone(task string) {
	t := s.in[task]
	if t == nil {
		return
	}
	delete(s.in, task)
	t.stall.Stop()
	if !t.staged {
		s.m.emit(cancelled(task, t.discard(s.m)))
		return
	}
	from := t.from
	if t.kind == kindFile {
		path, name := t.path, t.name
		var j *junk
		if t.total == 0 && t.file != nil {
			j = s.m.trash(t.file, "") // closed, kept: it is the application's
		}
		s.m.emit(func(cb Callback) {
			j.do()
			cb.NotifyFileData(from, path, name)
		})
		return
	}
	data := t.encoded()
	s.m.emit(func(cb Callback) { cb.NotifyBufferData(from, data) })
}

// onXferCancel discards a transfer the sender cancelled. mu must be held.
func (s *session) onXferCancel(task string) {
	t := s.in[task]
	if t == nil {
		return
	}
	delete(s.in, task)
	s.m.emit(cancelled(task, t.discard(s.m)))
}

// safeExt returns name's extension when it is short and alphanumeric, for
// the temp file's name; otherwise "".
func safeExt(name string) string {
	ext := filepath.Ext(name)
	if len(ext) < 2 || len(ext) > 17 {
		return ""
	}
	for _, r := range ext[1:] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return ext
}
