// Package server is the crvideomgr signaling server: enterprise accounts,
// presence, meetings, calls and transfer relaying over the WebSocket protocol
// of docs/protocol.md. cmd/crvideosrv wires it to a command line; tests run it
// in-process.
//
// Concurrency: each connection has one reader goroutine (which runs every
// handler for that connection) and, while there is something to write, one
// writer goroutine (which drains the connection's outbox.Outbox). Shared
// state lives in enterprises, each guarded by its own mutex; under that
// mutex the only outside effects allowed are non-blocking: a push to a
// session's stream and Outbox (which may start the connection's writer), a
// socket closed (conn.kill), a timer stopped or reset. Log lines wait for
// its release (but for a push over the frame limit, a bug, logged at once);
// store calls are made without it.
//
// Lock order: a goroutine holding one of these locks takes only locks below
// it in the chain, never one above.
//
//	session.rmu          the session's frames are handled one at a time, so an old
//	                     and a resumed connection never run its handlers at once
//	                     (dispatch.go, resume.go); store calls run under it alone
//	enterprise.mu        the enterprise's users, subscribers, calls and transfers,
//	                     and the fields of its sessions, calls and transfers
//	                     marked so (session.go)
//	session.pushMu       numbering a push and queueing it are one step (session.go)
//	replay.Stream.mu     the session's numbered frames, kept until acknowledged
//	outbox.Outbox.mu     the connection's send queue; its notify (conn.kick) runs
//	                     after it is released, still under the locks above
//	conn.wmu             the writer's state: writing, again, wdone (conn.go)
//
// And leaves, taken under any of the chain (or none) and holding nothing else:
//
//	Server.tokMu         the resume-token map, sessions (resume.go)
//	connLimiter.mu       open connections, and those not logged in per address
//	                     (connlimit.go); taken when a socket closes, so by
//	                     conn.kill under any lock, and by conn.loggedIn
//	replay.RecvCounter.mu  frames received and acknowledged (under rmu)
//	netconn's gatherer.mu  a writer's batch of writes (held across the socket
//	                     write; a pong from the reader waits for it) and
//	                     deadline.mu (one per direction, across the socket's
//	                     SetDeadline): the connection's own, under no lock of ours
//	msgbuf's bigMu       the registry of large read-buffer pools
//
// Independent locks, never held together with another:
//
//	Server.mu            enterprises, conns, closed, the HTTP server and listener
//	Server.authMu        the login cache: authCache, authGen (RWMutex)
//	throttle.mu          one login throttle's entries (throttle.go)
//	trustTable.mu        the trusted (account or user, address) pairs (throttle.go)
//
// The auth hook has no lock: a channel of slots bounds its calls in flight.
package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/netconn"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	Listen      string        // host:port; port 0 picks a free port. Default 127.0.0.1:2727
	DataDir     string        // bbolt store directory, created if missing. Default "crvideo-data"
	RingTimeout time.Duration // unanswered calls and invites end after this. Default 30s
	PingTimeout time.Duration // a connection silent this long is dead. Default 10s
	// ResumeGrace is how long a session whose connection was lost waits for
	// its client to resume it before it ends.
	ResumeGrace time.Duration // default 30s
	AddrFile    string        // if set, written with the bound host:port once accepting
	PublicURL   string        // MeetInfo.pubMeetUrl = PublicURL + ID; "" when empty
	MaxBuffer   int64         // largest sendBuffer, bytes. Default 100 MiB
	MaxFile     int64         // largest sendFile, bytes. Default 100 MiB
	Chunk       int           // largest FrameChunk payload. Default 256 KiB
	Window      int64         // flow-control window per transfer, ≥ Chunk. Default 2 MiB
	// MaxCmds bounds a user's sendCmds awaiting their receiver's
	// acknowledgement, MaxTransfers its buffer/file transfers in flight.
	// Beyond them a request fails with 8 (the library queues instead, so
	// only raw clients meet the limit). Defaults 1024 and 64.
	MaxCmds      int
	MaxTransfers int
	// MaxMeetings bounds the meetings one enterprise may have stored;
	// createMeeting beyond it fails with 8. Default 100000.
	MaxMeetings int
	// MaxIncoming bounds the buffer/file transfers in flight towards one
	// receiver (each costs its library a temp file or buffer): a sendBegin
	// over it waits for a slot (at most beginWait, then 8). Default 64.
	MaxIncoming int
	// StallTimeout fails a transfer that makes no progress (no chunk, no
	// xferAck) for this long: sendRslt 1000 to the sender, xferCancel to the
	// receiver. Default 2 × PingTimeout + ResumeGrace.
	StallTimeout time.Duration
	// MaxCmdBytes bounds the bytes (whole FrameCmds as sent) of a user's
	// sendCmds awaiting acknowledgement: beyond it 8, like MaxCmds (the
	// library queues instead). Default 4 MiB.
	MaxCmdBytes int64
	// CmdWindow is a receiver's budget of FrameCmd bytes forwarded to it
	// and not yet acknowledged (cmdAck): commands over it are held by the
	// server, charged to their senders, and forwarded in arrival order as
	// acknowledgements free the budget. Well below the 8 MiB slow-consumer
	// bound, so a receiver that reads is never cut off. Default 2 MiB.
	CmdWindow int64
	Logger    *slog.Logger // nil discards logs

	// MaxConns caps the open TCP connections (beyond: HTTP 503, closed at
	// once). Default: the process's open-file limit minus 256, so the
	// server never runs out of descriptors.
	MaxConns int
	// MaxPendingPerIP caps one address's (IPv6: /64) connections that have
	// not logged in yet (beyond: HTTP 429). Default 64; negative: no limit.
	MaxPendingPerIP int

	// Security (security.go, authhook.go, throttle.go; docs/protocol.md).
	// TLSCert and TLSKey are PEM files of the certificate chain and its
	// key, both or neither: with them the server serves wss:// only.
	TLSCert, TLSKey string
	// AuthWebhook is the URL of the customer's privAuthCode verification
	// service ("" = none: a login with privAuthCode gets 15).
	AuthWebhook        string
	AuthWebhookTimeout time.Duration // one verification, slot wait included. Default 3s
	AuthWebhookConc    int           // verifications in flight at most. Default 32
	// LoginFailIP / LoginFailAcnt failed logins within LoginFailWindow
	// refuse the address / account for LoginBlock (negative: no limit).
	LoginFailWindow time.Duration // default 1m
	LoginFailIP     int           // default 10
	LoginFailAcnt   int           // default 30
	LoginBlock      time.Duration // default 1m
	ThrottleKeys    int           // addresses and accounts remembered, each. Default 10000
	// LoginTrust: an address from which a login of an account (a user)
	// succeeded within it is not refused by that account's (user's)
	// block, only by its own address limit (negative: no address is
	// trusted). LoginTrustKeys bounds the (account or user, address)
	// pairs remembered.
	LoginTrust     time.Duration // default 24h
	LoginTrustKeys int           // default 100000
}

