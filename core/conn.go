package core

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/netconn"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Timing of a connection. Values that depend on the server (the ping
// timeout, the resume grace) arrive in the login reply.
const (
	dialTimeout        = 5 * time.Second  // per server address
	writeTimeout       = 10 * time.Second // one frame
	defaultPingTimeout = 10 * time.Second // until the login reply says otherwise
	requestTimeout     = 30 * time.Second // a request without reply fails with NoServerRsp
	handshakeTimeout   = 10 * time.Second // login or resume reply
	logoutWait         = 2 * time.Second  // how long logout waits for the server's reply
	reconnectMinDelay  = 50 * time.Millisecond
	reconnectMaxDelay  = 2 * time.Second
	readLimitLoggedOut = 1 << 20
	// writeBufferSize holds a whole chunk frame of the default chunk size
	// (256 KiB, header and WebSocket framing included), so a chunk leaves
	// in one frame and one system call rather than 64 of gorilla's default
	// 4 KiB. Write buffers are pooled: an idle connection holds none.
	writeBufferSize = 256<<10 + protocol.HeaderLen + 2*protocol.MaxIDLen + 16
)

// writeBufferPool is shared by every connection (same buffer size).
var writeBufferPool = &sync.Pool{}

// conn is one WebSocket connection to the server: a reader goroutine that
// hands every frame to its session, and a writer goroutine draining a
// priority outbox and pinging. A session outlives its connections.
type conn struct {
	ws   *websocket.Conn
	out  *outbox.Outbox
	cork *netconn.Conn // gathers a batch of writes; nil if not dialed by dialAny

	// hs receives the reply to a handshake (login or resume) request: while
	// inHandshake is set, the reader hands the next text frame there instead
	// of to onFrame. A connection may carry two handshakes (a refused resume,
	// then a login).
	hs          chan *protocol.Msg
	inHandshake atomic.Bool
	// proceed lets the reader go on after a handshake reply, once the
	// session has acted on it: frames that follow the reply (replayed ones
	// after a resume) must find the session already attached to this conn.
	proceed chan struct{}

	onFrame func(c *conn, mt int, buf *msgbuf.Buf) // after the handshake; reader goroutine
	onTick  func(c *conn)                          // each ping period; writer goroutine
	onClose func(c *conn)                          // once, on the reader goroutine as it exits

	pingTimeout atomic.Int64 // nanoseconds
	readLimit   atomic.Int64 // largest message accepted (as set on ws)
	// oversize is set when the connection ended on a message over
	// readLimit (the session then ends rather than resume, see onConnClosed).
	oversize atomic.Bool
	// retime tells the writer that pingTimeout changed (the login reply
	// announced the server's): it resets its ping ticker.
	retime chan struct{}

	done      chan struct{}
	closeOnce sync.Once

	// gone is set, under the session's Mgr.mu, once the connection's close
	// has been handled: a handshake that attaches it afterwards must treat
	// it as lost itself (session.recheck).
	gone bool
}

// errHandshake reports a connection that closed or timed out before the
// handshake reply.
var errHandshake = errors.New("core: no handshake reply")

