package protocol

import (
	"strconv"
	"unicode/utf8"
)

// The hand-written encoder below writes exactly what json.Marshal writes for
// a *Msg (FuzzCodecDiff checks it byte for byte): the fields in declaration
// order, omitempty as encoding/json applies it, and strings escaped as
// encoding/json escapes them (HTML-safe, U+2028/U+2029 escaped, invalid
// UTF-8 replaced by \ufffd). Msg is on every frame of both sides; the
// reflection-based encoder was the largest CPU cost after system calls.
//
// A field added to Msg or to a type it reaches must be added here too;
// TestCodecCoversEveryField fails until it is.

// Encode marshals m as one text frame. The result is json.Marshal(m).
func Encode(m *Msg) []byte {
	var arr [512]byte
	b := AppendEncode(arr[:0], m)
	out := make([]byte, len(b))
	copy(out, b)
	return out
}

// AppendEncode appends the JSON encoding of m (as Encode) to dst.
func AppendEncode(dst []byte, m *Msg) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	// Every field is written as ",key:value"; the first comma becomes the
	// opening brace.
	start := len(dst)
	b := dst
	if m.ID != 0 {
		b = strconv.AppendUint(append(b, `,"id":`...), m.ID, 10)
	}
	b = appendStrField(b, `,"op":`, m.Op)
	b = appendStrField(b, `,"push":`, m.Push)
	if m.Seq != 0 {
		b = strconv.AppendUint(append(b, `,"seq":`...), m.Seq, 10)
	}
	b = appendIntField(b, `,"code":`, int64(m.Code))
	b = appendIntField(b, `,"ver":`, int64(m.Ver))
	b = appendStrField(b, `,"acnt":`, m.Acnt)
	b = appendStrField(b, `,"pswd":`, m.Pswd)
	b = appendStrField(b, `,"nick":`, m.Nick)
	b = appendStrField(b, `,"priv":`, m.Priv)
	b = appendStrField(b, `,"auth":`, m.Auth)
	b = appendStrField(b, `,"usrID":`, m.UsrID)
	if m.Limits != nil {
		b = appendLimits(append(b, `,"limits":`...), m.Limits)
	}
	b = appendStrField(b, `,"token":`, m.Token)
	b = appendStrField(b, `,"boot":`, m.Boot)
	b = appendIntField(b, `,"nb":`, m.NB)
	b = appendIntField(b, `,"dnd":`, int64(m.DND))
	if len(m.Users) != 0 {
		b = AppendUserStatusList(append(b, `,"users":`...), m.Users)
	}
	if m.User != nil {
		b = appendUserStatus(append(b, `,"user":`...), m.User)
	}
	b = appendStrField(b, `,"subject":`, m.Subject)
	b = appendIntField(b, `,"createPswd":`, int64(m.CreatePswd))
	b = appendIntField(b, `,"meetID":`, int64(m.MeetID))
	if m.Meeting != nil {
		b = appendMeetInfo(append(b, `,"meeting":`...), m.Meeting)
	}
	if len(m.Meetings) != 0 {
		b = AppendMeetInfoList(append(b, `,"meetings":`...), m.Meetings)
	}
	if m.Paged {
		b = append(b, `,"paged":true`...)
	}
	b = appendStrField(b, `,"after":`, m.After)
	b = appendIntField(b, `,"afterID":`, int64(m.AfterID))
	if m.More {
		b = append(b, `,"more":true`...)
	}
	b = appendStrField(b, `,"callID":`, m.CallID)
	b = appendStrField(b, `,"to":`, m.To)
	b = appendStrField(b, `,"from":`, m.From)
	b = appendStrField(b, `,"meetObj":`, m.MeetObj)
	b = appendStrField(b, `,"ext":`, m.Ext)
	b = appendIntField(b, `,"status":`, int64(m.Status))
	b = appendStrField(b, `,"task":`, m.Task)
	b = appendStrField(b, `,"kind":`, m.Kind)
	b = appendStrField(b, `,"name":`, m.Name)
	b = appendIntField(b, `,"total":`, m.Total)
	b = appendIntField(b, `,"n":`, m.N)
	b = appendIntField(b, `,"window":`, m.Window)
	b = appendIntField(b, `,"chunk":`, int64(m.Chunk))
	if len(b) == start {
		return append(b, "{}"...)
	}
	b[start] = '{'
	return append(b, '}')
}

