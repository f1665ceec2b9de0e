// Package e2e runs the server in-process on port 0 and several core clients
// against it: every callback and error code of REFERENCE §3, end to end.
package e2e

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/server"
)

const waitTimeout = 10 * time.Second

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			// The goroutines at the timeout tell a stuck session (nobody
			// reading or reconnecting) from a slow one.
			_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// Ev is one recorded callback: its name and arguments in order (strings in
// S, ints in I).
type Ev struct {
	Name string
	S    []string
	I    []int
	GID  int64
}

func (e Ev) String() string { return fmt.Sprintf("%s%q%v", e.Name, e.S, e.I) }

// rec records every callback of one client.
type rec struct {
	mu  sync.Mutex
	evs []Ev
	// hook, when set, runs inside the callback (on the dispatch goroutine).
	hook func(Ev)
}

func (r *rec) add(name string, s []string, i ...int) {
	e := Ev{Name: name, S: s, I: i, GID: curGID()}
	r.mu.Lock()
	r.evs = append(r.evs, e)
	h := r.hook
	r.mu.Unlock()
	if h != nil {
		h(e)
	}
}

func (r *rec) all() []Ev {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Ev(nil), r.evs...)
}

// find returns the first event named name for which match (may be nil) holds.
func (r *rec) find(name string, match func(Ev) bool) (Ev, bool) {
	for _, e := range r.all() {
		if (name == "" || e.Name == name) && (match == nil || match(e)) {
			return e, true
		}
	}
	return Ev{}, false
}

func (r *rec) count(name string, match func(Ev) bool) int {
	n := 0
	for _, e := range r.all() {
		if e.Name == name && (match == nil || match(e)) {
			n++
		}
	}
	return n
}

// wait polls for the first event named name matching match.
func (r *rec) wait(t testing.TB, name string, match func(Ev) bool) Ev {
	t.Helper()
	return r.waitWithin(t, waitTimeout, name, match)
}

// waitWithin is wait with a timeout of its own; name "" matches any event.
func (r *rec) waitWithin(t testing.TB, d time.Duration, name string, match func(Ev) bool) Ev {
	t.Helper()
	var ev Ev
	waitFor(t, d, "event "+name, func() bool {
		var ok bool
		ev, ok = r.find(name, match)
		return ok
	})
	return ev
}

// withS matches events whose first string argument is s0.
func withS(s0 string) func(Ev) bool {
	return func(e Ev) bool { return len(e.S) > 0 && e.S[0] == s0 }
}

