package protocol

import (
	"bytes"
	"io"
	"testing"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

// oneShot is a reader returning data in pieces of at most step bytes, as a
// WebSocket message reader does frame by frame.
type oneShot struct {
	data []byte
	step int
}

func (r *oneShot) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.step)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadBuf(t *testing.T) {
	for _, size := range []int{0, 1, smallBufSize - 1, smallBufSize, smallBufSize + 1, 300 << 10} {
		want := bytes.Repeat([]byte{'x', 'y', 'z'}, size/3+1)[:size]
		b, err := ReadBuf(&oneShot{data: want, step: 7000}, 300<<10)
		if err != nil || !bytes.Equal(b.B, want) {
			t.Fatalf("size %d: err %v, equal %v", size, err, bytes.Equal(b.B, want))
		}
		b.Release()
	}
	if _, err := ReadBuf(&oneShot{data: make([]byte, 20000), step: 1 << 20}, 10000); err != ErrMessageTooLarge {
		t.Fatalf("over the limit: %v", err)
	}
}

// TestSharedFrameReleasedOnce checks that a Shared frame sent on a stream
// goes back to its pool only when both the connection's copy has been
// written and the peer has acknowledged the stream's copy.
func TestSharedFrameReleasedOnce(t *testing.T) {
	b, _ := ReadBuf(&oneShot{data: make([]byte, 10000), step: 1 << 20}, 1<<20)
	s := NewStream(0)
	out := outbox.New(0)
	if err := s.Attach(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(b.Frame(b.B), true); err != nil {
		t.Fatal(err)
	}
	b.Release() // the reader is done
	if got := b.refs.Load(); got != 2 {
		t.Fatalf("refs after send = %d, want 2 (stream, connection)", got)
	}
	f, ok := out.Pop()
	if !ok || f.Release == nil {
		t.Fatal("queued copy has no release")
	}
	f.Release() // written
	if got := b.refs.Load(); got != 1 {
		t.Fatalf("refs after write = %d, want 1", got)
	}
	if err := s.Ack(0, 1); err != nil {
		t.Fatal(err)
	}
	if got := b.refs.Load(); got != 0 {
		t.Fatalf("refs after ack = %d, want 0", got)
	}
}

// BenchmarkReadBufChunk reads a 256 KiB chunk frame (the relay's hot path):
// no allocation in steady state, against io.ReadAll's doubling series.
func BenchmarkReadBufChunk(b *testing.B) {
	data := make([]byte, 256<<10+64)
	r := &oneShot{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.data, r.step = data, 64<<10
		buf, err := ReadBuf(r, 300<<10)
		if err != nil {
			b.Fatal(err)
		}
		buf.Release()
	}
}

// BenchmarkReadAllChunk is what reading a chunk cost before ReadBuf.
func BenchmarkReadAllChunk(b *testing.B) {
	data := make([]byte, 256<<10+64)
	r := &oneShot{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.data, r.step = data, 64<<10
		if _, err := io.ReadAll(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadBufSmall reads a 200-byte text frame.
func BenchmarkReadBufSmall(b *testing.B) {
	data := make([]byte, 200)
	r := &oneShot{}
	b.ReportAllocs()
	for b.Loop() {
		r.data, r.step = data, 1<<20
		buf, err := ReadBuf(r, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		buf.Release()
	}
}
