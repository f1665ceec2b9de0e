package e2e

import (
	"net"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/crvideomgr/crvideomgr/server"
)

// from makes an engine connect from source address ip (a loopback alias:
// the server throttles by address).
func from(ip string) func(*core.Config) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return func(c *core.Config) { c.NetDial = d.DialContext }
}

// loginUntilOK retries a correct login until the throttle lets it through
// and returns how many attempts were refused with 8 meanwhile.
func loginUntilOK(t *testing.T, c *client, acnt, priv, auth string) int {
	t.Helper()
	refused := 0
	waitFor(t, waitTimeout, "the block to expire", func() bool {
		ev := c.tryLogin(t, acnt, md5hex(acnt), priv, auth)
		switch loginCode(ev) {
		case 0:
			return true
		case protocol.ServerException:
			refused++
			return false
		default:
			t.Fatalf("login while waiting for the block to expire: %v", ev)
			return false
		}
	})
	return refused
}

func TestLoginThrottlePerAccount(t *testing.T) {
	const block = 700 * time.Millisecond
	e := newEnvCfg(t, func(c *server.Config) {
		c.LoginFailAcnt, c.LoginFailIP, c.LoginBlock = 3, -1, block
	})
	x := e.newClient()
	for i := range 3 {
		if ev := x.tryLogin(t, "demo", md5hex("guess"), "mallory", ""); loginCode(ev) != protocol.AcntPswdErr {
			t.Fatalf("wrong password %d: %v, want 7", i+1, ev)
		}
	}
	blockedAt := time.Now()
	// The account is blocked for everyone, the right password included,
	// from any address.
	if ev := x.tryLogin(t, "demo", md5hex("demo"), "mallory", ""); loginCode(ev) != protocol.ServerException {
		t.Fatalf("right password while blocked: %v, want 8", ev)
	}
	y := e.newClientCfg(from("127.0.0.2"))
	if ev := y.tryLogin(t, "demo", md5hex("demo"), "alice", ""); loginCode(ev) != protocol.ServerException {
		t.Fatalf("another address while the account is blocked: %v, want 8", ev)
	}
	// Another account is not.
	o := e.newClient()
	if ev := o.tryLogin(t, "other", md5hex("other"), "olga", ""); ev.Name != "LoginSuccess" {
		t.Fatalf("another account: %v", ev)
	}
	// The block expires.
	loginUntilOK(t, y, "demo", "alice", "")
	if el := time.Since(blockedAt); el < block-100*time.Millisecond {
		t.Errorf("block lifted after %v, want about %v", el, block)
	}
}

func TestLoginThrottlePerAddress(t *testing.T) {
	e := newEnvCfg(t, func(c *server.Config) {
		c.LoginFailIP, c.LoginFailAcnt, c.LoginBlock = 3, -1, 700*time.Millisecond
	})
	x := e.newClientCfg(from("127.0.0.2"))
	// Rotating account names does not help: failures count per address.
	for i, acnt := range []string{"nosuch1", "nosuch2", "demo"} {
		if ev := x.tryLogin(t, acnt, md5hex("guess"), "mallory", ""); loginCode(ev) != protocol.AcntPswdErr {
			t.Fatalf("failure %d: %v, want 7", i+1, ev)
		}
	}
	if ev := x.tryLogin(t, "other", md5hex("other"), "mallory", ""); loginCode(ev) != protocol.ServerException {
		t.Fatalf("right credentials from the blocked address: %v, want 8", ev)
	}
	// The same account from another address logs in.
	a := e.newClient()
	if ev := a.tryLogin(t, "demo", md5hex("demo"), "alice", ""); ev.Name != "LoginSuccess" {
		t.Fatalf("another address: %v", ev)
	}
	loginUntilOK(t, x, "other", "mallory", "")
}

// privAuthCode refusals count per user, not per enterprise.
func TestLoginThrottleWebhookRefusalsPerUser(t *testing.T) {
	h := newFakeHook(t)
	e := newEnvCfg(t, func(c *server.Config) {
		c.AuthWebhook = h.URL
		c.LoginFailAcnt, c.LoginFailIP, c.LoginBlock = 2, -1, time.Minute
	})
	m := e.newClient()
	for i := range 2 {
		if ev := m.tryLogin(t, "demo", md5hex("demo"), "mallory", "bad"); loginCode(ev) != protocol.CustomAuthFailed {
			t.Fatalf("refusal %d: %v, want 17", i+1, ev)
		}
	}
	calls := len(h.requests())
	if ev := m.tryLogin(t, "demo", md5hex("demo"), "mallory", "good"); loginCode(ev) != protocol.ServerException {
		t.Fatalf("blocked user: %v, want 8", ev)
	}
	if len(h.requests()) != calls {
		t.Error("the webhook was asked about a blocked user")
	}
	b := e.newClient()
	if ev := b.tryLogin(t, "demo", md5hex("demo"), "bob", "good"); ev.Name != "LoginSuccess" {
		t.Fatalf("another user of the enterprise: %v", ev)
	}
	// 16 (service trouble) is not the user's fault: it does not count.
	c := e.newClient()
	for range 3 {
		if ev := c.tryLogin(t, "demo", md5hex("demo"), "carol", "boom"); loginCode(ev) != protocol.CustomAuthException {
			t.Fatalf("service failure: %v, want 16", ev)
		}
	}
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "carol", "good"); ev.Name != "LoginSuccess" {
		t.Fatalf("after service failures: %v", ev)
	}
}
