package protocol

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// tcpPair returns a CorkConn over one end of a loopback TCP connection and
// the other end.
func tcpPair(t testing.TB) (*CorkConn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	t.Cleanup(func() { c.Close(); s.Close() })
	return &CorkConn{Conn: c}, s
}

// TestCorkOrder: gathered, large (vectored) and straight writes arrive in
// order and complete.
func TestCorkOrder(t *testing.T) {
	c, peer := tcpPair(t)
	var want bytes.Buffer
	write := func(p []byte) {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
		want.Write(p)
	}
	write([]byte("straight "))
	c.Cork()
	write([]byte("small-1 "))
	write([]byte("small-2 "))
	write(bytes.Repeat([]byte{'L'}, corkMax+10))
	write([]byte("after-large "))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	write([]byte("end"))
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(peer, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("bytes differ")
	}
}

// BenchmarkCorkBatch16 writes a batch of 16 small (100-byte) messages and
// flushes: one system call per batch.
func BenchmarkCorkBatch16(b *testing.B) { benchBatch(b, true) }

// BenchmarkUncorkedBatch16 is the same batch with one write per message.
func BenchmarkUncorkedBatch16(b *testing.B) { benchBatch(b, false) }

func benchBatch(b *testing.B, cork bool) {
	c, peer := tcpPair(b)
	go io.Copy(io.Discard, peer)
	msg := make([]byte, 100)
	b.SetBytes(16 * int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if cork {
			c.Cork()
		}
		for range 16 {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		if cork {
			if err := c.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

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
	cork := &CorkConn{Conn: nc}
	out := NewOutbox(0)
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

// deadlineConn counts the deadlines that reach the socket.
type deadlineConn struct {
	net.Conn
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
	c := &CorkConn{Conn: d}
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

// TestLazyDeadlineExpires: a read deadline still fires on a real socket,
// and an extension after it expired is applied (the read then succeeds).
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

// pooledPair returns a CorkConn that pools its reads, as CorkListener
// makes them, and the other end.
func pooledPair(t *testing.T) (*CorkConn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := CorkListener{Listener: ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*CorkConn)
	t.Cleanup(func() { c.Close(); peer.Close() })
	if c.rd == nil && runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		t.Fatal("an accepted TCP connection does not pool its reads")
	}
	return c, peer
}

// TestPooledReadOrder: small reads (served from a pooled buffer), large
// reads (straight from the socket) and reads that drain a pooled buffer in
// pieces see the peer's bytes in order; after the last byte the reader
// holds no buffer, and the peer's close reads as io.EOF.
func TestPooledReadOrder(t *testing.T) {
	c, peer := pooledPair(t)
	want := make([]byte, 3*readChunk+777)
	for i := range want {
		want[i] = byte(i * 7)
	}
	go func() {
		for off := 0; off < len(want); {
			n := min(len(want)-off, 1+off%1500)
			peer.Write(want[off : off+n])
			off += n
		}
		peer.Close()
	}()
	var got []byte
	sizes := []int{1, 10, 256, readChunk, 2 * readChunk, 100}
	for i := 0; ; i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := c.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == len(want) && c.rbuf != nil {
			t.Fatal("all input read, a pooled buffer still held")
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written in order", len(got), len(want))
	}
}

// TestPooledReadDeadline: a small read waiting for input ends at the read
// deadline with a timeout, holding no buffer, and the connection still
// reads afterwards.
func TestPooledReadDeadline(t *testing.T) {
	c, peer := pooledPair(t)
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := c.Read(make([]byte, 10)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read past the deadline: %v, want a timeout", err)
	}
	if c.rbuf != nil {
		t.Fatal("a timed-out read holds a buffer")
	}
	c.SetReadDeadline(time.Time{})
	peer.Write([]byte("hello"))
	p := make([]byte, 10)
	n, err := c.Read(p)
	if err != nil || string(p[:n]) != "hello" {
		t.Fatalf("read after the timeout: %q, %v", p[:n], err)
	}
}