// Defaults.
const (
	DefaultListen      = "127.0.0.1:2727"
	DefaultDataDir     = "crvideo-data"
	DefaultRingTimeout = 30 * time.Second
	DefaultPingTimeout = 10 * time.Second
	DefaultResumeGrace = 30 * time.Second
	DefaultMaxBuffer   = 100 << 20
	DefaultMaxFile     = 100 << 20
	// DefaultChunk and DefaultWindow: 256 KiB chunks leave in one write
	// each; the window bounds the bytes in flight per transfer, so the
	// server holds at most about Window + 4 chunks of it (chunks forwarded
	// but not yet acknowledged by the receiver's stream ack), and signaling
	// on the same connections queues behind at most that much. 2 MiB is the
	// compromise measured in docs/BENCHMARKS.md: 4 MiB gave no more
	// throughput on this machine but 1.5-2.5× the signaling p99 during a
	// transfer.
	DefaultChunk        = 256 << 10
	DefaultWindow       = 2 << 20
	DefaultMaxCmds      = 1024
	DefaultMaxTransfers = 64
	DefaultMaxMeetings  = 100000
	// MaxPublicURL bounds PublicURL (bytes), so that every MeetInfoObj —
	// and so every page of a meeting list — fits in a text frame.
	MaxPublicURL       = 4096
	DefaultMaxCmdBytes = 4 << 20
	DefaultMaxIncoming = 64
	// DefaultMaxPendingPerIP: connections of one address not logged in.
	DefaultMaxPendingPerIP = 64
	// httpIdleTimeout closes an idle plain-HTTP keep-alive connection.
	httpIdleTimeout  = 10 * time.Second
	DefaultCmdWindow = 2 << 20
)

