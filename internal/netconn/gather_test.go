package netconn

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// TestGatherOrder: gathered, large (vectored) and straight writes arrive in
// order and complete, on a real socket.
func TestGatherOrder(t *testing.T) {
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
	write(bytes.Repeat([]byte{'L'}, gatherMax+10))
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

// countWriter counts the writes that reach the socket.
type countWriter struct {
	mu     sync.Mutex
	writes int
	bytes  []byte
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	w.bytes = append(w.bytes, p...)
	return len(p), nil
}

// TestGatherOneWrite: the writes between Cork and Flush, one from another
// goroutine included (a pong), reach the socket as one write; outside
// Cork/Flush every write goes straight through; a Flush with nothing
// gathered writes nothing.
func TestGatherOneWrite(t *testing.T) {
	w := &countWriter{}
	g := &gatherer{w: w}
	g.Cork()
	g.Write([]byte("a"))
	done := make(chan struct{})
	go func() { g.Write([]byte("b")); close(done) }()
	<-done
	g.Write([]byte("c"))
	if w.writes != 0 {
		t.Fatalf("%d writes while corked", w.writes)
	}
	if err := g.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 || string(w.bytes) != "abc" {
		t.Fatalf("%d writes of %q, want 1 of \"abc\"", w.writes, w.bytes)
	}
	if g.buf != nil {
		t.Fatal("a buffer held after Flush")
	}
	g.Cork()
	if err := g.Flush(); err != nil || w.writes != 1 {
		t.Fatalf("empty flush: %v, %d writes", err, w.writes)
	}
	g.Write([]byte("d"))
	g.Write([]byte("e"))
	if w.writes != 3 || string(w.bytes) != "abcde" {
		t.Fatalf("uncorked: %d writes of %q", w.writes, w.bytes)
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

// discardConn is a socket that takes every write at once.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkCorkBatch16Discard is BenchmarkCorkBatch16 without the system
// call: what gathering itself costs a batch, written through the
// net.Conn interface as gorilla writes.
func BenchmarkCorkBatch16Discard(b *testing.B) {
	c := New(discardConn{})
	var w net.Conn = c // gorilla writes through the interface
	msg := make([]byte, 100)
	b.SetBytes(16 * int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		c.Cork()
		for range 16 {
			if _, err := w.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
		if err := c.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
