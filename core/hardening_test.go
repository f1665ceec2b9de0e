package core

import (
	"context"
	"fmt"
	"github.com/gorilla/websocket"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// loginFake logs a new Mgr in to fs and waits for LoginSuccess.
func loginFake(t *testing.T, fs *fakeServer, cb *countingCB) *Mgr {
	t.Helper()
	m := New(Config{Callback: cb})
	t.Cleanup(m.Close)
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	return m
}

// curConn returns the session's current connection, nil while reconnecting.
func curConn(m *Mgr) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil
	}
	return m.sess.c
}

// The client pings every third of the ping timeout the server announces in
// its login reply, not of the 10 s default it starts with (it used to keep
// the default's 3.3 s period for the life of the connection), and so on the
// connection of a resumed session too.
func TestPingPeriodFollowsServer(t *testing.T) {
	fs := newFakeServer(t)
	fs.onLogin = func(r *protocol.Msg) {
		r.Limits.PingTimeout = 300 // ms: a ping every 100 ms
		r.Limits.ResumeGrace = 10000
		r.Token, r.Boot = "tok", "boot"
	}
	m := loginFake(t, fs, &countingCB{})
	c := curConn(m)
	// At the default's period 10 pings would take 33 s (waitCond gives up
	// after 10 s), and the connection, whose read deadline is the announced
	// 300 ms, would die without the pongs: it must be the same connection.
	waitCond(t, "10 pings at the announced period", func() bool { return fs.pings.Load() >= 10 })
	if curConn(m) != c {
		t.Fatal("the connection died: the client did not ping at the announced period")
	}

	// A resumed session's new connection pings at the same period.
	c.kill()
	var c2 *conn
	waitCond(t, "resumed", func() bool { c2 = curConn(m); return c2 != nil && c2 != c })
	p0 := fs.pings.Load()
	waitCond(t, "10 pings on the resumed connection", func() bool { return fs.pings.Load() >= p0+10 })
	if curConn(m) != c2 {
		t.Fatal("the resumed connection died: the client did not ping at the announced period")
	}

	// A longer timeout than the default (a server at -ping-timeout 30s)
	// lengthens the period: 10 s, not 3.3 s.
	fs2 := newFakeServer(t)
	fs2.onLogin = func(r *protocol.Msg) { r.Limits.PingTimeout = 30000 }
	m2 := loginFake(t, fs2, &countingCB{})
	if got := curConn(m2).pingPeriod(); got != 10*time.Second {
		t.Fatalf("ping period with a 30 s server timeout = %v, want 10s", got)
	}
}

// blackHole is a TCP listener that never accepts: a connection to it
// completes in the kernel's backlog and then hears nothing, so a WebSocket
// dial to it waits for its whole timeout.
func blackHole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.Addr().String()
}

// switchDial dials the given address until dead is set, then the black
// hole instead, whatever address the engine asks for.
// holeDials counts the connections made to the black hole (the engine is
// then waiting for an upgrade reply that never comes).
type switchDial struct {
	hole      string
	dead      atomic.Bool
	holeDials atomic.Int32
}

func (d *switchDial) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.dead.Load() {
		addr = d.hole
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil && addr == d.hole {
		d.holeDials.Add(1)
	}
	return c, err
}

// timeClose returns how long m.Close takes.
func timeClose(m *Mgr) time.Duration {
	t0 := time.Now()
	m.Close()
	return time.Since(t0)
}

// closeBound is a hang guard, not a performance threshold: before the fix
// Close waited for a reconnect dial (5 s) or a handshake (10 s).
const closeBound = 2 * time.Second

// Close is prompt while the engine reconnects to a dead address list: the
// reconnect loop's dials, handshakes and backoff waits end with the session
// (they used to run on to their own timeouts: 5 s per dial).
func TestCloseIsPromptWhileReconnecting(t *testing.T) {
	fs := newFakeServer(t)
	fs.onLogin = func(r *protocol.Msg) {
		r.Limits.ResumeGrace = 60000
		r.Token, r.Boot = "tok", "boot"
	}
	d := &switchDial{hole: blackHole(t)}
	cb := &countingCB{}
	m := New(Config{Callback: cb, NetDial: d.dial})
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	d.dead.Store(true)
	curConn(m).kill()
	waitCond(t, "reconnecting", func() bool { return curConn(m) == nil })
	// Close while a reconnect waits on the black hole for its upgrade reply.
	waitCond(t, "a dial to the black hole", func() bool { return d.holeDials.Load() > 0 })
	took := timeClose(m)
	t.Logf("Close while reconnecting to a dead address: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while reconnecting", took)
	}
}

