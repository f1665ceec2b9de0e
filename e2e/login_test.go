package e2e

import (
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestLoginSuccessEchoesCookieAndUsrID(t *testing.T) {
	e := newEnv(t, time.Second)
	c := e.newClient()
	c.Login("demo", md5hex("demo"), "Alice", "alice", "", "ck-α")
	ev := c.r.wait(t, "LoginSuccess", nil)
	if ev.S[0] != "alice" || ev.S[1] != "ck-α" {
		t.Fatalf("LoginSuccess args = %q, want [alice ck-α]", ev.S)
	}
	// The callback ran on the dispatch goroutine, not inside Login.
	if ev.GID == curGID() {
		t.Fatal("callback ran on the caller's goroutine")
	}
}

func TestLoginServerAssignsUsrIDWhenPrivAcntEmpty(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "")
	b := e.login("demo", "")
	if a.id == "" || b.id == "" || a.id == b.id {
		t.Fatalf("assigned IDs %q and %q, want two distinct non-empty IDs", a.id, b.id)
	}
}

func TestLoginWrongPassword7(t *testing.T) {
	e := newEnv(t, time.Second)
	c := e.newClient()
	c.Login("demo", md5hex("nope"), "", "alice", "", "ck")
	ev := c.r.wait(t, "LoginFail", nil)
	if ev.I[0] != protocol.AcntPswdErr || ev.S[0] != "ck" {
		t.Fatalf("LoginFail = %v, want 7 with cookie ck", ev)
	}
	// Unknown enterprise: the same code.
	c.Login("nosuch", md5hex("nosuch"), "", "alice", "", "ck2")
	ev = c.r.wait(t, "LoginFail", withS("ck2"))
	if ev.I[0] != protocol.AcntPswdErr {
		t.Fatalf("unknown account: %v, want 7", ev)
	}
}

func TestLoginUppercaseMD5Accepted(t *testing.T) {
	e := newEnv(t, time.Second)
	c := e.newClient()
	up := []byte(md5hex("demo"))
	for i, b := range up {
		if b >= 'a' && b <= 'f' {
			up[i] = b - 'a' + 'A'
		}
	}
	c.Login("demo", string(up), "", "alice", "", "ck")
	c.r.wait(t, "LoginSuccess", nil)
}

func TestLoginErrors(t *testing.T) {
	e := newEnv(t, time.Second)

	// No server address: 201.
	c := e.newClient()
	c.SetServerAddr("")
	c.Login("demo", md5hex("demo"), "", "a", "", "x")
	if ev := c.r.wait(t, "LoginFail", nil); ev.I[0] != protocol.NoServerInfo {
		t.Fatalf("no address: %v", ev)
	}

	// Nothing listening: 203.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	c2 := e.newClient()
	c2.SetServerAddr(dead)
	c2.Login("demo", md5hex("demo"), "", "a", "", "x")
	if ev := c2.r.wait(t, "LoginFail", nil); ev.I[0] != protocol.CreateConnFailed {
		t.Fatalf("dead address: %v", ev)
	}

	// The address list is tried in order: a dead one first, then the server.
	c3 := e.newClient()
	c3.SetServerAddr(dead + "; " + e.srv.Addr())
	c3.Login("demo", md5hex("demo"), "", "listed", "", "x")
	c3.r.wait(t, "LoginSuccess", nil)

	// Login while logged in: 9.
	c3.Login("demo", md5hex("demo"), "", "listed", "", "again")
	if ev := c3.r.wait(t, "LoginFail", withS("again")); ev.I[0] != protocol.LoginStateError {
		t.Fatalf("second login: %v", ev)
	}

	// nickName over 128 characters: 5.
	c4 := e.newClient()
	long := make([]rune, 129)
	for i := range long {
		long[i] = '名'
	}
	c4.Login("demo", md5hex("demo"), string(long), "x", "", "long")
	if ev := c4.r.wait(t, "LoginFail", nil); ev.I[0] != protocol.ParamErr {
		t.Fatalf("long nick: %v", ev)
	}

	// privAuthCode given, no verification configured: 15.
	c5 := e.newClient()
	c5.Login("demo", md5hex("demo"), "", "y", "code", "auth")
	if ev := c5.r.wait(t, "LoginFail", nil); ev.I[0] != protocol.CustomAuthNotSupport {
		t.Fatalf("privAuthCode: %v", ev)
	}
}

