package server

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

func TestThrottleBlocksAfterMaxFailuresUntilBlockEnds(t *testing.T) {
	th := newThrottle(3, time.Minute, 10*time.Second, 100)
	t0 := time.Unix(1000, 0)
	for i := range 2 {
		if th.fail("k", t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("blocked after %d failures", i+1)
		}
	}
	if th.blocked("k", t0.Add(2*time.Second)) {
		t.Fatal("blocked after 2 failures")
	}
	if !th.fail("k", t0.Add(3*time.Second)) {
		t.Fatal("3rd failure did not block")
	}
	if !th.blocked("k", t0.Add(3*time.Second)) || !th.blocked("k", t0.Add(13*time.Second-time.Nanosecond)) {
		t.Fatal("not blocked during the block")
	}
	if th.blocked("k", t0.Add(13*time.Second)) {
		t.Fatal("still blocked after the block")
	}
	if th.blocked("other", t0.Add(4*time.Second)) {
		t.Fatal("another key is blocked")
	}
	// After the block the count starts afresh.
	if th.fail("k", t0.Add(14*time.Second)) {
		t.Fatal("blocked again by one failure")
	}
}

func TestThrottleWindowForgetsOldFailures(t *testing.T) {
	th := newThrottle(3, time.Minute, time.Minute, 100)
	t0 := time.Unix(1000, 0)
	th.fail("k", t0)
	th.fail("k", t0.Add(30*time.Second))
	if th.fail("k", t0.Add(61*time.Second)) || th.blocked("k", t0.Add(61*time.Second)) {
		t.Fatal("failures of an earlier window counted")
	}
}

func TestThrottleDisabled(t *testing.T) {
	th := newThrottle(0, time.Minute, time.Minute, 100)
	for range 100 {
		if th.fail("k", time.Unix(1000, 0)) {
			t.Fatal("a disabled throttle blocked")
		}
	}
	if th.size() != 0 {
		t.Fatalf("a disabled throttle holds %d keys", th.size())
	}
}

// A client rotating keys (account names, addresses) cannot grow the table
// past its capacity; idle entries are dropped first; and a key failing
// constantly keeps its entry against one-shot keys.
func TestThrottleBoundedMemory(t *testing.T) {
	th := newThrottle(5, time.Minute, time.Minute, 100)
	t0 := time.Unix(1000, 0)
	for i := range 10000 {
		now := t0.Add(time.Duration(i) * time.Millisecond)
		th.fail(fmt.Sprintf("rotating-%d", i), now)
		if i%10 == 0 {
			th.fail("attacker", now)
		}
		if n := th.size(); n > 100 {
			t.Fatalf("%d keys after %d failures, capacity 100", n, i+1)
		}
	}
	if !th.blocked("attacker", t0.Add(10*time.Second)) {
		t.Fatal("the attacker's key was evicted by the rotating keys")
	}
	// Everything is idle an hour later: one more failure prunes the rest.
	th.fail("late", t0.Add(time.Hour))
	if n := th.size(); n != 1 {
		t.Fatalf("%d keys after pruning, want 1", n)
	}
}

func TestAddrKey(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 5}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 5}, "192.0.2.7"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:aaaa::1"), Port: 5}, "2001:db8:1:2::/64"},
		{&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:bbbb::9"), Port: 5}, "2001:db8:1:2::/64"},
	} {
		if got := addrKey(tc.addr); got != tc.want {
			t.Errorf("addrKey(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// dialFrom dials s from the loopback address ip (the throttle counts per
// address; Linux routes all of 127/8 to lo).
func dialFrom(s *Server, ip string) (*websocket.Conn, error) {
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return nd.Dial(network, addr)
	}}
	ws, _, err := d.Dial("ws://"+s.Addr()+"/ws", nil)
	return ws, err
}

// loginFrom logs in once from ip with m on a new connection and returns the
// reply code; the connection is closed after it (a successful session then
// ends). Safe in any goroutine: it reports errors instead of failing.
func loginFrom(s *Server, ip string, m protocol.Msg) (int, error) {
	ws, err := dialFrom(s, ip)
	if err != nil {
		return 0, err
	}
	defer ws.Close()
	m.ID = 1
	if err := ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m)); err != nil {
		return 0, err
	}
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return 0, err
		}
		if r, err := protocol.Decode(data); err == nil && r.ID == 1 {
			return r.Code, nil
		}
	}
}