// dialAny connects to the first reachable address of a ';'-separated list;
// netDial, when not nil, opens the TCP connections. It blocks: the login or
// reconnect goroutine, mu not held.
func dialAny(ctx context.Context, addrList string, tlsConf *tls.Config,
	netDial func(ctx context.Context, network, addr string) (net.Conn, error)) (*websocket.Conn, int) {
	addrs := splitAddrs(addrList)
	if len(addrs) == 0 {
		return nil, protocol.NoServerInfo
	}
	code := protocol.CreateConnFailed
	netDial = corkDial(netDial)
	for _, a := range addrs {
		u, err := wsURL(a)
		if err != nil {
			continue
		}
		// gorilla watches the context only while connecting: the
		// upgrade's request and reply run on deadlines. att closes the
		// connection the moment ctx ends (the session's end), so that
		// no dial outlives it by its timeout.
		att := &dialAttempt{}
		nd := att.wrap(netDial)
		d := websocket.Dialer{HandshakeTimeout: dialTimeout, NetDialContext: nd,
			WriteBufferSize: writeBufferSize, WriteBufferPool: writeBufferPool,
			NetDialTLSContext: tlsDialer(tlsConf, nd)}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		stop := context.AfterFunc(dctx, att.abort)
		ws, resp, err := d.DialContext(dctx, u, nil)
		if !stop() && err == nil {
			_ = ws.Close() // aborted as it completed
			err = context.Canceled
		}
		cancel()
		if err == nil {
			return ws, 0
		}
		if errors.Is(err, errTLS) || plainToTLS(resp) {
			code = protocol.SSLErr
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, code
}

// corkDial wraps the connections netDial (nil: a plain net.Dialer) opens
// in a netconn.Conn, so the writer can gather a batch of frames into
// one system call.
func corkDial(netDial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nc net.Conn
		var err error
		if netDial != nil {
			nc, err = netDial(ctx, network, addr)
		} else {
			nc, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		return netconn.New(nc), nil
	}
}

// dialAttempt is one dial of dialAny: abort closes the connection it has
// opened, or the one it opens next.
type dialAttempt struct {
	mu      sync.Mutex
	nc      net.Conn
	aborted bool
}

// wrap returns netDial recording the connection it opens for abort (closed
// at once when abort came first). Takes a.mu.
func (a *dialAttempt) wrap(netDial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := netDial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.aborted {
			_ = nc.Close()
			return nil, context.Canceled
		}
		a.nc = nc
		return nc, nil
	}
}

// abort closes the attempt's connection, or the one it opens next. Runs on
// the dial context's AfterFunc goroutine; takes a.mu.
func (a *dialAttempt) abort() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.aborted = true
	if a.nc != nil {
		_ = a.nc.Close()
	}
}

func splitAddrs(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ";") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// wsURL turns "host:port" or a ws:// / wss:// URL into the server's WebSocket URL.
func wsURL(addr string) (string, error) {
	if !strings.Contains(addr, "://") {
		addr = "ws://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return "", errors.New("core: bad server address")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/ws"
	}
	return u.String(), nil
}