func TestNotLoggedIn12(t *testing.T) {
	e := newEnv(t, time.Second)
	c := e.newClient()
	c.SetDNDStatus(1, "d")
	c.GetUserStatus("g")
	c.StartUserStatusNotify("s")
	c.CreateMeeting("m", 0, "cm")
	c.GetMeetings("gm")
	callID := c.Call("bob", "", "", "call")
	task := c.SendCmd("bob", "aGk=")
	c.CancelSend(task)
	want := map[string]bool{"SetDNDStatusFail": true, "GetUserStatusFail": true, "StartUserStatusNotifyRslt": true,
		"CreateMeetingFail": true, "GetMeetingsFail": true, "CallFail": true, "SendCmdRlst": true, "CancelSendRlst": true}
	waitFor(t, waitTimeout, "8 failures", func() bool { return len(c.r.all()) == len(want) })
	for _, ev := range c.r.all() {
		if !want[ev.Name] || ev.I[0] != protocol.NotLogin {
			t.Errorf("event %v: want one of the expected failures with 12", ev)
		}
	}
	if ev, _ := c.r.find("CallFail", nil); ev.S[0] != callID || ev.S[1] != "call" {
		t.Errorf("CallFail args %q, want [%s call]", ev.S, callID)
	}
}

func TestReloginKicksOlderSession10(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	old := e.login("demo", "alice")
	bob := e.login("demo", "bob")
	callID := connectedCall(t, old, bob)

	newer := e.login("demo", "alice")
	if ev := old.r.wait(t, "LineOff", nil); ev.I[0] != protocol.KickoutByRelogin {
		t.Fatalf("LineOff = %v, want 10", ev)
	}
	// Its call ends as if hung up.
	if ev := bob.r.wait(t, "NotifyCallHungup", withS(callID)); ev.S[1] != "" {
		t.Fatalf("NotifyCallHungup ext = %q, want empty", ev.S[1])
	}
	// The kicked client may log in again without uninit (and kicks the newer one).
	old.Login("demo", md5hex("demo"), "", "alice", "", "back")
	old.r.wait(t, "LoginSuccess", withS("alice"))
	if ev := newer.r.wait(t, "LineOff", nil); ev.I[0] != protocol.KickoutByRelogin {
		t.Fatalf("newer LineOff = %v", ev)
	}
}

func TestLogoutAndLoginAgain(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	b.StartUserStatusNotify("sub")
	b.r.wait(t, "StartUserStatusNotifyRslt", nil)
	a.Logout()
	b.r.wait(t, "NotifyUserStatus", func(ev Ev) bool {
		var st protocol.UserStatus
		return json.Unmarshal([]byte(ev.S[0]), &st) == nil && st.UserID == "alice" && st.UserStatus == protocol.StatusOffline
	})
	a.SetDNDStatus(1, "after")
	if ev := a.r.wait(t, "SetDNDStatusFail", nil); ev.I[0] != protocol.NotLogin {
		t.Fatalf("after logout: %v", ev)
	}
	a.Login("demo", md5hex("demo"), "", "alice", "", "again")
	a.r.wait(t, "LoginSuccess", withS("alice"))
}

// TestServerGoneLineOff207: when the server does not come back within the
// resume grace, the library gives up with lineOff(207).
func TestServerGoneLineOff207(t *testing.T) {
	e := newEnvWith(t, time.Second, 300*time.Millisecond, 2*time.Second)
	a := e.login("demo", "alice")
	e.srv.Close()
	e.srv = nil
	start := time.Now()
	if ev := a.r.wait(t, "LineOff", nil); ev.I[0] != protocol.ConnectionLost {
		t.Fatalf("LineOff = %v, want 207", ev)
	}
	t.Logf("lineOff(207) %v after the server went away (grace 300ms)", time.Since(start))
	a.SetDNDStatus(1, "x")
	if ev := a.r.wait(t, "SetDNDStatusFail", nil); ev.I[0] != protocol.NotLogin {
		t.Fatalf("after lineOff: %v", ev)
	}
}

