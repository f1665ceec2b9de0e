package core

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Timing of a connection. Values that depend on the server (the ping timeout)
// arrive in the login reply and replace the defaults.
const (
	dialTimeout        = 5 * time.Second  // per server address
	writeTimeout       = 10 * time.Second // one frame
	defaultPingTimeout = 10 * time.Second // until the login reply says otherwise
	requestTimeout     = 30 * time.Second // a request without reply fails with NoServerRsp
	logoutWait         = 2 * time.Second  // how long logout waits for the server's reply
	readLimitLoggedOut = 1 << 20
)

// replyFunc handles the reply to one request. It runs on the connection's
// reader goroutine, on a timer goroutine (timeout), or on the goroutine that
// closes the connection; it must not block.
type replyFunc func(m *protocol.Msg)

// conn is one WebSocket connection to the server: a reader goroutine, a
// writer goroutine draining a priority outbox, and the table of requests
// awaiting replies.
type conn struct {
	ws  *websocket.Conn
	out *protocol.Outbox

	onText   func(*protocol.Msg)           // pushes; reader goroutine
	onBinary func(protocol.Header, []byte) // binary frames; reader goroutine
	onClose  func(err error)               // once, after the reader stops

	mu          sync.Mutex
	pending     map[uint64]*pendingReq
	nextID      uint64
	closed      bool
	pingTimeout time.Duration

	done      chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

type pendingReq struct {
	fn    replyFunc
	timer *time.Timer
}

// errClosed reports a request on a closed connection.
var errClosed = errors.New("core: connection closed")

// dialAny connects to the first reachable address of a ';'-separated list.
func dialAny(ctx context.Context, addrList string, tlsConf *tls.Config) (*websocket.Conn, int) {
	addrs := splitAddrs(addrList)
	if len(addrs) == 0 {
		return nil, protocol.NoServerInfo
	}
	code := protocol.CreateConnFailed
	for _, a := range addrs {
		u, err := wsURL(a)
		if err != nil {
			continue
		}
		d := websocket.Dialer{HandshakeTimeout: dialTimeout, TLSClientConfig: tlsConf}
		dctx, cancel := context.WithTimeout(ctx, dialTimeout)
		ws, _, err := d.DialContext(dctx, u, nil)
		cancel()
		if err == nil {
			return ws, 0
		}
		var certErr *tls.CertificateVerificationError
		if errors.As(err, &certErr) {
			code = protocol.SSLErr
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, code
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

func newConn(ws *websocket.Conn) *conn {
	c := &conn{
		ws:          ws,
		out:         protocol.NewOutbox(0),
		pending:     make(map[uint64]*pendingReq),
		pingTimeout: defaultPingTimeout,
		done:        make(chan struct{}),
	}
	ws.SetReadLimit(readLimitLoggedOut)
	return c
}

// start launches the reader and writer goroutines; wg tracks them.
func (c *conn) start(wg *sync.WaitGroup) {
	c.ws.SetPongHandler(func(string) error { return c.extendDeadline() })
	c.ws.SetPingHandler(func(data string) error {
		_ = c.extendDeadline()
		return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeTimeout))
	})
	_ = c.extendDeadline()
	wg.Add(2)
	go func() { defer wg.Done(); c.readLoop() }()
	go func() { defer wg.Done(); c.writeLoop() }()
}

func (c *conn) extendDeadline() error {
	c.mu.Lock()
	pt := c.pingTimeout
	c.mu.Unlock()
	return c.ws.SetReadDeadline(time.Now().Add(pt))
}

// setLimits applies the server's settings from the login reply.
func (c *conn) setLimits(l *protocol.Limits) {
	if l == nil {
		return
	}
	c.mu.Lock()
	if l.PingTimeout > 0 {
		c.pingTimeout = time.Duration(l.PingTimeout) * time.Millisecond
	}
	c.mu.Unlock()
	limit := int64(protocol.HeaderLen + 2*protocol.MaxIDLen + l.Chunk)
	if limit < readLimitLoggedOut {
		limit = readLimitLoggedOut
	}
	c.ws.SetReadLimit(limit)
}

// readLoop runs on the reader goroutine until the connection fails or closes.
func (c *conn) readLoop() {
	var err error
	defer func() { c.shutdown(err) }()
	for {
		var mt int
		var r io.Reader
		mt, r, err = c.ws.NextReader()
		if err != nil {
			return
		}
		_ = c.extendDeadline()
		var b []byte
		b, err = io.ReadAll(r)
		if err != nil {
			return
		}
		switch mt {
		case websocket.TextMessage:
			m, derr := protocol.Decode(b)
			if derr != nil {
				continue // malformed frames are ignored, not fatal
			}
			if m.ID != 0 && m.Push == "" {
				c.deliverReply(m)
			} else if c.onText != nil {
				c.onText(m)
			}
		case websocket.BinaryMessage:
			h, payload, perr := protocol.ParseHeader(b)
			if perr != nil {
				continue
			}
			if c.onBinary != nil {
				c.onBinary(h, payload)
			}
		}
	}
}

// writeLoop runs on the writer goroutine: it drains the outbox, control
// frames first, and pings the server every third of the ping timeout.
func (c *conn) writeLoop() {
	c.mu.Lock()
	pt := c.pingTimeout
	c.mu.Unlock()
	ticker := time.NewTicker(pt / 3)
	defer ticker.Stop()
	for {
		f, ok := c.out.Pop()
		if ok {
			err := c.writeFrame(&f)
			if f.Release != nil {
				f.Release()
			}
			if err != nil {
				c.shutdown(err)
				return
			}
			continue
		}
		select {
		case <-c.out.Ready():
		case <-ticker.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeTimeout)); err != nil {
				c.shutdown(err)
				return
			}
		case <-c.done:
			return
		}
	}
}

