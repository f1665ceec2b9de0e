//go:build unix

package netconn

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawReader waits for a socket's input with no buffer, then reads what is
// there into a pooled one: the runtime's poller wakes the reader when the
// socket is readable, and only then is a buffer taken (a blocking Read would
// hold its buffer for as long as the peer is silent). Deadlines and Close
// apply as to Read. One reader at a time.
type rawReader struct {
	c  net.Conn
	rc syscall.RawConn
	do func(fd uintptr) bool // rawReader.try, bound once

	// Results of the last try.
	b   *[]byte
	n   int
	err error
}

// newRawReader returns a rawReader for c, or nil when c has no file
// descriptor to poll.
func newRawReader(c net.Conn) *rawReader {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	r := &rawReader{c: c, rc: rc}
	r.do = r.try
	return r
}

// try reads the socket without blocking; false (holding no buffer) when
// there is nothing to read yet.
func (r *rawReader) try(fd uintptr) bool {
	b := readPool.Get().(*[]byte)
	for {
		r.n, r.err = syscall.Read(int(fd), *b)
		if r.err != syscall.EINTR {
			break
		}
	}
	if r.err == syscall.EAGAIN {
		readPool.Put(b)
		return false
	}
	r.b = b
	return true
}

// read waits for input and returns a pooled buffer holding n bytes of it;
// io.EOF when the peer has closed.
func (r *rawReader) read() (*[]byte, int, error) {
	err := r.rc.Read(r.do)
	b, n := r.b, r.n
	if oe, ok := err.(*net.OpError); ok {
		oe.Op = "read" // as a plain Read reports it ("raw-read" otherwise)
	} else if err == nil && r.err != nil {
		err = &net.OpError{Op: "read", Net: r.c.LocalAddr().Network(), Source: r.c.LocalAddr(),
			Addr: r.c.RemoteAddr(), Err: os.NewSyscallError("read", r.err)}
	}
	r.b, r.err = nil, nil
	if err == nil && n <= 0 {
		err = io.EOF
	}
	if err != nil {
		if b != nil {
			readPool.Put(b)
		}
		return nil, 0, err
	}
	return b, n, nil
}
