package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Meeting IDs are 8-digit numbers, meetIDBase + v with v in [0, meetIDSpace),
// unique across the deployment and never reused, but not guessable: v is a
// keyed pseudo-random permutation of the store's persistent creation
// sequence, so consecutive meetings get unrelated IDs and an ID tells
// nothing about how many meetings exist (in any enterprise). The
// permutation is a Feistel network over 28 bits (two 14-bit halves, 8
// rounds, HMAC-SHA256 under a random key made once and kept in the store as
// its round function), restricted to [0, meetIDSpace) by cycle walking:
// re-encrypt until the value falls in the range. A permutation of the
// sequence cannot repeat a value, and the sequence never goes back.
const (
	meetIDSpace  = 90000000 // 10000000..99999999
	feistelHalf  = 14       // bits per half: 2^28 ≥ meetIDSpace
	feistelMask  = 1<<feistelHalf - 1
	feistelRound = 8
	meetKeyLen   = 32
)

// meetIDPerm is the keyed permutation of [0, meetIDSpace). Safe for
// concurrent use (it holds only the key).
type meetIDPerm struct {
	key []byte
}

func (p meetIDPerm) round(mac hash.Hash, r int, x uint32) uint32 {
	var in [5]byte
	in[0] = byte(r)
	binary.BigEndian.PutUint32(in[1:], x)
	mac.Reset()
	mac.Write(in[:])
	var sum [sha256.Size]byte
	return uint32(binary.BigEndian.Uint16(mac.Sum(sum[:0]))) & feistelMask
}

// feistel applies the 28-bit network (or its inverse) once.
func (p meetIDPerm) feistel(mac hash.Hash, v uint32, inverse bool) uint32 {
	l, r := v>>feistelHalf, v&feistelMask
	if !inverse {
		for i := 0; i < feistelRound; i++ {
			l, r = r, l^p.round(mac, i, r)
		}
	} else {
		for i := feistelRound - 1; i >= 0; i-- {
			l, r = r^p.round(mac, i, l), l
		}
	}
	return l<<feistelHalf | r
}

func (p meetIDPerm) walk(v uint32, inverse bool) uint32 {
	mac := hmac.New(sha256.New, p.key)
	for {
		v = p.feistel(mac, v, inverse)
		if v < meetIDSpace {
			return v
		}
	}
}

// encrypt maps x in [0, meetIDSpace) to its image in the same range.
func (p meetIDPerm) encrypt(x uint32) uint32 { return p.walk(x, false) }

// decrypt is encrypt's inverse.
func (p meetIDPerm) decrypt(v uint32) uint32 { return p.walk(v, true) }
