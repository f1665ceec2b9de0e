package protocol

import (
	"slices"
	"strconv"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The hand-written decoder below reads a text frame in one pass and gives
// exactly what json.Unmarshal gives into a new Msg, or ErrBadMessage where
// json.Unmarshal fails (FuzzCodecDiff checks both). It mirrors these
// encoding/json rules:
//
//   - the whole input must be one valid JSON value with at most 10000
//     levels of nesting, surrounded by nothing but whitespace; a top-level
//     null gives a zero Msg;
//   - a key matches a field by its exact name, else case-insensitively as
//     encoding/json folds keys (so "ſeq" matches "seq" and the Kelvin sign
//     matches 'k'); unknown keys are skipped, duplicates are applied in
//     order (last wins; a repeated object merges into the struct already
//     there, a repeated array decodes into the elements already there);
//   - null leaves a number, string or struct unchanged and sets a pointer
//     or slice to nil; [] sets a slice to a non-nil empty one;
//   - integers must be plain integers in the field's range (no fraction,
//     no exponent, no sign for uint64, not even -0); any other type for a
//     field is an error;
//   - strings decode \u escapes with surrogate pairs; a lone or mismatched
//     surrogate and every byte of invalid UTF-8 become U+FFFD.

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// Decode parses one text frame. The result is what json.Unmarshal gives.
func Decode(b []byte) (*Msg, error) {
	m := new(Msg)
	d := decoder{b: b}
	ok := d.top(m)
	if d.scratch != nil && cap(d.scratch.b) <= MaxTextFrame {
		d.scratch.b = d.scratch.b[:0]
		scratchPool.Put(d.scratch)
	}
	if !ok {
		return nil, ErrBadMessage
	}
	return m, nil
}

// ValidJSON reports whether s is one valid JSON value, as json.Valid does,
// with the same scanner as Decode and without copying s.
func ValidJSON(s string) bool {
	// The decoder only reads d.b.
	d := decoder{b: unsafe.Slice(unsafe.StringData(s), len(s))}
	d.ws()
	if !d.skip() {
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

// scratch holds strings being unescaped. Decode takes one from scratchPool
// only for a string that needs it.
type scratch struct{ b []byte }

var scratchPool = sync.Pool{New: func() any { return &scratch{b: make([]byte, 0, 1024)} }}

type decoder struct {
	b       []byte
	i       int
	depth   int
	scratch *scratch // unescaped strings, nil until needed
}

func (d *decoder) top(m *Msg) bool {
	d.ws()
	if d.i >= len(d.b) {
		return false
	}
	switch d.b[d.i] {
	case '{':
		if !d.msg(m) {
			return false
		}
	case 'n':
		if !d.lit("null") {
			return false
		}
	default:
		return false
	}
	d.ws()
	return d.i == len(d.b)
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the byte at the cursor, 0 at the end.
func (d *decoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) lit(s string) bool {
	if len(d.b)-d.i < len(s) || string(d.b[d.i:d.i+len(s)]) != s {
		return false
	}
	d.i += len(s)
	return true
}

// objOpen consumes the '{' at the cursor and the whitespace after it; done
// reports an empty object (its '}' consumed too).
func (d *decoder) objOpen() (done, ok bool) {
	if d.depth >= maxDepth {
		return false, false
	}
	d.depth++
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		d.depth--
		return true, true
	}
	return false, true
}

// objNext consumes what follows a member's value: ',' and whitespace, or
// the closing '}' (done).
func (d *decoder) objNext() (done, ok bool) {
	d.ws()
	if d.i >= len(d.b) {
		return false, false
	}
	c := d.b[d.i]
	d.i++
	switch c {
	case ',':
		d.ws()
		return false, true
	case '}':
		d.depth--
		return true, true
	}
	return false, false
}

// key parses a member's name and the ':' after it. The result may be
// d.scratch: use it before decoding the value.
func (d *decoder) key() ([]byte, bool) {
	if d.peek() != '"' {
		return nil, false
	}
	k, ok := d.str()
	if !ok {
		return nil, false
	}
	d.ws()
	if d.peek() != ':' {
		return nil, false
	}
	d.i++
	d.ws()
	return k, true
}

// plain marks the bytes a string holds as they are: printable ASCII but
// for " and \.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str parses the string at the cursor (its '"') and returns its decoded
// bytes: a sub-slice of the input when it needs no decoding, else
// d.scratch.
func (d *decoder) str() ([]byte, bool) {
	b := d.b
	start := d.i + 1
	i := start
	for i < len(b) {
		c := b[i]
		if plain[c] {
			i++
			continue
		}
		if c == '"' {
			d.i = i + 1
			return b[start:i], true
		}
		if c < utf8.RuneSelf {
			break // an escape or a control byte
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	return d.strSlow(start, i)
}

// strSlow decodes a string whose first i-start bytes are plain.
func (d *decoder) strSlow(start, i int) ([]byte, bool) {
	b := d.b
	if d.scratch == nil {
		d.scratch = scratchPool.Get().(*scratch)
	}
	out := append(d.scratch.b[:0], b[start:i]...)
	for i < len(b) {
		// A run of plain bytes at once.
		j := i
		for j < len(b) && plain[b[j]] {
			j++
		}
		if j > i {
			out = append(out, b[i:j]...)
			i = j
			if i >= len(b) {
				break
			}
		}
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			d.scratch.b = out
			return out, true
		case c == '\\':
			if i+1 >= len(b) {
				return nil, false
			}
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i+2:])
				if r < 0 {
					return nil, false
				}
				i += 6
				if utf16.IsSurrogate(r) {
					// A pair only if a low surrogate escape follows; else
					// U+FFFD and the next escape stands on its own.
					r2 := rune(-1)
					if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2 = hex4(b[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
					r = unicode.ReplacementChar
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return nil, false
			}
			i += 2
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				out = append(out, "\uFFFD"...)
			} else {
				out = append(out, b[i:i+size]...)
			}
			i += size
		}
	}
	return nil, false
}

// hex4 reads 4 hex digits, -1 if there are not.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// String fields.

func (d *decoder) strVal(p *string) bool {
	switch d.peek() {
	case '"':
		s, ok := d.str()
		if ok {
			*p = string(s)
		}
		return ok
	case 'n':
		return d.lit("null")
	}
	return false
}

// nameVal is strVal for op, push and kind: their usual values are the
// constants, so the decoded string needs no allocation.
func (d *decoder) nameVal(p *string) bool {
	if d.peek() != '"' {
		return d.strVal(p)
	}
	s, ok := d.str()
	if ok {
		*p = internName(s)
	}
	return ok
}

func internName(s []byte) string {
	switch string(s) {
	case OpLogin:
		return OpLogin
	case OpLogout:
		return OpLogout
	case OpSetDND:
		return OpSetDND
	case OpGetUserStatus:
		return OpGetUserStatus
	case OpStartStatusNotify:
		return OpStartStatusNotify
	case OpStopStatusNotify:
		return OpStopStatusNotify
	case OpCreateMeeting:
		return OpCreateMeeting
	case OpDestroyMeeting:
		return OpDestroyMeeting
	case OpGetMeetings:
		return OpGetMeetings
	case OpCall:
		return OpCall
	case OpAcceptCall:
		return OpAcceptCall
	case OpRejectCall:
		return OpRejectCall
	case OpHungupCall:
		return OpHungupCall
	case OpCallMoreParty:
		return OpCallMoreParty
	case OpCancelCallMoreParty:
		return OpCancelCallMoreParty
	case OpSendBegin:
		return OpSendBegin
	case OpCancelSend:
		return OpCancelSend
	case OpResume:
		return OpResume
	case OpCmdAck:
		return OpCmdAck
	case OpXferAck: // also PushXferAck
		return OpXferAck
	case OpXferFail:
		return OpXferFail
	case OpAck: // also PushAck
		return OpAck
	case PushLineOff:
		return PushLineOff
	case PushUserStatus:
		return PushUserStatus
	case PushCallIn:
		return PushCallIn
	case PushCallAccepted:
		return PushCallAccepted
	case PushCallRejected:
		return PushCallRejected
	case PushCallHungup:
		return PushCallHungup
	case PushPartyStatus:
		return PushPartyStatus
	case PushSendRslt:
		return PushSendRslt
	case PushXferBegin:
		return PushXferBegin
	case PushXferDone:
		return PushXferDone
	case PushXferCancel:
		return PushXferCancel
	case KindBuffer:
		return KindBuffer
	case KindFile:
		return KindFile
	}
	return string(s)
}

// Number fields.

// number parses the number at the cursor as JSON's grammar has it and
// reports whether it is an integer (no fraction, no exponent).
func (d *decoder) number() (num []byte, isInt, ok bool) {
	b := d.b
	start := d.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return nil, false, false
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case '1' <= c && c <= '9':
		i++
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == n {
			return nil, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		n := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == n {
			return nil, false, false
		}
	}
	d.i = i
	return b[start:i], isInt, true
}

// integer parses an integer field's value: null (set false), or an integer
// in [-2^63, 2^63-1], or with unsigned in [0, 2^64-1], as strconv.ParseInt
// and ParseUint accept them.
func (d *decoder) integer(unsigned bool) (v uint64, neg, set, ok bool) {
	c := d.peek()
	if c == 'n' {
		return 0, false, false, d.lit("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return 0, false, false, false
	}
	num, isInt, ok := d.number()
	if !ok || !isInt {
		return 0, false, false, false
	}
	if num[0] == '-' {
		if unsigned {
			return 0, false, false, false
		}
		neg = true
		num = num[1:]
	}
	for _, c := range num {
		if v > (1<<64-1)/10 {
			return 0, false, false, false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return 0, false, false, false
		}
	}
	if !unsigned {
		if neg && v > 1<<63 || !neg && v > 1<<63-1 {
			return 0, false, false, false
		}
	}
	return v, neg, true, true
}

func (d *decoder) uint64Val(p *uint64) bool {
	v, _, set, ok := d.integer(true)
	if set {
		*p = v
	}
	return ok
}

func (d *decoder) int64Val(p *int64) bool {
	v, neg, set, ok := d.integer(false)
	if set {
		if neg {
			*p = -int64(v)
		} else {
			*p = int64(v)
		}
	}
	return ok
}

func (d *decoder) intVal(p *int) bool {
	v, neg, set, ok := d.integer(false)
	if !set {
		return ok
	}
	x := int64(v)
	if neg {
		x = -x
	}
	if strconv.IntSize == 32 && int64(int32(x)) != x {
		return false
	}
	*p = int(x)
	return true
}

// Skipping values of unknown fields.

// skip validates and skips the value at the cursor.
func (d *decoder) skip() bool {
	var stackArr [32]byte
	stack := stackArr[:0] // '{' or '[' per open container
	b := d.b
	for {
		// A value starts at the cursor.
		if d.i >= len(b) {
			return false
		}
		switch c := b[d.i]; c {
		case '{', '[':
			if d.depth >= maxDepth {
				return false
			}
			d.depth++
			d.i++
			d.ws()
			end := byte('}')
			if c == '[' {
				end = ']'
			}
			if d.peek() == end {
				d.i++
				d.depth--
				break
			}
			stack = append(stack, c)
			if c == '{' {
				if !d.skipKey() {
					return false
				}
			}
			continue
		case '"':
			if !d.skipStr() {
				return false
			}
		case 't':
			if !d.lit("true") {
				return false
			}
		case 'f':
			if !d.lit("false") {
				return false
			}
		case 'n':
			if !d.lit("null") {
				return false
			}
		default:
			if _, _, ok := d.number(); !ok {
				return false
			}
		}
		// A value ended: close containers until one has a next element.
		for {
			if len(stack) == 0 {
				return true
			}
			d.ws()
			if d.i >= len(b) {
				return false
			}
			c := b[d.i]
			d.i++
			top := stack[len(stack)-1]
			if c == ',' {
				d.ws()
				if top == '{' {
					if !d.skipKey() {
						return false
					}
				}
				break
			}
			if top == '{' && c == '}' || top == '[' && c == ']' {
				stack = stack[:len(stack)-1]
				d.depth--
				continue
			}
			return false
		}
	}
}

// skipKey validates a member name and the ':' after it.
func (d *decoder) skipKey() bool {
	if d.peek() != '"' || !d.skipStr() {
		return false
	}
	d.ws()
	if d.peek() != ':' {
		return false
	}
	d.i++
	d.ws()
	return true
}

// skipStr validates the string at the cursor.
func (d *decoder) skipStr() bool {
	b := d.b
	for i := d.i + 1; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			d.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(b) {
				return false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if hex4(b[i+2:]) < 0 {
					return false
				}
				i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		}
	}
	return false
}

// Field names.

// foldKey folds key as encoding/json does to match names case-insensitively
// (ASCII letters upper-cased, other runes to the smallest rune of their
// case-folding orbit). Field names are short ASCII, so a key that folds to
// anything else matches nothing: ok false.
func foldKey(dst *[16]byte, key []byte) (folded []byte, ok bool) {
	out := dst[:0]
	for i := 0; i < len(key); {
		c := key[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(key[i:])
			for {
				r2 := unicode.SimpleFold(r)
				if r2 <= r {
					r = r2
					break
				}
				r = r2
			}
			if r >= utf8.RuneSelf {
				return nil, false
			}
			c = byte(r)
			i += n
		} else {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			i++
		}
		if len(out) == len(dst) {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// Msg's fields, in declaration order.
const (
	fNone = iota
	fID
	fOp
	fPush
	fSeq
	fCode
	fVer
	fAcnt
	fPswd
	fNick
	fPriv
	fAuth
	fUsrID
	fLimits
	fToken
	fBoot
	fNB
	fDND
	fUsers
	fUser
	fSubject
	fCreatePswd
	fMeetID
	fMeeting
	fMeetings
	fCallID
	fTo
	fFrom
	fMeetObj
	fExt
	fStatus
	fTask
	fKind
	fName
	fTotal
	fN
	fWindow
	fChunk
)

func msgField(key []byte) int {
	switch string(key) {
	case "id":
		return fID
	case "op":
		return fOp
	case "push":
		return fPush
	case "seq":
		return fSeq
	case "code":
		return fCode
	case "ver":
		return fVer
	case "acnt":
		return fAcnt
	case "pswd":
		return fPswd
	case "nick":
		return fNick
	case "priv":
		return fPriv
	case "auth":
		return fAuth
	case "usrID":
		return fUsrID
	case "limits":
		return fLimits
	case "token":
		return fToken
	case "boot":
		return fBoot
	case "nb":
		return fNB
	case "dnd":
		return fDND
	case "users":
		return fUsers
	case "user":
		return fUser
	case "subject":
		return fSubject
	case "createPswd":
		return fCreatePswd
	case "meetID":
		return fMeetID
	case "meeting":
		return fMeeting
	case "meetings":
		return fMeetings
	case "callID":
		return fCallID
	case "to":
		return fTo
	case "from":
		return fFrom
	case "meetObj":
		return fMeetObj
	case "ext":
		return fExt
	case "status":
		return fStatus
	case "task":
		return fTask
	case "kind":
		return fKind
	case "name":
		return fName
	case "total":
		return fTotal
	case "n":
		return fN
	case "window":
		return fWindow
	case "chunk":
		return fChunk
	}
	var buf [16]byte
	k, ok := foldKey(&buf, key)
	if !ok {
		return fNone
	}
	switch string(k) {
	case "ID":
		return fID
	case "OP":
		return fOp
	case "PUSH":
		return fPush
	case "SEQ":
		return fSeq
	case "CODE":
		return fCode
	case "VER":
		return fVer
	case "ACNT":
		return fAcnt
	case "PSWD":
		return fPswd
	case "NICK":
		return fNick
	case "PRIV":
		return fPriv
	case "AUTH":
		return fAuth
	case "USRID":
		return fUsrID
	case "LIMITS":
		return fLimits
	case "TOKEN":
		return fToken
	case "BOOT":
		return fBoot
	case "NB":
		return fNB
	case "DND":
		return fDND
	case "USERS":
		return fUsers
	case "USER":
		return fUser
	case "SUBJECT":
		return fSubject
	case "CREATEPSWD":
		return fCreatePswd
	case "MEETID":
		return fMeetID
	case "MEETING":
		return fMeeting
	case "MEETINGS":
		return fMeetings
	case "CALLID":
		return fCallID
	case "TO":
		return fTo
	case "FROM":
		return fFrom
	case "MEETOBJ":
		return fMeetObj
	case "EXT":
		return fExt
	case "STATUS":
		return fStatus
	case "TASK":
		return fTask
	case "KIND":
		return fKind
	case "NAME":
		return fName
	case "TOTAL":
		return fTotal
	case "N":
		return fN
	case "WINDOW":
		return fWindow
	case "CHUNK":
		return fChunk
	}
	return fNone
}

// msg decodes the object at the cursor into m.
func (d *decoder) msg(m *Msg) bool {
	done, ok := d.objOpen()
	for ok && !done {
		var key []byte
		if key, ok = d.key(); !ok {
			break
		}
		switch msgField(key) {
		case fID:
			ok = d.uint64Val(&m.ID)
		case fOp:
			ok = d.nameVal(&m.Op)
		case fPush:
			ok = d.nameVal(&m.Push)
		case fSeq:
			ok = d.uint64Val(&m.Seq)
		case fCode:
			ok = d.intVal(&m.Code)
		case fVer:
			ok = d.intVal(&m.Ver)
		case fAcnt:
			ok = d.strVal(&m.Acnt)
		case fPswd:
			ok = d.strVal(&m.Pswd)
		case fNick:
			ok = d.strVal(&m.Nick)
		case fPriv:
			ok = d.strVal(&m.Priv)
		case fAuth:
			ok = d.strVal(&m.Auth)
		case fUsrID:
			ok = d.strVal(&m.UsrID)
		case fLimits:
			ok = d.limitsPtr(&m.Limits)
		case fToken:
			ok = d.strVal(&m.Token)
		case fBoot:
			ok = d.strVal(&m.Boot)
		case fNB:
			ok = d.int64Val(&m.NB)
		case fDND:
			ok = d.intVal(&m.DND)
		case fUsers:
			ok = d.userSlice(&m.Users)
		case fUser:
			ok = d.userPtr(&m.User)
		case fSubject:
			ok = d.strVal(&m.Subject)
		case fCreatePswd:
			ok = d.intVal(&m.CreatePswd)
		case fMeetID:
			ok = d.intVal(&m.MeetID)
		case fMeeting:
			ok = d.meetPtr(&m.Meeting)
		case fMeetings:
			ok = d.meetSlice(&m.Meetings)
		case fCallID:
			ok = d.strVal(&m.CallID)
		case fTo:
			ok = d.strVal(&m.To)
		case fFrom:
			ok = d.strVal(&m.From)
		case fMeetObj:
			ok = d.strVal(&m.MeetObj)
		case fExt:
			ok = d.strVal(&m.Ext)
		case fStatus:
			ok = d.intVal(&m.Status)
		case fTask:
			ok = d.strVal(&m.Task)
		case fKind:
			ok = d.nameVal(&m.Kind)
		case fName:
			ok = d.strVal(&m.Name)
		case fTotal:
			ok = d.int64Val(&m.Total)
		case fN:
			ok = d.int64Val(&m.N)
		case fWindow:
			ok = d.int64Val(&m.Window)
		case fChunk:
			ok = d.intVal(&m.Chunk)
		default:
			ok = d.skip()
		}
		if ok {
			done, ok = d.objNext()
		}
	}
	return ok
}

// Limits.

func (d *decoder) limitsPtr(p **Limits) bool {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.lit("null")
	case '{':
		if *p == nil {
			*p = new(Limits)
		}
		return d.limits(*p)
	}
	return false
}

func limitsField(key []byte) int {
	switch string(key) {
	case "maxBuffer":
		return 1
	case "maxFile":
		return 2
	case "chunk":
		return 3
	case "window":
		return 4
	case "pingTimeout":
		return 5
	case "resumeGrace":
		return 6
	case "maxCmds":
		return 7
	case "maxTransfers":
		return 8
	case "maxCmdBytes":
		return 9
	}
	var buf [16]byte
	k, ok := foldKey(&buf, key)
	if !ok {
		return 0
	}
	switch string(k) {
	case "MAXBUFFER":
		return 1
	case "MAXFILE":
		return 2
	case "CHUNK":
		return 3
	case "WINDOW":
		return 4
	case "PINGTIMEOUT":
		return 5
	case "RESUMEGRACE":
		return 6
	case "MAXCMDS":
		return 7
	case "MAXTRANSFERS":
		return 8
	case "MAXCMDBYTES":
		return 9
	}
	return 0
}

func (d *decoder) limits(l *Limits) bool {
	done, ok := d.objOpen()
	for ok && !done {
		var key []byte
		if key, ok = d.key(); !ok {
			break
		}
		switch limitsField(key) {
		case 1:
			ok = d.int64Val(&l.MaxBuffer)
		case 2:
			ok = d.int64Val(&l.MaxFile)
		case 3:
			ok = d.intVal(&l.Chunk)
		case 4:
			ok = d.int64Val(&l.Window)
		case 5:
			ok = d.int64Val(&l.PingTimeout)
		case 6:
			ok = d.int64Val(&l.ResumeGrace)
		case 7:
			ok = d.intVal(&l.MaxCmds)
		case 8:
			ok = d.intVal(&l.MaxTransfers)
		case 9:
			ok = d.int64Val(&l.MaxCmdBytes)
		default:
			ok = d.skip()
		}
		if ok {
			done, ok = d.objNext()
		}
	}
	return ok
}

// UserStatus.

func (d *decoder) userPtr(p **UserStatus) bool {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.lit("null")
	case '{':
		if *p == nil {
			*p = new(UserStatus)
		}
		return d.user(*p)
	}
	return false
}

// userSlice decodes an array into *p as encoding/json does: into the
// elements already there, growing the slice one element at a time.
func (d *decoder) userSlice(p *[]UserStatus) bool {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.lit("null")
	case '[':
	default:
		return false
	}
	s := *p
	n, ok := d.arrOpen()
	for ok && n >= 0 {
		if n >= cap(s) {
			s = slices.Grow(s, 1)
		}
		if n >= len(s) {
			s = s[:n+1]
		}
		switch d.peek() {
		case 'n':
			ok = d.lit("null")
		case '{':
			ok = d.user(&s[n])
		default:
			ok = false
		}
		if ok {
			n, ok = d.arrNext(n)
		}
	}
	if !ok {
		return false
	}
	*p = trim(s, -n-1)
	return true
}

// arrOpen consumes the '[' at the cursor and the whitespace after it. It
// returns 0 for the index of the first element, or -1 for an empty array
// (its ']' consumed too).
func (d *decoder) arrOpen() (int, bool) {
	if d.depth >= maxDepth {
		return 0, false
	}
	d.depth++
	d.i++
	d.ws()
	if d.peek() == ']' {
		d.i++
		d.depth--
		return -1, true
	}
	return 0, true
}

// arrNext consumes what follows element n: ',' and whitespace (returns
// n+1), or the closing ']' (returns -(n+1)-1, the count encoded negative).
func (d *decoder) arrNext(n int) (int, bool) {
	d.ws()
	if d.i >= len(d.b) {
		return 0, false
	}
	c := d.b[d.i]
	d.i++
	switch c {
	case ',':
		d.ws()
		return n + 1, true
	case ']':
		d.depth--
		return -(n + 1) - 1, true
	}
	return 0, false
}

// trim cuts s to the count elements an array held; none gives a non-nil
// empty slice, as encoding/json does.
func trim[T any](s []T, count int) []T {
	if count == 0 {
		return []T{}
	}
	return s[:count]
}

func userField(key []byte) int {
	switch string(key) {
	case "userID":
		return 1
	case "userStatus":
		return 2
	case "DNDType":
		return 3
	}
	var buf [16]byte
	k, ok := foldKey(&buf, key)
	if !ok {
		return 0
	}
	switch string(k) {
	case "USERID":
		return 1
	case "USERSTATUS":
		return 2
	case "DNDTYPE":
		return 3
	}
	return 0
}

func (d *decoder) user(u *UserStatus) bool {
	done, ok := d.objOpen()
	for ok && !done {
		var key []byte
		if key, ok = d.key(); !ok {
			break
		}
		switch userField(key) {
		case 1:
			ok = d.strVal(&u.UserID)
		case 2:
			ok = d.intVal(&u.UserStatus)
		case 3:
			ok = d.intVal(&u.DNDType)
		default:
			ok = d.skip()
		}
		if ok {
			done, ok = d.objNext()
		}
	}
	return ok
}

// MeetInfo.

func (d *decoder) meetPtr(p **MeetInfo) bool {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.lit("null")
	case '{':
		if *p == nil {
			*p = new(MeetInfo)
		}
		return d.meet(*p)
	}
	return false
}

// meetSlice is userSlice for []MeetInfo.
func (d *decoder) meetSlice(p *[]MeetInfo) bool {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.lit("null")
	case '[':
	default:
		return false
	}
	s := *p
	n, ok := d.arrOpen()
	for ok && n >= 0 {
		if n >= cap(s) {
			s = slices.Grow(s, 1)
		}
		if n >= len(s) {
			s = s[:n+1]
		}
		switch d.peek() {
		case 'n':
			ok = d.lit("null")
		case '{':
			ok = d.meet(&s[n])
		default:
			ok = false
		}
		if ok {
			n, ok = d.arrNext(n)
		}
	}
	if !ok {
		return false
	}
	*p = trim(s, -n-1)
	return true
}

func meetField(key []byte) int {
	switch string(key) {
	case "ID":
		return 1
	case "pswd":
		return 2
	case "subject":
		return 3
	case "pubMeetUrl":
		return 4
	case "creator":
		return 5
	case "memberCount":
		return 6
	case "startTime":
		return 7
	}
	var buf [16]byte
	k, ok := foldKey(&buf, key)
	if !ok {
		return 0
	}
	switch string(k) {
	case "ID":
		return 1
	case "PSWD":
		return 2
	case "SUBJECT":
		return 3
	case "PUBMEETURL":
		return 4
	case "CREATOR":
		return 5
	case "MEMBERCOUNT":
		return 6
	case "STARTTIME":
		return 7
	}
	return 0
}

func (d *decoder) meet(mi *MeetInfo) bool {
	done, ok := d.objOpen()
	for ok && !done {
		var key []byte
		if key, ok = d.key(); !ok {
			break
		}
		switch meetField(key) {
		case 1:
			ok = d.intVal(&mi.ID)
		case 2:
			ok = d.strVal(&mi.Pswd)
		case 3:
			ok = d.strVal(&mi.Subject)
		case 4:
			ok = d.strVal(&mi.PubMeetURL)
		case 5:
			ok = d.strVal(&mi.Creator)
		case 6:
			ok = d.intVal(&mi.MemberCount)
		case 7:
			ok = d.int64Val(&mi.StartTime)
		default:
			ok = d.skip()
		}
		if ok {
			done, ok = d.objNext()
		}
	}
	return ok
}
