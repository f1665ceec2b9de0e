package e2e

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy is a TCP proxy between the library and the server that can
// cut (close), reset (RST) or stall (stop forwarding, as a dead network
// does) every connection it carries.
type faultProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	pairs map[*proxyPair]struct{}
	wg    sync.WaitGroup

	held atomic.Int32 // connections held by limitDown now
}

type proxyPair struct {
	client, server net.Conn
	stall          chan struct{} // closed to stall both directions
	stallOnce      sync.Once
	closeOnce      sync.Once
	closed         chan struct{} // closed when the pair is dropped
	// down is how many more bytes may go from the server to the library,
	// shared by the connections limitDown applied to; nil: no limit.
	down atomic.Pointer[atomic.Int64]
}

func newFaultProxy(t testing.TB, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, pairs: make(map[*proxyPair]struct{})}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		pp := &proxyPair{client: c, server: s, stall: make(chan struct{}), closed: make(chan struct{})}
		p.mu.Lock()
		p.pairs[pp] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(pp, c, s)
		go p.pipe(pp, s, c)
	}
}

// pipe copies src to dst until either fails. A stalled pair swallows what
// it reads, like a dead network: only the ping timeouts can tell.
func (p *faultProxy) pipe(pp *proxyPair, src, dst net.Conn) {
	defer p.wg.Done()
	defer p.drop(pp)
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if src == pp.server && n > 0 {
			if allowed := pp.takeDown(n); allowed < n {
				if allowed > 0 {
					dst.Write(buf[:allowed])
				}
				p.held.Add(1)
				<-pp.closed // held: nothing more reaches the library
				p.held.Add(-1)
				return
			}
		}
		if n > 0 && !isStalled(pp) {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// limitDown lets only n more bytes through from the server to the library
// on the connections open now (n < 0: no limit), shared among them; after
// them the proxy stops reading from the server (its writes then back up,
// as on a congested path) until the connection is dropped. Connections
// accepted later are not limited: a held connection stays held however
// long the test takes to cut it, and the library's next one is not.
func (p *faultProxy) limitDown(n int64) {
	var b *atomic.Int64
	if n >= 0 {
		b = new(atomic.Int64)
		b.Store(n)
	}
	p.each(func(pp *proxyPair) { pp.down.Store(b) })
}

// takeDown takes up to n bytes from the pair's downstream budget and
// returns how many may pass.
func (pp *proxyPair) takeDown(n int) int {
	b := pp.down.Load()
	if b == nil {
		return n
	}
	for {
		left := b.Load()
		take := min(int64(n), left)
		if b.CompareAndSwap(left, left-take) {
			return int(take)
		}
	}
}

func isStalled(pp *proxyPair) bool {
	select {
	case <-pp.stall:
		return true
	default:
		return false
	}
}

func (p *faultProxy) drop(pp *proxyPair) {
	pp.closeOnce.Do(func() {
		close(pp.closed)
		pp.client.Close()
		pp.server.Close()
		p.mu.Lock()
		delete(p.pairs, pp)
		p.mu.Unlock()
	})
}

func (p *faultProxy) each(f func(*proxyPair)) int {
	p.mu.Lock()
	list := make([]*proxyPair, 0, len(p.pairs))
	for pp := range p.pairs {
		list = append(list, pp)
	}
	p.mu.Unlock()
	for _, pp := range list {
		f(pp)
	}
	return len(list)
}

// cut closes every connection (FIN on both sides).
func (p *faultProxy) cut() int { return p.each(p.drop) }

// reset aborts every connection (RST on both sides).
func (p *faultProxy) reset() int {
	return p.each(func(pp *proxyPair) {
		for _, c := range []net.Conn{pp.client, pp.server} {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
		}
		p.drop(pp)
	})
}

// stall stops forwarding on every connection without closing it: only the
// ping timeouts can tell.
func (p *faultProxy) stall() int {
	return p.each(func(pp *proxyPair) { pp.stallOnce.Do(func() { close(pp.stall) }) })
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.cut()
	p.wg.Wait()
}