func TestDNDAndUserStatus(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	b := e.login("demo", "bob")
	a.StartUserStatusNotify("watch")
	if ev := a.r.wait(t, "StartUserStatusNotifyRslt", nil); ev.I[0] != 0 || ev.S[0] != "watch" {
		t.Fatalf("start: %v", ev)
	}
	b.SetDNDStatus(7, "dnd")
	if ev := b.r.wait(t, "SetDNDStatusSuccess", nil); ev.S[0] != "dnd" {
		t.Fatalf("dnd: %v", ev)
	}
	ev := a.r.wait(t, "NotifyUserStatus", func(ev Ev) bool { return ev.S[1] == "watch" && json.Valid([]byte(ev.S[0])) })
	var st protocol.UserStatus
	if err := json.Unmarshal([]byte(ev.S[0]), &st); err != nil || st.UserID != "bob" || st.DNDType != 7 || st.UserStatus != 1 {
		t.Fatalf("NotifyUserStatus %q: want bob online DND 7", ev.S[0])
	}

	// DND: calls to bob fail with 602; bob may still call out.
	callID := a.Call("bob", "", "", "x")
	if ev := a.r.wait(t, "CallFail", withS(callID)); ev.I[0] != protocol.ErrBusy {
		t.Fatalf("call to DND user: %v, want 602", ev)
	}
	out := b.Call("alice", "", "", "y")
	b.r.wait(t, "CallSuccess", withS(out))

	// getUserStatus lists both, the caller included, both busy now.
	a.GetUserStatus("list")
	ev = a.r.wait(t, "GetUserStatusSuccess", nil)
	var list []protocol.UserStatus
	if err := json.Unmarshal([]byte(ev.S[0]), &list); err != nil || ev.S[1] != "list" {
		t.Fatalf("GetUserStatusSuccess %v: %v", ev, err)
	}
	got := map[string]protocol.UserStatus{}
	for _, u := range list {
		got[u.UserID] = u
	}
	if len(got) != 2 || got["alice"].UserStatus != protocol.StatusBusy || got["bob"].DNDType != 7 {
		t.Fatalf("user list %s", ev.S[0])
	}

	// Stop: no more pushes (the rslt is the fence).
	a.StopUserStatusNotify("stop")
	if ev := a.r.wait(t, "StopUserStatusNotifyRslt", nil); ev.I[0] != 0 || ev.S[0] != "stop" {
		t.Fatalf("stop: %v", ev)
	}
	n := a.r.count("NotifyUserStatus", nil)
	b.SetDNDStatus(0, "off")
	b.r.wait(t, "SetDNDStatusSuccess", withS("off"))
	// A third user's status is a fence: b's change was pushed before it.
	c := e.login("demo", "carol")
	c.GetUserStatus("fence")
	c.r.wait(t, "GetUserStatusSuccess", nil)
	if a.r.count("NotifyUserStatus", nil) != n {
		t.Fatalf("NotifyUserStatus after stop")
	}
}

