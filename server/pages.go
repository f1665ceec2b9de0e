package server

import (
	"log/slog"
	"math"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// Every text frame the server sends is at most protocol.MaxTextFrame bytes:
// reply and push check what they encode (an oversize reply becomes code 8,
// an oversize push is dropped, both logged), and the list replies are cut
// into pages that fit (getUserStatus, getMeetings; docs/protocol.md).

// pageSlack is what a list reply holds besides its entries: the braces, id,
// code, the list's key and brackets and "more":true, with room to spare.
const pageSlack = 128

// defaultPageBytes is the budget for the entries of one list page,
// separating commas included.
const defaultPageBytes = protocol.MaxTextFrame - pageSlack

// pager fills one page of a list reply within a byte budget.
type pager struct {
	budget  int
	used    int
	scratch []byte
}

// fits reports whether an entry encoded by enc still fits in the page, and
// counts it if so.
func (p *pager) fits(enc func(b []byte) []byte) bool {
	p.scratch = enc(p.scratch[:0])
	if p.used+len(p.scratch)+1 > p.budget {
		return false
	}
	p.used += len(p.scratch) + 1
	return true
}

// encodeFrame encodes m as a text frame. Over MaxTextFrame it logs and
// reports false: the caller must not send it.
func encodeFrame(log *slog.Logger, m *protocol.Msg) ([]byte, bool) {
	b := protocol.Encode(m)
	if len(b) > protocol.MaxTextFrame {
		log.Error("frame over the text frame limit not sent", "op", m.Op, "push", m.Push, "id", m.ID, "len", len(b), "limit", protocol.MaxTextFrame)
		return nil, false
	}
	return b, true
}

// encodeReply encodes reply m; one over MaxTextFrame is replaced, after
// logging, by a reply with code 8 (ServerException).
func encodeReply(log *slog.Logger, m *protocol.Msg) []byte {
	if b, ok := encodeFrame(log, m); ok {
		return b
	}
	return protocol.Encode(&protocol.Msg{ID: m.ID, Code: protocol.ServerException})
}

// pushFits reports whether push m fits in a text frame whatever its seq.
// The call requests check it for the push they cause (callIn,
// callAccepted), whose meetObj and ext are each within 8 KiB but may grow
// up to six-fold when escaped: they fail with 5 rather than leave a push
// unsent.
func pushFits(m *protocol.Msg) bool {
	mm := *m
	mm.Seq = math.MaxUint64
	return len(protocol.Encode(&mm)) <= protocol.MaxTextFrame
}
