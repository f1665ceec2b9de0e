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

// DispatcherConfig configures a Dispatcher.
type DispatcherConfig struct {
	// Callback receives the events emitted with Emit(nil, ...) and those of
	// the Mgrs whose Config.Callback is nil.
	Callback Callback
	// Manual starts the dispatcher in poll mode (see SetManual).
	Manual bool
	// OnPending, in poll mode, is called whenever an event is queued (and on
	// a switch to poll mode with events queued). It may run on any engine
	// goroutine, possibly with engine locks held: it must not block or call
	// into the dispatcher or a Mgr (signal an fd or a channel and return).
	OnPending func()
	// LockOSThread locks the dispatch goroutine to its OS thread for its
	// whole life (never unlocked, so the thread ends with the goroutine):
	// every callback it runs runs on that one thread, as a C library
	// promises. Without it the goroutine moves between threads like any.
	LockOSThread bool
	// OnPanic, when set, receives the value of a panic raised by an event
	// (recovered there); dispatching goes on. When nil a panic propagates:
	// on the dispatch goroutine it ends the program, in Poll it reaches the
	// caller of Poll (the dispatcher stays usable).
	OnPanic func(v any)
}

// Dispatcher runs the callbacks of one or more Mgrs (Config.Dispatcher) and
// events emitted directly: one at a time, in the order they were queued,
// either on its dispatch goroutine (thread mode) or, in poll mode, inside
// Poll on the caller's goroutine. It is the only place callbacks run.
//
// The dispatch goroutine exists while the dispatcher is in thread mode and
// an open Mgr uses it or events are queued; it exits when neither is true,
// and on a switch to poll mode. A Mgr created without Config.Dispatcher has
// a dispatcher of its own.
//
// Every method may be called from any goroutine, also from inside a
// callback (Poll then runs nothing: it does not nest).
type Dispatcher struct {
	cfg DispatcherConfig

	// mu guards everything below. Lock order: Mgr.mu before mu; no
	// callback runs with mu held (nor with Mgr.mu).
	mu      sync.Mutex
	changed sync.Cond // on mu; broadcast when a callback or a run of Poll ends and when the goroutine exits
	q       []item    // q[head:] is queued
	head    int
	manual  bool
	users   int           // open Mgrs: in thread mode they keep the goroutine alive
	alive   bool          // a dispatch goroutine exists
	parked  bool          // it waits on wake for something to do
	wake    chan struct{} // capacity 1; sent to only when parked, which the sender clears
	runSrc  *source       // the source of the callback running now; nil if none or an event of no Mgr

	// runner identifies the goroutine running callbacks, the dispatch
	// goroutine or a Poll caller (a token of selfToken's kind, never 0),
	// 0 when none: InsideCallback compares the caller with it. Written
	// under mu, read without it.
	runner atomic.Uint64
}

// source is one Mgr's membership of a dispatcher.
type source struct {
	cb     Callback
	closed bool // guarded by Dispatcher.mu; its events are dropped
}

// item is a queued event and the source it belongs to (nil: no Mgr).
type item struct {
	src *source
	ev  event
}

// NewDispatcher returns a dispatcher. It starts no goroutine until there is
// something to dispatch.
func NewDispatcher(cfg DispatcherConfig) *Dispatcher {
	if cfg.Callback == nil {
		cfg.Callback = NopCallback{}
	}
	d := &Dispatcher{cfg: cfg, manual: cfg.Manual, wake: make(chan struct{}, 1)}
	d.changed.L = &d.mu
	return d
}

// attach adds a Mgr whose callbacks go to cb (nil: the dispatcher's).
func (d *Dispatcher) attach(cb Callback) *source {
	if cb == nil {
		cb = d.cfg.Callback
	}
	s := &source{cb: cb}
	d.mu.Lock()
	d.users++
	d.kickLocked()
	d.mu.Unlock()
	return s
}

