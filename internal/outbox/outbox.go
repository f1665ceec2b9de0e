package outbox

import (
	"errors"
	"sync"
)

// Errors returned by Outbox.
var (
	// ErrClosed: the connection is gone; the frame was released.
	ErrClosed = errors.New("outbox: closed")
	// ErrFull: the peer does not read fast enough (a slow consumer).
	ErrFull = errors.New("outbox: full")
)

// Outbox is a connection's send queue with two priorities: control frames
// (signaling) always go out before bulk frames (transfer chunks), so a large
// transfer never delays a call or a sendCmd by more than one chunk. Bulk
// frames are bounded by each transfer's flow-control window; control frames
// by the bound given to New. It is safe for concurrent use; one writer goroutine pops.
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

// New returns an empty outbox whose writer waits on Ready.
func New(maxCtrlBytes int) *Outbox {
	return &Outbox{maxCtrlBytes: maxCtrlBytes, ready: make(chan struct{}, 1)}
}

// NewNotify returns an empty outbox that calls notify after every
// push and after Close, outside its lock, instead of signalling Ready
// (which is then nil): a connection can start a writer when there is
// something to write instead of keeping one waiting. notify must not block;
// it may run on any goroutine that pushes, under that goroutine's locks.
func NewNotify(maxCtrlBytes int, notify func()) *Outbox {
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
func (o *Outbox) PushCtrl(f Frame) error { return o.Push(f, false) }

// PushBulk queues a bulk frame behind all control frames.
func (o *Outbox) PushBulk(f Frame) error { return o.Push(f, true) }

// Push queues f as a bulk frame if bulk is set, else as a control frame.
// It fails, releasing f, with ErrClosed after Close and with ErrFull when
// a control frame would exceed the bound on queued control bytes.
func (o *Outbox) Push(f Frame, bulk bool) error {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		f.Done()
		return ErrClosed
	}
	if bulk {
		o.bulk = append(o.bulk, f)
	} else {
		if o.maxCtrlBytes > 0 && o.ctrlBytes+f.Len() > o.maxCtrlBytes {
			o.mu.Unlock()
			f.Done()
			return ErrFull
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
// when Pop finds nothing. It is nil for an outbox made by NewNotify.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Close drops and releases everything queued; later pushes fail with
// ErrClosed. Close is idempotent.
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
		ctrl[i].Done()
	}
	for i := range bulk {
		bulk[i].Done()
	}
	o.signal()
}

// Closed reports whether Close has been called.
func (o *Outbox) Closed() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closed
}
