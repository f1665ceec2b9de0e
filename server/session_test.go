package server

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestLogin(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.PingTimeout = 3000e6 })
	c := dial(t, s, "x")

	if code := c.code(protocol.Msg{Op: protocol.OpGetUserStatus}); code != protocol.NotLogin {
		t.Errorf("request before login: code %d, want 12", code)
	}
	bad := loginMsg("ent1", "alice")
	bad.Ver = 2
	if code := c.code(bad); code != protocol.MismatchClientVer {
		t.Errorf("version 2: code %d, want 4", code)
	}
	bad = loginMsg("ent1", "alice")
	bad.Pswd = md5Hex("wrong")
	if code := c.code(bad); code != protocol.AcntPswdErr {
		t.Errorf("wrong password: code %d, want 7", code)
	}
	bad = loginMsg("ent1", "alice")
	bad.Acnt = "nobody"
	if code := c.code(bad); code != protocol.AcntPswdErr {
		t.Errorf("unknown account: code %d, want 7", code)
	}
	bad = loginMsg("ent1", "alice")
	bad.Auth = "token"
	if code := c.code(bad); code != protocol.CustomAuthNotSupport {
		t.Errorf("auth given: code %d, want 15", code)
	}
	bad = loginMsg("ent1", strings.Repeat("é", 129))
	if code := c.code(bad); code != protocol.ParamErr {
		t.Errorf("129-character privAcnt: code %d, want 5", code)
	}
	bad = loginMsg("ent1", "alice")
	bad.Nick = strings.Repeat("n", 129)
	if code := c.code(bad); code != protocol.ParamErr {
		t.Errorf("129-character nick: code %d, want 5", code)
	}

	ok := loginMsg("ent1", strings.Repeat("é", 128))
	ok.Pswd = strings.ToUpper(ok.Pswd) // hex case does not matter
	r := c.req(ok)
	if r.Code != 0 || r.UsrID != ok.Priv {
		t.Fatalf("login: code %d usrID %q", r.Code, r.UsrID)
	}
	want := protocol.Limits{MaxBuffer: DefaultMaxBuffer, MaxFile: DefaultMaxFile, Chunk: DefaultChunk, Window: DefaultWindow, PingTimeout: 3000, ResumeGrace: 50,
		MaxCmds: DefaultMaxCmds, MaxTransfers: DefaultMaxTransfers, MaxCmdBytes: DefaultMaxCmdBytes}
	if r.Limits == nil || *r.Limits != want {
		t.Errorf("limits %+v, want %+v", r.Limits, want)
	}
	if r.Token == "" || r.Boot == "" {
		t.Errorf("login reply without resume token (%q) or boot ID (%q)", r.Token, r.Boot)
	}
	if code := c.code(loginMsg("ent1", "bob")); code != protocol.LoginStateError {
		t.Errorf("second login on a connection: code %d, want 9", code)
	}
	if code := c.code(protocol.Msg{Op: "noSuchOp"}); code != protocol.ErrData {
		t.Errorf("unknown op: code %d, want 6", code)
	}

	// Empty privAcnt: a server-assigned unique ID.
	a, b := dial(t, s, "a"), dial(t, s, "b")
	ra, rb := a.req(loginMsg("ent1", "")), b.req(loginMsg("ent1", ""))
	if ra.Code != 0 || rb.Code != 0 || ra.UsrID == "" || ra.UsrID == rb.UsrID {
		t.Errorf("assigned IDs: %d %q, %d %q", ra.Code, ra.UsrID, rb.Code, rb.UsrID)
	}
}

func TestLogoutClosesAndAllowsRelogin(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	if code := a.code(protocol.Msg{Op: protocol.OpLogout}); code != 0 {
		t.Fatalf("logout: %d", code)
	}
	a.waitClosed()
	a2 := login(t, s, "ent1", "alice")
	a2.sync()
}

func TestReloginKick(t *testing.T) {
	s := newTestServer(t, nil)
	watcher := login(t, s, "ent1", "watcher")
	watcher.req(protocol.Msg{Op: protocol.OpStartStatusNotify})
	old := login(t, s, "ent1", "alice")
	watcher.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return m.User.UserID == "alice" && m.User.UserStatus == protocol.StatusIdle
	})
	bob := login(t, s, "ent1", "bob")
	if code := old.code(protocol.Msg{Op: protocol.OpCall, CallID: "c1", To: "bob"}); code != 0 {
		t.Fatalf("call: %d", code)
	}
	bob.expect(protocol.PushCallIn, nil)

	fresh := login(t, s, "ent1", "alice")
	m := old.expect(protocol.PushLineOff, nil)
	if m.Code != protocol.KickoutByRelogin {
		t.Errorf("lineOff code %d, want 10", m.Code)
	}
	old.waitClosed()
	// Its call ends as if hung up.
	if h := bob.expect(protocol.PushCallHungup, nil); h.CallID != "c1" || h.Ext != "" {
		t.Errorf("callHungup %+v", h)
	}
	watcher.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return m.User.UserID == "alice" && m.User.UserStatus == protocol.StatusOffline
	})
	watcher.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return m.User.UserID == "alice" && m.User.UserStatus == protocol.StatusIdle
	})
	// The new session works and is the one the enterprise sees.
	if code := bob.code(protocol.Msg{Op: protocol.OpCall, CallID: "c2", To: "alice"}); code != 0 {
		t.Fatalf("call to new session: %d", code)
	}
	fresh.expect(protocol.PushCallIn, func(m *protocol.Msg) bool { return m.CallID == "c2" })
}

