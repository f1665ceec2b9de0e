package core

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

func TestSafeExt(t *testing.T) {
	cases := map[string]string{"a.pdf": ".pdf", "a.tar.gz": ".gz", "a": "", "a.": "", "a.p df": "", "a.ünï": "",
		"a." + strings.Repeat("x", 16): "." + strings.Repeat("x", 16), "a." + strings.Repeat("x", 17): ""}
	for in, want := range cases {
		if got := safeExt(in); got != want {
			t.Errorf("safeExt(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeData(t *testing.T) {
	ok := []string{"", "aGk=", "aGVsbG8=", "AAAA"}
	bad := []string{"aGk", "aGk=\n", "a\rGk=", "aGk!", "aGl=", "====", " aGk=",
		// Line breaks in whole quanta, which the length alone would not reveal.
		"aGk=\n\n\n\n", "\r\n\r\naGk=", "aG\r\n\r\nk=", "AAAA\n\n\n\nAAAA", "aGVs\r\r\r\rbG8="}
	for _, s := range ok {
		if _, valid := decodeData(s); !valid {
			t.Errorf("decodeData(%q) rejected", s)
		}
	}
	for _, s := range bad {
		if _, valid := decodeData(s); valid {
			t.Errorf("decodeData(%q) accepted", s)
		}
	}
}

func TestWsURL(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1:2727":      "ws://127.0.0.1:2727/ws",
		"ws://h:1":            "ws://h:1/ws",
		"wss://h:443/":        "wss://h:443/ws",
		"wss://h/custom/path": "wss://h/custom/path",
		"[::1]:80":            "ws://[::1]:80/ws",
	}
	for in, want := range cases {
		if got, err := wsURL(in); err != nil || got != want {
			t.Errorf("wsURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"http://h:1", "ws://", "ftp://x"} {
		if _, err := wsURL(in); err == nil {
			t.Errorf("wsURL(%q) accepted", in)
		}
	}
	if got := splitAddrs(" a:1 ;; b:2;"); len(got) != 2 || got[0] != "a:1" || got[1] != "b:2" {
		t.Errorf("splitAddrs = %q", got)
	}
}

// wsServer is a WebSocket server running serve on every connection it
// upgrades (closed when serve returns), shut down when the test ends.
func wsServer(t testing.TB, serve func(ws *websocket.Conn)) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		serve(ws)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeServer accepts one login and then plays frames the test supplies,
// answering every other request with code 0.
type fakeServer struct {
	*httptest.Server
	frames chan [2][]byte     // {type byte, data}
	acks   chan *protocol.Msg // xferAcks, cmdAcks and xferFails the client sent (dropped when full)
	mu     sync.Mutex
	conns  []*websocket.Conn
	users  []protocol.UserStatus // the getUserStatus reply (set before login)
	// onLogin, when set, adjusts the login reply (limits, resume token).
	onLogin func(reply *protocol.Msg)
	pings   atomic.Int64 // WebSocket pings received, every connection
}

func newFakeServer(t testing.TB) *fakeServer {
	fs := &fakeServer{frames: make(chan [2][]byte, 16), acks: make(chan *protocol.Msg, 64)}
	fs.Server = wsServer(t, func(ws *websocket.Conn) {
		fs.mu.Lock()
		fs.conns = append(fs.conns, ws)
		onLogin := fs.onLogin
		fs.mu.Unlock()
		var wmu sync.Mutex
		write := func(mt int, b []byte) {
			wmu.Lock()
			defer wmu.Unlock()
			_ = ws.WriteMessage(mt, b)
		}
		ws.SetPingHandler(func(data string) error {
			fs.pings.Add(1)
			wmu.Lock()
			defer wmu.Unlock()
			return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		done := make(chan struct{})
		defer close(done)
		go func() {
			for {
				select {
				case f, ok := <-fs.frames:
					if !ok {
						return
					}
					mt := websocket.TextMessage
					if f[0][0] == 1 {
						mt = websocket.BinaryMessage
					}
					write(mt, f[1])
				case <-done:
					return
				}
			}
		}()
		for {
			mt, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if mt != websocket.TextMessage {
				continue
			}
			m, err := protocol.Decode(b)
			if err == nil && (m.Op == protocol.OpXferAck || m.Op == protocol.OpCmdAck || m.Op == protocol.OpXferFail) {
				select {
				case fs.acks <- m:
				default:
				}
			}
			if err != nil || m.ID == 0 {
				continue
			}
			reply := &protocol.Msg{ID: m.ID}
			switch m.Op {
			case protocol.OpLogin:
				reply.UsrID = "me"
				reply.Limits = &protocol.Limits{MaxBuffer: 1 << 20, MaxFile: 1 << 20, Chunk: 1024, Window: 4096, PingTimeout: 10000}
				if onLogin != nil {
					onLogin(reply)
				}
			case protocol.OpSendBegin:
				reply.Window, reply.Chunk = 4096, 1024
			case protocol.OpGetUserStatus:
				reply.Users = fs.users
			}
			write(websocket.TextMessage, protocol.Encode(reply))
		}
	})
	t.Cleanup(func() { // before wsServer's srv.Close, which waits for the handlers
		close(fs.frames)
		fs.mu.Lock()
		for _, c := range fs.conns {
			c.Close()
		}
		fs.mu.Unlock()
		fs.Close()
	})
	return fs
}

type countingCB struct {
	NopCallback
	mu       sync.Mutex
	loggedIn bool
	meetings int
}

func (c *countingCB) LoginSuccess(string, string) { c.setLoggedIn(true) }
func (c *countingCB) LineOff(int)                 { c.setLoggedIn(false) }

func (c *countingCB) setLoggedIn(v bool) {
	c.mu.Lock()
	c.loggedIn = v
	c.mu.Unlock()
}
func (c *countingCB) GetMeetingsSuccess(string, string) {
	c.mu.Lock()
	c.meetings++
	c.mu.Unlock()
}
func (c *countingCB) GetMeetingsFail(int, string) { c.GetMeetingsSuccess("", "") }

func (c *countingCB) get() (bool, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.loggedIn, c.meetings
}

func waitCond(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// FuzzServerFrames feeds a logged-in client arbitrary text and binary frames
// from a fake server: the engine must neither crash nor stop answering.
func FuzzServerFrames(f *testing.F) {
	f.Add([]byte(`{"push":"xferBegin","task":"t","from":"x","kind":"file","total":5,"name":"../../a"}`),
		protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: "t"}))
	f.Add([]byte(`{"push":"callIn","callID":"c","from":"x","meetObj":"{}"}`),
		append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: "c", Peer: "x"}), 1, 2, 3))
	f.Add([]byte(`{"push":"xferDone","task":"t"}`), []byte{2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 't'})
	f.Add([]byte(`{"push":"sendRslt","task":"t","code":0}`), []byte{})
	f.Add([]byte(`{"id":99,"code":5}`), []byte{1})
	f.Add([]byte(`{"push":"userStatus","user":{"userID":"u","userStatus":1}}`), []byte{})
	f.Add([]byte(`{"push":"xferAck","task":"t","n":-1}`), []byte{})
	fs := newFakeServer(f)
	cb := &countingCB{}
	m := New(Config{Callback: cb, TempDir: f.TempDir()})
	defer m.Close()
	m.SetServerAddr(strings.TrimPrefix(fs.URL, "http://"))
	m.Login("a", "b", "", "me", "", "")
	waitCond(f, "login", func() bool { ok, _ := cb.get(); return ok })
	m.StartUserStatusNotify("")
	f.Fuzz(func(t *testing.T, text, bin []byte) {
		if ok, _ := cb.get(); !ok {
			// A lineOff in an earlier input ended the session: log in again.
			m.Login("a", "b", "", "me", "", "")
			waitCond(t, "login", func() bool { ok, _ := cb.get(); return ok })
		}
		if len(text) > 0 {
			fs.frames <- [2][]byte{{0}, text}
		}
		if len(bin) > 0 {
			fs.frames <- [2][]byte{{1}, bin}
		}
		_, before := cb.get()
		m.GetMeetings("")
		waitCond(t, "engine still answering", func() bool { _, n := cb.get(); return n > before })
	})
}

// BenchmarkDecodeData validates and decodes a 1 MiB sendBuffer payload
// (the sender's whole-payload pass before any chunk leaves).
func BenchmarkDecodeData(b *testing.B) {
	data := base64.StdEncoding.EncodeToString(make([]byte, 1<<20))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := decodeData(data); !ok {
			b.Fatal("bad")
		}
	}
}

// BenchmarkDispatch emits events that the dispatch goroutine runs (the path
// of every callback): per event, no stack-trace parsing.
func BenchmarkDispatch(b *testing.B) {
	var ran atomic.Int64
	d := NewDispatcher(DispatcherConfig{})
	src := d.attach(nil) // keeps the goroutine alive between events
	defer d.close(src)
	ev := func(Callback) { ran.Add(1) }
	b.ReportAllocs()
	n := int64(0)
	for b.Loop() {
		d.emit(src, ev)
		n++
	}
	for ran.Load() < n {
		runtime.Gosched()
	}
}

// BenchmarkPoll emits an event and polls it (poll mode, one event per Poll:
// a GUI loop woken per event): per Poll, no stack-trace parsing.
func BenchmarkPoll(b *testing.B) {
	d := NewDispatcher(DispatcherConfig{Manual: true})
	src := d.attach(nil)
	defer d.close(src)
	ev := func(Callback) {}
	b.ReportAllocs()
	for b.Loop() {
		d.emit(src, ev)
		if d.Poll(1) != 1 {
			b.Fatal("Poll ran nothing")
		}
	}
}