// Emit queues ev: as one of m's callbacks (dropped once m is closed,
// discarded by m.Close), or, with m nil, as an event of no Mgr, which runs
// with the dispatcher's Callback and survives the close of every Mgr. It
// never blocks and never runs a callback itself.
func (d *Dispatcher) Emit(m *Mgr, ev func(Callback)) {
	var src *source
	if m != nil {
		if m.d != d {
			panic("core: Dispatcher.Emit with a Mgr of another dispatcher")
		}
		src = m.src
	}
	d.emit(src, ev)
}

func (d *Dispatcher) emit(src *source, ev event) {
	d.mu.Lock()
	if src != nil && src.closed {
		d.mu.Unlock()
		return
	}
	d.q = append(d.q, item{src: src, ev: ev})
	manual := d.manual
	if !manual {
		d.kickLocked()
	}
	d.mu.Unlock()
	if manual && d.cfg.OnPending != nil {
		d.cfg.OnPending()
	}
}

// kickLocked starts the dispatch goroutine if thread mode has work for one
// and none is alive, or wakes it if it is parked. mu must be held.
func (d *Dispatcher) kickLocked() {
	if d.manual {
		return
	}
	if d.alive {
		d.wakeLocked()
		return
	}
	if d.users > 0 || d.head < len(d.q) {
		d.alive = true
		go d.loop()
	}
}

// wakeLocked wakes the dispatch goroutine if it is parked. mu must be held.
func (d *Dispatcher) wakeLocked() {
	if d.parked {
		d.parked = false
		d.wake <- struct{}{}
	}
}

// loop is the dispatch goroutine of thread mode.
func (d *Dispatcher) loop() {
	if d.cfg.LockOSThread {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	}
	tok := selfToken(d.cfg.LockOSThread) // once per goroutine
	d.mu.Lock()
	for !d.manual && (d.users > 0 || d.head < len(d.q)) {
		switch {
		case d.runner.Load() != 0: // a Poll caller runs callbacks: after it
			d.changed.Wait()
		case d.head == len(d.q):
			d.parked = true
			d.mu.Unlock()
			<-d.wake
			d.mu.Lock()
		default:
			d.runner.Store(tok)
			d.runOneLocked()
			d.runner.Store(0)
		}
	}
	d.alive = false
	d.parked = false
	d.changed.Broadcast()
	d.mu.Unlock()
}

// runOneLocked pops the next event and runs it with mu released; the
// caller is the runner. mu is held on entry and on return, panic or not.
func (d *Dispatcher) runOneLocked() {
	it := d.q[d.head]
	d.q[d.head] = item{}
	d.head++
	if d.head == len(d.q) { // empty: reuse the array unless a burst grew it
		if cap(d.q) > 4096 {
			d.q = nil
		} else {
			d.q = d.q[:0]
		}
		d.head = 0
	}
	cb := d.cfg.Callback
	if it.src != nil {
		cb = it.src.cb
	}
	d.runSrc = it.src
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.runSrc = nil
		d.changed.Broadcast()
	}()
	if d.cfg.OnPanic != nil {
		defer func() {
			if r := recover(); r != nil {
				d.cfg.OnPanic(r)
			}
		}()
	}
	it.ev(cb)
}

// Poll runs up to max queued callbacks on the calling goroutine (every event
// queued at the time of the call when max <= 0) and returns how many ran. It
// waits while another goroutine runs callbacks, and runs nothing when called
// from inside a callback. It also works in thread mode, taking turns with
// the dispatch goroutine.
func (d *Dispatcher) Poll(max int) int {
	if d.InsideCallback() {
		return 0
	}
	tok, release := pollToken()
	defer release()
	d.mu.Lock()
	for d.runner.Load() != 0 {
		d.changed.Wait()
	}
	if max <= 0 {
		max = len(d.q) - d.head
	}
	d.runner.Store(tok)
	n := 0
	defer func() {
		d.runner.Store(0)
		d.changed.Broadcast()
		d.kickLocked() // thread mode: the dispatch goroutine goes on
		d.mu.Unlock()
	}()
	for n < max && d.head < len(d.q) {
		n++
		d.runOneLocked()
	}
	return n
}

