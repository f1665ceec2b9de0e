package e2e

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/crvideomgr/crvideomgr/server"
)

// hookReq is what the server posts to the verification service.
type hookReq struct {
	AuthAcnt, UsrID, PrivAcnt, NickName, PrivAuthCode, RemoteAddr string
}

// fakeHook is the customer's verification service. It answers by
// privAuthCode: "good" allows, "bad" says {"ok":false}, "forbidden" 403,
// "boom" 500, "junk" a body that is not JSON, "noanswer" {}, "hang"
// answers only when the request is cancelled (or the test ends) and "hold"
// allows once the test sends on next.
type fakeHook struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []hookReq
	inFlight atomic.Int32
	maxIn    atomic.Int32
	hanging  atomic.Int32
	release  chan struct{}
	next     chan struct{} // answers one "hold" call
}

func newFakeHook(t *testing.T) *fakeHook {
	h := &fakeHook{release: make(chan struct{}), next: make(chan struct{})}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := h.inFlight.Add(1)
		defer h.inFlight.Add(-1)
		for m := h.maxIn.Load(); n > m && !h.maxIn.CompareAndSwap(m, n); m = h.maxIn.Load() {
		}
		var q hookReq
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, q)
		h.mu.Unlock()
		switch q.PrivAuthCode {
		case "good":
			w.Write([]byte(`{"ok":true,"extra":1}`))
		case "bad":
			w.Write([]byte(`{"ok":false}`))
		case "forbidden":
			w.WriteHeader(http.StatusForbidden)
		case "boom":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"ok":true}`))
		case "junk":
			w.Write([]byte(`<html>ok</html>`))
		case "noanswer":
			w.Write([]byte(`{}`))
		case "hold":
			// Answered (allowed) when the test releases it: the handler
			// has then returned, and its call left inFlight, before the
			// answer is on the wire, so the server's next call cannot
			// overlap it in the count.
			h.hanging.Add(1)
			defer h.hanging.Add(-1)
			select {
			case <-r.Context().Done():
				return
			case <-h.next:
			}
			w.Write([]byte(`{"ok":true}`))
		case "hang":
			h.hanging.Add(1)
			defer h.hanging.Add(-1)
			select {
			case <-r.Context().Done():
			case <-h.release:
			}
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	t.Cleanup(func() { close(h.release); h.Close() })
	return h
}

func (h *fakeHook) requests() []hookReq {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookReq(nil), h.reqs...)
}

func TestAuthWebhookCodes(t *testing.T) {
	h := newFakeHook(t)
	e := newEnvCfg(t, func(c *server.Config) { c.AuthWebhook = h.URL + "/verify" })
	for _, tc := range []struct {
		priv, auth string
		want       int
	}{
		{"u-good", "good", 0},
		{"u-none", "", protocol.CustomAuthNoInfo},
		{"u-bad", "bad", protocol.CustomAuthFailed},
		{"u-403", "forbidden", protocol.CustomAuthFailed},
		{"u-500", "boom", protocol.CustomAuthException},
		{"u-junk", "junk", protocol.CustomAuthException},
		{"u-noanswer", "noanswer", protocol.CustomAuthException},
		{"u-418", "teapot", protocol.CustomAuthException},
	} {
		c := e.newClient()
		if ev := c.tryLogin(t, "demo", md5hex("demo"), tc.priv, tc.auth); loginCode(ev) != tc.want {
			t.Errorf("privAuthCode %q: %v, want %d", tc.auth, ev, tc.want)
		}
	}
	// What the service was told, for the allowed login.
	reqs := h.requests()
	if len(reqs) != 7 { // every case but the one without privAuthCode
		t.Fatalf("webhook got %d requests, want 7: %+v", len(reqs), reqs)
	}
	want := hookReq{AuthAcnt: "demo", UsrID: "u-good", PrivAcnt: "u-good", NickName: "nick u-good", PrivAuthCode: "good", RemoteAddr: "127.0.0.1"}
	if reqs[0] != want {
		t.Errorf("webhook request = %+v, want %+v", reqs[0], want)
	}
	// A server-assigned usrID is the one the service sees and the user gets.
	c := e.newClient()
	ev := c.tryLogin(t, "demo", md5hex("demo"), "", "good")
	if ev.Name != "LoginSuccess" {
		t.Fatalf("assigned usrID: %v", ev)
	}
	if got := h.requests()[7]; got.UsrID != ev.S[0] || got.PrivAcnt != "" {
		t.Errorf("webhook saw usrID %q privAcnt %q, user got %q", got.UsrID, got.PrivAcnt, ev.S[0])
	}
	// The enterprise password is checked first: the service never hears of
	// a wrong one.
	c2 := e.newClient()
	if ev := c2.tryLogin(t, "demo", md5hex("nope"), "u-x", "good"); loginCode(ev) != protocol.AcntPswdErr {
		t.Errorf("wrong password: %v, want 7", ev)
	}
	if n := len(h.requests()); n != 8 {
		t.Errorf("webhook called for a wrong password (%d requests)", n)
	}
}

func TestAuthWebhookUnreachable16(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	e := newEnvCfg(t, func(c *server.Config) { c.AuthWebhook = "http://" + dead + "/verify" })
	c := e.newClient()
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", "good"); loginCode(ev) != protocol.CustomAuthException {
		t.Fatalf("unreachable webhook: %v, want 16", ev)
	}
}

func TestAuthWebhookBadURLRefused(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "not a url", "http://"} {
		if s, err := server.New(server.Config{DataDir: t.TempDir(), AuthWebhook: u}); err == nil {
			s.Close()
			t.Errorf("server.New accepted webhook %q", u)
		}
	}
}

// A webhook that hangs fails that login with 16 after the timeout, while
// other logins and logged-in users are served meanwhile.
func TestAuthWebhookHangTimesOut16OthersServed(t *testing.T) {
	h := newFakeHook(t)
	const timeout = 3 * time.Second
	e := newEnvCfg(t, func(c *server.Config) {
		c.AuthWebhook = h.URL
		c.AuthWebhookTimeout = timeout
	})
	a := e.newClient()
	if ev := a.tryLogin(t, "demo", md5hex("demo"), "alice", "good"); ev.Name != "LoginSuccess" {
		t.Fatalf("alice: %v", ev)
	}
	stuck := e.newClient()
	start := time.Now()
	stuck.Login("demo", md5hex("demo"), "", "stuck", "hang", "stuck")
	waitFor(t, waitTimeout, "the webhook to hang", func() bool { return h.hanging.Load() == 1 })

	b := e.newClient()
	if ev := b.tryLogin(t, "demo", md5hex("demo"), "bob", "good"); ev.Name != "LoginSuccess" {
		t.Fatalf("bob while the webhook hangs: %v", ev)
	}
	task := a.SendCmd("bob", "aGk=")
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("sendCmd while the webhook hangs: %v", ev)
	}
	if _, done := stuck.r.find("LoginFail", nil); done || h.hanging.Load() != 1 {
		t.Fatalf("the hanging login ended before the others were served (timeout too short for this machine?)")
	}
	ev := stuck.r.wait(t, "LoginFail", withS("stuck"))
	if ev.I[0] != protocol.CustomAuthException {
		t.Fatalf("hanging webhook: %v, want 16", ev)
	}
	if el := time.Since(start); el < timeout-100*time.Millisecond {
		t.Errorf("16 after %v, before the %v timeout", el, timeout)
	}
	waitFor(t, waitTimeout, "the server to cancel the webhook call", func() bool { return h.hanging.Load() == 0 })
}

// At most AuthWebhookConc verifications are in flight: with one slot, a
// second login waits for the first call to end before its own starts.
//
// The first call ends by the hook's answer, not by the server's timeout: a
// call the server cancels stays in the hook's inFlight count until the
// hook's HTTP server notices the closed connection, which may be after the
// server, its slot free, has started the next call ("2 calls in flight"
// under load with no bound broken). The hook's answer leaves no such gap.
// And the first call is held until the second login is seen waiting for
// the slot (hookSlotWaiters), so that the two would overlap if the bound
// did not hold.
func TestAuthWebhookConcurrencyBounded(t *testing.T) {
	h := newFakeHook(t)
	e := newEnvCfg(t, func(c *server.Config) {
		c.AuthWebhook = h.URL
		c.AuthWebhookConc = 1
		c.AuthWebhookTimeout = time.Minute // no call ends by the timeout here
	})
	first, second := e.newClient(), e.newClient()
	first.Login("demo", md5hex("demo"), "", "first", "hold", "first")
	waitFor(t, waitTimeout, "the first call to reach the webhook", func() bool { return h.hanging.Load() == 1 })
	second.Login("demo", md5hex("demo"), "", "second", "hold", "second")
	waitFor(t, waitTimeout, "the second login to wait for a webhook slot", func() bool { return hookSlotWaiters() == 1 })
	if n := len(h.requests()); n != 1 {
		t.Fatalf("%d calls reached the webhook while the only slot was taken", n)
	}
	h.next <- struct{}{} // the first call ends
	first.r.wait(t, "LoginSuccess", nil)
	waitFor(t, waitTimeout, "the second call to reach the webhook", func() bool { return len(h.requests()) == 2 })
	h.next <- struct{}{}
	second.r.wait(t, "LoginSuccess", nil)
	if got := h.requests(); got[0].PrivAcnt != "first" || got[1].PrivAcnt != "second" {
		t.Fatalf("webhook calls in order %s, %s; want first, second", got[0].PrivAcnt, got[1].PrivAcnt)
	}
	if n := h.maxIn.Load(); n != 1 {
		t.Fatalf("webhook had %d calls in flight at once, want 1", n)
	}
	// The slot is free again.
	c := e.newClient()
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "third", "good"); ev.Name != "LoginSuccess" {
		t.Fatalf("after the slot freed: %v", ev)
	}
}

// hookSlotWaiters counts the goroutines parked in the server's
// authHook.verify itself (its select on a free slot), as opposed to those
// inside a webhook call (parked in net/http, below verify).
func hookSlotWaiters() int {
	var b strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&b, 2)
	n := 0
	for _, g := range strings.Split(b.String(), "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) < 2 || !strings.Contains(lines[0], "[select") {
			continue
		}
		// The first frame outside the runtime is the one that parked.
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "runtime.") {
				continue
			}
			if strings.HasPrefix(l, "github.com/crvideomgr/crvideomgr/server.(*authHook).verify(") {
				n++
			}
			break
		}
	}
	return n
}