// Connection tuning, one commented block (gorilla chat example style).
const (
	// maxCtrlBytes bounds a connection's queued signaling (control) bytes.
	// A peer that lets more pile up is a slow consumer and is cut off.
	maxCtrlBytes = 8 << 20
	// preLoginOutbox bounds what is queued towards a connection that has
	// not logged in (replies to requests it may not make, the login
	// reply): one that sends requests and never reads is cut off.
	preLoginOutbox = 64 << 10
	// maxOutboxBytes bounds a logged-in connection's queued control
	// bytes: the stream's 8 MiB plus room for the unnumbered acks.
	maxOutboxBytes = maxCtrlBytes + 1<<20
	// wsBufferSize is the write buffer (pooled: idle connections do not
	// hold one). Every text frame and FrameCmd fits in it; a chunk frame,
	// over twice its size, is not copied into it: gorilla writes it from
	// the read buffer it was received in, and the netconn.Conn sends its frame
	// header, the chunk and the closing frame in one writev.
	wsBufferSize = 64 << 10
	// wsReadBufferSize is gorilla's read buffer, which a connection keeps
	// for its whole life, idle or not; the smallest that holds a control
	// frame with its header. It costs no system calls: below it the
	// netconn.Conn reads what the socket has (up to 4 KiB, several messages)
	// into a pooled buffer, only once there is input, so a connection
	// waiting for input holds no other read buffer; and messages are read
	// into pooled buffers (msgbuf.Read), large ones straight from the
	// socket. (It was the HTTP server's 4 KiB buffer, taken over at the
	// upgrade; before that a 64 KiB one.)
	wsReadBufferSize = 256
	// shutdownFlush bounds how long Close lets connections flush and close
	// gracefully before cutting them off.
	shutdownFlush = 2 * time.Second
	// closeGrace bounds how long Close waits for connection goroutines.
	closeGrace = 5 * time.Second
	// closeWait bounds the wait for the peer's answer to our close frame.
	closeWait = time.Second
	// loginTimeout: a connection must log in this soon after it opens.
	loginTimeout = 30 * time.Second
	// beginWait: a sendBegin waiting for a slot at its receiver is answered
	// 8 after this, well before the library's 30 s request timeout.
	beginWait = 20 * time.Second
)

