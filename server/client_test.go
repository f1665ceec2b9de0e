package server

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// Test accounts created for every test server.
var testAccounts = map[string]string{"ent1": "pw1", "ent2": "pw2"}

// newTestServer starts a server on 127.0.0.1:0 in a temp dir with the test
// accounts; mod may change the config. The server is closed at cleanup.
func newTestServer(t testing.TB, mod func(*Config)) *Server {
	t.Helper()
	dir := t.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			t.Fatal(err)
		}
	}
	return startServer(t, dir, mod)
}

// startServer starts a server on an existing data dir.
func startServer(t testing.TB, dir string, mod func(*Config)) *Server {
	t.Helper()
	// A short resume grace: raw test clients never resume, so a closed
	// connection's session ends promptly.
	cfg := Config{Listen: "127.0.0.1:0", DataDir: dir, RingTimeout: 300 * time.Millisecond, ResumeGrace: 50 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

const waitTime = 10 * time.Second

// tclient is a raw protocol client: it sends what it is told and records
// every reply, push and binary frame the server sends.
type tclient struct {
	t    *testing.T
	name string
	ws   *websocket.Conn
	wmu  sync.Mutex

	mu       sync.Mutex
	nextID   uint64
	replies  map[uint64]*protocol.Msg
	pushes   []*protocol.Msg
	taken    []bool
	bins     [][]byte
	binTaken []bool
	closed   bool
	lastSeq  uint64
	seqErr   string
	// After a successful login the client counts the server's frames per
	// lane and acknowledges them, as the library does (docs/protocol.md,
	// "Resume"); noAck turns that off to play a client that never acks.
	counting   bool
	recv, recB int64
	acked      int64
	noAck      bool
}

// countFrame counts a post-login frame and returns the ack to send, if due.
// c.mu must be held.
func (c *tclient) countFrame(bulk bool) []byte {
	if !c.counting {
		return nil
	}
	if bulk {
		c.recB++
	} else {
		c.recv++
	}
	if c.noAck || c.recv+c.recB-c.acked < 8 {
		return nil
	}
	c.acked = c.recv + c.recB
	return protocol.Encode(&protocol.Msg{Op: protocol.OpAck, N: c.recv, NB: c.recB})
}

func dial(t *testing.T, s *Server, name string) *tclient {
	t.Helper()
	return dialHook(t, s, name, nil)
}

// dialHook is dial with hook (if not nil) run on the connection before the
// client starts reading it (to set a ping handler, say).
func dialHook(t *testing.T, s *Server, name string, hook func(*websocket.Conn)) *tclient {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	if hook != nil {
		hook(ws)
	}
	c := &tclient{t: t, name: name, ws: ws, replies: make(map[uint64]*protocol.Msg)}
	go c.readLoop()
	t.Cleanup(func() { ws.Close() })
	return c
}

func (c *tclient) readLoop() {
	for {
		typ, data, err := c.ws.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.closed = true
			c.mu.Unlock()
			return
		}
		if typ == websocket.BinaryMessage {
			c.bins = append(c.bins, data)
			c.binTaken = append(c.binTaken, false)
			ack := c.countFrame(len(data) > 0 && data[0] == protocol.FrameChunk)
			c.mu.Unlock()
			if ack != nil {
				c.write(websocket.TextMessage, ack)
			}
			continue
		}
		m, err := protocol.Decode(data)
		if err == nil && m.Push == protocol.PushAck {
			c.mu.Unlock()
			continue
		}
		var ack []byte
		if err == nil && m.ID != 0 && m.UsrID != "" && !c.counting {
			c.counting = true // the login reply: counting starts after it
		} else {
			ack = c.countFrame(false)
		}
		if err != nil {
			c.seqErr = "undecodable frame " + string(data)
		} else if m.Push != "" {
			if m.Seq != c.lastSeq+1 && c.seqErr == "" {
				c.seqErr = fmt.Sprintf("push seq %d after %d", m.Seq, c.lastSeq)
			}
			c.lastSeq = m.Seq
			c.pushes = append(c.pushes, m)
			c.taken = append(c.taken, false)
		} else {
			c.replies[m.ID] = m
		}
		c.mu.Unlock()
		if ack != nil {
			c.write(websocket.TextMessage, ack)
		}
	}
}

func (c *tclient) write(typ int, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(typ, b)
}

// send sends m as a request (allocating its id) and returns the id.
func (c *tclient) send(m protocol.Msg) uint64 {
	c.mu.Lock()
	c.nextID++
	m.ID = c.nextID
	c.mu.Unlock()
	if err := c.write(websocket.TextMessage, protocol.Encode(&m)); err != nil {
		c.t.Fatalf("%s: send %s: %v", c.name, m.Op, err)
	}
	return m.ID
}

// oneway sends m without an id.
func (c *tclient) oneway(m protocol.Msg) {
	if err := c.write(websocket.TextMessage, protocol.Encode(&m)); err != nil {
		c.t.Fatalf("%s: send %s: %v", c.name, m.Op, err)
	}
}

// reply waits for the reply to request id.
func (c *tclient) reply(id uint64) *protocol.Msg {
	c.t.Helper()
	var r *protocol.Msg
	waitFor(c.t, waitTime, fmt.Sprintf("%s: reply %d", c.name, id), func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		r = c.replies[id]
		return r != nil
	})
	return r
}

