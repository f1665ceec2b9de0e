package core

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// Receiving: commands (FrameCmd, acknowledged once the application has
// them), and incoming buffers and files — at most MaxIncoming at once, each
// with a stall timer, chunks stored off the reader goroutine, delivered on
// xferDone. Sending is send.go; the server side is server/transfer.go.

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
// Timer goroutine; takes mu.
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

// onBinary handles a FrameCmd (chunks go to storeChunk). Reader goroutine;
// takes mu.
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

// queuedChunk is a chunk frame waiting to be stored; f holds a reference
// to its read buffer.
type queuedChunk struct {
	h protocol.Header
	f outbox.Frame
}

// queueChunk hands a chunk to the session's storing goroutine (started
// when none runs) so that the reader goes straight on to the next frame.
// The bulk bytes queued behind in the socket are then read at the speed of
// a read, not of a file write or an encode, and a control frame that the
// server sent after them (a reply, a sendCmd) is handled that much sooner.
// The queue is bounded by the transfers' flow-control windows: the server
// forwards no more than a window beyond what this side acknowledged as
// stored. Chunks stay in order; a chunk of a task that has ended meanwhile
// (cancelled, failed, session over) is dropped by storeChunk as before.
// Reader goroutine.
func (s *session) queueChunk(h protocol.Header, f outbox.Frame) {
	s.bulkMu.Lock()
	s.bulkQ = append(s.bulkQ, queuedChunk{h: h, f: f})
	start := !s.storing
	s.storing = true
	s.bulkMu.Unlock()
	if start {
		s.m.wg.Add(1) // the reader, itself counted, is running: not from zero
		go s.storeChunks()
	}
}

// storeChunks stores queued chunks until the queue is empty. Runs in its
// own goroutine (the storing goroutine), started by queueChunk; no lock held.
func (s *session) storeChunks() {
	defer s.m.wg.Done()
	for {
		s.bulkMu.Lock()
		if len(s.bulkQ) == 0 {
			s.bulkQ = nil
			s.storing = false
			s.bulkMu.Unlock()
			return
		}
		q := s.bulkQ[0]
		s.bulkQ[0] = queuedChunk{}
		s.bulkQ = s.bulkQ[1:]
		s.bulkMu.Unlock()
		s.storeChunk(q.h, q.f.Body)
		q.f.Release()
	}
}

// storeChunk stores one chunk of an incoming transfer: checked and counted
// under mu, but written to the file (or encoded) outside it, so that
// neither the reader nor the application's calls wait for the write. Only
// the storing goroutine (storeChunks) calls it, one chunk at a time, so it
// alone writes t.file and t.enc while the task is live; another goroutine
// may meanwhile end the task (discard closes the file: the write fails),
// which the second locked part sees. Storing goroutine; takes mu.
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