func TestEnterpriseIsolation(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	x := e.login("other", "xavier")
	a.StartUserStatusNotify("w")
	a.r.wait(t, "StartUserStatusNotifyRslt", nil)

	// Same privAcnt in another enterprise does not kick alice.
	x2 := e.login("other", "alice")
	_ = x2

	// xavier is offline to alice: 603 for calls, 1102 for sends.
	callID := a.Call("xavier", "", "", "c")
	if ev := a.r.wait(t, "CallFail", withS(callID)); ev.I[0] != protocol.ErrOffline {
		t.Fatalf("cross-enterprise call: %v", ev)
	}
	task := a.SendCmd("xavier", "aGk=")
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != protocol.SendDataTargetInvalid {
		t.Fatalf("cross-enterprise sendCmd: %v", ev)
	}
	// Status lists and pushes stay within the enterprise.
	x.GetUserStatus("l")
	ev := x.r.wait(t, "GetUserStatusSuccess", nil)
	var list []protocol.UserStatus
	json.Unmarshal([]byte(ev.S[0]), &list)
	for _, u := range list {
		if u.UserID == "alice" && len(list) != 2 {
			t.Fatalf("other enterprise sees %s", ev.S[0])
		}
	}
	if len(list) != 2 {
		t.Fatalf("other enterprise list %s, want xavier and its own alice", ev.S[0])
	}
	if a.r.count("NotifyUserStatus", nil) != 0 {
		t.Fatalf("alice saw another enterprise's status: %v", a.r.all())
	}
	// Meetings too.
	x.CreateMeeting("secret", 0, "m")
	mev := x.r.wait(t, "CreateMeetingSuccess", nil)
	var mi protocol.MeetInfo
	json.Unmarshal([]byte(mev.S[0]), &mi)
	a.GetMeetings("g")
	if ev := a.r.wait(t, "GetMeetingsSuccess", nil); ev.S[0] != "[]" {
		t.Fatalf("demo sees meetings %s", ev.S[0])
	}
	a.DestroyMeeting(mi.ID, "d")
	if ev := a.r.wait(t, "DestroyMeetingRslt", nil); ev.I[0] != protocol.MeetNotExist {
		t.Fatalf("cross-enterprise destroy: %v", ev)
	}
}

func TestCallbacksOneGoroutineInOrderAndCloseInsideCallback(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")
	for i := 0; i < 50; i++ {
		a.SetDNDStatus(i, string(rune('A'+i%26))+string(rune('0'+i/26)))
	}
	waitFor(t, waitTimeout, "50 results", func() bool { return a.r.count("SetDNDStatusSuccess", nil) == 50 })
	evs := a.r.all()
	gid := evs[0].GID
	k := 0
	for _, ev := range evs {
		if ev.GID != gid {
			t.Fatalf("callbacks on goroutines %d and %d", gid, ev.GID)
		}
		if ev.Name == "SetDNDStatusSuccess" {
			want := string(rune('A'+k%26)) + string(rune('0'+k/26))
			if ev.S[0] != want {
				t.Fatalf("result %d has cookie %q, want %q (out of order)", k, ev.S[0], want)
			}
			k++
		}
	}

	// Close from inside a callback returns, and nothing runs afterwards.
	closed := make(chan struct{})
	a.r.mu.Lock()
	a.r.hook = func(ev Ev) {
		if ev.Name == "GetMeetingsSuccess" {
			a.Close()
			close(closed)
		}
	}
	a.r.mu.Unlock()
	a.GetMeetings("1")
	a.GetUserStatus("2")
	<-closed
	n := len(a.r.all())
	a.GetUserStatus("3")
	a.SetDNDStatus(1, "4")
	if len(a.r.all()) != n {
		t.Fatalf("callbacks after Close: %v", a.r.all()[n:])
	}
}

func TestPollMode(t *testing.T) {
	e := newEnv(t, time.Second)
	r := &rec{}
	pending := make(chan struct{}, 1)
	m := core.New(core.Config{Callback: r, ManualDispatch: true, OnPending: func() {
		select {
		case pending <- struct{}{}:
		default:
		}
	}})
	t.Cleanup(m.Close)
	m.SetServerAddr(e.srv.Addr())
	m.Login("demo", md5hex("demo"), "", "poller", "", "p")
	select {
	case <-pending:
	case <-time.After(waitTimeout):
		t.Fatal("OnPending never called")
	}
	if len(r.all()) != 0 {
		t.Fatal("callback ran without Poll")
	}
	waitFor(t, waitTimeout, "LoginSuccess via Poll", func() bool {
		m.Poll(0)
		_, ok := r.find("LoginSuccess", nil)
		return ok
	})
	if ev, _ := r.find("LoginSuccess", nil); ev.GID != curGID() {
		t.Fatal("poll-mode callback ran on another goroutine")
	}
	// Back to the dispatch goroutine.
	m.SetManualDispatch(false)
	m.GetMeetings("g")
	r.wait(t, "GetMeetingsSuccess", nil)
}
