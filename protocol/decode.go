package protocol

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Decoding rules (docs/protocol.md, "Text frames"). A text frame is
//
//   - one JSON object (RFC 8259), surrounded by nothing but whitespace and
//     nested at most MaxDepth levels deep (the frame's object is level 1);
//   - read by exact field name: unknown fields are ignored, and a repeated
//     field takes its last value;
//   - null, like an absent field, gives the zero value;
//   - a boolean field holds true or false, a number field holds a plain JSON integer within its Go type's range
//     (no fraction, no exponent, no sign for an unsigned field); a string
//     field holds a JSON string; any other value makes the frame malformed.
//
// Strings are unescaped by gjson (a lone surrogate becomes U+FFFD); bytes
// that are not UTF-8 are kept as sent, for the receiver's own checks (the
// server answers a nickName that is not UTF-8 with 5).

// MaxDepth bounds the nesting of a text frame and of the JSON text that
// ValidJSON accepts (meetObj). gjson's validator recurses once per level:
// without a bound, a 64 KiB frame of '[' grows the reading goroutine's stack
// by megabytes. Protocol messages need three levels.
const MaxDepth = 64

// Decode parses one text frame.
func Decode(b []byte) (*Msg, error) {
	if !shallow(b) || !gjson.ValidBytes(b) {
		return nil, ErrBadMessage
	}
	// The frame is read in place; every string kept is copied (str), so
	// the Msg does not hold on to b, which the caller may reuse.
	m := new(Msg)
	if !object(gjson.Parse(unsafe.String(unsafe.SliceData(b), len(b))), m, (*Msg).set) {
		return nil, ErrBadMessage
	}
	return m, nil
}

// ValidJSON reports whether s is one valid JSON value nested at most
// MaxDepth levels deep.
func ValidJSON(s string) bool {
	return shallow(unsafe.Slice(unsafe.StringData(s), len(s))) && gjson.Valid(s)
}

// shallow reports whether the arrays and objects of b (read as JSON, valid
// or not) nest at most MaxDepth levels deep. One pass, no recursion:
// brackets inside strings do not count.
func shallow(b []byte) bool {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if depth++; depth > MaxDepth {
				return false
			}
		case '}', ']':
			depth--
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return true
}

// set stores the value of field key in m; false when the value has the
// wrong type or range.
func (m *Msg) set(key string, v gjson.Result) bool {
	switch key {
	case "id":
		return uintVal(v, &m.ID)
	case "op":
		return nameVal(v, &m.Op)
	case "push":
		return nameVal(v, &m.Push)
	case "seq":
		return uintVal(v, &m.Seq)
	case "code":
		return intVal(v, &m.Code)
	case "ver":
		return intVal(v, &m.Ver)
	case "acnt":
		return strVal(v, &m.Acnt)
	case "pswd":
		return strVal(v, &m.Pswd)
	case "nick":
		return strVal(v, &m.Nick)
	case "priv":
		return strVal(v, &m.Priv)
	case "auth":
		return strVal(v, &m.Auth)
	case "usrID":
		return strVal(v, &m.UsrID)
	case "limits":
		return objPtr(v, &m.Limits, (*Limits).set)
	case "token":
		return strVal(v, &m.Token)
	case "boot":
		return strVal(v, &m.Boot)
	case "nb":
		return intVal(v, &m.NB)
	case "dnd":
		return intVal(v, &m.DND)
	case "users":
		return objSlice(v, &m.Users, (*UserStatus).set)
	case "user":
		return objPtr(v, &m.User, (*UserStatus).set)
	case "subject":
		return strVal(v, &m.Subject)
	case "createPswd":
		return intVal(v, &m.CreatePswd)
	case "meetID":
		return intVal(v, &m.MeetID)
	case "meeting":
		return objPtr(v, &m.Meeting, (*MeetInfo).set)
	case "meetings":
		return objSlice(v, &m.Meetings, (*MeetInfo).set)
	case "paged":
		return boolVal(v, &m.Paged)
	case "after":
		return strVal(v, &m.After)
	case "afterID":
		return intVal(v, &m.AfterID)
	case "more":
		return boolVal(v, &m.More)
	case "callID":
		return strVal(v, &m.CallID)
	case "to":
		return strVal(v, &m.To)
	case "from":
		return strVal(v, &m.From)
	case "meetObj":
		return strVal(v, &m.MeetObj)
	case "ext":
		return strVal(v, &m.Ext)
	case "status":
		return intVal(v, &m.Status)
	case "task":
		return strVal(v, &m.Task)
	case "kind":
		return nameVal(v, &m.Kind)
	case "name":
		return strVal(v, &m.Name)
	case "total":
		return intVal(v, &m.Total)
	case "n":
		return intVal(v, &m.N)
	case "window":
		return intVal(v, &m.Window)
	case "chunk":
		return intVal(v, &m.Chunk)
	}
	return true
}

