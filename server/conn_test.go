package server

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// writers counts the server's connections that have a writer running.
func writers(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		c.wmu.Lock()
		if c.writing {
			n++
		}
		c.wmu.Unlock()
	}
	return n
}

// TestWriterOnDemand: an idle connection keeps no writer goroutine (only its
// reader), pings still reach it, and pushes that arrive after it went idle
// start a writer that delivers every one of them, in order; then the
// connection goes idle again. Three rounds.
func TestWriterOnDemand(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = 300 * time.Millisecond })
	before := runtime.NumGoroutine()
	var pings atomic.Int64
	b := dialHook(t, s, "bob", func(ws *websocket.Conn) {
		ws.SetPingHandler(func(data string) error {
			pings.Add(1)
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
	})
	if r := b.req(loginMsg("ent1", "bob")); r.Code != 0 {
		t.Fatalf("login bob: %d", r.Code)
	}
	t.Cleanup(b.checkSeq)
	a := login(t, s, "ent1", "alice")
	if code := b.code(protocol.Msg{Op: protocol.OpStartStatusNotify}); code != 0 {
		t.Fatal(code)
	}
	fromAlice := func(m *protocol.Msg) bool { return m.User.UserID == "alice" }
	// Two clients, each with its reader goroutine, and the server's two
	// readers: with a writer per connection there would be two more.
	idle := func(what string) {
		t.Helper()
		waitFor(t, waitTime, what, func() bool { return runtime.NumGoroutine() <= before+4 && writers(s) == 0 })
	}
	const burst = 40
	for round := range 3 {
		idle(fmt.Sprintf("round %d: both connections idle with no writer", round))
		p0 := pings.Load()
		waitFor(t, waitTime, "pings to an idle connection", func() bool { return pings.Load() >= p0+3 })
		idle(fmt.Sprintf("round %d: idle again after the pings", round))

		n0 := b.count(protocol.PushUserStatus, fromAlice)
		for i := range burst {
			a.send(protocol.Msg{Op: protocol.OpSetDND, DND: round*100 + i + 1})
		}
		waitFor(t, waitTime, "the burst of status pushes", func() bool {
			return b.count(protocol.PushUserStatus, fromAlice) == n0+burst
		})
		b.mu.Lock()
		var got []int
		for _, m := range b.pushes {
			if m.Push == protocol.PushUserStatus && fromAlice(m) {
				got = append(got, m.User.DNDType)
			}
		}
		b.mu.Unlock()
		for i, dnd := range got[n0:] {
			if want := round*100 + i + 1; dnd != want {
				t.Fatalf("round %d: push %d has DND %d, want %d (out of order)", round, i, dnd, want)
			}
		}
	}
	idle("idle after the last burst")
	// Both connections survived: many ping timeouts have passed.
	a.sync()
	b.sync()
}

// TestNoPingToPingingClient: a client that pings (as the library does)
// gets pongs but no pings of the server's, halving keepalive traffic; once
// it falls silent the server's pings start again.
func TestNoPingToPingingClient(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = 300 * time.Millisecond }) // ping period 100 ms
	var pings, pongs atomic.Int64
	b := dialHook(t, s, "bob", func(ws *websocket.Conn) {
		ws.SetPingHandler(func(data string) error {
			pings.Add(1)
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		ws.SetPongHandler(func(string) error {
			pongs.Add(1)
			return nil
		})
	})
	if r := b.req(loginMsg("ent1", "bob")); r.Code != 0 {
		t.Fatalf("login bob: %d", r.Code)
	}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	ping := func() {
		if err := b.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	// Settle: a ping of the server's may have left before ours began.
	for pongs.Load() < 3 {
		<-tick.C
		ping()
	}
	p0 := pings.Load()
	for pongs.Load() < 30 { // about 12 ping periods of the server's
		<-tick.C
		ping()
	}
	if n := pings.Load() - p0; n != 0 {
		t.Fatalf("the server pinged a client that pings %d times", n)
	}
	waitFor(t, waitTime, "the server's pings to a silent client", func() bool { return pings.Load() >= p0+2 })
	b.sync()
}