// setDefaults fills zero fields with the defaults and checks the rest.
func (c *Config) setDefaults() error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.RingTimeout <= 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = DefaultPingTimeout
	}
	if c.ResumeGrace <= 0 {
		c.ResumeGrace = DefaultResumeGrace
	}
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = DefaultMaxBuffer
	}
	if c.MaxFile <= 0 {
		c.MaxFile = DefaultMaxFile
	}
	if c.Chunk <= 0 {
		c.Chunk = DefaultChunk
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.MaxCmds <= 0 {
		c.MaxCmds = DefaultMaxCmds
	}
	if c.MaxTransfers <= 0 {
		c.MaxTransfers = DefaultMaxTransfers
	}
	if c.MaxMeetings <= 0 {
		c.MaxMeetings = DefaultMaxMeetings
	}
	if len(c.PublicURL) > MaxPublicURL {
		return fmt.Errorf("server: public URL of %d bytes, over %d", len(c.PublicURL), MaxPublicURL)
	}
	if c.MaxConns <= 0 {
		c.MaxConns = defaultMaxConns()
	}
	if c.MaxPendingPerIP == 0 {
		c.MaxPendingPerIP = DefaultMaxPendingPerIP
	}
	if c.MaxIncoming <= 0 {
		c.MaxIncoming = DefaultMaxIncoming
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = 2*c.PingTimeout + c.ResumeGrace
	}
	if c.MaxCmdBytes <= 0 {
		c.MaxCmdBytes = DefaultMaxCmdBytes
	}
	if c.CmdWindow <= 0 {
		c.CmdWindow = DefaultCmdWindow
	}
	if c.CmdWindow > maxCtrlBytes/2 {
		return fmt.Errorf("server: cmd window %d over half the %d-byte signaling bound", c.CmdWindow, maxCtrlBytes)
	}
	if c.Window < int64(c.Chunk) {
		return fmt.Errorf("server: window %d smaller than chunk %d", c.Window, c.Chunk)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.setSecurityDefaults()
}

// Server is one signaling server. Create it with New, then Start; Close ends it.
type Server struct {
	cfg    Config
	log    *slog.Logger
	store  *store
	limits protocol.Limits
	// readLimit is the largest WebSocket message accepted.
	readLimit int64
	// maxBulkBytes bounds a session's unacknowledged transfer bytes:
	// every transfer towards it may have a window in flight, plus a few
	// chunks the receiver has not acknowledged yet (it does every 4).
	maxBulkBytes int
	// loginTimeout is the constant loginTimeout (tests shorten it).
	loginTimeout time.Duration
	// pageBytes is the entry budget of one list page, defaultPageBytes
	// (tests shrink it).
	pageBytes int
	upgrader  websocket.Upgrader
	limiter   *connLimiter
	// beginWait is how long a sendBegin may wait for a slot at its
	// receiver (the constant beginWait; tests shorten it).
	beginWait time.Duration
	stopSweep chan struct{}

	authKey []byte // random per process: keys the login cache HMAC

	tlsConf                  *tls.Config // nil: plain ws://
	hook                     *authHook   // nil: no privAuthCode verification
	ipThrottle, acntThrottle *throttle
	trust                    *trustTable   // addresses that logged in to an account recently
	loginWait                time.Duration // the constant loginWait (tests lengthen it)
	pwChecks                 atomic.Int64  // slow password checks (PBKDF2) run, for tests

	// authMu guards authCache: account → HMAC(authKey, name, md5) of the
	// password last verified the slow way; and authGen, bumped by every
	// account change so a verification that raced with one is not cached.
	authMu    sync.RWMutex
	authCache map[string][]byte
	authGen   uint64

	boot string // random per process: tells clients a restarted server from an expired session

	tokMu    sync.Mutex          // guards sessions; a leaf lock (see the package doc)
	sessions map[string]*session // live sessions by tokenKey(resume token)
	closing  atomic.Bool         // Close has begun: lost connections end their sessions at once

	mu          sync.Mutex // guards the fields below
	enterprises map[string]*enterprise
	conns       map[*conn]struct{}
	closed      bool
	httpSrv     *http.Server
	ln          net.Listener

	wg        sync.WaitGroup // connection goroutines and the HTTP server
	closeOnce sync.Once
	closeErr  error
}

// New checks cfg and opens the store. The server does not listen until Start.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	st, err := openStore(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:          cfg,
		log:          cfg.Logger,
		store:        st,
		authKey:      make([]byte, 32),
		loginTimeout: loginTimeout,
		pageBytes:    defaultPageBytes,
		beginWait:    min(beginWait, cfg.StallTimeout),
		stopSweep:    make(chan struct{}),
		authCache:    make(map[string][]byte),
		boot:         uuid.NewString(),
		sessions:     make(map[string]*session),
		enterprises:  make(map[string]*enterprise),
		conns:        make(map[*conn]struct{}),
		limits: protocol.Limits{
			MaxBuffer:    cfg.MaxBuffer,
			MaxFile:      cfg.MaxFile,
			Chunk:        cfg.Chunk,
			Window:       cfg.Window,
			PingTimeout:  cfg.PingTimeout.Milliseconds(),
			ResumeGrace:  cfg.ResumeGrace.Milliseconds(),
			MaxCmds:      cfg.MaxCmds,
			MaxTransfers: cfg.MaxTransfers,
			MaxCmdBytes:  cfg.MaxCmdBytes,
		},
	}
	if _, err := rand.Read(s.authKey); err != nil {
		st.close()
		return nil, err
	}
	if err := s.initSecurity(); err != nil {
		st.close()
		return nil, err
	}
	s.maxBulkBytes = cfg.MaxIncoming*int(cfg.Window) + 8*cfg.Chunk
	payload := max(cfg.Chunk, protocol.MaxCmdBytes)
	s.readLimit = int64(max(protocol.MaxTextFrame, protocol.HeaderLen+2*protocol.MaxIDLen+payload))
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  wsReadBufferSize,
		WriteBufferSize: wsBufferSize,
		WriteBufferPool: &sync.Pool{},
		// Native SDK clients send no Origin; browsers are not a target.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	return s, nil
}

