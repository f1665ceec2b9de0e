// Package replay makes a session survive the loss of its connection, on
// both sides: a Stream numbers every frame one side sends, keeps it until
// the peer acknowledges it and replays what is unacknowledged onto the next
// connection; a RecvCounter counts what arrived and says when to
// acknowledge it (docs/protocol.md, "Resume"). The frames themselves, and
// the connection's queue they go through, are package outbox's.
package replay

import (
	"errors"
	"sync"
	"sync/atomic"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

// Lanes of a Stream. Frames are numbered per lane: control frames (text and
// FrameCmd) and bulk frames (FrameChunk) travel in separate priority queues,
// so only within a lane is the wire order the send order.
const (
	LaneCtrl = 0
	LaneBulk = 1
)

// ErrFull reports more unacknowledged bytes in a lane than its bound: the
// peer does not keep up (a slow consumer).
var ErrFull = errors.New("replay: too many unacknowledged bytes")

// ErrBadAck reports a peer acknowledging frames that were never sent.
var ErrBadAck = errors.New("replay: acknowledgement beyond what was sent")

// Stream is the sending half of a resumable session. It numbers every frame
// one side sends after the login handshake, keeps each until the peer
// acknowledges it, and replays what is unacknowledged onto a new connection
// (see docs/protocol.md, "Resume"). Safe for concurrent use.
type Stream struct {
	maxCtrl, maxBulk int
	ackWritten       bool // LimitAcksToWritten

	mu     sync.Mutex
	lanes  [2]lane
	out    *outbox.Outbox // current connection; nil while detached
	closed bool
}

type lane struct {
	sent    uint64         // frames numbered so far
	written atomic.Uint64  // highest frame number written to a connection (Wrote); not under mu
	acked   uint64         // frames the peer confirmed
	buf     []outbox.Frame // frames acked+1 .. sent
	bytes   int
}

// New returns a detached stream holding at most maxCtrlBytes of
// unacknowledged control frames (0: unbounded). Bulk frames are unbounded
// unless SetMaxBulkBytes bounds them.
func New(maxCtrlBytes int) *Stream { return &Stream{maxCtrl: maxCtrlBytes} }

// SetMaxBulkBytes bounds the unacknowledged bulk bytes (0: unbounded):
// beyond it Send of a bulk frame fails with ErrFull.
func (s *Stream) SetMaxBulkBytes(n int) {
	s.mu.Lock()
	s.maxBulk = n
	s.mu.Unlock()
}

// Send numbers f in its lane, keeps it for replay and queues it on the
// attached connection, if any. The connection's copy has no Release: f's
// Release runs when the peer acknowledges it or the stream closes (a Shared
// frame's copy holds a reference of its own, see outbox.Frame).
func (s *Stream) Send(f outbox.Frame, bulk bool) error {
	li := LaneCtrl
	if bulk {
		li = LaneBulk
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Done()
		return outbox.ErrClosed
	}
	l := &s.lanes[li]
	limit := s.maxCtrl
	if bulk {
		limit = s.maxBulk
	}
	if limit > 0 && l.bytes+f.Len() > limit {
		f.Done()
		return ErrFull
	}
	l.sent++
	f.Num, f.Bulk = l.sent, bulk
	l.buf = append(l.buf, f)
	l.bytes += f.Len()
	if s.out != nil {
		switch err := s.out.Push(wireCopy(f), bulk); {
		case errors.Is(err, outbox.ErrFull):
			return ErrFull // kept all the same: the caller cuts the peer off
		case err != nil:
			s.out = nil // the connection is gone; the frame waits for replay
		}
	}
	return nil
}

// wireCopy is the copy of a kept frame that goes to a connection: with its
// own reference when the frame is Shared, else without Release.
func wireCopy(f outbox.Frame) outbox.Frame {
	if f.Shared != nil {
		f.Shared.Add(1)
	} else {
		f.Release = nil
	}
	return f
}

// LimitAcksToWritten makes acknowledgements count only frames already
// written (see Wrote, which the connection's writer must then call).
func (s *Stream) LimitAcksToWritten() {
	s.mu.Lock()
	s.ackWritten = true
	s.mu.Unlock()
}

// Wrote records that f, a frame this stream queued on a connection, has
// been written to it. Frames without a number are ignored. Any goroutine
// (a connection's writer).
func (s *Stream) Wrote(f outbox.Frame) {
	if f.Num == 0 {
		return
	}
	li := LaneCtrl
	if f.Bulk {
		li = LaneBulk
	}
	// Per frame written, so without the stream's lock (which every Send
	// takes): a compare-and-swap keeps the highest number.
	w := &s.lanes[li].written
	for {
		old := w.Load()
		if f.Num <= old || w.CompareAndSwap(old, f.Num) {
			return
		}
	}
}

// Ack releases the frames the peer has received: ctrl control frames and
// bulk bulk frames in all. Counts beyond what was sent are ErrBadAck;
// with LimitAcksToWritten, counts beyond what was written (Wrote) are
// clamped to it: a peer cannot
// release frames still queued, which keep counting against the bounds.
func (s *Stream) Ack(ctrl, bulk uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ackLocked(ctrl, bulk)
}

func (s *Stream) ackLocked(ctrl, bulk uint64) error {
	if ctrl > s.lanes[LaneCtrl].sent || bulk > s.lanes[LaneBulk].sent {
		return ErrBadAck
	}
	if s.ackWritten {
		ctrl, bulk = min(ctrl, s.lanes[LaneCtrl].written.Load()), min(bulk, s.lanes[LaneBulk].written.Load())
	}
	s.lanes[LaneCtrl].ack(ctrl)
	s.lanes[LaneBulk].ack(bulk)
	return nil
}

func (l *lane) ack(n uint64) {
	for l.acked < n && len(l.buf) > 0 {
		f := &l.buf[0]
		l.bytes -= f.Len()
		f.Done()
		l.buf[0] = outbox.Frame{}
		l.buf = l.buf[1:]
		l.acked++
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
}

// Attach makes out the stream's connection: frames the peer has received
// (ctrl and bulk, its counts from the resume handshake) are released, the
// rest are queued on out in their original order, and later sends follow.
// An out already closed (its connection died as it was being attached) is
// a lost connection, as in Send: the stream stays detached, every frame
// waits for the next Attach, and nil is returned; the connection's own loss
// handling follows. Errors: ErrBadAck (the peer's counts are impossible: a
// refused resume) and outbox.ErrClosed (the stream is closed).
func (s *Stream) Attach(out *outbox.Outbox, ctrl, bulk uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return outbox.ErrClosed
	}
	if err := s.ackLocked(ctrl, bulk); err != nil {
		return err
	}
	for li := range s.lanes {
		for _, f := range s.lanes[li].buf {
			if out.Push(wireCopy(f), li == LaneBulk) != nil {
				s.out = nil
				return nil
			}
		}
	}
	s.out = out
	return nil
}

// Detach forgets the connection; frames sent meanwhile wait for Attach.
func (s *Stream) Detach() {
	s.mu.Lock()
	s.out = nil
	s.mu.Unlock()
}

// Sent returns how many frames were sent in each lane.
func (s *Stream) Sent() (ctrl, bulk uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lanes[LaneCtrl].sent, s.lanes[LaneBulk].sent
}

// Unacked returns how many frames of each lane await acknowledgement.
func (s *Stream) Unacked() (ctrl, bulk int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lanes[LaneCtrl].buf), len(s.lanes[LaneBulk].buf)
}

// Close releases every kept frame; later sends fail. Idempotent.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.out = nil
	for li := range s.lanes {
		l := &s.lanes[li]
		for i := range l.buf {
			l.buf[i].Done()
		}
		l.buf, l.bytes = nil, 0
	}
}