// burst runs n logins at once (ips[i%len(ips)], msg(i)) and returns how many
// got each code.
func burst(t *testing.T, s *Server, n int, ips []string, msg func(i int) protocol.Msg) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	codes := make([]int, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			codes[i], errs[i] = loginFrom(s, ips[i%len(ips)], msg(i))
		}()
	}
	close(start)
	wg.Wait()
	got := make(map[int]int)
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("login %d: %v", i, errs[i])
		}
		got[codes[i]]++
	}
	return got
}

func wrongLogin(acnt string) protocol.Msg {
	m := loginMsg("ent1", "mallory")
	m.Acnt, m.Pswd = acnt, md5Hex("guess")
	return m
}

// A burst of parallel wrong logins from one address gets exactly the
// address limit's number of password checks: an attempt is counted when it
// starts, and one check per address runs at a time. (Before: 70-160 checks
// for 100 logins, each counted only after its hash.)
func TestLoginBurstFromOneAddressChecksAtMostTheLimit(t *testing.T) {
	// No pending-connection limit: the burst is to reach the throttle.
	s := newTestServer(t, func(c *Config) { c.LoginFailIP, c.MaxPendingPerIP = 10, -1 })
	got := burst(t, s, 100, []string{"127.0.0.1"}, func(int) protocol.Msg { return wrongLogin("ent1") })
	checks := s.pwChecks.Load()
	t.Logf("100 parallel wrong logins from one address: %d password checks, codes %v", checks, got)
	if checks > 10 || got[protocol.AcntPswdErr] != int(checks) || got[protocol.AcntPswdErr]+got[protocol.ServerException] != 100 {
		t.Errorf("%d password checks, codes %v; want at most 10 checks, each a 7, and 8 for the rest", checks, got)
	}
}

// The same from many addresses against one account: at most the account
// limit's number of checks.
func TestLoginBurstAgainstOneAccountChecksAtMostTheLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.LoginFailIP, c.LoginFailAcnt = 10, 30 })
	var ips []string
	for i := range 20 {
		ips = append(ips, fmt.Sprintf("127.0.1.%d", i+1))
	}
	got := burst(t, s, 120, ips, func(int) protocol.Msg { return wrongLogin("ent1") })
	checks := s.pwChecks.Load()
	t.Logf("120 parallel wrong logins from 20 addresses: %d password checks, codes %v", checks, got)
	if checks > 30 || got[protocol.AcntPswdErr] != int(checks) {
		t.Errorf("%d password checks, codes %v; want at most 30", checks, got)
	}
}

// Many users of one enterprise logging in at once after a restart (the
// login cache empty): one slow check, whose success lets all the others
// through the cache, none refused.
func TestManyLoginsAtOnceOneSlowCheck(t *testing.T) {
	s := newTestServer(t, nil)
	s.loginWait = time.Minute // however slow the one check, nobody gives up
	ips := []string{"127.0.2.1", "127.0.2.2", "127.0.2.3"}
	got := burst(t, s, 60, ips, func(i int) protocol.Msg { return loginMsg("ent1", fmt.Sprint("user", i)) })
	if got[0] != 60 || s.pwChecks.Load() != 1 {
		t.Errorf("codes %v, %d password checks; want 60 successes and 1 check", got, s.pwChecks.Load())
	}
}

// A correct password the login cache knows is not held up by a check in
// flight for its account (or its address); one it does not know waits for
// its turn.
func TestCachedLoginDoesNotWaitForSlowCheck(t *testing.T) {
	s := newTestServer(t, nil)
	if code, err := loginFrom(s, "127.0.3.1", loginMsg("ent1", "first")); err != nil || code != 0 {
		t.Fatalf("first login: %d %v", code, err)
	}
	// Play a slow check in flight for the account and the address.
	acnt, ok := s.acntThrottle.acquire(acntKey("ent1"), true, false, time.Now().Add(time.Second), nil)
	ip, ok2 := s.ipThrottle.acquire("127.0.3.1", true, false, time.Now().Add(time.Second), nil)
	if !ok || !ok2 || acnt == nil || ip == nil {
		t.Fatal("acquire")
	}
	if code, err := loginFrom(s, "127.0.3.1", loginMsg("ent1", "second")); err != nil || code != 0 {
		t.Fatalf("cached login while a check is in flight: %d %v", code, err)
	}
	done := make(chan int, 1)
	go func() {
		code, _ := loginFrom(s, "127.0.3.2", wrongLogin("ent1"))
		done <- code
	}()
	waitFor(t, waitTime, "the wrong login to wait for its turn", func() bool {
		s.acntThrottle.mu.Lock()
		defer s.acntThrottle.mu.Unlock()
		return s.acntThrottle.m[acntKey("ent1")].Value.(*throttleEntry).waiters == 1
	})
	select {
	case code := <-done:
		t.Fatalf("the wrong login did not wait: %d", code)
	default:
	}
	acnt.settle(false)
	ip.settle(false)
	if code := <-done; code != protocol.AcntPswdErr {
		t.Errorf("wrong login after its turn: %d, want 7", code)
	}
}

