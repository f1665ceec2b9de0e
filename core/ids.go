package core

import "github.com/crvideomgr/crvideomgr/protocol"

// What the library accepts from the server: every ID it hands the
// application (a call ID, a caller, a userID, a task ID, a sender) must pass
// protocol.ValidID, so a C application sees the whole ID and can name it
// back. A frame breaking that rule is malformed: it is dropped, as any
// other malformed frame (docs/protocol.md, "IDs"). A real server never
// sends one: it refuses such IDs with 5 when clients use them.

// validPush reports whether the IDs of push p are valid.
func validPush(p *protocol.Msg) bool {
	return protocol.ValidID(p.CallID) && protocol.ValidID(p.From) && protocol.ValidID(p.Task) &&
		(p.User == nil || protocol.ValidID(p.User.UserID))
}

// validUsers returns users without the entries whose userID is not valid
// (a getUserStatus reply from a hostile server), in place.
func validUsers(users []protocol.UserStatus) []protocol.UserStatus {
	out := users[:0]
	for _, u := range users {
		if protocol.ValidID(u.UserID) {
			out = append(out, u)
		}
	}
	return out
}
