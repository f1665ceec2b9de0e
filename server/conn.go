package server

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/netconn"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// conn is one WebSocket connection. Its reader goroutine (readLoop) parses
// frames and runs every handler. Data frames are written by a writer
// (writeLoop) that runs only while there is something to do: a push to the
// Outbox, a ping due or a close starts one, and it exits when the queue is
// empty, so an idle connection keeps one goroutine, the reader. There is
// never more than one writer at a time.
type conn struct {
	srv *Server
	ws  *websocket.Conn
	out *outbox.Outbox
	// cork gathers the writes of one batch of frames into one system call
	// (nil when the connection did not come from the server's listener).
	cork *netconn.Conn

	// sess is the logged-in session, nil before login or resume. Only the
	// reader goroutine touches it; live is the same for the writer.
	sess *session
	live atomic.Pointer[session]
	// loginBy is when a connection that has not logged in is closed,
	// however much it pings.
	loginBy time.Time

	// flushClose asks the writer to write what is queued, then close (after
	// lineOff and the logout reply).
	flushClose atomic.Bool
	// killReason is why the connection was cut off (kill), logged by the writer.
	killReason atomic.Pointer[string]
	// readDone is closed when the reader goroutine has finished.
	readDone chan struct{}

	// pingTimer sets pingDue every ping interval (re-armed by the writer
	// after each ping) and runs the writer if none is running.
	pingTimer *time.Timer
	pingDue   atomic.Bool
	// lastIn is when a frame (pings and pongs included) last arrived, in
	// Unix nanoseconds: a client heard from within the last ping period
	// gets no ping (see ping).
	lastIn atomic.Int64

	// wmu guards the writer's state; innermost lock (kick runs under any).
	wmu sync.Mutex
	// writing: a writer runs. again: something was signalled while it
	// ran, so it looks at the queue once more before it exits. wdone: the
	// writer has finished for good and closed the socket.
	writing, again, wdone bool
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	c := &conn{
		srv:      s,
		ws:       ws,
		cork:     netconn.Of(ws.NetConn()),
		readDone: make(chan struct{}),
		loginBy:  time.Now().Add(s.loginTimeout),
	}
	// Before login the outbox is all there is: bounded, small. Login and
	// resume raise the bound (the session's stream then bounds signaling).
	c.out = outbox.NewNotify(preLoginOutbox, c.kick)
	return c
}

// start runs the connection: its reader, and the ping timer that runs the
// writer. The server's wg must count two for it (the reader and the
// writer's final exit).
func (c *conn) start() {
	c.pingTimer = time.AfterFunc(c.pingEvery(), c.pingTick)
	go c.readLoop()
}

func (c *conn) pingEvery() time.Duration { return max(c.srv.cfg.PingTimeout/3, time.Millisecond) }

// log returns the connection's logger. Made on use: a logger with
// attributes costs memory that an idle connection would keep.
func (c *conn) log() *slog.Logger { return c.srv.log.With("remote", c.ws.RemoteAddr().String()) }

// Reasons for kill.
const (
	reasonShutdown     = "server shutting down"
	reasonSlowConsumer = "slow consumer: more than 8 MiB of signaling queued"
	reasonSlowBulk     = "slow consumer: too many transfer bytes unacknowledged"
	reasonPreLogin     = "reply queue over 64 KiB before login"
)

// kill cuts the connection off at once, dropping what is queued: closing
// the socket unblocks a writer stuck on a peer that does not read, and the
// reader then ends the session. Closing a TCP socket does not block, so kill
// may be called under any lock. Under TLS it is the socket beneath that is
// closed: tls.Conn.Close would first write a close_notify alert, which can
// wait up to 5 s on a peer that does not read — under the enterprise lock.
func (c *conn) kill(reason string) {
	c.killReason.CompareAndSwap(nil, &reason)
	c.out.Close()
	nc := c.ws.NetConn()
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	nc.Close()
}

// closeAfterFlush makes the writer send everything already queued and then
// close the connection. Non-blocking; may be called under any lock.
func (c *conn) closeAfterFlush() {
	c.flushClose.Store(true)
	c.kick()
}

// sendCtrl queues an encoded control frame; an overflowing control queue
// cuts the slow consumer off. Non-blocking; may be called under any lock.
func (c *conn) sendCtrl(f outbox.Frame) {
	if err := c.out.PushCtrl(f); errors.Is(err, outbox.ErrFull) {
		if c.live.Load() == nil {
			c.kill(reasonPreLogin)
		} else {
			c.kill(reasonSlowConsumer)
		}
	}
}

// reply answers request id with code and the fields of m (which may be nil).
// Non-blocking; may be called under any lock.
func (c *conn) reply(id uint64, code int, m *protocol.Msg) {
	if m == nil {
		m = &protocol.Msg{}
	}
	m.ID, m.Code = id, code
	c.sendCtrl(outbox.Frame{Head: encodeReply(c.srv.log, m)})
}

