package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The floors: what the machine does with no signaling logic at all.
//
//   - a raw TCP relay: a sender and a receiver connect to a middle, which
//     io.CopyBuffer's (256 KiB) one into the other;
//   - a minimal gorilla/websocket relay: each client says hello with its
//     number, then every binary message "M"+dst+payload is forwarded as is to
//     client dst (dst = broadcastDst: to every subscriber), with one
//     ReadMessage and one WriteMessage per message, no other logic.
//
// The relays run in a separate process (-role floor-server) when the server
// does, or in-process otherwise.

const (
	broadcastDst = 0xFFFFFFFF
	relayMsgLen  = 64 // bytes per relay message, like a small sendCmd
)

// relay is the minimal gorilla/websocket relay.
type relay struct {
	up    websocket.Upgrader
	mu    sync.RWMutex
	conns map[uint32]*relayConn
	subs  map[uint32]*relayConn
}

type relayConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

func (c *relayConn) send(b []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(websocket.BinaryMessage, b)
}

func newRelay() *relay {
	return &relay{conns: make(map[uint32]*relayConn), subs: make(map[uint32]*relayConn),
		up: websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}}
}

// ServeHTTP serves one relay connection. Runs in the HTTP server's goroutine.
func (r *relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ws, err := r.up.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	c := &relayConn{ws: ws}
	var id uint32
	registered := false
	defer func() {
		if registered {
			r.mu.Lock()
			delete(r.conns, id)
			delete(r.subs, id)
			r.mu.Unlock()
		}
	}()
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if len(b) < 5 {
			continue
		}
		switch b[0] {
		case 'H': // hello: id, subscriber flag; answered with 'h'
			id = binary.BigEndian.Uint32(b[1:5])
			r.mu.Lock()
			r.conns[id] = c
			if len(b) > 5 && b[5] == 1 {
				r.subs[id] = c
			}
			r.mu.Unlock()
			registered = true
			b[0] = 'h'
			if c.send(b) != nil {
				return
			}
		case 'M':
			dst := binary.BigEndian.Uint32(b[1:5])
			if dst == broadcastDst {
				r.mu.RLock()
				subs := make([]*relayConn, 0, len(r.subs))
				for _, s := range r.subs {
					subs = append(subs, s)
				}
				r.mu.RUnlock()
				for _, s := range subs {
					_ = s.send(b)
				}
				continue
			}
			r.mu.RLock()
			d := r.conns[dst]
			r.mu.RUnlock()
			if d != nil {
				_ = d.send(b)
			}
		}
	}
}

// tcpRelay pairs a sender and a receiver by a 9-byte hello ('S' or 'R' and
// a pair number) and copies the sender's bytes to the receiver.
type tcpRelay struct {
	mu      sync.Mutex
	waiting map[uint64]net.Conn // the first of each pair
	roles   map[uint64]byte
}

func (t *tcpRelay) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go t.handle(c)
	}
}

func (t *tcpRelay) handle(c net.Conn) {
	var hello [9]byte
	if _, err := io.ReadFull(c, hello[:]); err != nil {
		c.Close()
		return
	}
	pair := binary.BigEndian.Uint64(hello[1:])
	t.mu.Lock()
	other, ok := t.waiting[pair]
	if !ok {
		t.waiting[pair] = c
		t.roles[pair] = hello[0]
		t.mu.Unlock()
		return
	}
	delete(t.waiting, pair)
	delete(t.roles, pair)
	t.mu.Unlock()
	src, dst := c, other
	if hello[0] == 'R' {
		src, dst = other, c
	}
	buf := make([]byte, 256<<10)
	_, _ = io.CopyBuffer(dst, src, buf)
	dst.Close()
	src.Close()
}

// floorServers are the two relays, listening.
type floorServers struct {
	wsAddr, tcpAddr string
	close           func()
}

// startFloors starts both relays in this process on 127.0.0.1:0.
func startFloors() (*floorServers, error) {
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		wl.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", newRelay())
	hs := &http.Server{Handler: mux}
	go hs.Serve(wl)
	tr := &tcpRelay{waiting: make(map[uint64]net.Conn), roles: make(map[uint64]byte)}
	go tr.serve(tl)
	return &floorServers{wsAddr: wl.Addr().String(), tcpAddr: tl.Addr().String(), close: func() {
		hs.Close()
		tl.Close()
	}}, nil
}

// tcpRelayThroughput streams through the TCP relay with n sender/receiver
// pairs for dur and returns bytes delivered and the elapsed time.
func tcpRelayThroughput(ctx context.Context, addr string, n int, dur time.Duration, pairBase uint64) (int64, time.Duration, error) {
	var total atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 2*n)
	start := time.Now()
	deadline := start.Add(dur)
	for i := 0; i < n; i++ {
		pair := pairBase + uint64(i)
		dial := func(role byte) (net.Conn, error) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return nil, err
			}
			var h [9]byte
			h[0] = role
			binary.BigEndian.PutUint64(h[1:], pair)
			_, err = c.Write(h[:])
			return c, err
		}
		r, err := dial('R')
		if err != nil {
			return 0, 0, err
		}
		s, err := dial('S')
		if err != nil {
			r.Close()
			return 0, 0, err
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer s.Close()
			buf := make([]byte, 1<<20)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				if _, err := s.Write(buf); err != nil {
					errc <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			defer r.Close()
			buf := make([]byte, 1<<20)
			for {
				k, err := r.Read(buf)
				total.Add(int64(k))
				if err != nil {
					if !errors.Is(err, io.EOF) {
						errc <- err
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	select {
	case err := <-errc:
		return total.Load(), el, err
	default:
	}
	return total.Load(), el, nil
}

// relayClient is a raw gorilla client of the relay.
type relayClient struct {
	id uint32
	ws *websocket.Conn
	mu sync.Mutex
}

func dialRelay(ctx context.Context, addr string, id uint32, sub bool, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*relayClient, error) {
	d := websocket.Dialer{NetDialContext: dial, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	c := &relayClient{id: id, ws: ws}
	h := make([]byte, 6)
	h[0] = 'H'
	binary.BigEndian.PutUint32(h[1:], id)
	if sub {
		h[5] = 1
	}
	if err := ws.WriteMessage(websocket.BinaryMessage, h); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, _, err := ws.ReadMessage(); err != nil {
		ws.Close()
		return nil, err
	}
	ws.SetReadDeadline(time.Time{})
	return c, nil
}

// sendMsg sends a relay message to dst carrying kind, a sequence number and
// a scheduled time. Any goroutine.
func (c *relayClient) sendMsg(dst uint32, kind byte, sched int64) error {
	var b [relayMsgLen]byte
	b[0] = 'M'
	binary.BigEndian.PutUint32(b[1:5], dst)
	binary.BigEndian.PutUint32(b[5:9], c.id)
	b[9] = kind
	binary.BigEndian.PutUint64(b[10:18], uint64(sched))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteMessage(websocket.BinaryMessage, b[:])
}

// readLoop hands every relay message (src, kind, sched) to fn until the
// connection closes. Runs in its own goroutine.
func (c *relayClient) readLoop(fn func(src uint32, kind byte, sched int64)) {
	for {
		_, b, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if len(b) >= 18 && b[0] == 'M' {
			fn(binary.BigEndian.Uint32(b[5:9]), b[9], int64(binary.BigEndian.Uint64(b[10:18])))
		}
	}
}
