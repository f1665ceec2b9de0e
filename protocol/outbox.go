package protocol

import (
	"errors"
	"sync"
	"sync/atomic"
)

// Frame is one WebSocket message waiting to be written: Head followed by Body
// (either may be empty). Release, when set, is called once the frame has been
// written or dropped, so a pooled buffer can be reused.
//
// Shared, when set, is the reference count behind Release (see Buf.Frame):
// a Stream then gives the copy it queues on the connection a reference of
// its own, so the buffer is reused only once it has been both written (or
// dropped) and acknowledged (or forgotten). Without Shared the queued copy
// has no Release and the Stream's copy releases on acknowledgement.
//
// Num is the frame's number in its Stream lane (Bulk: the bulk lane), 0 for
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

func (f *Frame) release() {
	if f.Release != nil {
		f.Release()
		f.Release = nil
	}
}

// Errors returned by Outbox.
var (
	// ErrOutboxClosed: the connection is gone; the frame was released.
	ErrOutboxClosed = errors.New("protocol: outbox closed")
	// ErrOutboxFull: the peer does not read fast enough (a slow consumer).
	ErrOutboxFull = errors.New("protocol: outbox full")
)

// Outbox is a connection's send queue with two priorities: control frames
// (signaling) always go out before bulk frames (transfer chunks), so a large
// transfer never delays a call or a sendCmd by more than one chunk. Bulk
// frames are bounded by each transfer's flow-control window; control frames
// by the bound given to NewOutbox. It is safe for concurrent use; one writer goroutine pops.
type Outbox struct {
	mu           sync.Mutex
	maxCtrlBytes int // 0: unbounded
	ctrl         []Frame
	bulk         []Frame
	ctrlBytes    int
	closed       bool
	ready        chan struct{} // nil when notify is set
	notify       func()
}

// NewOutbox returns an empty outbox whose writer waits on Ready.
func NewOutbox(maxCtrlBytes int) *Outbox {
	return &Outbox{maxCtrlBytes: maxCtrlBytes, ready: make(chan struct{}, 1)}
}

// NewOutboxNotify returns an empty outbox that calls notify after every
// push and after Close, outside its lock, instead of signalling Ready
// (which is then nil): a connection can start a writer when there is
// something to write instead of keeping one waiting. notify must not block;
// it may run on any goroutine that pushes, under that goroutine's locks.
func NewOutboxNotify(maxCtrlBytes int, notify func()) *Outbox {
	return &Outbox{maxCtrlBytes: maxCtrlBytes, notify: notify}
}

// SetMaxCtrlBytes changes the bound on queued control bytes (0: unbounded);
// what is already queued stays.
func (o *Outbox) SetMaxCtrlBytes(n int) {
	o.mu.Lock()
	o.maxCtrlBytes = n
	o.mu.Unlock()
}

// signal tells the writer that something changed. Not under o.mu.
func (o *Outbox) signal() {
	if o.notify != nil {
		o.notify()
		return
	}
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// PushCtrl queues a control frame.
func (o *Outbox) PushCtrl(f Frame) error { return o.push(f, false) }

// PushBulk queues a bulk frame behind all control frames.
func (o *Outbox) PushBulk(f Frame) error { return o.push(f, true) }

func (o *Outbox) push(f Frame, bulk bool) error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		f.release()
		return ErrOutboxClosed
	}
	if bulk {
		o.bulk = append(o.bulk, f)
	} else {
		if o.maxCtrlBytes > 0 && o.ctrlBytes+f.Len() > o.maxCtrlBytes {
			o.mu.Unlock()
			f.release()
			return ErrOutboxFull
		}
		o.ctrl = append(o.ctrl, f)
		o.ctrlBytes += f.Len()
	}
	o.mu.Unlock()
	o.signal()
	return nil
}

// Pop takes the next frame, control first. ok is false when the outbox is
// empty or closed.
func (o *Outbox) Pop() (f Frame, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return Frame{}, false
	}
	if len(o.ctrl) > 0 {
		f = o.ctrl[0]
		o.ctrl[0] = Frame{}
		o.ctrl = o.ctrl[1:]
		o.ctrlBytes -= f.Len()
		if len(o.ctrl) == 0 {
			o.ctrl = nil
		}
		return f, true
	}
	if len(o.bulk) > 0 {
		f = o.bulk[0]
		o.bulk[0] = Frame{}
		o.bulk = o.bulk[1:]
		if len(o.bulk) == 0 {
			o.bulk = nil
		}
		return f, true
	}
	return Frame{}, false
}

// Ready is signalled (at least once) after a push; the writer waits on it
// when Pop finds nothing. It is nil for an outbox made by NewOutboxNotify.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Close drops and releases everything queued; later pushes fail with
// ErrOutboxClosed. Close is idempotent.
func (o *Outbox) Close() {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	o.closed = true
	ctrl, bulk := o.ctrl, o.bulk
	o.ctrl, o.bulk, o.ctrlBytes = nil, nil, 0
	o.mu.Unlock()
	for i := range ctrl {
		ctrl[i].release()
	}
	for i := range bulk {
		bulk[i].release()
	}
	o.signal()
}

// Closed reports whether Close has been called.
func (o *Outbox) Closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}
