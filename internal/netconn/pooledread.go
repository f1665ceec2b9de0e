package netconn

import (
	"io"
	"sync"
)

// readChunk is the pooled read buffer: a read smaller than this waits for
// input holding no buffer, then takes as much as is there (up to
// readChunk, several small messages at once) into a pooled buffer and
// serves it from there; larger reads go straight to the connection.
const readChunk = 4 << 10

var readPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

// pooledReader reads a socket through pooled buffers: a connection waiting
// for input holds no read buffer (a blocking Read would hold its buffer for
// as long as the peer is silent). Without a rawReader (raw nil: a platform
// or a connection that cannot be polled) it reads straight from r. One
// reader at a time.
type pooledReader struct {
	r   io.Reader  // the socket
	raw *rawReader // waits for r's input, then reads it into a pooled buffer

	// buf holds unread input at buf[off:end], and is nil when all of it
	// was read.
	buf      *[]byte
	off, end int
}

// Read reads into p, through a pooled buffer when p is small.
func (pr *pooledReader) Read(p []byte) (int, error) {
	if pr.buf != nil {
		n := copy(p, (*pr.buf)[pr.off:pr.end])
		pr.off += n
		if pr.off == pr.end {
			readPool.Put(pr.buf)
			pr.buf = nil
		}
		return n, nil
	}
	if pr.raw == nil || len(p) >= readChunk || len(p) == 0 {
		return pr.r.Read(p)
	}
	b, n, err := pr.raw.read()
	if err != nil {
		return 0, err
	}
	k := copy(p, (*b)[:n])
	if k == n {
		readPool.Put(b)
	} else {
		pr.buf, pr.off, pr.end = b, k, n
	}
	return k, nil
}
