package protocol

import (
	"encoding/binary"
	"errors"
)

// Binary frame types (byte 0 of every binary frame).
const (
	// FrameCmd carries one sendCmd payload. Client → server: Peer is the
	// target user. Server → client: Peer is the source user. The receiving
	// library answers with OpCmdAck.
	FrameCmd = 1
	// FrameChunk carries Offset..Offset+len(payload) of a buffer or file
	// transfer announced by OpSendBegin. Peer is empty; the server forwards
	// the frame to the receiver byte for byte.
	FrameChunk = 2
)

// HeaderLen is the size of the fixed part of a binary frame header:
//
//	byte  0     type (FrameCmd, FrameChunk)
//	byte  1     flags (0; reserved)
//	bytes 2-3   length of Task, big endian
//	bytes 4-5   length of Peer, big endian
//	bytes 6-13  Offset, big endian
//
// followed by Task, Peer and the payload (everything to the end of the frame).
const HeaderLen = 14

// MaxIDLen bounds Task and Peer in a binary header.
const MaxIDLen = 1024

// Header is the parsed header of a binary frame.
type Header struct {
	Type   byte
	Task   string
	Peer   string
	Offset int64
}

// ErrBadFrame reports a binary frame whose header is truncated or invalid.
var ErrBadFrame = errors.New("protocol: malformed binary frame")

// AppendHeader appends h's encoding to dst and returns the result.
func AppendHeader(dst []byte, h Header) []byte {
	var fixed [HeaderLen]byte
	fixed[0] = h.Type
	binary.BigEndian.PutUint16(fixed[2:], uint16(len(h.Task)))
	binary.BigEndian.PutUint16(fixed[4:], uint16(len(h.Peer)))
	binary.BigEndian.PutUint64(fixed[6:], uint64(h.Offset))
	dst = append(dst, fixed[:]...)
	dst = append(dst, h.Task...)
	return append(dst, h.Peer...)
}

// ParseHeader splits a binary frame into its header and payload. The payload
// aliases frame; it is not copied.
func ParseHeader(frame []byte) (Header, []byte, error) {
	if len(frame) < HeaderLen {
		return Header{}, nil, ErrBadFrame
	}
	t := frame[0]
	if t != FrameCmd && t != FrameChunk {
		return Header{}, nil, ErrBadFrame
	}
	tl := int(binary.BigEndian.Uint16(frame[2:]))
	pl := int(binary.BigEndian.Uint16(frame[4:]))
	off := binary.BigEndian.Uint64(frame[6:])
	if tl == 0 || tl > MaxIDLen || pl > MaxIDLen || off > 1<<62 || len(frame) < HeaderLen+tl+pl {
		return Header{}, nil, ErrBadFrame
	}
	h := Header{
		Type:   t,
		Task:   string(frame[HeaderLen : HeaderLen+tl]),
		Peer:   string(frame[HeaderLen+tl : HeaderLen+tl+pl]),
		Offset: int64(off),
	}
	return h, frame[HeaderLen+tl+pl:], nil
}