// Callback methods: each records its arguments.
func (r *rec) LoginSuccess(usrID, cookie string) { r.add("LoginSuccess", []string{usrID, cookie}) }
func (r *rec) LoginFail(sdkErr int, cookie string) {
	r.add("LoginFail", []string{cookie}, sdkErr)
}
func (r *rec) SetDNDStatusSuccess(cookie string) { r.add("SetDNDStatusSuccess", []string{cookie}) }
func (r *rec) SetDNDStatusFail(sdkErr int, cookie string) {
	r.add("SetDNDStatusFail", []string{cookie}, sdkErr)
}
func (r *rec) GetUserStatusSuccess(usersStatus, cookie string) {
	r.add("GetUserStatusSuccess", []string{usersStatus, cookie})
}
func (r *rec) GetUserStatusFail(sdkErr int, cookie string) {
	r.add("GetUserStatusFail", []string{cookie}, sdkErr)
}
func (r *rec) StartUserStatusNotifyRslt(sdkErr int, cookie string) {
	r.add("StartUserStatusNotifyRslt", []string{cookie}, sdkErr)
}
func (r *rec) StopUserStatusNotifyRslt(sdkErr int, cookie string) {
	r.add("StopUserStatusNotifyRslt", []string{cookie}, sdkErr)
}
func (r *rec) NotifyUserStatus(userStatus, cookie string) {
	r.add("NotifyUserStatus", []string{userStatus, cookie})
}
func (r *rec) LineOff(sdkErr int) { r.add("LineOff", nil, sdkErr) }
func (r *rec) CreateMeetingSuccess(meetObj, cookie string) {
	r.add("CreateMeetingSuccess", []string{meetObj, cookie})
}
func (r *rec) CreateMeetingFail(sdkErr int, cookie string) {
	r.add("CreateMeetingFail", []string{cookie}, sdkErr)
}
func (r *rec) DestroyMeetingRslt(sdkErr int, cookie string) {
	r.add("DestroyMeetingRslt", []string{cookie}, sdkErr)
}
func (r *rec) GetMeetingsSuccess(jsonMeetings, cookie string) {
	r.add("GetMeetingsSuccess", []string{jsonMeetings, cookie})
}
func (r *rec) GetMeetingsFail(sdkErr int, cookie string) {
	r.add("GetMeetingsFail", []string{cookie}, sdkErr)
}
func (r *rec) CallSuccess(callID, cookie string) { r.add("CallSuccess", []string{callID, cookie}) }
func (r *rec) CallFail(callID string, sdkErr int, cookie string) {
	r.add("CallFail", []string{callID, cookie}, sdkErr)
}
func (r *rec) AcceptCallSuccess(callID, cookie string) {
	r.add("AcceptCallSuccess", []string{callID, cookie})
}
func (r *rec) AcceptCallFail(callID string, sdkErr int, cookie string) {
	r.add("AcceptCallFail", []string{callID, cookie}, sdkErr)
}
func (r *rec) RejectCallSuccess(callID, cookie string) {
	r.add("RejectCallSuccess", []string{callID, cookie})
}
func (r *rec) RejectCallFail(callID string, sdkErr int, cookie string) {
	r.add("RejectCallFail", []string{callID, cookie}, sdkErr)
}
func (r *rec) HungupCallSuccess(callID, cookie string) {
	r.add("HungupCallSuccess", []string{callID, cookie})
}
func (r *rec) HungupCallFail(callID string, sdkErr int, cookie string) {
	r.add("HungupCallFail", []string{callID, cookie}, sdkErr)
}
func (r *rec) NotifyCallIn(callID, meetObj, callerID, usrExtDat string) {
	r.add("NotifyCallIn", []string{callID, meetObj, callerID, usrExtDat})
}
func (r *rec) NotifyCallAccepted(callID, usrExtDat, meetObj string) {
	r.add("NotifyCallAccepted", []string{callID, usrExtDat, meetObj})
}
func (r *rec) NotifyCallRejected(callID string, reason int, usrExtDat string) {
	r.add("NotifyCallRejected", []string{callID, usrExtDat}, reason)
}
func (r *rec) NotifyCallHungup(callID, usrExtDat string) {
	r.add("NotifyCallHungup", []string{callID, usrExtDat})
}
func (r *rec) CallMorePartyRslt(callID string, sdkErr int, cookie string) {
	r.add("CallMorePartyRslt", []string{callID, cookie}, sdkErr)
}
func (r *rec) CancelCallMorePartyRslt(callID string, sdkErr int, cookie string) {
	r.add("CancelCallMorePartyRslt", []string{callID, cookie}, sdkErr)
}
func (r *rec) NotifyCallMorePartyStatus(callID string, status int) {
	r.add("NotifyCallMorePartyStatus", []string{callID}, status)
}
func (r *rec) SendCmdRlst(taskID string, sdkErr int, cookie string) {
	r.add("SendCmdRlst", []string{taskID, cookie}, sdkErr)
}
func (r *rec) SendBufferRlst(taskID string, sdkErr int, cookie string) {
	r.add("SendBufferRlst", []string{taskID, cookie}, sdkErr)
}
func (r *rec) SendFileRlst(taskID, fileName string, sdkErr int, cookie string) {
	r.add("SendFileRlst", []string{taskID, fileName, cookie}, sdkErr)
}
func (r *rec) SendProgress(taskID string, sendedLen, totalLen int, cookie string) {
	r.add("SendProgress", []string{taskID, cookie}, sendedLen, totalLen)
}
func (r *rec) CancelSendRlst(taskID string, sdkErr int, cookie string) {
	r.add("CancelSendRlst", []string{taskID, cookie}, sdkErr)
}
func (r *rec) NotifyCmdData(sourceUserID, data string) {
	r.add("NotifyCmdData", []string{sourceUserID, data})
}
func (r *rec) NotifyBufferData(sourceUserID, data string) {
	r.add("NotifyBufferData", []string{sourceUserID, data})
}
func (r *rec) NotifyFileData(sourceUserID, tmpFile, orgFileName string) {
	r.add("NotifyFileData", []string{sourceUserID, tmpFile, orgFileName})
}
func (r *rec) NotifyCancelSend(sendID string) { r.add("NotifyCancelSend", []string{sendID}) }

