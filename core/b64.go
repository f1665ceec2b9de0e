package core

import (
	"encoding/base64"
	"encoding/binary"
	"sync"
)

// The API's payloads are standard, padded base64, and a sendBuffer converts
// every byte twice (the sender decodes, the receiver encodes), so the codec
// is on the bulk path. These work on pairs of characters (12 bits) per table
// look-up, twice the stride of encoding/base64's one character (6 bits),
// and leave the final quantum, with its padding rules, to encoding/base64.
// Results are identical to base64.StdEncoding (Strict when decoding), except
// that '\r' and '\n', which encoding/base64 skips, are rejected here.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Bad marks a pair of characters that is not two alphabet characters.
const b64Bad = 0xffff

type b64Tables struct {
	enc [1 << 12]uint16 // 12 bits → two characters, first in the high byte
	dec [1 << 16]uint16 // two characters (first in the high byte) → 12 bits, or b64Bad
}

var b64Tabs = sync.OnceValue(func() *b64Tables {
	t := &b64Tables{}
	var val [256]int
	for i := range val {
		val[i] = -1
	}
	for i := 0; i < 64; i++ {
		val[b64Alphabet[i]] = i
	}
	for v := range t.enc {
		t.enc[v] = uint16(b64Alphabet[v>>6])<<8 | uint16(b64Alphabet[v&63])
	}
	for p := range t.dec {
		hi, lo := val[p>>8], val[p&0xff]
		if hi < 0 || lo < 0 {
			t.dec[p] = b64Bad
		} else {
			t.dec[p] = uint16(hi<<6 | lo)
		}
	}
	return t
})

// b64EncodedLen is base64.StdEncoding.EncodedLen.
func b64EncodedLen(n int) int { return (n + 2) / 3 * 4 }

// b64AppendEncode appends the standard padded encoding of src to dst.
func b64AppendEncode(dst, src []byte) []byte {
	n := len(dst)
	need := b64EncodedLen(len(src))
	if cap(dst)-n < need {
		nd := make([]byte, n, n+need+n/4)
		copy(nd, dst)
		dst = nd
	}
	dst = dst[:n+need]
	out := dst[n:]
	enc := &b64Tabs().enc
	i, j := 0, 0
	// 6 bytes → 8 characters per step, reading 8 bytes at a time.
	for ; len(src)-i >= 8; i, j = i+6, j+8 {
		v := binary.BigEndian.Uint64(src[i:])
		w := uint64(enc[v>>52])<<48 | uint64(enc[v>>40&0xfff])<<32 |
			uint64(enc[v>>28&0xfff])<<16 | uint64(enc[v>>16&0xfff])
		binary.BigEndian.PutUint64(out[j:], w)
	}
	base64.StdEncoding.Encode(out[j:], src[i:])
	return dst
}

// b64Decode decodes data as decodeData describes; ok is false for anything
// but standard, padded base64 without line breaks.
func b64Decode(data string) ([]byte, bool) {
	if len(data)%4 != 0 {
		return nil, false
	}
	dst := make([]byte, len(data)/4*3)
	dec := &b64Tabs().dec
	i, j := 0, 0
	// 8 characters → 6 bytes per step, up to the last quantum (its padding
	// is encoding/base64's business). Each step writes 8 bytes, the last
	// two of which the next step overwrites: stop while that stays in dst.
	for ; len(data)-i > 8 && len(dst)-j >= 8; i, j = i+8, j+6 {
		q := data[i : i+8] // one bounds check for the eight
		a := dec[uint16(q[0])<<8|uint16(q[1])]
		b := dec[uint16(q[2])<<8|uint16(q[3])]
		c := dec[uint16(q[4])<<8|uint16(q[5])]
		d := dec[uint16(q[6])<<8|uint16(q[7])]
		if (a|b|c|d)&0x8000 != 0 {
			return nil, false
		}
		binary.BigEndian.PutUint64(dst[j:], uint64(a)<<52|uint64(b)<<40|uint64(c)<<28|uint64(d)<<16)
	}
	rest := data[i:]
	for k := 0; k < len(rest); k++ {
		if rest[k] == '\r' || rest[k] == '\n' {
			return nil, false
		}
	}
	n, err := base64.StdEncoding.Strict().Decode(dst[j:], []byte(rest))
	if err != nil {
		return nil, false
	}
	return dst[:j+n], true
}
