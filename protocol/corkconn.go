package protocol

import (
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// corkMax is the most a corked connection gathers before it writes; larger
// writes (transfer chunks) go out at once, with what was gathered, in one
// vectored write.
const corkMax = 64 << 10

var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, corkMax); return &b }}

// CorkConn is a net.Conn whose writes between Cork and Flush are gathered
// and written with one system call: a writer that has several WebSocket
// messages queued puts them on the wire together instead of one write each
// (a system call costs about a microsecond here, and on loopback each write
// also runs the receiver's network stack). Writes outside Cork/Flush go
// straight through. Safe for concurrent use: a write from another goroutine
// while corked (a pong) is gathered too and leaves with the next Flush. The
// buffer is pooled: an idle connection holds none.
//
// A CorkConn made by CorkListener also reads through pooled buffers (see
// Read): a connection waiting for input holds no read buffer.
type CorkConn struct {
	net.Conn

	mu     sync.Mutex
	corked bool
	buf    *[]byte // while corked and something was gathered

	// The read and write deadlines last passed down to the socket (see
	// SetReadDeadline), each under its own lock so that setting one never
	// waits for a write in progress.
	rdl, wdl deadline

	// Read side, one reader at a time. rd waits for input and reads it
	// into a pooled buffer (nil: reads go straight to Conn). rbuf holds
	// unread input at rbuf[roff:rend], and is nil when all of it was read.
	rd         *rawReader
	rbuf       *[]byte
	roff, rend int
}

// deadline is a socket deadline as last set, in Unix nanoseconds (0: none).
type deadline struct {
	mu sync.Mutex
	at int64
}

// lazySlack is the fraction of a deadline's remaining time by which an
// already-set deadline may fall short of a requested later one before the
// socket's is moved: deadlines pushed forward on every message (gorilla
// sets the write deadline for every frame, the readers extend the read
// deadline for every message) then cost a timer update only every eighth
// of the timeout instead of every message.
const lazySlack = 8

// set moves the socket's deadline to t via apply unless the deadline
// already set is at most a lazySlack-th of t's remaining time earlier than
// t. An earlier or zero t is always applied, so a deadline never ends up
// later than asked, and at worst 1/lazySlack of its span earlier.
func (d *deadline) set(t time.Time, apply func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
		if d.at != 0 && d.at <= n && n-d.at <= (n-time.Now().UnixNano())/lazySlack {
			return nil
		}
	} else if d.at == 0 {
		return nil
	}
	if err := apply(t); err != nil {
		return err
	}
	d.at = n
	return nil
}

// SetReadDeadline sets the read deadline, lazily (see deadline.set).
func (c *CorkConn) SetReadDeadline(t time.Time) error {
	return c.rdl.set(t, c.Conn.SetReadDeadline)
}

// SetWriteDeadline sets the write deadline, lazily (see deadline.set).
func (c *CorkConn) SetWriteDeadline(t time.Time) error {
	return c.wdl.set(t, c.Conn.SetWriteDeadline)
}

// SetDeadline sets both deadlines, lazily (see deadline.set).
func (c *CorkConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// readChunk is the pooled read buffer: a read smaller than this waits for
// input holding no buffer, then takes as much as is there (up to
// readChunk, several small messages at once) into a pooled buffer and
// serves it from there; larger reads go straight to the connection.
const readChunk = 4 << 10

var readPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// Read reads into p, through a pooled buffer when the CorkConn pools reads
// and p is small.
func (c *CorkConn) Read(p []byte) (int, error) {
	if c.rbuf != nil {
		n := copy(p, (*c.rbuf)[c.roff:c.rend])
		c.roff += n
		if c.roff == c.rend {
			readPool.Put(c.rbuf)
			c.rbuf = nil
		}
		return n, nil
	}
	if c.rd == nil || len(p) >= readChunk || len(p) == 0 {
		return c.Conn.Read(p)
	}
	b, n, err := c.rd.read()
	if err != nil {
		return 0, err
	}
	k := copy(p, (*b)[:n])
	if k == n {
		readPool.Put(b)
	} else {
		c.rbuf, c.roff, c.rend = b, k, n
	}
	return k, nil
}

// Cork starts gathering writes.
func (c *CorkConn) Cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// Flush writes what was gathered since Cork and stops gathering.
func (c *CorkConn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *CorkConn) flushLocked() error {
	if c.buf == nil {
		return nil
	}
	b := c.buf
	c.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = c.Conn.Write(*b)
	}
	*b = (*b)[:0]
	corkPool.Put(b)
	return err
}

// Write gathers p while corked, else writes it.
func (c *CorkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = corkPool.Get().(*[]byte)
	}
	if len(*c.buf)+len(p) <= corkMax {
		*c.buf = append(*c.buf, p...)
		return len(p), nil
	}
	// Too large to gather: what was gathered and p in one writev.
	b := c.buf
	c.buf = nil
	bufs := net.Buffers{*b, p}
	_, err := bufs.WriteTo(c.Conn)
	*b = (*b)[:0]
	corkPool.Put(b)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// CorkOf returns the CorkConn under a WebSocket's network connection (which
// may be a TLS connection over it), or nil.
func CorkOf(nc net.Conn) *CorkConn {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	c, _ := nc.(*CorkConn)
	return c
}

// CorkListener wraps every accepted connection in a CorkConn, which pools
// its read buffers where the platform allows (Unix TCP).
type CorkListener struct{ net.Listener }

// Accept waits for the next connection.
func (l CorkListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &CorkConn{Conn: c}
	cc.rd = newRawReader(c)
	return cc, nil
}

// MaxBatch bounds the frames a writer gathers into one system call.
const MaxBatch = 64

// WriteBatch writes first and then whatever out holds, up to MaxBatch frames
// in all, with write, gathered by cork into one system call; without a cork
// only first is written. It stops at the first error, which it returns
// (a failed flush included). Writer goroutine of the connection.
func WriteBatch(cork *CorkConn, out *Outbox, first Frame, write func(Frame) error) error {
	if cork == nil {
		return write(first)
	}
	cork.Cork()
	err := write(first)
	for n := 1; err == nil && n < MaxBatch; n++ {
		f, ok := out.Pop()
		if !ok {
			break
		}
		err = write(f)
	}
	if ferr := cork.Flush(); err == nil {
		err = ferr
	}
	return err
}
