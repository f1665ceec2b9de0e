package replay

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

// TestStreamAttachClosedOutbox: attaching an outbox whose connection has
// already died is a lost connection, not an error: the stream stays
// detached and keeps every frame, which the next Attach replays in order.
// Impossible counts still fail with ErrBadAck.
func TestStreamAttachClosedOutbox(t *testing.T) {
	s := New(0)
	for _, h := range []string{"a", "b", "c"} {
		if err := s.Send(outbox.Frame{Head: []byte(h)}, false); err != nil {
			t.Fatal(err)
		}
	}
	dead := outbox.New(0)
	dead.Close()
	if err := s.Attach(dead, 1, 0); err != nil {
		t.Fatalf("Attach to a closed outbox: %v, want nil", err)
	}
	if err := s.Send(outbox.Frame{Head: []byte("d")}, false); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 3 { // "a" was acknowledged by the attach
		t.Fatalf("%d frames kept, want 3", c)
	}
	if err := s.Attach(outbox.New(0), 9, 0); !errors.Is(err, ErrBadAck) {
		t.Fatalf("impossible count: %v, want ErrBadAck", err)
	}
	live := outbox.New(0)
	if err := s.Attach(live, 1, 0); err != nil {
		t.Fatal(err)
	}
	var got string
	for {
		f, ok := live.Pop()
		if !ok {
			break
		}
		got += string(f.Head)
	}
	if got != "bcd" {
		t.Fatalf("replayed %q, want \"bcd\"", got)
	}
}

// TestStreamAcksLimitedToWritten: with LimitAcksToWritten an ack counts
// only frames the writer has written (Wrote): frames still queued stay
// kept and counted against the bound, whatever the peer claims; beyond
// what was sent is still an error. The bulk lane has its own bound.
func TestStreamAcksLimitedToWritten(t *testing.T) {
	s := New(100)
	s.LimitAcksToWritten()
	s.SetMaxBulkBytes(50)
	out := outbox.New(0)
	if err := s.Attach(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Send(outbox.Frame{Head: make([]byte, 30)}, false); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := out.Pop()
	s.Wrote(f)
	if err := s.Ack(3, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 2 {
		t.Fatalf("%d control frames kept after an ack ahead of the writer, want 2", c)
	}
	if err := s.Send(outbox.Frame{Head: make([]byte, 50)}, false); err != ErrFull {
		t.Fatalf("send over the bound: %v, want ErrFull", err)
	}
	if err := s.Ack(4, 0); err != ErrBadAck {
		t.Fatalf("ack beyond sent: %v", err)
	}
	for {
		f, ok := out.Pop()
		if !ok {
			break
		}
		s.Wrote(f)
	}
	if err := s.Ack(3, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 0 {
		t.Fatalf("%d kept after everything was written and acked", c)
	}
	if err := s.Send(outbox.Frame{Body: make([]byte, 40)}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(outbox.Frame{Body: make([]byte, 40)}, true); err != ErrFull {
		t.Fatalf("bulk over its bound: %v", err)
	}
}

// TestSharedFrameReleasedOnce checks that a Shared frame sent on a stream
// goes back to its pool only when both the connection's copy has been
// written and the peer has acknowledged the stream's copy.
func TestSharedFrameReleasedOnce(t *testing.T) {
	b, _ := msgbuf.Read(bytes.NewReader(make([]byte, 10000)), 1<<20)
	s := New(0)
	out := outbox.New(0)
	if err := s.Attach(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	bf := b.Frame(b.B)
	refs := bf.Shared
	if err := s.Send(bf, true); err != nil {
		t.Fatal(err)
	}
	b.Release() // the reader is done
	if got := refs.Load(); got != 2 {
		t.Fatalf("refs after send = %d, want 2 (stream, connection)", got)
	}
	f, ok := out.Pop()
	if !ok || f.Release == nil {
		t.Fatal("queued copy has no release")
	}
	f.Release() // written
	if got := refs.Load(); got != 1 {
		t.Fatalf("refs after write = %d, want 1", got)
	}
	if err := s.Ack(0, 1); err != nil {
		t.Fatal(err)
	}
	if got := refs.Load(); got != 0 {
		t.Fatalf("refs after ack = %d, want 0", got)
	}
}
