package outbox

import "github.com/crvideomgr/crvideomgr/internal/netconn"

// MaxBatch bounds the frames a writer gathers into one system call.
const MaxBatch = 64

// WriteBatch writes first and then whatever out holds, up to MaxBatch frames
// in all, with write, gathered by cork into one system call; without a cork
// only first is written. It stops at the first error, which it returns
// (a failed flush included). Writer goroutine of the connection.
func WriteBatch(cork *netconn.Conn, out *Outbox, first Frame, write func(Frame) error) error {
	if cork == nil {
		return write(first)
	}
	cork.Cork()
	err := write(first)
	for n := 1; err == nil && n < MaxBatch; n++ {
		f, ok := out.Pop()
		if !ok {
			break
		}
		err = write(f)
	}
	if ferr := cork.Flush(); err == nil {
		err = ferr
	}
	return err
}
