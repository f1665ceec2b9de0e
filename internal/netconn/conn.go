package netconn

import (
	"crypto/tls"
	"net"
	"time"
)

// Conn is the connection both sides put under a WebSocket: a net.Conn
// whose writes between Cork and Flush leave in one system call
// (gather.go), whose deadlines reach the socket lazily (deadline.go) and,
// when made by NewPooled or Listener, whose small reads go through pooled
// buffers (pooledread.go). Close, the addresses and whatever else net.Conn
// has come from the socket itself.
type Conn struct {
	net.Conn // the socket

	w gatherer
	d lazyDeadlines
	r pooledReader
}

// New wraps nc (the library's dialed connections): writes gathered,
// deadlines lazy, reads straight from nc.
func New(nc net.Conn) *Conn {
	c := &Conn{Conn: nc}
	c.w.w, c.d.c, c.r.r = nc, nc, nc
	return c
}

// NewPooled is New with reads through pooled buffers where the platform
// allows (Unix TCP; elsewhere reads go straight to nc).
func NewPooled(nc net.Conn) *Conn {
	c := New(nc)
	c.r.raw = newRawReader(nc)
	return c
}

// Read reads through a pooled buffer when c pools reads and p is small.
func (c *Conn) Read(p []byte) (int, error) { return c.r.Read(p) }

// Write gathers p while corked, else writes it.
func (c *Conn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Cork starts gathering writes.
func (c *Conn) Cork() { c.w.Cork() }

// Flush writes what was gathered since Cork, in one system call, and stops
// gathering.
func (c *Conn) Flush() error { return c.w.Flush() }

// SetDeadline sets both deadlines, lazily.
func (c *Conn) SetDeadline(t time.Time) error { return c.d.SetDeadline(t) }

// SetReadDeadline sets the read deadline, lazily.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.d.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline, lazily.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.d.SetWriteDeadline(t) }

// Of returns the Conn under a WebSocket's network connection (which may be
// a TLS connection over it), or nil.
func Of(nc net.Conn) *Conn {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	c, _ := nc.(*Conn)
	return c
}

// Listener wraps every accepted connection with NewPooled.
type Listener struct{ net.Listener }

// Accept waits for the next connection.
func (l Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return NewPooled(c), nil
}