// Close is prompt mid-login: dialing a server that never answers, and
// waiting for a login reply that never comes.
func TestCloseIsPromptMidLogin(t *testing.T) {
	d := &switchDial{hole: blackHole(t)}
	d.dead.Store(true)
	m := New(Config{NetDial: d.dial})
	m.SetServerAddr(d.hole)
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "the dial under way", func() bool { return d.holeDials.Load() > 0 })
	took := timeClose(m)
	t.Logf("Close while dialing: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while dialing", took)
	}

	// A WebSocket server that accepts and never replies to the login.
	loginRead := make(chan struct{}, 1)
	mute := wsServer(t, func(ws *websocket.Conn) {
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			select {
			case loginRead <- struct{}{}:
			default:
			}
		}
	})
	m = New(Config{})
	m.SetServerAddr(mute.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	<-loginRead // the login request is sent
	took = timeClose(m)
	t.Logf("Close while waiting for the login reply: %v", took)
	if took > closeBound {
		t.Fatalf("Close took %v while waiting for the login reply", took)
	}
}

// blockingCmdCB blocks in NotifyCmdData until released.
type blockingCmdCB struct {
	countingCB
	entered chan string
	release chan struct{}
}

func (c *blockingCmdCB) NotifyCmdData(from, data string) {
	c.entered <- data
	<-c.release
}

// The library acknowledges a sendCmd (cmdAck, the sender's SendCmdRlst(0))
// once the application has the data — NotifyCmdData has returned — not when
// it queues the callback: it used to ack at once, so a busy application's
// queue grew without bound while its senders saw success.
func TestCmdAckAfterTheCallback(t *testing.T) {
	fs := newFakeServer(t)
	cb := &blockingCmdCB{entered: make(chan string, 1), release: make(chan struct{})}
	m := New(Config{Callback: cb})
	defer m.Close()
	released := false
	defer func() { // before Close, which waits for a running callback
		if !released {
			close(cb.release)
		}
	}()
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	cmd := func(task string) []byte {
		return append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: task, Peer: "peer"}), "hi"...)
	}
	fs.frames <- [2][]byte{{1}, cmd("c1")}
	fs.frames <- [2][]byte{{1}, cmd("c2")}
	<-cb.entered // the application is busy in c1's callback
	// No cmdAck for either while it is: nothing to poll for, so a bounded
	// wait (the old code acked both within microseconds).
	select {
	case a := <-fs.acks:
		t.Fatalf("%s for %s while the application had not returned from the callback", a.Op, a.Task)
	case <-time.After(300 * time.Millisecond):
	}
	cb.release <- struct{}{}
	if a := <-fs.acks; a.Op != protocol.OpCmdAck || a.Task != "c1" {
		t.Fatalf("got %s %s, want cmdAck c1", a.Op, a.Task)
	}
	<-cb.entered
	select {
	case a := <-fs.acks:
		t.Fatalf("%s for %s before c2's callback returned", a.Op, a.Task)
	case <-time.After(100 * time.Millisecond):
	}
	close(cb.release)
	released = true
	if a := <-fs.acks; a.Op != protocol.OpCmdAck || a.Task != "c2" {
		t.Fatalf("got %s %s, want cmdAck c2", a.Op, a.Task)
	}
}

// xferCB records the receive-side callbacks.
type xferCB struct {
	countingCB
	mu        sync.Mutex
	cancelled []string
	cmdRslt   []int
}

func (c *xferCB) NotifyCancelSend(id string) {
	c.mu.Lock()
	c.cancelled = append(c.cancelled, id)
	c.mu.Unlock()
}

func (c *xferCB) SendCmdRlst(_ string, code int, _ string) {
	c.mu.Lock()
	c.cmdRslt = append(c.cmdRslt, code)
	c.mu.Unlock()
}

func (c *xferCB) counts() (cancelled, cmdRslt int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cancelled), len(c.cmdRslt)
}

func xferBegin(task, kind string, total int64) [2][]byte {
	return [2][]byte{{0}, protocol.Encode(&protocol.Msg{Push: protocol.PushXferBegin, Task: task, From: "peer",
		Kind: kind, Total: total, Name: task + ".bin"})}
}

func chunk(task string, off int64, n int) [2][]byte {
	return [2][]byte{{1}, append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: task, Offset: off}), make([]byte, n)...)}
}