// env is one server with its data directory.
type env struct {
	t    *testing.T
	dir  string
	ring time.Duration
	srv  *server.Server
	addr string // the server's address, kept across restarts
	// Set before the first start (newEnvWith) to change the defaults.
	grace, ping time.Duration
	mod         func(*server.Config) // if set, changes the config at every start
}

// newEnv starts a server on 127.0.0.1:0 with enterprises "demo"/"demo" and
// "other"/"other" and the given ring timeout.
func newEnv(t *testing.T, ring time.Duration) *env {
	t.Helper()
	return newEnvWith(t, ring, 2*time.Second, 2*time.Second)
}

// newEnvWith is newEnv with a resume grace and ping timeout.
func newEnvWith(t *testing.T, ring, grace, ping time.Duration) *env {
	t.Helper()
	return newEnvMod(t, ring, grace, ping, nil)
}

// newEnvMod is newEnvWith whose server config mod may change further.
func newEnvMod(t *testing.T, ring, grace, ping time.Duration, mod func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), ring: ring, grace: grace, ping: ping, addr: "127.0.0.1:0", mod: mod}
	for _, a := range []string{"demo", "other"} {
		if err := server.AddAccount(e.dir, a, a); err != nil {
			t.Fatalf("AddAccount: %v", err)
		}
	}
	e.start()
	t.Cleanup(func() {
		if e.srv != nil {
			_ = e.srv.Close()
		}
	})
	return e
}

func (e *env) start() {
	e.t.Helper()
	cfg := server.Config{Listen: e.addr, DataDir: e.dir, RingTimeout: e.ring,
		ResumeGrace: e.grace, PingTimeout: e.ping, Logger: testLogger()}
	if e.mod != nil {
		e.mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		e.t.Fatalf("server.New: %v", err)
	}
	if err := srv.Start(); err != nil {
		e.t.Fatalf("server.Start: %v", err)
	}
	e.srv = srv
	e.addr = srv.Addr()
}

// restart stops the server and starts a new one on the same data directory
// and address.
func (e *env) restart() {
	e.t.Helper()
	if err := e.srv.Close(); err != nil {
		e.t.Fatalf("server.Close: %v", err)
	}
	e.srv = nil
	e.start()
}

// client is one logged-in (or not yet) user.
type client struct {
	*core.Mgr
	r   *rec
	id  string
	tmp string
}

// newClient creates a Mgr pointed at the env's server, not logged in.
func (e *env) newClient() *client {
	e.t.Helper()
	r := &rec{}
	tmp := e.t.TempDir()
	m := core.New(core.Config{Callback: r, TempDir: tmp, Logger: testLogger()})
	m.SetServerAddr(e.addr)
	e.t.Cleanup(m.Close)
	return &client{Mgr: m, r: r, tmp: tmp}
}

// login logs a new client in to enterprise acnt as privAcnt.
func (e *env) login(acnt, privAcnt string) *client {
	e.t.Helper()
	c := e.newClient()
	cookie := "login-" + privAcnt
	c.Login(acnt, md5hex(acnt), "nick "+privAcnt, privAcnt, "", cookie)
	ev := c.r.wait(e.t, "", func(ev Ev) bool {
		return ev.Name == "LoginSuccess" || ev.Name == "LoginFail"
	})
	if ev.Name != "LoginSuccess" {
		e.t.Fatalf("login %s/%s: %v", acnt, privAcnt, ev)
	}
	c.id = ev.S[0]
	return c
}

// connectedCall sets up a call from a to b and returns its ID once both
// sides know it is connected.
func connectedCall(t *testing.T, a, b *client) string {
	t.Helper()
	callID := a.Call(b.id, "", "hello", "c1")
	a.r.wait(t, "CallSuccess", withS(callID))
	b.r.wait(t, "NotifyCallIn", withS(callID))
	b.AcceptCall(callID, `{"ID":0}`, "yes", "acc")
	b.r.wait(t, "AcceptCallSuccess", withS(callID))
	a.r.wait(t, "NotifyCallAccepted", withS(callID))
	return callID
}

// curGID returns the calling goroutine's ID.
func curGID() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	f := strings.Fields(string(buf[:n]))
	id, _ := strconv.ParseInt(f[1], 10, 64)
	return id
}

// testLogger logs to stderr when CRVIDEO_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CRVIDEO_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
