package core

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// idCB records every callback as one line.
type idCB struct {
	NopCallback
	mu  sync.Mutex
	evs []string
}

func (c *idCB) add(f string, a ...any) {
	c.mu.Lock()
	c.evs = append(c.evs, fmt.Sprintf(f, a...))
	c.mu.Unlock()
}

func (c *idCB) has(ev string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.evs {
		if e == ev {
			return true
		}
	}
	return false
}

func (c *idCB) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.evs...)
}

func (c *idCB) LoginSuccess(usrID, _ string)          { c.add("LoginSuccess %q", usrID) }
func (c *idCB) LoginFail(code int, cookie string)     { c.add("LoginFail %d %s", code, cookie) }
func (c *idCB) CallFail(_ string, code int, k string) { c.add("CallFail %d %s", code, k) }
func (c *idCB) AcceptCallFail(_ string, code int, k string) {
	c.add("AcceptCallFail %d %s", code, k)
}
func (c *idCB) RejectCallFail(_ string, code int, k string) {
	c.add("RejectCallFail %d %s", code, k)
}
func (c *idCB) HungupCallFail(_ string, code int, k string) {
	c.add("HungupCallFail %d %s", code, k)
}
func (c *idCB) CallMorePartyRslt(_ string, code int, k string) {
	c.add("CallMorePartyRslt %d %s", code, k)
}
func (c *idCB) CancelCallMorePartyRslt(_ string, code int, k string) {
	c.add("CancelCallMorePartyRslt %d %s", code, k)
}
func (c *idCB) SendCmdRlst(id string, code int, _ string)     { c.add("SendCmdRlst %s %d", id, code) }
func (c *idCB) SendBufferRlst(id string, code int, _ string)  { c.add("SendBufferRlst %s %d", id, code) }
func (c *idCB) SendFileRlst(id, _ string, code int, _ string) { c.add("SendFileRlst %s %d", id, code) }
func (c *idCB) CancelSendRlst(id string, code int, _ string)  { c.add("CancelSendRlst %q %d", id, code) }
func (c *idCB) NotifyCallIn(id, _, from, _ string)            { c.add("NotifyCallIn %q %q", id, from) }
func (c *idCB) NotifyCallHungup(id, _ string)                 { c.add("NotifyCallHungup %q", id) }
func (c *idCB) NotifyUserStatus(st, _ string)                 { c.add("NotifyUserStatus %s", st) }
func (c *idCB) StartUserStatusNotifyRslt(code int, _ string) {
	c.add("StartUserStatusNotifyRslt %d", code)
}
func (c *idCB) GetUserStatusSuccess(st, _ string) { c.add("GetUserStatusSuccess %s", st) }
func (c *idCB) NotifyCmdData(from, data string)   { c.add("NotifyCmdData %q %s", from, data) }
func (c *idCB) NotifyCancelSend(id string)        { c.add("NotifyCancelSend %q", id) }

// badIDs hold characters a C application cannot see past (NUL) or that
// are invisible controls (C0, DEL, C1).
var badIDs = []string{"bob\x00", "\x00", "b\x01ob", "bob\n", "bob\x7f", "bob\u0085", "b\u009fob"}

func loggedInToFake(t *testing.T, fs *fakeServer) (*Mgr, *idCB) {
	t.Helper()
	cb := &idCB{}
	m := New(Config{Callback: cb, TempDir: t.TempDir()})
	t.Cleanup(m.Close)
	m.SetServerAddr(strings.TrimPrefix(fs.URL, "http://"))
	m.Login("a", "b", "", "me", "", "")
	waitCond(t, "login", func() bool { return cb.has(`LoginSuccess "me"`) })
	return m, cb
}