// A stranger who knows only the enterprise's name exhausts its account
// limit from several addresses: addresses that logged in to the account
// before still log in (each still has its own limit), a new address is
// refused, and the guesses stay bounded.
func TestStrangerCannotLockOutKnownAddresses(t *testing.T) {
	s := newTestServer(t, func(c *Config) {
		c.LoginFailIP, c.LoginFailAcnt, c.LoginBlock = 3, 6, time.Minute
	})
	s.loginWait = time.Minute // every guess waits for its turn: the account gets blocked however slow the checks
	for _, ip := range []string{"127.0.4.1", "127.0.4.2"} {
		if code, err := loginFrom(s, ip, loginMsg("ent1", "alice")); err != nil || code != 0 {
			t.Fatalf("alice from %s: %d %v", ip, code, err)
		}
	}
	checks := s.pwChecks.Load()
	// The attack: 20 addresses, 5 guesses each.
	var ips []string
	for i := range 20 {
		ips = append(ips, fmt.Sprintf("127.0.5.%d", i+1))
	}
	got := burst(t, s, 100, ips, func(int) protocol.Msg { return wrongLogin("ent1") })
	guesses := s.pwChecks.Load() - checks
	t.Logf("100 guesses from 20 addresses: %d checked, codes %v", guesses, got)
	if guesses > 6 || got[protocol.AcntPswdErr] != int(guesses) {
		t.Errorf("%d guesses checked, codes %v; want at most the account limit 6", guesses, got)
	}
	if !s.acntThrottle.blocked(acntKey("ent1"), time.Now()) {
		t.Fatal("the account is not blocked")
	}
	// Known addresses log in, the right password of course needed.
	for _, ip := range []string{"127.0.4.1", "127.0.4.2"} {
		if code, err := loginFrom(s, ip, loginMsg("ent1", "bob")); err != nil || code != 0 {
			t.Errorf("known address %s during the attack: %d %v, want 0", ip, code, err)
		}
	}
	// A new address cannot: the trade-off that remains.
	if code, err := loginFrom(s, "127.0.4.3", loginMsg("ent1", "carol")); err != nil || code != protocol.ServerException {
		t.Errorf("new address during the attack: %d %v, want 8", code, err)
	}
	// A known address keeps its own limit: 3 wrong guesses block it.
	for i := range 3 {
		if code, _ := loginFrom(s, "127.0.4.2", wrongLogin("ent1")); code != protocol.AcntPswdErr {
			t.Fatalf("wrong guess %d from a known address: %d, want 7", i+1, code)
		}
	}
	if code, _ := loginFrom(s, "127.0.4.2", loginMsg("ent1", "bob")); code != protocol.ServerException {
		t.Errorf("known address after its own limit: %d, want 8", code)
	}
	// Still bounded: the attack goes on from fresh addresses, nothing is checked.
	checks = s.pwChecks.Load()
	for i := range 10 {
		loginFrom(s, fmt.Sprintf("127.0.6.%d", i+1), wrongLogin("ent1"))
	}
	if n := s.pwChecks.Load() - checks; n != 0 {
		t.Errorf("%d guesses checked while the account is blocked", n)
	}
	// Another enterprise is untouched.
	if code, _ := loginFrom(s, "127.0.6.1", loginMsg("ent2", "olga")); code != 0 {
		t.Errorf("another enterprise: %d", code)
	}
}

