package server

import (
	"container/list"
	"net"
	"sync"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// Login throttling: failed logins are counted per source address and per
// account; a key with too many failures within a window is refused (code 8,
// CRVIDEOSDK_SERVER_EXCEPTION) for a while, without its password being
// checked. What counts as a failure, and the keys:
//
//   - wrong enterprise credentials (7, unknown account included, so the
//     throttle tells nobody which accounts exist): the address and authAcnt;
//   - a privAuthCode the customer's service refused (17): the address and
//     authAcnt+privAcnt (not the whole enterprise: one user's wrong code must
//     not lock out the others). With privAcnt empty only the address counts.
//
// Other failures (bad parameters, an unreachable verification service, ...)
// are not counted. Success resets nothing: interleaving good logins must not
// buy an attacker more guesses. Each table is an LRU of at most
// Config.ThrottleKeys keys, so a client rotating names or addresses cannot
// grow it without bound; entries idle longer than window and block are
// dropped first.

// Throttle defaults (Config.LoginFail*, LoginBlock, ThrottleKeys).
const (
	DefaultLoginFailWindow = time.Minute
	DefaultLoginFailIP     = 10
	DefaultLoginFailAcnt   = 30
	DefaultLoginBlock      = time.Minute
	DefaultThrottleKeys    = 10000
)

// throttle counts failures per key in fixed windows and blocks a key that
// reaches max failures in one window for block. Safe for concurrent use; mu
// is a leaf lock.
type throttle struct {
	max    int // failures within window that block the key; 0: never blocks
	window time.Duration
	block  time.Duration
	cap    int

	mu  sync.Mutex
	m   map[string]*list.Element // of *throttleEntry
	lru list.List                // least recently failed first
}

type throttleEntry struct {
	key     string
	start   time.Time // of the current window
	n       int       // failures in it
	until   time.Time // refused until then (zero: not blocked)
	touched time.Time // last failure
}

func newThrottle(max int, window, block time.Duration, capacity int) *throttle {
	return &throttle{max: max, window: window, block: block, cap: capacity, m: make(map[string]*list.Element)}
}

// blocked reports whether key is refused at now.
func (t *throttle) blocked(key string, now time.Time) bool {
	if t.max <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	el := t.m[key]
	return el != nil && now.Before(el.Value.(*throttleEntry).until)
}

// fail counts one failure of key at now and reports whether it made the key
// blocked.
func (t *throttle) fail(key string, now time.Time) bool {
	if t.max <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	el := t.m[key]
	if el == nil {
		for t.lru.Len() >= t.cap {
			t.remove(t.lru.Front())
		}
		el = t.lru.PushBack(&throttleEntry{key: key, start: now})
		t.m[key] = el
	} else {
		t.lru.MoveToBack(el)
	}
	e := el.Value.(*throttleEntry)
	e.touched = now
	if now.Sub(e.start) >= t.window {
		e.start, e.n = now, 0
	}
	e.n++
	if e.n >= t.max && !now.Before(e.until) {
		e.until = now.Add(t.block)
		e.start, e.n = now, 0 // after the block, a fresh window
		return true
	}
	return false
}

// prune drops entries that neither block nor count any more. mu must be held.
func (t *throttle) prune(now time.Time) {
	idle := max(t.window, t.block)
	for el := t.lru.Front(); el != nil; el = t.lru.Front() {
		if now.Sub(el.Value.(*throttleEntry).touched) < idle {
			return
		}
		t.remove(el)
	}
}

func (t *throttle) remove(el *list.Element) {
	delete(t.m, el.Value.(*throttleEntry).key)
	t.lru.Remove(el)
}

// size returns the number of keys held.
func (t *throttle) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lru.Len()
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

// loginThrottled reports whether a login from addr for acnt/priv is refused
// now. Any goroutine.
func (s *Server) loginThrottled(addr, acnt, priv string) bool {
	now := time.Now()
	if s.ipThrottle.blocked(addr, now) || s.acntThrottle.blocked(acntKey(acnt), now) {
		return true
	}
	return priv != "" && s.acntThrottle.blocked(userKey(acnt, priv), now)
}

// loginFailed counts a failed login (code 7 or 17) from addr. Any goroutine.
func (s *Server) loginFailed(addr, acnt, priv string, code int) {
	now := time.Now()
	if s.ipThrottle.fail(addr, now) {
		s.log.Warn("login throttle: address blocked", "addr", addr, "for", s.cfg.LoginBlock)
	}
	key, what := acntKey(acnt), acnt
	if code != protocol.AcntPswdErr {
		if priv == "" {
			return
		}
		key, what = userKey(acnt, priv), acnt+"/"+priv
	}
	if s.acntThrottle.fail(key, now) {
		s.log.Warn("login throttle: account blocked", "acnt", what, "for", s.cfg.LoginBlock)
	}
}