// SetManual switches between thread mode (false: callbacks on the dispatch
// goroutine) and poll mode (true: callbacks only inside Poll). The dispatch
// goroutine notices after its current callback and exits.
func (d *Dispatcher) SetManual(manual bool) {
	d.mu.Lock()
	d.manual = manual
	pending := d.head < len(d.q)
	if manual {
		d.wakeLocked()
	} else {
		d.kickLocked()
	}
	d.mu.Unlock()
	if manual && pending && d.cfg.OnPending != nil {
		d.cfg.OnPending()
	}
}

// Manual reports whether the dispatcher is in poll mode.
func (d *Dispatcher) Manual() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.manual
}

// Pending reports how many events are queued (of every Mgr) and not yet run.
func (d *Dispatcher) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q) - d.head
}

// InsideCallback reports whether the calling goroutine is running one of
// this dispatcher's callbacks. When none is running (the usual case) it is
// one atomic load.
func (d *Dispatcher) InsideCallback() bool {
	r := d.runner.Load()
	return r != 0 && r == sameKindToken(r)
}

// close ends src: its queued events are discarded and later ones dropped.
// Called from inside a callback it returns at once (that callback is the
// last of src); otherwise it waits for a callback of src running on another
// goroutine to return and, when nothing is left for the dispatch goroutine
// to do, for it to exit (and so, with LockOSThread, its thread to end).
func (d *Dispatcher) close(src *source) {
	inside := d.InsideCallback()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !src.closed {
		src.closed = true
		d.users--
		kept := d.q[:0]
		for _, it := range d.q[d.head:] {
			if it.src != src {
				kept = append(kept, it)
			}
		}
		clear(d.q[len(kept):])
		d.q, d.head = kept, 0
		d.wakeLocked() // it may have nothing left to do
	}
	if inside {
		return
	}
	for d.runSrc == src {
		d.changed.Wait()
	}
	// Wait for the goroutine to exit unless it has work again (an event
	// of no Mgr, a new Mgr): then it is no longer this source's.
	for d.alive && d.users == 0 && d.head == len(d.q) && !d.manual {
		d.changed.Wait()
	}
}

// Tokens identifying the goroutine running callbacks. A goroutine locked to
// its OS thread is named by the thread's ID (tagged): a locked thread runs
// no other goroutine, and gettid is one system call. Otherwise by its
// goroutine ID (untagged), parsed from a stack header: the unlocked dispatch
// goroutine computes it once in its life, and anyone else only when asking
// InsideCallback while that goroutine runs a callback.
const threadTag = 1 << 63

// selfToken returns the calling goroutine's token; locked must be true only
// if the goroutine is locked to its thread for as long as the token is used.
func selfToken(locked bool) uint64 {
	if locked {
		if tid, ok := threadID(); ok {
			return threadTag | tid
		}
	}
	return goid()
}

// sameKindToken returns the calling goroutine's token of r's kind.
func sameKindToken(r uint64) uint64 {
	if r&threadTag != 0 {
		tid, _ := threadID()
		return threadTag | tid
	}
	return goid()
}

// pollToken locks the calling goroutine to its thread for a run of Poll
// (no system call, nothing when it is already locked, as in a call from C)
// and returns its token and the unlock. Where thread IDs are unavailable it
// is the goroutine ID.
func pollToken() (uint64, func()) {
	if !haveThreadID {
		return goid(), func() {}
	}
	runtime.LockOSThread()
	tid, _ := threadID()
	return threadTag | tid, runtime.UnlockOSThread
}

// goid returns the calling goroutine's ID, parsed from its stack header
// ("goroutine 123 [..."), never 0 (IDs start at 1): a stack trace, so not
// on any per-event path.
func goid() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 63)
	return id
}
