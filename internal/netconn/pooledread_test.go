package netconn

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

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
		if len(got) == len(want) && c.pooledReader.buf != nil {
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
	if c.pooledReader.buf != nil {
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

// TestPooledReadWithoutRaw: a pooledReader with no rawReader (a platform
// or connection that cannot be polled) reads straight from its reader.
func TestPooledReadWithoutRaw(t *testing.T) {
	pr := &pooledReader{r: bytes.NewReader([]byte("abc"))}
	p := make([]byte, 2)
	n, err := pr.Read(p)
	if err != nil || string(p[:n]) != "ab" || pr.buf != nil {
		t.Fatalf("read %q, %v, buffer held %v", p[:n], err, pr.buf != nil)
	}
}
