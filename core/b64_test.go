package core

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestB64MatchesStd compares the codec with encoding/base64 on every length
// up to a few quanta past the fast loops' steps, and on larger sizes.
func TestB64MatchesStd(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lens := []int{}
	for n := 0; n <= 64; n++ {
		lens = append(lens, n)
	}
	lens = append(lens, 1000, 1001, 1002, 4095, 262144, 262145, 262146)
	for _, n := range lens {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(r.Uint32())
		}
		want := base64.StdEncoding.EncodeToString(src)
		prefix := []byte("xy")
		got := b64AppendEncode(prefix, src)
		if string(got[:2]) != "xy" || string(got[2:]) != want {
			t.Fatalf("encode len %d: got %q, want %q", n, got, want)
		}
		dec, ok := b64Decode(want)
		if !ok || !bytes.Equal(dec, src) {
			t.Fatalf("decode len %d: ok %v, mismatch %v", n, ok, !bytes.Equal(dec, src))
		}
	}
}

// TestB64DecodeRejects puts a bad character at every position of valid
// inputs of several lengths: the codec must refuse exactly what
// encoding/base64 (Strict) refuses, and line breaks besides.
func TestB64DecodeRejects(t *testing.T) {
	strict := base64.StdEncoding.Strict()
	for _, n := range []int{1, 2, 3, 6, 7, 8, 12, 13, 30} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*37 + 11)
		}
		good := base64.StdEncoding.EncodeToString(src)
		for pos := 0; pos < len(good); pos++ {
			for _, c := range []byte{'=', '!', ' ', 0, 0x80, 0xff, '\n', '\r', 'A', '/'} {
				s := []byte(good)
				s[pos] = c
				_, ok := b64Decode(string(s))
				_, err := strict.DecodeString(string(s))
				want := err == nil && c != '\n' && c != '\r'
				if ok != want {
					t.Fatalf("%q: ok %v, want %v", s, ok, want)
				}
			}
		}
	}
	for _, s := range []string{"AAAA\n\n\n\nAAAA", strings.Repeat("AAAA", 4) + "\r\n\r\n", "aGk"} {
		if _, ok := b64Decode(s); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

func FuzzB64(f *testing.F) {
	f.Add([]byte("hello, world"), "aGVsbG8=")
	f.Fuzz(func(t *testing.T, src []byte, s string) {
		if got, want := string(b64AppendEncode(nil, src)), base64.StdEncoding.EncodeToString(src); got != want {
			t.Fatalf("encode %x: %q, want %q", src, got, want)
		}
		dec, ok := b64Decode(s)
		want, err := base64.StdEncoding.Strict().DecodeString(s)
		wantOK := err == nil && !strings.ContainsAny(s, "\r\n")
		if ok != wantOK || ok && !bytes.Equal(dec, want) {
			t.Fatalf("decode %q: %x %v, want %x %v", s, dec, ok, want, wantOK)
		}
	})
}

func BenchmarkEncodeData(b *testing.B) {
	src := make([]byte, 1<<20)
	dst := make([]byte, 0, b64EncodedLen(len(src)))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		dst = b64AppendEncode(dst[:0], src)
	}
}

// TestEncodeChunks feeds a payload in chunks of every small size (and
// sizes around the 3-byte quantum): the result is its one-piece encoding.
func TestEncodeChunks(t *testing.T) {
	src := make([]byte, 200)
	for i := range src {
		src[i] = byte(i*97 + 5)
	}
	for step := 1; step <= 10; step++ {
		for _, total := range []int{0, 1, 2, 3, 4, 5, 199, 200} {
			it := &inTask{total: int64(total)}
			for off := 0; off < total; off += step {
				it.encodeChunk(src[off:min(off+step, total)])
			}
			if got := it.encoded(); got != base64.StdEncoding.EncodeToString(src[:total]) {
				t.Fatalf("total %d step %d: %q", total, step, got)
			}
		}
	}
}

func BenchmarkEncodeChunks(b *testing.B) {
	chunk := make([]byte, 256<<10)
	const n = 32
	b.SetBytes(n * int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		it := &inTask{total: n * int64(len(chunk))}
		for range n {
			it.encodeChunk(chunk)
		}
		_ = it.encoded()
	}
}