// Start listens on cfg.Listen and serves WebSocket connections at /ws. It
// returns once the listener accepts connections (and AddrFile is written).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("server: closed")
	}
	if s.ln != nil {
		return errors.New("server: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	// Writes of a connection's writer are gathered per batch (netconn.Conn),
	// under TLS too: the records of a batch leave together.
	s.limiter = &connLimiter{maxConns: s.cfg.MaxConns, maxPending: max(s.cfg.MaxPendingPerIP, 0), pending: make(map[string]int)}
	ln = &limitListener{Listener: ln, lim: s.limiter, tls: s.tlsConf != nil}
	ln = netconn.Listener{Listener: ln}
	if s.tlsConf != nil {
		ln = tls.NewListener(ln, s.tlsConf)
	}
	if s.cfg.AddrFile != "" {
		if err := writeFileAtomic(s.cfg.AddrFile, []byte(ln.Addr().String()+"\n")); err != nil {
			ln.Close()
			return fmt.Errorf("server: addr file: %w", err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", s.serveWS)
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		// Only /ws is for keeping: a plain request's connection closes.
		w.Header().Set("Connection", "close")
		io.WriteString(w, "crvideosrv: connect a crvideomgr client to "+s.scheme()+"://"+ln.Addr().String()+"/ws\n")
	})
	s.ln = ln
	s.httpSrv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       httpIdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http serve", "err", err)
		}
	}()
	go s.sweepLoop()
	s.log.Info("listening", "addr", ln.Addr().String(), "scheme", s.scheme(), "data", s.cfg.DataDir)
	return nil
}

// writeFileAtomic writes data to a temp file beside path and renames it, so
// a reader polling path never sees a partial address.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Addr returns the bound host:port ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting, closes every connection (gracefully for up to 2 s:
// queued frames and a close frame are written), which ends every session,
// waits for the connection goroutines and closes the store. It is idempotent and safe to call from
// any goroutine.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closing.Store(true)
		close(s.stopSweep)
		s.closeSecurity()
		s.mu.Lock()
		s.closed = true
		hs := s.httpSrv
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		if hs != nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			hs.Shutdown(ctx) // stops the listener; hijacked WebSockets are ours
			cancel()
			hs.Close()
		}
		// Gracefully first: each connection writes what is queued and a
		// close frame; those that have not finished in shutdownFlush are
		// cut off.
		for _, c := range conns {
			c.closeAfterFlush()
		}
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(shutdownFlush):
			for _, c := range conns {
				c.kill(reasonShutdown)
			}
			select {
			case <-done:
			case <-time.After(closeGrace):
				s.log.Warn("close: connection goroutines still running")
			}
		}
		s.closeErr = s.store.close()
		s.log.Info("closed")
	})
	return s.closeErr
}