// TestArgumentIDsWithControlCharacters: the library refuses, with 5 and
// without asking the server, every ID argument holding a control
// character. The fake server answers every request with 0, so a request
// that went out would succeed instead.
func TestArgumentIDsWithControlCharacters(t *testing.T) {
	fs := newFakeServer(t)
	for i, id := range badIDs {
		cb := &idCB{}
		m := New(Config{Callback: cb})
		m.SetServerAddr(strings.TrimPrefix(fs.URL, "http://"))
		m.Login("a", "b", "", id, "", "priv")
		m.Login("a", "b", id, "", "", "nick")
		m.Login("a"+id, "b", "", "", "", "acnt")
		for _, k := range []string{"priv", "nick", "acnt"} {
			want := fmt.Sprintf("LoginFail %d %s", protocol.ParamErr, k)
			waitCond(t, fmt.Sprintf("%d: %s", i, want), func() bool { return cb.has(want) })
		}
		m.Close()
	}

	m, cb := loggedInToFake(t, fs)
	file := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i, id := range badIDs {
		k := fmt.Sprint(i)
		m.Call(id, "", "", k)
		m.AcceptCall(id, "", "", k)
		m.RejectCall(id, "", k)
		m.HungupCall(id, "", k)
		m.CallMoreParty(id, "", "", k)
		m.CancelCallMoreParty(id, "", k)
		cmd, buf, f := m.SendCmd(id, "aGk="), m.SendBuffer(id, "aGk="), m.SendFile(id, file)
		m.CancelSend(id)
		want = append(want, "CallFail 5 "+k, "AcceptCallFail 5 "+k, "RejectCallFail 5 "+k, "HungupCallFail 5 "+k,
			"CallMorePartyRslt 5 "+k, "CancelCallMorePartyRslt 5 "+k,
			"SendCmdRlst "+cmd+" 5", "SendBufferRlst "+buf+" 5", "SendFileRlst "+f+" 5",
			fmt.Sprintf("CancelSendRlst %q 5", id))
	}
	for _, w := range want {
		waitCond(t, w, func() bool { return cb.has(w) })
	}
	if n := len(cb.all()); n != 1+len(want) {
		t.Errorf("%d callbacks, want %d: %q", n, 1+len(want), cb.all())
	}
}

// TestServerFramesWithInvalidIDs: a push or FrameCmd from a hostile
// server whose IDs hold control characters is dropped (never reaches the
// application); valid frames around it still do.
func TestServerFramesWithInvalidIDs(t *testing.T) {
	fs := newFakeServer(t)
	fs.users = []protocol.UserStatus{{UserID: "alice", UserStatus: 1}, {UserID: "bob\x00", UserStatus: 1}, {UserID: "eve\u0085", UserStatus: 1}}
	m, cb := loggedInToFake(t, fs)
	m.StartUserStatusNotify("")
	waitCond(t, "notify on", func() bool { return cb.has("StartUserStatusNotifyRslt 0") })
	push := func(p *protocol.Msg) { fs.frames <- [2][]byte{{0}, protocol.Encode(p)} }
	cmd := func(task, peer, data string) {
		fs.frames <- [2][]byte{{1}, append(protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameCmd, Task: task, Peer: peer}), data...)}
	}
	cmd("t3", "bob\xff", "bad") // invalid UTF-8 (a JSON text frame cannot carry it)
	for _, id := range badIDs {
		push(&protocol.Msg{Push: protocol.PushCallIn, CallID: id, From: "bob"})
		push(&protocol.Msg{Push: protocol.PushCallIn, CallID: "c1", From: id})
		push(&protocol.Msg{Push: protocol.PushCallHungup, CallID: id})
		push(&protocol.Msg{Push: protocol.PushUserStatus, User: &protocol.UserStatus{UserID: id, UserStatus: 1}})
		push(&protocol.Msg{Push: protocol.PushXferBegin, Task: id, From: "bob", Kind: protocol.KindBuffer, Total: 0})
		push(&protocol.Msg{Push: protocol.PushXferBegin, Task: "x1", From: id, Kind: protocol.KindBuffer, Total: 0})
		push(&protocol.Msg{Push: protocol.PushXferCancel, Task: "x1"})
		cmd("t1", id, "bad")
		cmd(id, "bob", "bad")
	}
	// The valid ones, last: once they arrived, the invalid ones were handled.
	push(&protocol.Msg{Push: protocol.PushUserStatus, User: &protocol.UserStatus{UserID: "carol", UserStatus: 1}})
	cmd("t2", "bob", "ok")
	push(&protocol.Msg{Push: protocol.PushCallIn, CallID: "c2", From: "bob"})
	waitCond(t, "the valid callIn", func() bool { return cb.has(`NotifyCallIn "c2" "bob"`) })
	m.GetUserStatus("")
	waitCond(t, "getUserStatus", func() bool { return cb.has(`GetUserStatusSuccess [{"userID":"alice","userStatus":1,"DNDType":0}]`) })
	want := []string{`LoginSuccess "me"`, "StartUserStatusNotifyRslt 0",
		`NotifyUserStatus {"userID":"carol","userStatus":1,"DNDType":0}`, `NotifyCmdData "bob" b2s=`,
		`NotifyCallIn "c2" "bob"`, `GetUserStatusSuccess [{"userID":"alice","userStatus":1,"DNDType":0}]`}
	if got := cb.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("callbacks:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