func (l *Limits) set(key string, v gjson.Result) bool {
	switch key {
	case "maxBuffer":
		return intVal(v, &l.MaxBuffer)
	case "maxFile":
		return intVal(v, &l.MaxFile)
	case "chunk":
		return intVal(v, &l.Chunk)
	case "window":
		return intVal(v, &l.Window)
	case "pingTimeout":
		return intVal(v, &l.PingTimeout)
	case "resumeGrace":
		return intVal(v, &l.ResumeGrace)
	case "maxCmds":
		return intVal(v, &l.MaxCmds)
	case "maxTransfers":
		return intVal(v, &l.MaxTransfers)
	case "maxCmdBytes":
		return intVal(v, &l.MaxCmdBytes)
	}
	return true
}

func (u *UserStatus) set(key string, v gjson.Result) bool {
	switch key {
	case "userID":
		return strVal(v, &u.UserID)
	case "userStatus":
		return intVal(v, &u.UserStatus)
	case "DNDType":
		return intVal(v, &u.DNDType)
	}
	return true
}

func (mi *MeetInfo) set(key string, v gjson.Result) bool {
	switch key {
	case "ID":
		return intVal(v, &mi.ID)
	case "pswd":
		return strVal(v, &mi.Pswd)
	case "subject":
		return strVal(v, &mi.Subject)
	case "pubMeetUrl":
		return strVal(v, &mi.PubMeetURL)
	case "creator":
		return strVal(v, &mi.Creator)
	case "memberCount":
		return intVal(v, &mi.MemberCount)
	case "startTime":
		return intVal(v, &mi.StartTime)
	}
	return true
}

// object decodes the JSON object v into o through set.
func object[T any](v gjson.Result, o *T, set func(*T, string, gjson.Result) bool) bool {
	if !v.IsObject() {
		return false
	}
	ok := true
	v.ForEach(func(k, fv gjson.Result) bool {
		ok = set(o, k.Str, fv)
		return ok
	})
	return ok
}

// objPtr decodes an object field: null gives nil, an object a new T.
func objPtr[T any](v gjson.Result, p **T, set func(*T, string, gjson.Result) bool) bool {
	if v.Type == gjson.Null {
		*p = nil
		return true
	}
	o := new(T)
	if !object(v, o, set) {
		return false
	}
	*p = o
	return true
}

// objSlice decodes an array of objects: null gives nil, [] an empty slice,
// a null element a zero T.
func objSlice[T any](v gjson.Result, p *[]T, set func(*T, string, gjson.Result) bool) bool {
	if v.Type == gjson.Null {
		*p = nil
		return true
	}
	if !v.IsArray() {
		return false
	}
	s := []T{}
	ok := true
	v.ForEach(func(_, ev gjson.Result) bool {
		var o T
		if ev.Type != gjson.Null {
			ok = object(ev, &o, set)
		}
		s = append(s, o)
		return ok
	})
	if ok {
		*p = s
	}
	return ok
}

// str returns the string value v as a string of its own: gjson's Str of an
// unescaped string points into the frame.
func str(v gjson.Result) string {
	if len(v.Raw) == len(v.Str)+2 {
		return strings.Clone(v.Str)
	}
	return v.Str // unescaped into a new string by gjson
}

func strVal(v gjson.Result, p *string) bool {
	switch v.Type {
	case gjson.String:
		*p = str(v)
	case gjson.Null:
		*p = ""
	default:
		return false
	}
	return true
}

// nameVal is strVal for op, push and kind: their usual values are the
// constants, which need no copy.
func nameVal(v gjson.Result, p *string) bool {
	if v.Type == gjson.String {
		if c := name(v.Str); c != "" {
			*p = c
			return true
		}
	}
	return strVal(v, p)
}

// name returns the constant equal to s ("" if none): a string that is
// not a copy of the frame. PushXferAck and PushAck equal OpXferAck and OpAck.
func name(s string) string {
	switch s {
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
	case OpXferAck:
		return OpXferAck
	case OpXferFail:
		return OpXferFail
	case OpAck:
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
	return ""
}

func boolVal(v gjson.Result, p *bool) bool {
	switch v.Type {
	case gjson.True, gjson.False, gjson.Null:
		*p = v.Type == gjson.True
		return true
	}
	return false
}

// intVal reads a JSON integer into a signed field; strconv rejects
// fractions, exponents and values out of range.
func intVal[T int | int64](v gjson.Result, p *T) bool {
	switch v.Type {
	case gjson.Number:
		n, err := strconv.ParseInt(v.Raw, 10, int(unsafe.Sizeof(*p))*8)
		if err != nil {
			return false
		}
		*p = T(n)
	case gjson.Null:
		*p = 0
	default:
		return false
	}
	return true
}

func uintVal(v gjson.Result, p *uint64) bool {
	switch v.Type {
	case gjson.Number:
		n, err := strconv.ParseUint(v.Raw, 10, 64)
		if err != nil {
			return false
		}
		*p = n
	case gjson.Null:
		*p = 0
	default:
		return false
	}
	return true
}
