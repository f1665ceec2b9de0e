// Package msgbuf holds received WebSocket messages in pooled,
// reference-counted buffers, on both sides: a reader reads each message
// into one (Read) instead of allocating, and a message relayed or kept for
// replay holds its buffer for as long as it needs it (Buf.Frame).
package msgbuf

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

// smallBufSize is the first buffer a message is read into: every text frame
// and FrameCmd of ordinary size fits, so reading one costs no allocation and
// a connection that waits for input holds no buffer at all.
const smallBufSize = 4 << 10

// Buf is a pooled buffer holding one received WebSocket message (Read).
// It is reference counted: the reader holds it while it handles the
// message; a handler that keeps the bytes (a relayed chunk) takes another
// reference with Frame. The buffer returns to its pool when the last holder
// releases it.
type Buf struct {
	B    []byte // the message
	mem  []byte // the whole buffer
	pool *sync.Pool
	refs atomic.Int32
}

var smallPool sync.Pool

// bigPools holds one pool per large buffer size (a process uses one or
// two: the server's read limit, the library's); copied on write.
var (
	bigMu    sync.Mutex
	bigPools atomic.Pointer[[]*sizedPool]
)

type sizedPool struct {
	size int
	pool sync.Pool
}

func poolOf(size int) *sync.Pool {
	if size == smallBufSize {
		return &smallPool
	}
	if l := bigPools.Load(); l != nil {
		for _, p := range *l {
			if p.size == size {
				return &p.pool
			}
		}
	}
	bigMu.Lock()
	defer bigMu.Unlock()
	var l []*sizedPool
	if old := bigPools.Load(); old != nil {
		for _, p := range *old {
			if p.size == size {
				return &p.pool
			}
		}
		l = append(l, *old...)
	}
	p := &sizedPool{size: size}
	l = append(l, p)
	bigPools.Store(&l)
	return &p.pool
}

func getBuf(size int) *Buf {
	pool := poolOf(size)
	b, _ := pool.Get().(*Buf)
	if b == nil {
		b = &Buf{mem: make([]byte, size), pool: pool}
	}
	b.refs.Store(1)
	return b
}

// ErrTooLarge reports a message over the limit given to Read.
var ErrTooLarge = errors.New("msgbuf: message over the read limit")

// Read reads one whole message from r (a WebSocket message reader) into a
// pooled buffer: a 4 KiB one, moved to a buffer of limit+1 bytes when the
// message is larger. Messages over limit fail (r normally enforces the
// limit itself). Release the result when done with it.
func Read(r io.Reader, limit int) (*Buf, error) {
	b := getBuf(smallBufSize)
	n := 0
	for {
		if n == len(b.mem) {
			if n > limit {
				b.Release()
				return nil, ErrTooLarge
			}
			nb := getBuf(max(limit+1, 2*smallBufSize))
			copy(nb.mem, b.mem[:n])
			b.Release()
			b = nb
		}
		k, err := r.Read(b.mem[n:])
		n += k
		if err == io.EOF {
			b.B = b.mem[:n]
			return b, nil
		}
		if err != nil {
			b.Release()
			return nil, err
		}
	}
}

// Release drops one reference; the last one returns the buffer to its pool.
func (b *Buf) Release() {
	if b.refs.Add(-1) != 0 {
		return
	}
	b.B = nil
	b.pool.Put(b)
}

// Frame returns a binary frame whose body is body (a part of b.B) holding
// its own reference to b, so the buffer outlives the reader's use of it
// for as long as the frame is queued or kept for replay.
func (b *Buf) Frame(body []byte) outbox.Frame {
	b.refs.Add(1)
	return outbox.Frame{Binary: true, Body: body, Release: b.Release, Shared: &b.refs}
}
