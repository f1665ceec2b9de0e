package core

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// Config configures a Mgr.
type Config struct {
	// Callback receives every result and notification. Required.
	Callback Callback
	// TempDir is where received files are created; "" means os.TempDir().
	TempDir string
	// Logger receives the engine's diagnostics; nil discards them.
	Logger *slog.Logger
	// ManualDispatch selects poll mode: callbacks run only inside Poll, on
	// the goroutine that calls it. Ignored with Dispatcher.
	ManualDispatch bool
	// OnPending, in poll mode, is called whenever an event is queued. It runs
	// on an engine goroutine, possibly with engine locks held: it must not
	// block or call into the Mgr (signal an fd or a channel and return).
	// Ignored with Dispatcher (whose own OnPending applies).
	OnPending func()
	// Dispatcher, when set, runs this Mgr's callbacks, in one order with
	// those of every other Mgr using it (and its own Emit events), on one
	// goroutine or in its Poll; SetManualDispatch, Poll and Pending then
	// act on it. nil: the Mgr has a dispatcher of its own.
	Dispatcher *Dispatcher
	// TLSConfig is used for wss:// addresses; nil verifies against the
	// system roots. SetTLSConfig replaces it.
	TLSConfig *tls.Config
	// NetDial, when set, opens the TCP connections to the server instead
	// of the default dialer (for example a net.Dialer with a LocalAddr, as
	// the load generator cmd/crvideobench uses to spread connections over
	// source addresses). It may be called from any engine goroutine.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxIncoming bounds the incoming transfers (temp files and
	// descriptors, or buffers) received at once; a further one is refused
	// with xferFail(ServerException). 0 means DefaultMaxIncoming (64).
	MaxIncoming int
	// StallTimeout is how long an incoming transfer may go without a chunk
	// (or, complete, without its xferDone) before it is discarded with
	// NotifyCancelSend and xferFail(SendFail). 0 means the server's ping
	// timeout plus its resume grace (40 s by default).
	StallTimeout time.Duration
}

// Login states.
const (
	stateIdle = iota
	stateLoggingIn
	stateLoggedIn
)

// Mgr is one client of the server: the CloudroomVideoMgr object. All methods
// are safe for concurrent use and may be called from inside callbacks.
type Mgr struct {
	cfg     Config
	log     *slog.Logger
	d       *Dispatcher
	src     *source // this Mgr's events on d
	tempDir string
	wg      sync.WaitGroup // every goroutine of every session

	maxIncoming int

	mu sync.Mutex // guards everything below and every session's state
	// after is what mu's holders leave for after it: temp files to close
	// and remove, log lines, in the order recorded. unlock runs them; no
	// file I/O or logging happens under mu.
	after  []func()
	closed bool
	addr   string
	tls    *tls.Config // for wss://; nil: system roots
	state  int
	sess   *session // current session; nil when idle
}

// New creates a Mgr. Outside poll mode it starts the dispatch goroutine
// (unless its Config.Dispatcher already runs one); Close stops it.
func New(cfg Config) *Mgr {
	d := cfg.Dispatcher
	if d == nil {
		if cfg.Callback == nil {
			cfg.Callback = NopCallback{}
		}
		d = NewDispatcher(DispatcherConfig{Callback: cfg.Callback, Manual: cfg.ManualDispatch, OnPending: cfg.OnPending})
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir := cfg.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	maxIn := cfg.MaxIncoming
	if maxIn <= 0 {
		maxIn = DefaultMaxIncoming
	}
	return &Mgr{
		cfg:         cfg,
		log:         log,
		maxIncoming: maxIn,
		tempDir:     dir,
		tls:         cfg.TLSConfig,
		d:           d,
		src:         d.attach(cfg.Callback),
	}
}

// SetServerAddr sets the server address list, "host:port[;host:port...]"
// (ws:// and wss:// URLs too), tried in order at the next login.
func (m *Mgr) SetServerAddr(addr string) {
	m.mu.Lock()
	m.addr = addr
	m.mu.Unlock()
}

// SetTLSConfig sets the TLS settings of wss:// addresses (nil: verify
// against the system roots), used from the next Login on: its dials and
// reconnects. The Mgr keeps c; do not change it afterwards.
func (m *Mgr) SetTLSConfig(c *tls.Config) {
	m.mu.Lock()
	m.tls = c
	m.mu.Unlock()
}

// SetManualDispatch switches between the dispatch goroutine (false) and poll
// mode (true), in which callbacks run only inside Poll (Dispatcher.SetManual).
func (m *Mgr) SetManualDispatch(manual bool) { m.d.SetManual(manual) }

// Poll runs up to max queued callbacks on the calling goroutine (every event
// queued at the time of the call when max <= 0) and returns how many ran.
// It runs nothing when called from inside a callback (Dispatcher.Poll).
func (m *Mgr) Poll(max int) int { return m.d.Poll(max) }

// Pending reports how many callbacks are queued and not yet run (with a
// shared Dispatcher, of every Mgr using it).
func (m *Mgr) Pending() int { return m.d.Pending() }

// Close is uninit: it ends the session (as logout does), stops every
// goroutine and discards queued callbacks. After it returns — or, when called
// from inside a callback, once that callback returns — no callback of this
// Mgr runs (with a shared Dispatcher, other Mgrs' and its own Emit events
// go on). Outside a callback it waits for a callback of this Mgr running on
// another goroutine and for the dispatch goroutine, if nothing else keeps
// it, to exit. Close is idempotent.
func (m *Mgr) Close() {
	m.d.close(m.src)
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return
	}
	m.closed = true
	s := m.sess
	m.sess = nil
	m.state = stateIdle
	if s != nil {
		s.end(protocol.SendFail)
	}
	m.unlock()
	if s != nil {
		s.hangUp(true)
	}
	m.wg.Wait()
}

// junk is a file left by a discarded or delivered transfer: closed and, when
// path is set, removed once, by whichever comes first of Mgr.unlock and the
// event that reports it. A nil *junk does nothing.
type junk struct {
	once sync.Once
	f    *os.File
	path string
}

func (j *junk) do() {
	if j == nil {
		return
	}
	j.once.Do(func() {
		if j.f != nil {
			_ = j.f.Close()
		}
		if j.path != "" {
			_ = os.Remove(j.path)
		}
	})
}

// trash records a file to close (and remove, with a path) after mu is
// released; nil when there is nothing. mu must be held.
func (m *Mgr) trash(f *os.File, path string) *junk {
	if f == nil && path == "" {
		return nil
	}
	j := &junk{f: f, path: path}
	m.later(j.do)
	return j
}

// later runs fn (a file's close, a log line) once mu is released. mu must
// be held.
func (m *Mgr) later(fn func()) { m.after = append(m.after, fn) }

// unlock releases mu, then runs what its holder left for later: closes and
// removes the files, writes the log lines.
func (m *Mgr) unlock() {
	after := m.after
	m.after = nil
	m.mu.Unlock()
	for _, fn := range after {
		fn()
	}
}

// emit queues ev for the callback. mu should be held so that events keep the
// order of the state changes that caused them.
func (m *Mgr) emit(ev event) { m.d.emit(m.src, ev) }