// appendStrField appends key and v unless v is empty (omitempty).
func appendStrField(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendIntField appends key and v unless v is 0 (omitempty).
func appendIntField(b []byte, key string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), v, 10)
}

func appendLimits(b []byte, l *Limits) []byte {
	b = strconv.AppendInt(append(b, `{"maxBuffer":`...), l.MaxBuffer, 10)
	b = strconv.AppendInt(append(b, `,"maxFile":`...), l.MaxFile, 10)
	b = strconv.AppendInt(append(b, `,"chunk":`...), int64(l.Chunk), 10)
	b = strconv.AppendInt(append(b, `,"window":`...), l.Window, 10)
	b = strconv.AppendInt(append(b, `,"pingTimeout":`...), l.PingTimeout, 10)
	b = strconv.AppendInt(append(b, `,"resumeGrace":`...), l.ResumeGrace, 10)
	b = appendIntField(b, `,"maxCmds":`, int64(l.MaxCmds))
	b = appendIntField(b, `,"maxTransfers":`, int64(l.MaxTransfers))
	b = appendIntField(b, `,"maxCmdBytes":`, l.MaxCmdBytes)
	return append(b, '}')
}

// AppendUserStatus appends json.Marshal(u): the object the library hands
// the application for a status push.
func AppendUserStatus(b []byte, u *UserStatus) []byte {
	if u == nil {
		return append(b, "null"...)
	}
	return appendUserStatus(b, u)
}

// AppendUserStatusList appends json.Marshal(us).
func AppendUserStatusList(b []byte, us []UserStatus) []byte {
	if us == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range us {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendUserStatus(b, &us[i])
	}
	return append(b, ']')
}

// AppendMeetInfo appends json.Marshal(mi).
func AppendMeetInfo(b []byte, mi *MeetInfo) []byte {
	if mi == nil {
		return append(b, "null"...)
	}
	return appendMeetInfo(b, mi)
}

// AppendMeetInfoList appends json.Marshal(ms).
func AppendMeetInfoList(b []byte, ms []MeetInfo) []byte {
	if ms == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMeetInfo(b, &ms[i])
	}
	return append(b, ']')
}

func appendUserStatus(b []byte, u *UserStatus) []byte {
	b = appendString(append(b, `{"userID":`...), u.UserID)
	b = strconv.AppendInt(append(b, `,"userStatus":`...), int64(u.UserStatus), 10)
	b = strconv.AppendInt(append(b, `,"DNDType":`...), int64(u.DNDType), 10)
	return append(b, '}')
}

func appendMeetInfo(b []byte, mi *MeetInfo) []byte {
	b = strconv.AppendInt(append(b, `{"ID":`...), int64(mi.ID), 10)
	b = appendString(append(b, `,"pswd":`...), mi.Pswd)
	b = appendString(append(b, `,"subject":`...), mi.Subject)
	b = appendString(append(b, `,"pubMeetUrl":`...), mi.PubMeetURL)
	b = appendString(append(b, `,"creator":`...), mi.Creator)
	b = strconv.AppendInt(append(b, `,"memberCount":`...), int64(mi.MemberCount), 10)
	b = strconv.AppendInt(append(b, `,"startTime":`...), mi.StartTime, 10)
	return append(b, '}')
}

// htmlSafe marks the ASCII bytes encoding/json writes unescaped with HTML
// escaping on: printable ASCII and DEL, except " \ < > &.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped as encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default: // other control bytes, < > &
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