// extendRead pushes the read deadline one ping timeout ahead, but not past
// loginBy before login. Reader goroutine (pong and ping handlers run there too).
func (c *conn) extendRead() {
	now := time.Now()
	c.lastIn.Store(now.UnixNano())
	d := now.Add(c.srv.cfg.PingTimeout)
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
			c.log().Debug("read ended", "err", err)
			return
		}
		// A pooled buffer, held only while the message is handled (a
		// relayed chunk takes a reference of its own): an idle connection
		// holds none, and reading allocates nothing in steady state.
		buf, err := msgbuf.Read(r, int(c.srv.readLimit))
		if err != nil {
			c.log().Debug("read ended", "err", err)
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
			// The password check (PBKDF2) or the auth webhook may have
			// outlasted the read deadline: the client was not silent,
			// it was waiting for us.
			c.extendRead()
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

// kick makes sure a writer will look at the connection's state: it starts
// one, or has the one running look once more before it exits. The Outbox
// calls it after every push and on Close. Non-blocking; may be called under
// any lock.
func (c *conn) kick() {
	if c.claimWriter() {
		go c.writeLoop()
	}
}

// claimWriter reports whether the caller is to run writeLoop: true unless
// a writer runs (it is then told to look again) or has finished for good.
// Any goroutine (kick, pingTick); takes wmu.
func (c *conn) claimWriter() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	switch {
	case c.wdone:
		return false
	case c.writing:
		c.again = true
		return false
	}
	c.writing = true
	return true
}

// park ends the writer's turn unless it was kicked since it last looked
// (then false: it looks again). Whoever kicks after this starts a new one.
// Writer; takes wmu.
func (c *conn) park() bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.again {
		c.again = false
		return false
	}
	c.writing = false
	return true
}

// pingTick runs in the ping timer's goroutine: it marks a ping due and
// becomes the writer if none runs.
func (c *conn) pingTick() {
	c.pingDue.Store(true)
	if c.claimWriter() {
		c.writeLoop()
	}
}

// writeLoop writes queued frames and a due ping until there is nothing left
// to do, then returns (park). When the outbox is closed, a write fails or a
// flushClose has flushed, it closes the socket and the connection has no
// writer again (writerDone). Runs in a goroutine of its own started by kick,
// or in the ping timer's; only the writer claimed by claimWriter runs it.
func (c *conn) writeLoop() {
	for {
		if f, ok := c.out.Pop(); ok {
			if err := outbox.WriteBatch(c.cork, c.out, f, c.write); err != nil {
				c.log().Debug("write failed", "err", err)
				c.writerDone()
				return
			}
		} else if c.out.Closed() {
			c.writerDone()
			return
		} else if c.flushClose.Load() {
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
			c.writerDone()
			return
		} else if !c.pingDue.Load() {
			if c.park() {
				return
			}
			continue
		}
		// A ping goes out when it is due, between batches.
		if c.pingDue.Load() && c.pingDue.Swap(false) {
			if !c.ping() {
				c.writerDone()
				return
			}
			c.pingTimer.Reset(c.pingEvery())
		}
	}
}

// writerDone ends the connection's writing for good: no writer starts
// again, what is queued is dropped and the socket is closed. Called once,
// by the last writer; takes wmu.
func (c *conn) writerDone() {
	c.wmu.Lock()
	c.wdone, c.writing = true, false
	c.wmu.Unlock()
	c.pingTimer.Stop()
	c.out.Close()
	if r := c.killReason.Load(); r != nil && *r != reasonShutdown {
		c.log().Warn("connection cut off", "reason", *r)
	}
	c.ws.Close()
	c.srv.wg.Done()
}

// ping sends the stream ack if one is due and a WebSocket ping unless the
// client was heard from within the last ping period: a client that pings
// (the library does, every period) keeps both directions alive with its
// pings and our pongs, so a ping of ours would only double the keepalive
// traffic of every idle connection. False when the connection is broken.
// Writer.
func (c *conn) ping() bool {
	if s := c.live.Load(); s != nil {
		c.sendAck(s, true)
	}
	if time.Now().UnixNano()-c.lastIn.Load() < int64(c.pingEvery()) {
		return true
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.PingTimeout)); err != nil {
		c.log().Debug("ping failed", "err", err)
		return false
	}
	return true
}

// write puts one frame on the wire under a write deadline. Writer.
func (c *conn) write(f outbox.Frame) error {
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
	if err := w.Close(); err != nil {
		return err
	}
	if f.Num != 0 {
		if s := c.live.Load(); s != nil {
			s.stream.Wrote(f)
		}
	}
	return nil
}
