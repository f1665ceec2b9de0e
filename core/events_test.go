package core

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitUntil polls cond until it holds or the test's patience runs out.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// trace records what each event saw: its order, goroutine and thread, and
// whether two ran at once.
type trace struct {
	mu      sync.Mutex
	seq     []int
	gids    map[uint64]bool
	tids    map[int]bool
	running atomic.Int32
	overlap atomic.Bool
}

func newTrace() *trace { return &trace{gids: map[uint64]bool{}, tids: map[int]bool{}} }

func (tr *trace) ev(k int) event {
	return func(Callback) {
		if tr.running.Add(1) != 1 {
			tr.overlap.Store(true)
		}
		g, tid := goid(), syscall.Gettid()
		tr.mu.Lock()
		tr.seq = append(tr.seq, k)
		tr.gids[g] = true
		tr.tids[tid] = true
		tr.mu.Unlock()
		tr.running.Add(-1)
	}
}

func (tr *trace) n() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.seq)
}

// One dispatcher shared by two Mgr sources and events of no Mgr, fed from
// several goroutines: every event runs once, one at a time, in the order it
// was queued (per emitter), on one goroutine and, locked, on one thread.
func TestDispatcherOneThreadInOrder(t *testing.T) {
	for _, locked := range []bool{false, true} {
		d := NewDispatcher(DispatcherConfig{LockOSThread: locked})
		a, b := d.attach(nil), d.attach(nil)
		tr := newTrace()
		const per = 2000
		var wg sync.WaitGroup
		for w, src := range []*source{a, b, nil} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < per; k++ {
					d.emit(src, tr.ev(w*per+k))
				}
			}()
		}
		wg.Wait()
		waitUntil(t, "every event", func() bool { return tr.n() == 3*per })
		d.close(a)
		d.close(b)
		next := [3]int{0, per, 2 * per}
		for _, k := range tr.seq {
			if w := k / per; k != next[w] {
				t.Fatalf("locked=%v: emitter %d's event %d ran when %d was due", locked, w, k, next[w])
			}
			next[k/per]++
		}
		if tr.overlap.Load() || len(tr.gids) != 1 {
			t.Fatalf("locked=%v: overlap %v, %d goroutines", locked, tr.overlap.Load(), len(tr.gids))
		}
		if locked && len(tr.tids) != 1 {
			t.Fatalf("locked: callbacks on %d threads", len(tr.tids))
		}
	}
}

// The dispatch goroutine exists only while there is something to dispatch
// for: an open Mgr, or queued events of no Mgr; close waits for its exit.
func TestDispatcherGoroutineLifetime(t *testing.T) {
	d := NewDispatcher(DispatcherConfig{LockOSThread: true})
	alive := func() bool { d.mu.Lock(); defer d.mu.Unlock(); return d.alive }
	if alive() {
		t.Fatal("a goroutine before anything to dispatch")
	}
	var ran atomic.Int32
	d.Emit(nil, func(Callback) { ran.Add(1) })
	waitUntil(t, "the event of no Mgr", func() bool { return ran.Load() == 1 })
	waitUntil(t, "the goroutine to exit once idle", func() bool { return !alive() })
	src := d.attach(nil)
	if !alive() {
		t.Fatal("no goroutine for an open Mgr")
	}
	d.close(src)
	if alive() {
		t.Fatal("close returned before the goroutine exited")
	}
}