func (c *conn) writeFrame(f *protocol.Frame) error {
	mt := websocket.TextMessage
	if f.Binary {
		mt = websocket.BinaryMessage
	}
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

// request sends m (assigning its ID) and arranges for fn to receive exactly
// one reply: the server's, or a synthetic one with code NoServerRsp on
// timeout or ConnectionLost when the connection closes first.
func (c *conn) request(m *protocol.Msg, fn replyFunc) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		fn(&protocol.Msg{Code: protocol.ConnectionLost})
		return
	}
	c.nextID++
	id := c.nextID
	m.ID = id
	p := &pendingReq{fn: fn}
	p.timer = time.AfterFunc(requestTimeout, func() { c.failRequest(id, protocol.NoServerRsp) })
	c.pending[id] = p
	c.mu.Unlock()
	if err := c.out.PushCtrl(protocol.Frame{Head: protocol.Encode(m)}); err != nil {
		c.failRequest(id, protocol.ConnectionLost)
	}
}

// send queues a one-way message.
func (c *conn) send(m *protocol.Msg) {
	_ = c.out.PushCtrl(protocol.Frame{Head: protocol.Encode(m)})
}

func (c *conn) takePending(id uint64) *pendingReq {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending[id]
	delete(c.pending, id)
	return p
}

func (c *conn) deliverReply(m *protocol.Msg) {
	if p := c.takePending(m.ID); p != nil {
		p.timer.Stop()
		p.fn(m)
	}
}

func (c *conn) failRequest(id uint64, code int) {
	if p := c.takePending(id); p != nil {
		p.timer.Stop()
		p.fn(&protocol.Msg{ID: id, Code: code})
	}
}

// close ends the connection from our side. Idempotent.
func (c *conn) close() { c.shutdown(errClosed) }

// shutdown closes the socket, fails every pending request with
// ConnectionLost and calls onClose once.
func (c *conn) shutdown(err error) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		pend := c.pending
		c.pending = make(map[uint64]*pendingReq)
		c.mu.Unlock()
		close(c.done)
		c.out.Close()
		_ = c.ws.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(100*time.Millisecond))
		_ = c.ws.Close()
		// Fail pending requests in ID order, so their callbacks keep request order.
		ids := make([]uint64, 0, len(pend))
		for id := range pend {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			p := pend[id]
			p.timer.Stop()
			p.fn(&protocol.Msg{ID: id, Code: protocol.ConnectionLost})
		}
		if c.onClose != nil {
			c.onClose(err)
		}
	})
}
