package netconn

import (
	"sync"
	"time"
)

// lazySlack is the fraction of a deadline's remaining time by which an
// already-set deadline may fall short of a requested later one before the
// socket's is moved: deadlines pushed forward on every message (gorilla
// sets the write deadline for every frame, the readers extend the read
// deadline for every message) then cost a timer update only every eighth
// of the timeout instead of every message.
const lazySlack = 8

// deadliner is what lazyDeadlines moves: the socket.
type deadliner interface {
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// lazyDeadlines passes a connection's read and write deadlines down to the
// socket lazily (see deadline.set). Each has its own lock, so that setting
// one never waits for a write in progress. Safe for concurrent use.
type lazyDeadlines struct {
	c        deadliner
	rdl, wdl deadline
}

// deadline is a socket deadline as last set, in Unix nanoseconds (0: none).
type deadline struct {
	mu sync.Mutex
	at int64
}

// set moves the socket's deadline to t via apply unless the deadline
// already set is at most a lazySlack-th of t's remaining time earlier than
// t. An earlier or zero t is always applied, so a deadline never ends up
// later than asked, and at worst 1/lazySlack of its span earlier.
func (d *deadline) set(t time.Time, apply func(time.Time) error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
		if d.at != 0 && d.at <= n && n-d.at <= (n-time.Now().UnixNano())/lazySlack {
			return nil
		}
	} else if d.at == 0 {
		return nil
	}
	if err := apply(t); err != nil {
		return err
	}
	d.at = n
	return nil
}

// SetReadDeadline sets the read deadline, lazily (see deadline.set).
func (l *lazyDeadlines) SetReadDeadline(t time.Time) error {
	return l.rdl.set(t, l.c.SetReadDeadline)
}

// SetWriteDeadline sets the write deadline, lazily (see deadline.set).
func (l *lazyDeadlines) SetWriteDeadline(t time.Time) error {
	return l.wdl.set(t, l.c.SetWriteDeadline)
}

// SetDeadline sets both deadlines, lazily (see deadline.set).
func (l *lazyDeadlines) SetDeadline(t time.Time) error {
	if err := l.SetReadDeadline(t); err != nil {
		return err
	}
	return l.SetWriteDeadline(t)
}
