package core

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

// Binary frames the library writes itself rather than through gorilla's
// message writer, which copies the payload into its write buffer and then
// masks it there in a second pass (a client must mask everything it sends):
// here the frame is built in a pooled buffer by one pass that copies and
// masks together, and leaves in one Write on the connection under the
// WebSocket (one call, so a pong that gorilla writes from the reader
// goroutine can only come before or after it, never inside). Only the
// writer goroutine writes data frames, so gorilla's own frames never
// interleave with these either.

// wsMaxHeader is the largest client frame header: 2 bytes, 8 of length, 4 of key.
const wsMaxHeader = 14

var wireBufPool sync.Pool

// appendFrameHeader appends the header of a final, masked binary frame of
// n payload bytes with mask key key.
func appendFrameHeader(b []byte, n int, key [4]byte) []byte {
	b = append(b, 0x80|0x2) // FIN, binary
	switch {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, key[:]...)
}

// maskCopy writes src XOR the mask key into dst (len(dst) ≥ len(src)),
// starting at key position pos, and returns the key position after it.
func maskCopy(dst, src []byte, key [4]byte, pos int) int {
	var k8 [8]byte
	for i := range k8 {
		k8[i] = key[(pos+i)&3]
	}
	kw := binary.LittleEndian.Uint64(k8[:])
	dst = dst[:len(src)]
	i := 0
	for ; len(src)-i >= 32; i += 32 {
		s, d := src[i:i+32], dst[i:i+32]
		binary.LittleEndian.PutUint64(d[0:], binary.LittleEndian.Uint64(s[0:])^kw)
		binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:])^kw)
		binary.LittleEndian.PutUint64(d[16:], binary.LittleEndian.Uint64(s[16:])^kw)
		binary.LittleEndian.PutUint64(d[24:], binary.LittleEndian.Uint64(s[24:])^kw)
	}
	for ; len(src)-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(src[i:])^kw)
	}
	for ; i < len(src); i++ {
		dst[i] = src[i] ^ k8[i&7]
	}
	return (pos + len(src)) & 3
}

// writeBinaryFrame writes f (binary) as one masked frame straight to the
// network connection under the WebSocket. Writer goroutine.
func (c *conn) writeBinaryFrame(f *outbox.Frame) error {
	n := len(f.Head) + len(f.Body)
	need := wsMaxHeader + n
	bp, _ := wireBufPool.Get().(*[]byte)
	if bp == nil || cap(*bp) < need {
		b := make([]byte, 0, max(need, writeBufferSize))
		bp = &b
	}
	u := rand.Uint32()
	key := [4]byte{byte(u), byte(u >> 8), byte(u >> 16), byte(u >> 24)}
	b := appendFrameHeader((*bp)[:0], n, key)
	h := len(b)
	b = b[:h+n]
	pos := maskCopy(b[h:], f.Head, key, 0)
	maskCopy(b[h+len(f.Head):], f.Body, key, pos)
	nc := c.ws.NetConn()
	nc.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := nc.Write(b)
	*bp = b[:0]
	wireBufPool.Put(bp)
	return err
}
