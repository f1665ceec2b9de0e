package netconn

import (
	"errors"
	"os"
	"testing"
	"time"
)

// deadlineConn counts the deadlines that reach the socket.
type deadlineConn struct {
	reads, writes []time.Time
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.reads = append(d.reads, t)
	return nil
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.writes = append(d.writes, t)
	return nil
}

// TestLazyDeadline: a deadline pushed forward by a little is not passed
// down, but an earlier one, a much later one and clearing always are.
func TestLazyDeadline(t *testing.T) {
	d := &deadlineConn{}
	c := &lazyDeadlines{c: d}
	base := time.Now().Add(8 * time.Second)
	steps := []struct {
		t    time.Time
		sent bool
	}{
		{base, true},                             // first
		{base.Add(10 * time.Millisecond), false}, // a little later: skipped
		{base.Add(500 * time.Millisecond), false},
		{base.Add(-time.Millisecond), true}, // earlier: applied at once
		{base.Add(3 * time.Second), true},   // later by over 1/8 of ~8 s
		{time.Time{}, true},                 // clear
		{time.Time{}, false},                // already clear
		{base, true},
	}
	for i, s := range steps {
		n := len(d.reads)
		if err := c.SetReadDeadline(s.t); err != nil {
			t.Fatal(err)
		}
		if sent := len(d.reads) > n; sent != s.sent {
			t.Fatalf("step %d: passed down %v, want %v", i, sent, s.sent)
		}
		if s.sent && !d.reads[len(d.reads)-1].Equal(s.t) {
			t.Fatalf("step %d: socket got %v, want %v", i, d.reads[len(d.reads)-1], s.t)
		}
	}
	// The write deadline is tracked apart from the read deadline.
	if err := c.SetWriteDeadline(base); err != nil || len(d.writes) != 1 {
		t.Fatalf("write deadline not passed down: %v %d", err, len(d.writes))
	}
	// SetDeadline sets both, lazily too.
	if err := c.SetDeadline(base.Add(time.Millisecond)); err != nil || len(d.writes) != 1 {
		t.Fatalf("SetDeadline: %v, %d write deadlines", err, len(d.writes))
	}
}

// TestLazyDeadlineExpires: a read deadline set through a Conn still fires
// on a real socket, and an extension after it expired is applied (the read
// then succeeds).
func TestLazyDeadlineExpires(t *testing.T) {
	c, peer := tcpPair(t)
	for range 100 { // many small extensions, as a reader does per message
		if err := c.SetReadDeadline(time.Now().Add(30 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, 1)
	if _, err := c.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read: %v, want deadline exceeded", err)
	}
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.Write([]byte{7}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(b); err != nil || b[0] != 7 {
		t.Fatalf("read after extension: %v %v", err, b)
	}
}
