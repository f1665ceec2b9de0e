package server

import (
	"container/list"
	"crypto/sha256"
	"net"
	"sync"
	"time"
)

// Login throttling (docs/SECURITY.md, "Login throttling"). Attempts are
// counted per source address and per account; a key whose failures reach
// its limit within a window is refused (code 8, CRVIDEOSDK_SERVER_EXCEPTION)
// for a while, without its password being checked. The keys:
//
//   - the enterprise password check (7 on failure, unknown account included,
//     so the throttle tells nobody which accounts exist): the address and
//     authAcnt;
//   - the privAuthCode verification (17 on failure): the address and
//     authAcnt+privAcnt (not the whole enterprise: one user's wrong code must
//     not lock out the others). With privAcnt empty only the address counts.
//
// An attempt is counted when it starts (acquire), before the slow check, and
// settled when it ends: a failure stays counted, a success is refunded (it
// resets nothing else: interleaving good logins must not buy an attacker
// more guesses). Other outcomes (bad parameters, an unreachable verification
// service, ...) are refunded too. At most one password check per address and
// one per account is in flight, and one verification per user: the others
// wait for it (up to loginWait) rather than all being checked before any
// failure counts — so a burst of parallel wrong logins gets exactly the
// limit's number of checks. A correct password the login cache knows needs
// no check and waits for nothing.
//
// So that a stranger cannot lock an enterprise out, an address from which a
// login of that account (or user) succeeded within LoginTrust is not refused
// by the account's (user's) block; it keeps its own address limit. See
// trustTable.
//
// Each table is an LRU of at most Config.ThrottleKeys keys (plus the keys of
// logins in progress, which are never evicted), so a client rotating names
// or addresses cannot grow it without bound; entries idle longer than
// window and block are dropped first.

// Throttle defaults (Config.LoginFail*, LoginBlock, ThrottleKeys, LoginTrust*).
const (
	DefaultLoginFailWindow = time.Minute
	DefaultLoginFailIP     = 10
	DefaultLoginFailAcnt   = 30
	DefaultLoginBlock      = time.Minute
	DefaultThrottleKeys    = 10000
	DefaultLoginTrust      = 24 * time.Hour
	DefaultLoginTrustKeys  = 100000
)

// loginWait bounds how long a login waits for its turn (the check in flight
// for its address, account or user) before it is refused with 8: well under
// the library's 10 s handshake timeout, leaving room for the checks.
const loginWait = 3 * time.Second

// throttle counts attempts per key in fixed windows and blocks a key whose
// failures reach max in one window for block. Safe for concurrent use; mu
// is a leaf lock.
type throttle struct {
	max    int // failures within window that block the key; 0: never blocks
	window time.Duration
	block  time.Duration
	cap    int

	mu  sync.Mutex
	m   map[string]*list.Element // of *throttleEntry
	lru list.List                // least recently used first
}

type throttleEntry struct {
	key      string
	start    time.Time // of the current window
	fails    int       // settled failures in it
	inflight int       // attempts acquired and not yet settled
	waiters  int       // acquires waiting for their turn
	wake     chan struct{}
	until    time.Time // refused until then (zero: not blocked)
	touched  time.Time // last use
}

// busy entries (an attempt in flight or waiting) are never dropped.
func (e *throttleEntry) busy() bool { return e.inflight > 0 || e.waiters > 0 }

func newThrottle(max int, window, block time.Duration, capacity int) *throttle {
	return &throttle{max: max, window: window, block: block, cap: capacity, m: make(map[string]*list.Element)}
}

// blocked reports whether key is refused at now. Any goroutine; takes t.mu.
func (t *throttle) blocked(key string, now time.Time) bool {
	if t.max <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.m[key]
	return el != nil && now.Before(el.Value.(*throttleEntry).until)
}

// attempt is an acquired, unsettled attempt of one key (nil when the
// throttle is disabled).
type attempt struct {
	t *throttle
	e *throttleEntry
}

