package protocol

import "strconv"

// PushTemplate is a push encoded once for many sessions, which differ only
// in the Seq each gives it: broadcasting one userStatus to a thousand
// subscribers costs one encoding and a thousand small copies instead of a
// thousand encodings.
type PushTemplate struct {
	head []byte // the encoding up to and including the push name
	tail []byte // the rest, from the field after it (or the closing brace)
}

// NewPushTemplate encodes m, a push (ID, Op and Seq zero; Seq is ignored).
func NewPushTemplate(m *Msg) *PushTemplate {
	mm := *m
	mm.ID, mm.Op, mm.Seq = 0, "", 0
	b := Encode(&mm)
	// The encoding starts with the fields before seq — id and op, empty and
	// omitted here, then push — exactly as a Msg holding only the push name
	// does without its closing brace; seq comes right after it.
	cut := len(Encode(&Msg{Push: mm.Push})) - 1
	return &PushTemplate{head: b[:cut], tail: b[cut:]}
}

// WithSeq returns the encoding of the template's push numbered seq, the
// same bytes as Encode of the push with that Seq.
func (t *PushTemplate) WithSeq(seq uint64) []byte {
	out := make([]byte, 0, len(t.head)+len(t.tail)+len(`,"seq":`)+20)
	out = append(out, t.head...)
	if seq != 0 {
		out = append(out, `,"seq":`...)
		out = strconv.AppendUint(out, seq, 10)
	}
	return append(out, t.tail...)
}