// AddAccount creates or updates (upsert) an enterprise account in the open
// store, and forgets any cached login for it.
func (s *Server) AddAccount(name, password string) error {
	s.forgetAuth(name)
	_, err := s.store.putAccount(name, md5Hex(password))
	s.forgetAuth(name)
	return err
}

// RemoveAccount deletes an enterprise account from the open store. Sessions
// already logged in stay; new logins fail with 7.
func (s *Server) RemoveAccount(name string) error {
	s.forgetAuth(name)
	err := s.store.removeAccount(name)
	s.forgetAuth(name)
	return err
}

// ListAccounts returns the enterprise account names, sorted.
func (s *Server) ListAccounts() ([]string, error) { return s.store.listAccounts() }

// authMAC keys the login cache entry of (name, md5hex). Any goroutine, no lock.
func (s *Server) authMAC(name, md5hex string) []byte {
	m := hmac.New(sha256.New, s.authKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(md5hex))
	return m.Sum(nil)
}

// forgetAuth drops the cached login of name and invalidates verifications
// in progress. Takes authMu.
func (s *Server) forgetAuth(name string) {
	s.authMu.Lock()
	delete(s.authCache, name)
	s.authGen++
	s.authMu.Unlock()
}

// checkAccount verifies an enterprise login: first against the in-memory
// HMAC of the password last accepted for this account (fast, constant
// time), else the slow stored hash. Runs in a reader goroutine, no lock held.
func (s *Server) checkAccount(name, md5hex string) error {
	md5hex = strings.ToLower(md5hex)
	ok, mac, gen := s.authCached(name, md5hex)
	if ok {
		return nil
	}
	s.pwChecks.Add(1)
	if err := s.store.verifyAccount(name, md5hex); err != nil {
		return err
	}
	s.authMu.Lock()
	if s.authGen == gen {
		s.authCache[name] = mac
	}
	s.authMu.Unlock()
	return nil
}

// authCached reports whether md5hex (lowercase) is the password the login
// cache holds for name, with the cache key and generation checkAccount
// needs. Fast and constant-time: any goroutine, no lock held.
func (s *Server) authCached(name, md5hex string) (ok bool, mac []byte, gen uint64) {
	mac = s.authMAC(name, md5hex)
	s.authMu.RLock()
	cached, gen := s.authCache[name], s.authGen
	s.authMu.RUnlock()
	return cached != nil && hmac.Equal(cached, mac), mac, gen
}

// enterprise returns (creating) the state of enterprise name. Reader
// goroutine (login); takes Server.mu.
func (s *Server) enterprise(name string) *enterprise {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.enterprises[name]
	if e == nil {
		e = newEnterprise(s, name)
		s.enterprises[name] = e
	}
	return e
}

// serveWS upgrades a request to a WebSocket connection and starts its reader
// and ping timer. Runs in the HTTP server's goroutine for the request.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("upgrade", "remote", r.RemoteAddr, "err", err)
		return
	}
	c := newConn(s, ws)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(2) // the reader, and the writer's final exit (conn.writerDone)
	s.mu.Unlock()
	c.start()
}

// connGone forgets a finished connection. Runs in its reader goroutine.
func (s *Server) connGone(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// sweepLoop runs every enterprise's transfer sweep (enterprise.sweep) a
// few times per StallTimeout and at least every second, until Close. Runs
// in its own goroutine, started by Start; takes Server.mu, then each e.mu
// in turn (never both).
func (s *Server) sweepLoop() {
	tk := time.NewTicker(min(time.Second, s.cfg.StallTimeout/4, s.beginWait/4))
	defer tk.Stop()
	for {
		select {
		case <-s.stopSweep:
			return
		case now := <-tk.C:
			s.mu.Lock()
			ents := mapValues(s.enterprises)
			s.mu.Unlock()
			for _, e := range ents {
				e.sweep(now)
			}
		}
	}
}