// acquire counts an attempt of key before its check. It waits, until
// deadline, while one (serial) or the key's remaining budget (failures plus
// attempts in flight reaching max) of attempts is in flight. It returns nil,
// false when the key is blocked — unless exempt — or when deadline passes
// first; and nil, true when the throttle is disabled. Before each wait it
// calls done, if not nil: when done reports true the caller no longer needs
// the attempt (another login verified the same password meanwhile) and
// acquire returns nil, true. Any goroutine, no lock held.
func (t *throttle) acquire(key string, serial, exempt bool, deadline time.Time, done func() bool) (*attempt, bool) {
	if t.max <= 0 {
		return nil, true
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	t.mu.Lock()
	e := t.entry(key, time.Now())
	e.waiters++
	for {
		now := time.Now()
		e.touched = now
		t.roll(e, now)
		blocked := now.Before(e.until)
		switch {
		case blocked && !exempt:
			e.waiters--
			t.release(e, now)
			t.mu.Unlock()
			return nil, false
		case (!serial || e.inflight == 0) && (exempt || e.fails+e.inflight < t.max):
			e.waiters--
			e.inflight++
			t.mu.Unlock()
			return &attempt{t: t, e: e}, true
		}
		if e.wake == nil {
			e.wake = make(chan struct{})
		}
		wake := e.wake
		t.mu.Unlock()
		if done != nil && done() {
			t.mu.Lock()
			e.waiters--
			t.release(e, time.Now())
			t.mu.Unlock()
			return nil, true
		}
		if timer == nil {
			timer = time.NewTimer(time.Until(deadline))
		}
		select {
		case <-wake:
		case <-timer.C:
			t.mu.Lock()
			e.waiters--
			t.release(e, time.Now())
			t.mu.Unlock()
			return nil, false
		}
		t.mu.Lock()
	}
}

// settle ends attempt a: a failure stays counted (and reports whether it
// blocked the key), anything else is refunded. Nil-safe. Takes t.mu.
func (a *attempt) settle(failed bool) (blockedNow bool) { return a.settleAt(failed, time.Now()) }

// settleAt is settle at now. Takes t.mu.
func (a *attempt) settleAt(failed bool, now time.Time) (blockedNow bool) {
	if a == nil {
		return false
	}
	t, e := a.t, a.e
	t.mu.Lock()
	defer t.mu.Unlock()
	e.inflight--
	e.touched = now
	if e.wake != nil {
		close(e.wake) // whoever waits for this key tries again
		e.wake = nil
	}
	if failed {
		t.roll(e, now)
		e.fails++
		if el := t.m[e.key]; el != nil && el.Value == e {
			t.lru.MoveToBack(el)
		}
		if e.fails >= t.max && !now.Before(e.until) {
			e.until = now.Add(t.block)
			e.start, e.fails = now, 0 // after the block, a fresh window
			return true
		}
		return false
	}
	t.release(e, now)
	return false
}

// entry returns key's entry, creating it (and making room) if needed, as the
// most recently used. mu must be held.
func (t *throttle) entry(key string, now time.Time) *throttleEntry {
	t.prune(now)
	if el := t.m[key]; el != nil {
		t.lru.MoveToBack(el)
		return el.Value.(*throttleEntry)
	}
	// Make room: the least recently used entry that is not busy goes.
	for el := t.lru.Front(); el != nil && t.lru.Len() >= t.cap; {
		next := el.Next()
		if !el.Value.(*throttleEntry).busy() {
			t.remove(el)
		}
		el = next
	}
	e := &throttleEntry{key: key, start: now, touched: now}
	t.m[key] = t.lru.PushBack(e)
	return e
}

// roll starts a new window for e when the current one is over. mu must be held.
func (t *throttle) roll(e *throttleEntry, now time.Time) {
	if now.Sub(e.start) >= t.window {
		e.start, e.fails = now, 0
	}
}

// release drops e once it holds nothing worth keeping: no failures, no
// block, nothing in flight. mu must be held.
func (t *throttle) release(e *throttleEntry, now time.Time) {
	if e.busy() || e.fails > 0 || now.Before(e.until) {
		return
	}
	if el := t.m[e.key]; el != nil && el.Value == e {
		t.remove(el)
	}
}

// prune drops entries that neither block nor count any more. mu must be held.
func (t *throttle) prune(now time.Time) {
	idle := max(t.window, t.block)
	for el := t.lru.Front(); el != nil; {
		e := el.Value.(*throttleEntry)
		if now.Sub(e.touched) < idle {
			return
		}
		next := el.Next()
		if !e.busy() {
			t.remove(el)
		}
		el = next
	}
}

// remove drops el's entry. mu must be held.
func (t *throttle) remove(el *list.Element) {
	delete(t.m, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// size returns the number of keys held. Takes mu.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
}

// trustTable remembers, for LoginTrust, the (account, address) and (user,
// address) pairs of successful logins, so that those addresses keep logging
// in while a stranger has the account (or user) blocked. An LRU of at most
// cap pairs; a pair is 16 bytes of SHA-256 (names may be long), about 100
// bytes an entry with the map and list overhead. Safe for concurrent use;
// mu is a leaf lock.
type trustTable struct {
	ttl time.Duration // 0: nobody is trusted
	cap int

	mu  sync.Mutex
	m   map[[16]byte]*list.Element // of *trustEntry
	lru list.List                  // least recently trusted first
}

type trustEntry struct {
	key [16]byte
	at  time.Time
}

func newTrustTable(ttl time.Duration, capacity int) *trustTable {
	return &trustTable{ttl: ttl, cap: capacity, m: make(map[[16]byte]*list.Element)}
}

func trustKey(key, addr string) [16]byte {
	h := sha256.New()
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(addr))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// trusted reports whether a login of key from addr succeeded within the TTL.
// Any goroutine; takes tt.mu.
func (tt *trustTable) trusted(key, addr string, now time.Time) bool {
	if tt.ttl <= 0 {
		return false
	}
	tt.mu.Lock()
	defer tt.mu.Unlock()
	el := tt.m[trustKey(key, addr)]
	return el != nil && now.Sub(el.Value.(*trustEntry).at) < tt.ttl
}

// trust records a successful login of key from addr at now. Any goroutine;
// takes tt.mu.
func (tt *trustTable) trust(key, addr string, now time.Time) {
	if tt.ttl <= 0 {
		return
	}
	k := trustKey(key, addr)
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for el := tt.lru.Front(); el != nil && now.Sub(el.Value.(*trustEntry).at) >= tt.ttl; el = tt.lru.Front() {
		tt.remove(el)
	}
	if el := tt.m[k]; el != nil {
		el.Value.(*trustEntry).at = now
		tt.lru.MoveToBack(el)
		return
	}
	for tt.lru.Len() >= tt.cap {
		tt.remove(tt.lru.Front())
	}
	tt.m[k] = tt.lru.PushBack(&trustEntry{key: k, at: now})
}

// remove drops el's pair. mu must be held.
func (tt *trustTable) remove(el *list.Element) {
	delete(tt.m, el.Value.(*trustEntry).key)
	tt.lru.Remove(el)
}

// size returns the number of pairs held. Takes mu.
func (tt *trustTable) size() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.lru.Len()
}

// addrKey is the throttle key of a remote address: the IPv4 address, or the
// /64 network of an IPv6 address (one host usually has a whole /64).
func addrKey(a net.Addr) string {
	var ip net.IP
	switch v := a.(type) {
	case *net.TCPAddr:
		ip = v.IP
	default:
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		ip = net.ParseIP(host)
		if ip == nil {
			return host
		}
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

func acntKey(acnt string) string       { return "a\x00" + acnt }
func userKey(acnt, priv string) string { return "u\x00" + acnt + "\x00" + priv }
