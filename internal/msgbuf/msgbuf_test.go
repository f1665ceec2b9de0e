package msgbuf

import (
	"bytes"
	"io"
	"testing"
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

func TestRead(t *testing.T) {
	for _, size := range []int{0, 1, smallBufSize - 1, smallBufSize, smallBufSize + 1, 300 << 10} {
		want := bytes.Repeat([]byte{'x', 'y', 'z'}, size/3+1)[:size]
		b, err := Read(&oneShot{data: want, step: 7000}, 300<<10)
		if err != nil || !bytes.Equal(b.B, want) {
			t.Fatalf("size %d: err %v, equal %v", size, err, bytes.Equal(b.B, want))
		}
		b.Release()
	}
	if _, err := Read(&oneShot{data: make([]byte, 20000), step: 1 << 20}, 10000); err != ErrTooLarge {
		t.Fatalf("over the limit: %v", err)
	}
}

// BenchmarkReadBufChunk reads a 256 KiB chunk frame (the relay's hot path):
// no allocation in steady state, against io.ReadAll's doubling series.
func BenchmarkReadBufChunk(b *testing.B) { benchRead(b, 256<<10+64, 64<<10, 300<<10) }

// benchRead reads a frame of size bytes, step bytes per read, with Read.
func benchRead(b *testing.B, size, step, limit int) {
	data := make([]byte, size)
	r := &oneShot{}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r.data, r.step = data, step
		buf, err := Read(r, limit)
		if err != nil {
			b.Fatal(err)
		}
		buf.Release()
	}
}

// BenchmarkReadAllChunk is what reading a chunk cost before Read.
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
func BenchmarkReadBufSmall(b *testing.B) { benchRead(b, 200, 1<<20, 1<<20) }

// TestBufFrameRefs: a frame made by Frame holds its own reference: the
// buffer goes back to its pool only once the reader and the frame have
// both let go of it.
func TestBufFrameRefs(t *testing.T) {
	b, err := Read(&oneShot{data: []byte("head+body"), step: 1 << 20}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f := b.Frame(b.B[5:])
	if string(f.Body) != "body" || !f.Binary || f.Shared == nil {
		t.Fatalf("frame %+v", f)
	}
	b.Release() // the reader is done
	if got := b.refs.Load(); got != 1 || b.B == nil {
		t.Fatalf("refs after the reader's release = %d, want 1 (the frame's)", got)
	}
	f.Done() // written
	if got := b.refs.Load(); got != 0 || b.B != nil {
		t.Fatalf("refs after the frame's release = %d, want 0 and the buffer pooled", got)
	}
}
