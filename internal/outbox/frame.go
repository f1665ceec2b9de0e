// Package outbox is a connection's send queue, on both sides: Frame (one
// WebSocket message waiting to be written), Outbox (two priorities, control
// before bulk) and WriteBatch (the writer's drain of it, one system call per
// batch). What goes into a frame is the protocol's business; when it is
// written is this package's.
package outbox

import "sync/atomic"

// Frame is one WebSocket message waiting to be written: Head followed by Body
// (either may be empty). Release, when set, is called once the frame has been
// written or dropped (Done), so a pooled buffer can be reused.
//
// Shared, when set, is the reference count behind Release (see
// msgbuf.Buf.Frame): a replay.Stream then gives the copy it queues on the
// connection a reference of its own, so the buffer is reused only once it
// has been both written (or dropped) and acknowledged (or forgotten).
// Without Shared the queued copy has no Release and the Stream's copy
// releases on acknowledgement.
//
// Num is the frame's number in its stream lane (Bulk: the bulk lane), 0 for
// a frame that is not numbered (acks, handshake replies): the writer tells
// the Stream what it has written (Stream.Wrote), so that the peer cannot
// acknowledge frames it was never sent.
type Frame struct {
	Binary  bool
	Bulk    bool
	Head    []byte
	Body    []byte
	Release func()
	Shared  *atomic.Int32
	Num     uint64
}

// Len is the number of bytes the frame puts on the wire (payload only).
func (f *Frame) Len() int { return len(f.Head) + len(f.Body) }

// Done calls Release, if set, and clears it: the frame was written or
// dropped. A second Done does nothing.
func (f *Frame) Done() {
	if f.Release != nil {
		f.Release()
		f.Release = nil
	}
}
