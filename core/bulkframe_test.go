package core

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/gorilla/websocket"
)

func TestMaskCopy(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i * 7)
	}
	for pos := 0; pos < 4; pos++ {
		for n := 0; n <= len(src); n++ {
			dst := make([]byte, n)
			if next := maskCopy(dst, src[:n], key, pos); next != (pos+n)&3 {
				t.Fatalf("pos %d n %d: next %d", pos, n, next)
			}
			for i := range n {
				if dst[i] != src[i]^key[(pos+i)&3] {
					t.Fatalf("pos %d n %d: byte %d", pos, n, i)
				}
			}
		}
	}
}

// sinkServer is a WebSocket server that hands every message it reads to
// got (nil: discards them).
func sinkServer(t testing.TB, got chan<- []byte) *httptest.Server {
	return wsServer(t, func(ws *websocket.Conn) {
		for {
			mt, rd, err := ws.NextReader()
			if err != nil {
				return
			}
			if got == nil {
				io.Copy(io.Discard, rd)
				continue
			}
			b, _ := io.ReadAll(rd)
			got <- append([]byte{byte(mt)}, b...)
		}
	})
}

func dialSink(t testing.TB, srv *httptest.Server) *conn {
	ws, code := dialAny(context.Background(), strings.TrimPrefix(srv.URL, "http://"), nil, nil)
	if code != 0 {
		t.Fatalf("dial: %d", code)
	}
	c := newConn(ws, defaultPingTimeout)
	t.Cleanup(func() { ws.Close() })
	return c
}

// TestWriteBinaryFrame: frames of every header length form, written by the
// library's own frame writer between frames gorilla writes, arrive whole
// and in order at a gorilla reader.
func TestWriteBinaryFrame(t *testing.T) {
	got := make(chan []byte, 16)
	c := dialSink(t, sinkServer(t, got))
	body := make([]byte, 300<<10)
	for i := range body {
		body[i] = byte(i * 31)
	}
	sizes := []int{0, 1, 100, 125, 126, 65535, 65536, len(body)}
	for _, n := range sizes {
		f := outbox.Frame{Binary: true, Head: []byte("head"), Body: body[:n]}
		if err := c.writeFrame(&f); err != nil {
			t.Fatal(err)
		}
		if err := c.writeFrame(&outbox.Frame{Head: []byte("text")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range sizes {
		want := append([]byte{websocket.BinaryMessage, 'h', 'e', 'a', 'd'}, body[:n]...)
		if m := <-got; !bytes.Equal(m, want) {
			t.Fatalf("size %d: got %d bytes, want %d", n, len(m), len(want))
		}
		if m := <-got; string(m) != "\x01text" {
			t.Fatalf("after size %d: %q", n, m)
		}
	}
}

// BenchmarkWriteChunk writes 256 KiB chunk frames to a WebSocket server
// that discards them: the library's frame writer against gorilla's.
func BenchmarkWriteChunk(b *testing.B) {
	body := make([]byte, 256<<10)
	f := outbox.Frame{Binary: true, Head: make([]byte, 60), Body: body}
	for _, mode := range []string{"own", "gorilla"} {
		b.Run(mode, func(b *testing.B) {
			c := dialSink(b, sinkServer(b, nil))
			b.SetBytes(int64(f.Len()))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if mode == "own" {
					err = c.writeBinaryFrame(&f)
				} else {
					err = c.writeGorilla(&f, websocket.BinaryMessage)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMaskCopy is the CPU part of writing a 256 KiB chunk frame: one
// pass that copies and masks.
func BenchmarkMaskCopy(b *testing.B) {
	src := make([]byte, 256<<10)
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		maskCopy(dst, src, [4]byte{1, 2, 3, 4}, 1)
	}
}