func TestStatusAndIsolation(t *testing.T) {
	s := newTestServer(t, nil)
	a := login(t, s, "ent1", "alice")
	if code := a.code(protocol.Msg{Op: protocol.OpStartStatusNotify}); code != 0 {
		t.Fatal(code)
	}
	b := login(t, s, "ent1", "bob")
	other := login(t, s, "ent2", "bob2")
	login(t, s, "ent2", "carol")

	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == "bob" && m.User.UserStatus == 1 })
	if code := b.code(protocol.Msg{Op: protocol.OpSetDND, DND: 3}); code != 0 {
		t.Fatal(code)
	}
	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == "bob" && m.User.DNDType == 3 })

	r := a.req(protocol.Msg{Op: protocol.OpGetUserStatus})
	want := []protocol.UserStatus{{UserID: "alice", UserStatus: 1}, {UserID: "bob", UserStatus: 1, DNDType: 3}}
	if len(r.Users) != 2 || r.Users[0] != want[0] || r.Users[1] != want[1] {
		t.Errorf("getUserStatus %+v, want %+v", r.Users, want)
	}
	// The subscriber sees itself too.
	a.req(protocol.Msg{Op: protocol.OpSetDND, DND: 1})
	a.expect(protocol.PushUserStatus, func(m *protocol.Msg) bool { return m.User.UserID == "alice" && m.User.DNDType == 1 })

	// Another enterprise is invisible: calls and sends see its users offline.
	if code := other.code(protocol.Msg{Op: protocol.OpCall, CallID: "x", To: "alice"}); code != protocol.ErrOffline {
		t.Errorf("cross-enterprise call: %d, want 603", code)
	}
	if code := other.code(protocol.Msg{Op: protocol.OpSendBegin, Task: "t", To: "alice", Kind: "buffer", Total: 1}); code != protocol.SendDataTargetInvalid {
		t.Errorf("cross-enterprise sendBegin: %d, want 1102", code)
	}
	other.sendBin(protocol.Header{Type: protocol.FrameCmd, Task: "t2", Peer: "alice"}, []byte("hi"))
	if m := other.expect(protocol.PushSendRslt, nil); m.Code != protocol.SendDataTargetInvalid {
		t.Errorf("cross-enterprise sendCmd: %d, want 1102", m.Code)
	}
	r = other.req(protocol.Msg{Op: protocol.OpGetUserStatus})
	if len(r.Users) != 2 || r.Users[0].UserID != "bob2" || r.Users[1].UserID != "carol" {
		t.Errorf("ent2 getUserStatus %+v", r.Users)
	}
	a.sync()
	if n := a.count(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return strings.HasPrefix(m.User.UserID, "bob2") || m.User.UserID == "carol"
	}); n != 0 {
		t.Errorf("ent1 subscriber saw %d ent2 status pushes", n)
	}

	// stop ends pushes; logout is seen as offline by the others.
	a.req(protocol.Msg{Op: protocol.OpStopStatusNotify})
	b.req(protocol.Msg{Op: protocol.OpSetDND, DND: 0})
	a.sync()
	if n := a.count(protocol.PushUserStatus, func(m *protocol.Msg) bool {
		return m.User.UserID == "bob" && m.User.DNDType == 0 && m.User.UserStatus == 1
	}); n != 1 {
		t.Errorf("after stop: %d bob idle/DND 0 pushes, want only the login one", n)
	}
}

func TestAddrFileAndCloseIdempotent(t *testing.T) {
	dir := t.TempDir()
	af := filepath.Join(dir, "addr")
	s := newTestServer(t, func(c *Config) { c.AddrFile = af })
	b, err := os.ReadFile(af)
	if err != nil || strings.TrimSpace(string(b)) != s.Addr() {
		t.Fatalf("addr file %q (%v), Addr %q", b, err, s.Addr())
	}
	a := login(t, s, "ent1", "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.waitClosed()
}

// TestNoGoroutineLeak: after Close, every goroutine the server started
// (connections, HTTP) is gone.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Config{Listen: "127.0.0.1:0", DataDir: dir, RingTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var clients []*tclient
	for i := range 5 {
		c := dial(t, s, "u"+strconv.Itoa(i))
		if r := c.req(loginMsg("ent1", c.name)); r.Code != 0 {
			t.Fatal(r.Code)
		}
		clients = append(clients, c)
	}
	clients[0].req(callMsg("leak", "u1"))
	clients[2].req(protocol.Msg{Op: protocol.OpSendBegin, Task: "t", To: "u3", Kind: "buffer", Total: 10})
	dial(t, s, "idle") // not logged in
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		c.waitClosed()
	}
	waitFor(t, waitTime, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before+1 })
}