// close from outside a callback waits for that source's running callback;
// from inside it returns at once and no later callback of the source runs,
// while events of no Mgr queued after it still do.
func TestDispatcherClose(t *testing.T) {
	d := NewDispatcher(DispatcherConfig{})
	src := d.attach(nil)
	entered, release := make(chan struct{}), make(chan struct{})
	var after atomic.Bool
	d.emit(src, func(Callback) { close(entered); <-release; after.Store(true) })
	d.emit(src, func(Callback) { t.Error("a callback ran after close") })
	<-entered
	closed := make(chan struct{})
	go func() { d.close(src); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while the source's callback was running")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-closed
	if !after.Load() {
		t.Fatal("close returned before the callback did")
	}

	// From inside: returns at once (it would deadlock otherwise).
	src = d.attach(nil)
	var orphan atomic.Bool
	done := make(chan struct{})
	d.emit(src, func(Callback) {
		if !d.InsideCallback() {
			t.Error("InsideCallback false inside a callback")
		}
		d.close(src)
		d.emit(src, func(Callback) { t.Error("an event emitted after close ran") })
		d.Emit(nil, func(Callback) { orphan.Store(true); close(done) })
	})
	d.emit(src, func(Callback) { t.Error("a queued callback ran after close") })
	<-done
	if !orphan.Load() || d.InsideCallback() {
		t.Fatal("the event of no Mgr did not run, or InsideCallback true outside")
	}
	waitUntil(t, "the goroutine to exit", func() bool { d.mu.Lock(); defer d.mu.Unlock(); return !d.alive })
}

// Poll mode: callbacks run only in Poll, on the caller's goroutine; OnPending
// is called per event; Poll inside a callback runs nothing; a second poller
// waits for the first; back to thread mode, the goroutine takes over.
func TestDispatcherPoll(t *testing.T) {
	var pend atomic.Int32
	d := NewDispatcher(DispatcherConfig{Manual: true, OnPending: func() { pend.Add(1) }})
	src := d.attach(nil)
	defer d.close(src)
	tr := newTrace()
	nested := -1
	d.emit(src, func(cb Callback) { nested = d.Poll(0); tr.ev(0)(cb) })
	for k := 1; k < 5; k++ {
		d.emit(src, tr.ev(k))
	}
	if pend.Load() != 5 || tr.n() != 0 || d.Pending() != 5 {
		t.Fatalf("OnPending %d times, %d ran, %d pending: want 5, 0, 5", pend.Load(), tr.n(), d.Pending())
	}
	if n := d.Poll(2); n != 2 || nested != 0 {
		t.Fatalf("Poll(2) ran %d, nested Poll %d", n, nested)
	}
	if !tr.gids[goid()] || len(tr.gids) != 1 {
		t.Fatal("poll-mode callbacks not on the polling goroutine")
	}
	// A second poller while a callback runs in the first: it waits, then
	// runs what the first leaves.
	entered, release := make(chan struct{}), make(chan struct{})
	d.emit(src, func(Callback) { close(entered); <-release })
	go d.Poll(4) // 2, 3, 4 and the blocking one
	<-entered
	d.emit(src, tr.ev(5))
	ran := make(chan int)
	go func() { ran <- d.Poll(0) }()
	select {
	case n := <-ran:
		t.Fatalf("second poller returned %d while the first ran a callback", n)
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	if n := <-ran; n != 1 {
		t.Fatalf("second poller ran %d, want 1", n)
	}
	if tr.n() != 6 {
		t.Fatalf("%d ran, want 6", tr.n())
	}
	d.SetManual(false)
	var auto atomic.Bool
	d.emit(src, func(Callback) { auto.Store(true) })
	waitUntil(t, "the dispatch goroutine", auto.Load)
}

// OnPanic: a panicking event is recovered and reported, the next one runs.
// Without it, a panic in Poll reaches Poll's caller and the dispatcher
// stays usable.
func TestDispatcherPanics(t *testing.T) {
	var got atomic.Value
	d := NewDispatcher(DispatcherConfig{OnPanic: func(v any) { got.Store(v) }})
	src := d.attach(nil)
	var next atomic.Bool
	d.emit(src, func(Callback) { panic("boom") })
	d.emit(src, func(Callback) { next.Store(true) })
	waitUntil(t, "the event after the panic", next.Load)
	if got.Load() != "boom" {
		t.Fatalf("OnPanic got %v", got.Load())
	}
	d.close(src)

	d = NewDispatcher(DispatcherConfig{Manual: true})
	src = d.attach(nil)
	defer d.close(src)
	d.emit(src, func(Callback) { panic("up") })
	func() {
		defer func() {
			if r := recover(); r != "up" {
				t.Fatalf("recovered %v", r)
			}
		}()
		d.Poll(0)
	}()
	d.emit(src, func(Callback) {})
	if d.InsideCallback() || d.Poll(0) != 1 {
		t.Fatal("dispatcher unusable after a panic in Poll")
	}
}

// Mgrs sharing a dispatcher: each one's callbacks reach its own Callback,
// and Close of one discards only its events.
func TestMgrsShareDispatcher(t *testing.T) {
	d := NewDispatcher(DispatcherConfig{Manual: true})
	var ca, cb countCB
	a := New(Config{Dispatcher: d, Callback: &ca})
	b := New(Config{Dispatcher: d, Callback: &cb})
	defer b.Close()
	a.GetMeetings("a") // not logged in: GetMeetingsFail at once
	b.GetMeetings("b")
	a.GetMeetings("a")
	d.Emit(b, func(c Callback) { c.GetMeetingsFail(0, "b") })
	a.Close()
	if n := d.Poll(0); n != 2 || ca.n.Load() != 0 || cb.n.Load() != 2 {
		t.Fatalf("ran %d; a got %d, b %d: want 2, 0, 2", n, ca.n.Load(), cb.n.Load())
	}
}

type countCB struct {
	NopCallback
	n atomic.Int32
}

func (c *countCB) GetMeetingsFail(int, string) { c.n.Add(1) }
