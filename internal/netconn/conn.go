package netconn

import (
	"crypto/tls"
	"net"
)

// Conn is the connection both sides put under a WebSocket: a net.Conn
// whose writes between Cork and Flush leave in one system call
// (gatherer, gather.go: Write, Cork, Flush), whose deadlines reach the
// socket lazily (lazyDeadlines, deadline.go: SetDeadline,
// SetReadDeadline, SetWriteDeadline) and, when made by NewPooled or
// Listener, whose small reads go through pooled buffers (pooledReader,
// pooledread.go: Read). Close and the addresses are the socket's.
//
// The parts are embedded, not wrapped: each method is the part's own,
// reached through a promoted-method wrapper (a jump), so composing them
// costs no call beyond what one type doing all three did.
type Conn struct {
	Conn net.Conn // the socket

	gatherer
	lazyDeadlines
	pooledReader
}

// New wraps nc (the library's dialed connections): writes gathered,
// deadlines lazy, reads straight from nc.
func New(nc net.Conn) *Conn {
	c := &Conn{Conn: nc}
	c.gatherer.w, c.lazyDeadlines.c, c.pooledReader.r = nc, nc, nc
	return c
}

// NewPooled is New with reads through pooled buffers where the platform
// allows (Unix TCP; elsewhere reads go straight to nc).
func NewPooled(nc net.Conn) *Conn {
	c := New(nc)
	c.pooledReader.raw = newRawReader(nc)
	return c
}

// Close closes the socket.
func (c *Conn) Close() error { return c.Conn.Close() }

// LocalAddr is the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.Conn.LocalAddr() }

// RemoteAddr is the socket's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.Conn.RemoteAddr() }

// A Conn is a net.Conn.
var _ net.Conn = (*Conn)(nil)

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
