package core

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// event is one queued callback invocation.
type event func(Callback)

// eventQueue is an unbounded FIFO of events: the engine never blocks or drops
// an event because the application is slow to consume them.
type eventQueue struct {
	mu   sync.Mutex
	q    []event
	wake chan struct{}
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1)}
}

func (q *eventQueue) push(ev event) {
	q.mu.Lock()
	q.q = append(q.q, ev)
	q.mu.Unlock()
	q.signal()
}

func (q *eventQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *eventQueue) pop() event {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.q) == 0 {
		return nil
	}
	ev := q.q[0]
	q.q[0] = nil
	q.q = q.q[1:]
	if len(q.q) == 0 {
		q.q = nil
	}
	return ev
}

func (q *eventQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.q)
}

func (q *eventQueue) clear() {
	q.mu.Lock()
	q.q = nil
	q.mu.Unlock()
}

// dispatcher runs queued events either on its own goroutine or, in manual
// (poll) mode, inside Poll on the caller's goroutine. cbMu is held while a
// callback runs, so Close can wait for a running callback to return.
type dispatcher struct {
	q         *eventQueue
	cb        Callback
	onPending func()

	manual  atomic.Bool
	closed  atomic.Bool
	inCB    atomic.Int64 // goroutine ID running a callback, 0 when none
	cbMu    sync.Mutex
	done    chan struct{}
	stopped chan struct{}
}

func newDispatcher(cb Callback, manual bool, onPending func()) *dispatcher {
	d := &dispatcher{
		q:         newEventQueue(),
		cb:        cb,
		onPending: onPending,
		done:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	d.manual.Store(manual)
	go d.loop()
	return d
}

// emit queues an event. It never blocks and never runs the callback itself.
func (d *dispatcher) emit(ev event) {
	if d.closed.Load() {
		return
	}
	d.q.push(ev)
	if d.onPending != nil && d.manual.Load() {
		d.onPending()
	}
}

// loop is the dispatch goroutine. Runs until close.
func (d *dispatcher) loop() {
	defer close(d.stopped)
	gid := goid() // once: it parses a stack trace (was 6% of CPU in call setup)
	for {
		if d.closed.Load() {
			return
		}
		if !d.manual.Load() {
			if ev := d.q.pop(); ev != nil {
				d.run(ev, gid)
				continue
			}
		}
		select {
		case <-d.q.wake:
		case <-d.done:
			return
		}
	}
}

// run invokes one event unless the dispatcher has been closed.
func (d *dispatcher) run(ev event, gid int64) {
	d.cbMu.Lock()
	defer d.cbMu.Unlock()
	if d.closed.Load() {
		return
	}
	d.inCB.Store(gid)
	defer d.inCB.Store(0)
	ev(d.cb)
}

// poll runs up to max queued events on the calling goroutine (all queued now
// when max <= 0). It returns 0 when called from inside a callback.
func (d *dispatcher) poll(max int) int {
	gid := goid()
	if d.inCB.Load() == gid {
		return 0
	}
	if max <= 0 {
		max = d.q.len()
	}
	n := 0
	for n < max && !d.closed.Load() {
		ev := d.q.pop()
		if ev == nil {
			break
		}
		d.run(ev, gid)
		n++
	}
	return n
}

func (d *dispatcher) setManual(manual bool) {
	d.manual.Store(manual)
	d.q.signal()
	if manual && d.onPending != nil && d.q.len() > 0 {
		d.onPending()
	}
}

// pending reports how many events are queued.
func (d *dispatcher) pending() int { return d.q.len() }

// close stops dispatching. When called from inside a callback it returns at
// once (that callback is the last one); otherwise it waits for a running
// callback to return and for the dispatch goroutine to exit.
func (d *dispatcher) close() {
	if d.closed.Swap(true) {
		if d.inCB.Load() != goid() {
			<-d.stopped
		}
		return
	}
	close(d.done)
	d.q.clear()
	if d.inCB.Load() == goid() {
		return
	}
	d.cbMu.Lock()
	//lint:ignore SA2001 acquiring cbMu waits for a callback running on another goroutine.
	d.cbMu.Unlock()
	<-d.stopped
}

// insideCallback reports whether the calling goroutine is running a callback.
// No callback running (the usual case) needs no goroutine ID.
func (d *dispatcher) insideCallback() bool {
	cb := d.inCB.Load()
	return cb != 0 && cb == goid()
}

// goid returns the calling goroutine's ID, parsed from its stack header
// ("goroutine 123 [...").
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}
