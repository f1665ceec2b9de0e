package server

import (
	"fmt"
	"net"
	"testing"
	"time"
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