func TestTrustTableTTLAndBound(t *testing.T) {
	tt := newTrustTable(time.Hour, 100)
	t0 := time.Unix(1000, 0)
	tt.trust("a", "1.2.3.4", t0)
	if !tt.trusted("a", "1.2.3.4", t0.Add(59*time.Minute)) || tt.trusted("a", "1.2.3.5", t0) || tt.trusted("b", "1.2.3.4", t0) {
		t.Fatal("trusted the wrong pairs")
	}
	if tt.trusted("a", "1.2.3.4", t0.Add(time.Hour)) {
		t.Fatal("trusted after the TTL")
	}
	for i := range 10000 {
		tt.trust("a", fmt.Sprint(i), t0.Add(time.Duration(i)*time.Millisecond))
		if tt.size() > 100 {
			t.Fatalf("%d pairs held, capacity 100", tt.size())
		}
	}
	tt.trust("late", "x", t0.Add(2*time.Hour))
	if tt.size() != 1 {
		t.Fatalf("%d pairs after the TTL, want 1", tt.size())
	}
	off := newTrustTable(0, 100)
	off.trust("a", "x", t0)
	if off.trusted("a", "x", t0) || off.size() != 0 {
		t.Fatal("a disabled table trusts")
	}
}

// acquire: one serial attempt at a time, a budget of max attempts in flight
// plus failures, waits that end at the deadline or when the caller no
// longer needs the attempt, and an exemption from the block only.
func TestThrottleAcquire(t *testing.T) {
	th := newThrottle(3, time.Minute, time.Minute, 100)
	soon := func() time.Time { return time.Now().Add(50 * time.Millisecond) }
	a, ok := th.acquire("k", true, false, soon(), nil)
	if !ok || a == nil {
		t.Fatal("first acquire refused")
	}
	if _, ok := th.acquire("k", true, false, soon(), nil); ok {
		t.Fatal("a second serial attempt while one is in flight")
	}
	if _, ok := th.acquire("k", true, false, soon(), func() bool { return true }); !ok {
		t.Fatal("a waiter whose need ended was refused")
	}
	// Not serial: the budget bounds failures plus attempts in flight.
	b, ok1 := th.acquire("k", false, false, soon(), nil)
	c, ok2 := th.acquire("k", false, false, soon(), nil)
	if !ok1 || !ok2 {
		t.Fatal("budget attempts refused")
	}
	if _, ok := th.acquire("k", false, false, soon(), nil); ok {
		t.Fatal("a fourth attempt in flight with a budget of 3")
	}
	// A success is refunded; a waiter takes its place.
	got := make(chan bool)
	go func() {
		d, ok := th.acquire("k", false, false, time.Now().Add(10*time.Second), nil)
		d.settle(false)
		got <- ok
	}()
	waitFor(t, waitTime, "a waiter", func() bool {
		th.mu.Lock()
		defer th.mu.Unlock()
		return th.m["k"].Value.(*throttleEntry).waiters == 1
	})
	a.settle(false)
	if !<-got {
		t.Fatal("the waiter was refused after a refund")
	}
	b.settle(true)
	c.settle(true)
	if th.blocked("k", time.Now()) {
		t.Fatal("blocked after 2 failures")
	}
	e, _ := th.acquire("k", true, false, soon(), nil)
	if !e.settle(true) || !th.blocked("k", time.Now()) {
		t.Fatal("3 failures did not block")
	}
	if _, ok := th.acquire("k", true, false, soon(), nil); ok {
		t.Fatal("acquired while blocked")
	}
	x, ok := th.acquire("k", true, true, soon(), nil)
	if !ok {
		t.Fatal("exempt attempt refused while blocked")
	}
	x.settle(false)
	// Nothing held for keys that only succeeded.
	s, _ := th.acquire("ok", true, false, soon(), nil)
	s.settle(false)
	if th.size() != 1 {
		t.Fatalf("%d keys held, want 1 (the blocked one)", th.size())
	}
}

// fail counts one failure of key at now and reports whether it made the key
// blocked (acquire and settle in one, for the tests of the window and
// the LRU). Takes t.mu.
func (t *throttle) fail(key string, now time.Time) bool {
	if t.max <= 0 {
		return false
	}
	t.mu.Lock()
	e := t.entry(key, now)
	e.inflight++
	t.mu.Unlock()
	return (&attempt{t: t, e: e}).settleAt(true, now)
}