func newConn(ws *websocket.Conn, pingTimeout time.Duration) *conn {
	c := &conn{
		ws:      ws,
		cork:    netconn.Of(ws.NetConn()),
		out:     outbox.New(0),
		hs:      make(chan *protocol.Msg, 1),
		proceed: make(chan struct{}, 1),
		retime:  make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	c.pingTimeout.Store(int64(pingTimeout))
	c.readLimit.Store(readLimitLoggedOut)
	ws.SetReadLimit(readLimitLoggedOut)
	return c
}

// start launches the reader and writer goroutines; wg tracks them.
func (c *conn) start(wg *sync.WaitGroup) {
	c.ws.SetPongHandler(func(string) error { return c.extendDeadline() })
	c.ws.SetPingHandler(func(data string) error {
		_ = c.extendDeadline()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})
	_ = c.extendDeadline()
	wg.Add(2)
	go func() { defer wg.Done(); c.readLoop() }()
	go func() { defer wg.Done(); c.writeLoop() }()
}

// extendDeadline moves the read deadline one ping timeout ahead. Reader
// goroutine (the pong and ping handlers run there), and start.
func (c *conn) extendDeadline() error {
	return c.ws.SetReadDeadline(time.Now().Add(time.Duration(c.pingTimeout.Load())))
}

// setLimits applies the server's settings from the login reply.
// Non-blocking; called with mu held.
func (c *conn) setLimits(l *protocol.Limits) {
	if l == nil {
		return
	}
	if l.PingTimeout > 0 {
		c.pingTimeout.Store(int64(time.Duration(l.PingTimeout) * time.Millisecond))
		select {
		case c.retime <- struct{}{}:
		default:
		}
	}
	limit := int64(protocol.HeaderLen + 2*protocol.MaxIDLen + l.Chunk)
	if limit < readLimitLoggedOut {
		limit = readLimitLoggedOut
	}
	c.readLimit.Store(limit)
	c.ws.SetReadLimit(limit)
}

// handshake sends req (login or resume) straight to the connection,
// unnumbered, and waits for its reply, giving up when ctx ends (the
// session's end: logout, Close). It blocks: the login or reconnect
// goroutine, mu not held.
func (c *conn) handshake(ctx context.Context, req *protocol.Msg) (*protocol.Msg, error) {
	req.ID = 1
	c.inHandshake.Store(true)
	if err := c.out.PushCtrl(outbox.Frame{Head: protocol.Encode(req)}); err != nil {
		return nil, errHandshake
	}
	t := time.NewTimer(handshakeTimeout)
	defer t.Stop()
	select {
	case r := <-c.hs:
		return r, nil
	case <-c.done:
		return nil, errHandshake
	case <-t.C:
		return nil, errHandshake
	case <-ctx.Done():
		return nil, errHandshake
	}
}

// handshakeDone lets the reader continue after the handshake reply; call it
// once the reply has been acted upon (or close the connection instead).
// Any goroutine; non-blocking.
func (c *conn) handshakeDone() {
	select {
	case c.proceed <- struct{}{}:
	default:
	}
}

// readLoop runs on the reader goroutine until the connection fails or
// closes, then calls onClose: no frame of this connection is handled after it.
func (c *conn) readLoop() {
	defer func() {
		c.close()
		if c.onClose != nil {
			c.onClose(c)
		}
	}()
	for {
		mt, r, err := c.ws.NextReader()
		if err != nil {
			c.noteOversize(err)
			return
		}
		_ = c.extendDeadline()
		// A pooled buffer, returned as soon as the frame is handled: the
		// handlers copy what they keep (file writes, base64, JSON strings).
		buf, err := msgbuf.Read(r, int(c.readLimit.Load()))
		if err != nil {
			c.noteOversize(err)
			return
		}
		if c.inHandshake.Load() {
			if mt != websocket.TextMessage {
				buf.Release()
				continue
			}
			c.inHandshake.Store(false)
			m, err := protocol.Decode(buf.B)
			buf.Release()
			if err != nil || m.ID != 1 {
				m = &protocol.Msg{ID: 1, Code: protocol.ErrData}
			}
			c.hs <- m
			select {
			case <-c.proceed:
			case <-c.done:
				return
			}
			continue
		}
		if c.onFrame != nil {
			c.onFrame(c, mt, buf)
		}
		buf.Release()
	}
}

// noteOversize records a read that failed on a message over the read limit
// (gorilla reports it from NextReader when the frame header says so, from
// Read for a message of several frames). Reader goroutine.
func (c *conn) noteOversize(err error) {
	if errors.Is(err, websocket.ErrReadLimit) || errors.Is(err, msgbuf.ErrTooLarge) {
		c.oversize.Store(true)
	}
}

// writeLoop runs on the writer goroutine: it drains the outbox, control
// frames first, and pings the server every third of the ping timeout — the
// server's, once the login reply has announced it (setLimits).
func (c *conn) writeLoop() {
	ticker := time.NewTicker(c.pingPeriod())
	defer ticker.Stop()
	for {
		f, ok := c.out.Pop()
		if ok {
			if err := outbox.WriteBatch(c.cork, c.out, f, c.writeReleasing); err != nil {
				c.close()
				return
			}
			continue
		}
		select {
		case <-c.out.Ready():
		case <-c.retime:
			ticker.Reset(c.pingPeriod())
		case <-ticker.C:
			if c.onTick != nil {
				c.onTick(c)
			}
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.close()
				return
			}
		case <-c.done:
			return
		}
	}
}

// pingPeriod is how often the writer pings: a third of the ping timeout.
func (c *conn) pingPeriod() time.Duration {
	return max(time.Duration(c.pingTimeout.Load())/3, time.Millisecond)
}

// writeReleasing writes f and then releases it. Writer goroutine.
func (c *conn) writeReleasing(f outbox.Frame) error {
	err := c.writeFrame(&f)
	if f.Release != nil {
		f.Release()
	}
	return err
}

// writeFrame writes f as one WebSocket message. Writer goroutine.
func (c *conn) writeFrame(f *outbox.Frame) error {
	if f.Binary {
		return c.writeBinaryFrame(f)
	}
	return c.writeGorilla(f, websocket.TextMessage)
}

// writeGorilla writes f through gorilla's message writer. Writer goroutine.
func (c *conn) writeGorilla(f *outbox.Frame, mt int) error {
	c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	w, err := c.ws.NextWriter(mt)
	if err != nil {
		return err
	}
	if len(f.Head) > 0 {
		if _, err := w.Write(f.Head); err != nil {
			return err
		}
	}
	if len(f.Body) > 0 {
		if _, err := w.Write(f.Body); err != nil {
			return err
		}
	}
	return w.Close()
}

// close ends the connection from our side; the reader then exits and calls
// onClose. Idempotent, non-blocking, any goroutine.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.out.Close()
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(100*time.Millisecond))
		_ = c.ws.Close()
	})
}

// kill drops the connection without a close handshake, as a network fault
// would (tests use it). Any goroutine, non-blocking.
func (c *conn) kill() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.out.Close()
		_ = c.ws.NetConn().Close()
	})
}
