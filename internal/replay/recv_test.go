package replay

import "testing"

// TestRecvCounterAckDue: an ack is due after ackEveryCtrl control frames or
// ackEveryBulk chunks, or at a forced tick when anything is unacknowledged;
// the counts it returns are the totals per lane, and once returned they are
// not due again.
func TestRecvCounterAckDue(t *testing.T) {
	var r RecvCounter
	if _, _, due := r.AckDue(true); due {
		t.Fatal("ack due with nothing received")
	}
	for range ackEveryCtrl - 1 {
		r.Count(false)
	}
	if _, _, due := r.AckDue(false); due {
		t.Fatal("ack due below the control threshold")
	}
	r.Count(false)
	if c, b, due := r.AckDue(false); !due || c != ackEveryCtrl || b != 0 {
		t.Fatalf("at the control threshold: %d %d %v", c, b, due)
	}
	if _, _, due := r.AckDue(true); due {
		t.Fatal("ack due again without new frames")
	}
	for range ackEveryBulk {
		r.Count(true)
	}
	if c, b, due := r.AckDue(false); !due || c != ackEveryCtrl || b != ackEveryBulk {
		t.Fatalf("at the bulk threshold: %d %d %v", c, b, due)
	}
	r.Count(true)
	if _, _, due := r.AckDue(false); due {
		t.Fatal("one chunk made an ack due")
	}
	if c, b, due := r.AckDue(true); !due || c != ackEveryCtrl || b != ackEveryBulk+1 {
		t.Fatalf("forced: %d %d %v", c, b, due)
	}
	if c, b := r.Counts(); c != ackEveryCtrl || b != ackEveryBulk+1 {
		t.Fatalf("Counts %d %d", c, b)
	}
}
