package server

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/netconn"
)

// fdMargin is how many descriptors below the process's open-file limit the
// connection cap stays, for the store, the log, webhook calls and the
// accept of a connection about to be refused.
const fdMargin = 256

// defaultMaxConns derives the connection cap from RLIMIT_NOFILE.
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 20
	}
	return max(int(rl.Cur)-fdMargin, 16)
}

// connLimiter counts the server's open TCP connections, in all and, per
// address (IPv6: /64), those that have not logged in yet. Guarded by mu.
type connLimiter struct {
	maxConns, maxPending int

	mu      sync.Mutex
	open    int
	pending map[string]int
}

// limitListener refuses, before any HTTP, a connection over the caps: 503
// when the server is full, 429 when its address already has maxPending
// connections that have not logged in. The response is written on the
// raw socket (TLS or not: a TLS client just sees the connection close).
type limitListener struct {
	net.Listener
	lim *connLimiter
	tls bool
}

// trackedConn is an accepted connection counted by its limiter until Close.
// It keeps *net.TCPConn's methods (SyscallConn: the netconn.Conn's pooled reads).
type trackedConn struct {
	*net.TCPConn
	lim  *connLimiter
	key  string
	once sync.Once
	// pending: not logged in yet (counted in lim.pending). Guarded by lim.mu.
	pending bool
}

// Accept returns the next connection within the caps; those over them are
// answered and closed here. The HTTP server's accept loop.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := nc.(*net.TCPConn)
		if !ok {
			return nc, nil
		}
		key := addrKey(nc.RemoteAddr())
		status := l.lim.admit(key)
		if status == 0 {
			return &trackedConn{TCPConn: tc, lim: l.lim, key: key, pending: true}, nil
		}
		if !l.tls {
			msg := "server full\n"
			if status == 429 {
				msg = "too many connections from your address that have not logged in\n"
			}
			tc.SetWriteDeadline(time.Now().Add(time.Second))
			tc.Write([]byte("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) +
				"\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: " +
				strconv.Itoa(len(msg)) + "\r\n\r\n" + msg))
		}
		tc.Close()
	}
}

// admit counts a new connection from key: 0, or the HTTP status refusing it.
// The HTTP server's accept loop; takes l.mu.
func (l *connLimiter) admit(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.maxConns:
		return 503
	case l.maxPending > 0 && l.pending[key] >= l.maxPending:
		return 429
	}
	l.open++
	l.pending[key]++
	return 0
}

// settle stops counting c as pending (it logged in). Idempotent. Takes l.mu.
func (l *connLimiter) settle(c *trackedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unpendLocked(c)
}

// unpendLocked is settle for callers holding l.mu.
func (l *connLimiter) unpendLocked(c *trackedConn) {
	if !c.pending {
		return
	}
	c.pending = false
	if l.pending[c.key]--; l.pending[c.key] <= 0 {
		delete(l.pending, c.key)
	}
}

// Close closes the socket and, once, stops counting it. Any goroutine,
// under any lock (conn.kill): lim.mu, which it takes, is a leaf.
func (c *trackedConn) Close() error {
	err := c.TCPConn.Close()
	c.once.Do(func() {
		c.lim.mu.Lock()
		c.lim.unpendLocked(c)
		c.lim.open--
		c.lim.mu.Unlock()
	})
	return err
}

// trackedOf finds the trackedConn under a WebSocket's net.Conn (nil when
// the connection did not come from the server's listener).
func trackedOf(nc net.Conn) *trackedConn {
	if t, ok := nc.(*tls.Conn); ok {
		nc = t.NetConn()
	}
	if cc, ok := nc.(*netconn.Conn); ok {
		nc = cc.Conn
	}
	tc, _ := nc.(*trackedConn)
	return tc
}

// loggedIn stops counting c's connection against its address's pending
// limit. Any goroutine.
func (c *conn) loggedIn() {
	if tc := trackedOf(c.ws.NetConn()); tc != nil {
		tc.lim.settle(tc)
	}
}

// counts returns the open connections and those pending from key (tests).
// Takes l.mu.
func (l *connLimiter) counts(key string) (open, pending int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open, l.pending[key]
}
