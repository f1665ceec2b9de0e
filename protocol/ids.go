package protocol

import (
	"strings"
	"unicode/utf8"
)

// The character rules both sides apply to IDs and to received file names
// (docs/protocol.md, "IDs" and "File names"). One place, so the library and
// the server cannot drift apart.

// IsControl reports whether r is a control character: NUL and the rest of
// C0 (U+0000–U+001F), DEL (U+007F) or C1 (U+0080–U+009F). A C application
// cannot see past a NUL, and the others are invisible or move the cursor.
func IsControl(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// ValidID reports whether s may appear in an ID — an account, usrID /
// privAcnt, nickName, call or invite ID, `to` target, task ID: valid UTF-8
// without control characters (IsControl). Whether it may be empty and how
// long it may be are each field's own rules, checked by the caller. A
// request breaking this rule is refused with ParamErr (5); a frame from the
// server breaking it is malformed and dropped by the library.
func ValidID(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r <= 0x9f {
			return false
		}
		i += size
	}
	return true
}

// MaxCallIDLen bounds call and invite IDs, in bytes. The library makes
// its own (UUIDs); a call ID over it that an application passes to
// accept, reject, hang up or cancel cannot name a call (600), and a raw
// client's new call or invite with a longer ID is refused with 5.
const MaxCallIDLen = 128

// MaxBaseName bounds BaseName's result, in bytes (a common file system
// limit for one name element).
const MaxBaseName = 255

// BaseName reduces a file name claimed by a sender to what a receiver may
// show and keep: the part after the last `/` or `\`; invalid UTF-8, control
// characters (IsControl), the bidirectional formatting characters (U+061C,
// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: `invoice\u202efdp.exe`
// would display as `invoiceexe.pdf`) and the line and paragraph separators
// U+2028, U+2029 removed; at most MaxBaseName bytes (cut at a character
// boundary); and never "", "." or "..", which become "file". The server
// applies it to the name it relays and the library again to the name it
// receives; BaseName(BaseName(x)) == BaseName(x).
func BaseName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if IsControl(r) || isBidiOrBreak(r) {
			return -1
		}
		return r
	}, name)
	for len(name) > MaxBaseName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name
}

// isBidiOrBreak: the bidirectional formatting characters (marks, embeddings,
// overrides, isolates) and the Unicode line / paragraph separators.
func isBidiOrBreak(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
