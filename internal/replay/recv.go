package replay

import "sync"

// RecvCounter counts the frames one side has received from its peer's
// stream, per lane, and decides when to acknowledge them. Safe for
// concurrent use (the reader counts, the writer's ticker may force an ack).
type RecvCounter struct {
	mu                   sync.Mutex
	ctrl, bulk           uint64
	ackedCtrl, ackedBulk uint64
}

// Count records one received frame.
func (r *RecvCounter) Count(bulk bool) {
	r.mu.Lock()
	if bulk {
		r.bulk++
	} else {
		r.ctrl++
	}
	r.mu.Unlock()
}

// Counts returns the frames received per lane.
func (r *RecvCounter) Counts() (ctrl, bulk uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctrl, r.bulk
}

// Thresholds for acknowledging: every ackEveryCtrl control frames or
// ackEveryBulk chunks, and at every ping tick when anything is unacknowledged.
const (
	ackEveryCtrl = 32
	ackEveryBulk = 4
)

// AckDue reports whether enough frames arrived since the last ack (force:
// any at all) and, if so, marks them acknowledged and returns the counts to
// put in an ack message.
func (r *RecvCounter) AckDue(force bool) (ctrl, bulk uint64, due bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dc, db := r.ctrl-r.ackedCtrl, r.bulk-r.ackedBulk
	if dc == 0 && db == 0 {
		return 0, 0, false
	}
	if !force && dc < ackEveryCtrl && db < ackEveryBulk {
		return 0, 0, false
	}
	r.ackedCtrl, r.ackedBulk = r.ctrl, r.bulk
	return r.ctrl, r.bulk, true
}
