package netconn

import (
	"crypto/tls"
	"net"
	"runtime"
	"testing"
)

// tcpPair returns a Conn (New: reads straight) over one end of a loopback
// TCP connection and the other end.
func tcpPair(t testing.TB) (*Conn, net.Conn) {
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
	return New(c), s
}

// pooledPair returns a Conn that pools its reads, as Listener makes them,
// and the other end.
func pooledPair(t *testing.T) (*Conn, net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := Listener{Listener: ln}.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*Conn)
	t.Cleanup(func() { c.Close(); peer.Close() })
	if c.pooledReader.raw == nil && runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		t.Fatal("an accepted TCP connection does not pool its reads")
	}
	return c, peer
}

// TestOf: Of finds the Conn under a plain or a TLS connection, and nothing
// under a connection that is not one.
func TestOf(t *testing.T) {
	c, peer := tcpPair(t)
	if Of(c) != c {
		t.Fatal("Of(Conn) is not the Conn")
	}
	if Of(tls.Client(c, &tls.Config{})) != c {
		t.Fatal("Of(TLS over Conn) is not the Conn")
	}
	if Of(peer) != nil || Of(tls.Client(peer, &tls.Config{})) != nil {
		t.Fatal("Of found a Conn under a plain socket")
	}
}

// TestNewReadsStraight: a Conn made by New does not pool its reads (the
// library's dialed connections read through gorilla's own buffer).
func TestNewReadsStraight(t *testing.T) {
	c, peer := tcpPair(t)
	if c.pooledReader.raw != nil {
		t.Fatal("New pools reads")
	}
	if _, err := peer.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 2)
	if n, err := c.Read(p); err != nil || string(p[:n]) != "hi"[:n] || n == 0 {
		t.Fatalf("read %q, %v", p[:n], err)
	}
	if c.pooledReader.buf != nil {
		t.Fatal("a straight read holds a pooled buffer")
	}
}
