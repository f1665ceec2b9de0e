package server

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// statusOf opens a TCP connection, sends GET path and returns the status
// code answered and whether the server then closed the connection.
func statusOf(t *testing.T, addr, path string) (int, bool) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitTime))
	io.WriteString(nc, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	_, err = br.ReadByte()
	return resp.StatusCode, err == io.EOF
}

// TestConnectionLimits: a plain HTTP request's connection is closed after
// the answer (no keep-alive to hoard); an address may hold only
// MaxPendingPerIP connections that have not logged in (the next gets 429
// before any upgrade), a login frees its slot; and the server holds at most
// MaxConns connections (503 beyond), so one client cannot take every
// descriptor.
func TestConnectionLimits(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxPendingPerIP, c.MaxConns = 3, 6 })
	if code, closed := statusOf(t, s.Addr(), "/"); code != 200 || !closed {
		t.Fatalf("GET /: %d, closed %v; want 200 and the connection closed", code, closed)
	}
	// The client sees the close before the server has counted it: wait, so
	// that the counts below are the held connections' alone.
	waitFor(t, waitTime, "GET / connection uncounted", func() bool { o, p := s.limiter.counts("127.0.0.1"); return o == 0 && p == 0 })
	var hold []net.Conn
	defer func() {
		for _, c := range hold {
			c.Close()
		}
	}()
	for range 3 {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		hold = append(hold, nc)
	}
	waitFor(t, waitTime, "3 pending", func() bool { _, p := s.limiter.counts("127.0.0.1"); return p == 3 })
	if code, _ := statusOf(t, s.Addr(), "/ws"); code != http.StatusTooManyRequests {
		t.Fatalf("4th pending connection: %d, want 429", code)
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil); err == nil {
		t.Fatal("WebSocket over the pending limit accepted")
	}
	// Logged-in connections do not count: free one slot, log in twice.
	hold[0].Close()
	hold = hold[1:]
	waitFor(t, waitTime, "slot freed", func() bool { _, p := s.limiter.counts("127.0.0.1"); return p == 2 })
	login(t, s, "ent1", "alice")
	login(t, s, "ent1", "bob")
	if open, p := s.limiter.counts("127.0.0.1"); open != 4 || p != 2 {
		t.Fatalf("open %d pending %d, want 4 and 2", open, p)
	}
	// The global cap (6) refuses the 7th connection with 503, whoever opens it.
	login(t, s, "ent1", "carol")
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	hold = append(hold, nc)
	waitFor(t, waitTime, "6 open", func() bool { o, _ := s.limiter.counts("127.0.0.1"); return o == 6 })
	if code, _ := statusOf(t, s.Addr(), "/"); code != http.StatusServiceUnavailable {
		t.Fatalf("connection over MaxConns: %d, want 503", code)
	}
}