// req sends a request and waits for its reply.
func (c *tclient) req(m protocol.Msg) *protocol.Msg {
	c.t.Helper()
	return c.reply(c.send(m))
}

// code sends a request and returns its reply code.
func (c *tclient) code(m protocol.Msg) int {
	c.t.Helper()
	return c.req(m).Code
}

// expect waits for the first unconsumed push named push that satisfies
// match (nil: any), consumes and returns it.
func (c *tclient) expect(push string, match func(*protocol.Msg) bool) *protocol.Msg {
	c.t.Helper()
	var got *protocol.Msg
	waitFor(c.t, waitTime, c.name+": push "+push, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, m := range c.pushes {
			if !c.taken[i] && m.Push == push && (match == nil || match(m)) {
				c.taken[i] = true
				got = m
				return true
			}
		}
		return false
	})
	return got
}

// count returns how many pushes named push (matching, if given) arrived, consumed or not.
func (c *tclient) count(push string, match func(*protocol.Msg) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.pushes {
		if m.Push == push && (match == nil || match(m)) {
			n++
		}
	}
	return n
}

// pushCount is the number of pushes received so far.
func (c *tclient) pushCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pushes)
}

// pushesSince describes the pushes after the first n that satisfy match.
func (c *tclient) pushesSince(n int, match func(*protocol.Msg) bool) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.pushes[n:] {
		if match(m) {
			out = append(out, fmt.Sprintf("%s%+v", m.Push, *m))
		}
	}
	return out
}

// sync makes a round trip, so every push queued for this client before it is
// received (the server queues in order on one connection).
func (c *tclient) sync() {
	c.t.Helper()
	c.req(protocol.Msg{Op: protocol.OpGetUserStatus})
}

// expectBin waits for the next unconsumed binary frame and returns its header and payload.
func (c *tclient) expectBin() (protocol.Header, []byte) {
	c.t.Helper()
	var frame []byte
	waitFor(c.t, waitTime, c.name+": binary frame", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, b := range c.bins {
			if !c.binTaken[i] {
				c.binTaken[i] = true
				frame = b
				return true
			}
		}
		return false
	})
	h, p, err := protocol.ParseHeader(frame)
	if err != nil {
		c.t.Fatalf("%s: bad binary frame from server: %v", c.name, err)
	}
	return h, p
}

// drainBins marks every binary frame received so far as consumed.
func (c *tclient) drainBins() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.binTaken {
		c.binTaken[i] = true
	}
}

func (c *tclient) binCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bins)
}

func (c *tclient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *tclient) waitClosed() {
	c.t.Helper()
	waitFor(c.t, waitTime, c.name+": connection closed", c.isClosed)
}

// checkSeq fails the test if pushes were not numbered 1, 2, 3, ...
func (c *tclient) checkSeq() {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seqErr != "" {
		c.t.Errorf("%s: %s", c.name, c.seqErr)
	}
}

// sendBin sends a binary frame.
func (c *tclient) sendBin(h protocol.Header, payload []byte) {
	b := protocol.AppendHeader(nil, h)
	b = append(b, payload...)
	if err := c.write(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("%s: send binary: %v", c.name, err)
	}
}

// loginMsg is a valid login for enterprise ent as user priv.
func loginMsg(ent, priv string) protocol.Msg {
	return protocol.Msg{Op: protocol.OpLogin, Ver: protocol.Version, Acnt: ent,
		Pswd: md5Hex(testAccounts[ent]), Nick: priv, Priv: priv}
}

// login dials and logs in as priv in enterprise ent.
func login(t *testing.T, s *Server, ent, priv string) *tclient {
	t.Helper()
	c := dial(t, s, priv)
	r := c.req(loginMsg(ent, priv))
	if r.Code != 0 {
		t.Fatalf("login %s/%s: code %d", ent, priv, r.Code)
	}
	t.Cleanup(c.checkSeq)
	return c
}