func loginCfg(t *testing.T, fs *fakeServer, cfg Config) *Mgr {
	t.Helper()
	m := New(cfg)
	t.Cleanup(m.Close)
	m.SetServerAddr(fs.Listener.Addr().String())
	m.Login("acnt", "pswd", "nick", "me", "", "")
	cb := cfg.Callback.(interface{ get() (bool, int) })
	waitCond(t, "login", func() bool { in, _ := cb.get(); return in })
	return m
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// A receiving library holds at most DefaultMaxIncoming (64) incoming
// transfers, each a temp file and descriptor at most: a further xferBegin
// is answered with xferFail(ServerException) and opens nothing (it used to
// open one temp file per xferBegin, without limit).
func TestIncomingTransfersBounded(t *testing.T) {
	fs := newFakeServer(t)
	dir := t.TempDir()
	loginCfg(t, fs, Config{Callback: &xferCB{}, TempDir: dir})
	for k := range DefaultMaxIncoming + 6 {
		fs.frames <- xferBegin(fmt.Sprintf("t%03d", k), protocol.KindFile, 100)
	}
	refused := 0
	for refused < 6 {
		select {
		case a := <-fs.acks:
			if a.Op != protocol.OpXferFail || a.Code != protocol.ServerException {
				t.Fatalf("got %s code %d for %s, want xferFail(%d)", a.Op, a.Code, a.Task, protocol.ServerException)
			}
			refused++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of 6 transfers over the limit refused", refused)
		}
	}
	waitCond(t, "64 temp files", func() bool { return countFiles(t, dir) == DefaultMaxIncoming })
}

// An incoming transfer that makes no progress for the stall timeout is
// discarded: xferFail(SendFail) to the server, NotifyCancelSend, temp file
// removed (stalled transfers used to be kept, file and all, for ever).
func TestStalledIncomingTransferDiscarded(t *testing.T) {
	fs := newFakeServer(t)
	dir := t.TempDir()
	cb := &xferCB{}
	loginCfg(t, fs, Config{Callback: cb, TempDir: dir, StallTimeout: 300 * time.Millisecond})
	fs.frames <- xferBegin("slow", protocol.KindFile, 100)
	fs.frames <- chunk("slow", 0, 10)
	waitCond(t, "temp file", func() bool { return countFiles(t, dir) == 1 })
	select {
	case a := <-fs.acks:
		if a.Op != protocol.OpXferFail || a.Code != protocol.SendFail || a.Task != "slow" {
			t.Fatalf("got %s code %d for %s, want xferFail(%d) for slow", a.Op, a.Code, a.Task, protocol.SendFail)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stalled transfer was never given up")
	}
	waitCond(t, "NotifyCancelSend", func() bool { n, _ := cb.counts(); return n == 1 })
	if n := countFiles(t, dir); n != 0 {
		t.Fatalf("%d temp files left after NotifyCancelSend", n)
	}
}

// A declared total is the sender's word: an incoming buffer announced at
// 100 MiB of which 1 KiB arrives costs about that, not the 85 MiB of
// base64 the library used to allocate at its first chunk.
func TestLyingTotalDoesNotAllocate(t *testing.T) {
	fs := newFakeServer(t)
	loginCfg(t, fs, Config{Callback: &xferCB{}})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fs.frames <- xferBegin("big", protocol.KindBuffer, 100<<20)
	fs.frames <- chunk("big", 0, 1024)
	for a := range fs.acks { // the chunk is stored: acknowledged (window/4)
		if a.Op == protocol.OpXferAck && a.Task == "big" && a.N == 1024 {
			break
		}
	}
	runtime.ReadMemStats(&after)
	grew := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB for a 100 MiB buffer of which 1 KiB arrived", grew>>10)
	if grew > 16<<20 {
		t.Fatalf("allocated %d MiB for 1 KiB received", grew>>20)
	}
}

// The temp file of an incoming file is created with Mgr.mu released: a
// slow file system does not stall the application's calls (it used to be
// created under the lock, so every call waited for it).
func TestTempFileCreatedOutsideLock(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	createTemp = func(dir, pattern string) (*os.File, error) {
		close(entered)
		<-release
		return os.CreateTemp(dir, pattern)
	}
	defer func() { createTemp = os.CreateTemp }()
	fs := newFakeServer(t)
	cb := &xferCB{}
	m := loginCfg(t, fs, Config{Callback: cb, TempDir: t.TempDir()})
	fs.frames <- xferBegin("f", protocol.KindFile, 10)
	<-entered
	defer close(release)
	m.SendCmd("", "aGk=") // needs only Mgr.mu: fails at once (target invalid)
	waitCond(t, "SendCmdRlst while a temp file is being created", func() bool { _, n := cb.counts(); return n == 1 })
}
