package netconn

import (
	"io"
	"net"
	"sync"
)

// gatherMax is the most a corked connection gathers before it writes;
// larger writes (transfer chunks) go out at once, with what was gathered,
// in one vectored write.
const gatherMax = 64 << 10

var gatherPool = sync.Pool{New: func() any { b := make([]byte, 0, gatherMax); return &b }}

// gatherer gathers the writes made between Cork and Flush and writes them
// to w with one system call: a writer that has several WebSocket messages
// queued puts them on the wire together instead of one write each (a
// system call costs about a microsecond here, and on loopback each write
// also runs the receiver's network stack). Writes outside Cork/Flush go
// straight through. Safe for concurrent use: a write from another goroutine
// while corked (a pong) is gathered too and leaves with the next Flush. The
// buffer is pooled: an idle connection holds none.
type gatherer struct {
	w io.Writer // the socket

	mu     sync.Mutex
	corked bool
	buf    *[]byte // while corked and something was gathered
}

// Cork starts gathering writes.
func (g *gatherer) Cork() {
	g.mu.Lock()
	g.corked = true
	g.mu.Unlock()
}

// Flush writes what was gathered since Cork and stops gathering.
func (g *gatherer) Flush() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.corked = false
	if g.buf == nil {
		return nil
	}
	b := g.buf
	g.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = g.w.Write(*b)
	}
	*b = (*b)[:0]
	gatherPool.Put(b)
	return err
}

// Write gathers p while corked, else writes it.
func (g *gatherer) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.corked {
		return g.w.Write(p)
	}
	if g.buf == nil {
		g.buf = gatherPool.Get().(*[]byte)
	}
	if len(*g.buf)+len(p) <= gatherMax {
		*g.buf = append(*g.buf, p...)
		return len(p), nil
	}
	// Too large to gather: what was gathered and p in one writev (when w
	// is a TCP connection; net.Buffers writes them one by one elsewhere).
	b := g.buf
	g.buf = nil
	bufs := net.Buffers{*b, p}
	_, err := bufs.WriteTo(g.w)
	*b = (*b)[:0]
	gatherPool.Put(b)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
