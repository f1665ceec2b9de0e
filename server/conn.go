package server

import (
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// conn is one WebSocket connection. Its reader goroutine (readLoop) parses
// frames and runs every handler; its writer goroutine (writeLoop) is the only
// one that writes data frames, popping the Outbox (control before bulk).
type conn struct {
	srv *Server
	ws  *websocket.Conn
	out *protocol.Outbox
	log *slog.Logger
	// cork gathers the writes of one batch of frames into one system call
	// (nil when the connection did not come from the server's listener).
	cork *protocol.CorkConn

	// sess is the logged-in session, nil before login or resume. Only the
	// reader goroutine touches it; live is the same for the writer.
	sess *session
	live atomic.Pointer[session]
	// loginBy is when a connection that has not logged in is closed,
	// however much it pings.
	loginBy time.Time

	// flushClose asks the writer to write what is queued, then close (after
	// lineOff and the logout reply). wake nudges the writer to notice.
	flushClose atomic.Bool
	wake       chan struct{}
	// killReason is why the connection was cut off (kill), logged by the writer.
	killReason atomic.Pointer[string]
	// readDone is closed when the reader goroutine has finished.
	readDone chan struct{}
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	return &conn{
		srv:      s,
		ws:       ws,
		cork:     protocol.CorkOf(ws.NetConn()),
		out:      protocol.NewOutbox(0), // unbounded: the session's stream bounds signaling
		log:      s.log.With("remote", ws.RemoteAddr().String()),
		wake:     make(chan struct{}, 1),
		readDone: make(chan struct{}),
		loginBy:  time.Now().Add(s.loginTimeout),
	}
}

// Reasons for kill.
const (
	reasonShutdown     = "server shutting down"
	reasonSlowConsumer = "slow consumer: more than 8 MiB of signaling queued"
)

// kill cuts the connection off at once, dropping what is queued: closing
// the socket unblocks a writer stuck on a peer that does not read, and the
// reader then ends the session. Closing a TCP socket does not block, so kill
// may be called under any lock.
func (c *conn) kill(reason string) {
	c.killReason.CompareAndSwap(nil, &reason)
	c.out.Close()
	c.ws.NetConn().Close()
}

// closeAfterFlush makes the writer send everything already queued and then
// close the connection. Non-blocking; may be called under any lock.
func (c *conn) closeAfterFlush() {
	c.flushClose.Store(true)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// sendCtrl queues an encoded control frame; an overflowing control queue
// cuts the slow consumer off. Non-blocking; may be called under any lock.
func (c *conn) sendCtrl(f protocol.Frame) {
	if err := c.out.PushCtrl(f); errors.Is(err, protocol.ErrOutboxFull) {
		c.kill(reasonSlowConsumer)
	}
}

// reply answers request id with code and the fields of m (which may be nil).
func (c *conn) reply(id uint64, code int, m *protocol.Msg) {
	if m == nil {
		m = &protocol.Msg{}
	}
	m.ID, m.Code = id, code
	c.sendCtrl(protocol.Frame{Head: protocol.Encode(m)})
}

// extendRead pushes the read deadline one ping timeout ahead, but not past
// loginBy before login. Reader goroutine (pong and ping handlers run there too).
func (c *conn) extendRead() {
	d := time.Now().Add(c.srv.cfg.PingTimeout)
	if c.sess == nil && d.After(c.loginBy) {
		d = c.loginBy
	}
	c.ws.SetReadDeadline(d)
}

// readLoop reads frames until the connection fails, then ends the session.
// Runs in its own goroutine, one per connection.
func (c *conn) readLoop() {
	defer c.srv.wg.Done()
	defer c.finish()
	c.ws.SetReadLimit(c.srv.readLimit)
	c.extendRead()
	c.ws.SetPongHandler(func(string) error { c.extendRead(); return nil })
	c.ws.SetPingHandler(func(data string) error {
		c.extendRead()
		err := c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.srv.cfg.PingTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})
	for {
		typ, r, err := c.ws.NextReader()
		if err != nil {
			c.log.Debug("read ended", "err", err)
			return
		}
		// A pooled buffer, held only while the message is handled (a
		// relayed chunk takes a reference of its own): an idle connection
		// holds none, and reading allocates nothing in steady state.
		buf, err := protocol.ReadBuf(r, int(c.srv.readLimit))
		if err != nil {
			c.log.Debug("read ended", "err", err)
			return
		}
		c.extendRead()
		if c.flushClose.Load() || c.out.Closed() {
			buf.Release()
			continue // the session is over; drain until the writer closes
		}
		if c.sess != nil {
			c.sessionFrame(c.sess, typ, buf)
		} else if typ == websocket.TextMessage {
			// Login and resume run on a goroutine of their own: their
			// deep call chains (password check, JSON, the first pushes)
			// would otherwise grow this goroutine's stack, which an idle
			// connection then keeps until the GC shrinks it.
			done := make(chan struct{})
			go func() {
				defer close(done)
				c.handleText(buf.B)
			}()
			<-done
		}
		buf.Release()
	}
}

// finish ends the session (if any) and releases the connection. Runs in the
// reader goroutine when it exits; no lock held.
func (c *conn) finish() {
	if c.sess != nil {
		c.sess.connLost(c)
	}
	c.out.Close()
	c.srv.connGone(c)
	close(c.readDone)
}

// writeLoop writes queued frames and pings until the outbox is closed or a
// write fails, then closes the socket. Runs in its own goroutine, one per
// connection.
func (c *conn) writeLoop() {
	defer c.srv.wg.Done()
	defer c.ws.Close()
	defer func() {
		if r := c.killReason.Load(); r != nil && *r != reasonShutdown {
			c.log.Warn("connection cut off", "reason", *r)
		}
	}()
	pingEvery := max(c.srv.cfg.PingTimeout/3, time.Millisecond)
	ticker := time.NewTicker(pingEvery)
	defer ticker.Stop()
	for {
		if f, ok := c.out.Pop(); ok {
			if err := protocol.WriteBatch(c.cork, c.out, f, c.write); err != nil {
				c.log.Debug("write failed", "err", err)
				c.out.Close()
				return
			}
			select {
			case <-ticker.C:
				if !c.ping() {
					return
				}
			default:
			}
			continue
		}
		if c.out.Closed() {
			return
		}
		if c.flushClose.Load() {
			// Close handshake: wait for the peer's close (the reader then
			// ends) before closing the socket, so that unread input does
			// not turn the close into a reset that could discard the
			// lineOff or logout reply on its way.
			c.ws.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
				time.Now().Add(time.Second))
			select {
			case <-c.readDone:
			case <-time.After(closeWait):
			}
			c.out.Close()
			return
		}
		select {
		case <-c.out.Ready():
		case <-c.wake:
		case <-ticker.C:
			if !c.ping() {
				return
			}
		}
	}
}

// ping sends a WebSocket ping; false when the connection is broken. Writer goroutine.
func (c *conn) ping() bool {
	if s := c.live.Load(); s != nil {
		c.sendAck(s, true)
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.PingTimeout)); err != nil {
		c.log.Debug("ping failed", "err", err)
		c.out.Close()
		return false
	}
	return true
}

// write puts one frame on the wire under a write deadline. Writer goroutine.
func (c *conn) write(f protocol.Frame) error {
	defer func() {
		if f.Release != nil {
			f.Release()
		}
	}()
	c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.PingTimeout))
	typ := websocket.TextMessage
	if f.Binary {
		typ = websocket.BinaryMessage
	}
	w, err := c.ws.NextWriter(typ)
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

// handleText handles a text frame of a connection without a session: only
// login and resume are accepted. Reader goroutine, no lock held.
func (c *conn) handleText(data []byte) {
	if len(data) > protocol.MaxTextFrame {
		c.log.Debug("text frame too large, dropped", "len", len(data))
		return
	}
	m, err := protocol.Decode(data)
	if err != nil {
		c.log.Debug("malformed text frame, dropped", "len", len(data))
		return
	}
	if m.Op == "" || m.ID == 0 {
		return
	}
	switch m.Op {
	case protocol.OpLogin:
		c.handleLogin(m)
	case protocol.OpResume:
		c.handleResume(m)
	default:
		c.reply(m.ID, protocol.NotLogin, nil)
	}
}
