package outbox

import (
	"errors"
	"net"
	"testing"

	"github.com/crvideomgr/crvideomgr/internal/netconn"
)

// countConn counts the writes that reach the network.
type countConn struct {
	net.Conn
	writes int
	bytes  []byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes++
	c.bytes = append(c.bytes, p...)
	return len(p), nil
}

// TestWriteBatch: the first frame and what is queued, up to MaxBatch frames
// in order, leave in one write; the rest waits for the next batch; an error
// stops the batch; without a cork only the first frame is written.
func TestWriteBatch(t *testing.T) {
	nc := &countConn{}
	cork := netconn.New(nc)
	out := New(0)
	for i := range MaxBatch + 5 {
		out.PushCtrl(Frame{Head: []byte{byte(i)}})
	}
	write := func(f Frame) error { _, err := cork.Write(f.Head); return err }
	first, _ := out.Pop()
	if err := WriteBatch(cork, out, first, write); err != nil {
		t.Fatal(err)
	}
	if nc.writes != 1 || len(nc.bytes) != MaxBatch {
		t.Fatalf("%d writes of %d frames, want 1 of %d", nc.writes, len(nc.bytes), MaxBatch)
	}
	for i, b := range nc.bytes {
		if int(b) != i {
			t.Fatalf("frame %d written as %d", i, b)
		}
	}
	// An error stops the batch: the frames after it stay queued.
	boom := errors.New("boom")
	calls := 0
	first, _ = out.Pop()
	err := WriteBatch(cork, out, first, func(Frame) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("err %v after %d writes", err, calls)
	}
	// No cork: one frame.
	calls = 0
	first, _ = out.Pop()
	if err := WriteBatch(nil, out, first, func(Frame) error { calls++; return nil }); err != nil || calls != 1 {
		t.Fatalf("uncorked: %v, %d writes", err, calls)
	}
	if _, ok := out.Pop(); !ok {
		t.Fatal("uncorked batch took queued frames")
	}
}
