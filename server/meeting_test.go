package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestMeetingsPersistAndIDsNeverReused(t *testing.T) {
	dir := t.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, dir, func(c *Config) { c.PublicURL = "https://meet.example/m/" })
	a := login(t, s, "ent1", "alice")
	o := login(t, s, "ent2", "oscar")

	if code := a.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: strings.Repeat("会", 51)}); code != protocol.ParamErr {
		t.Errorf("51-character subject: %d, want 5", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "x", CreatePswd: 2}); code != protocol.ParamErr {
		t.Errorf("createPswd 2: %d, want 5", code)
	}
	if r := a.req(protocol.Msg{Op: protocol.OpGetMeetings}); r.Code != 0 || len(r.Meetings) != 0 {
		t.Errorf("no meetings yet: %+v", r)
	}
	before := time.Now().Unix()
	r1 := a.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: strings.Repeat("会", 50)})
	r2 := a.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "with password", CreatePswd: 1})
	r3 := a.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "third"})
	for _, r := range []*protocol.Msg{r1, r2, r3} {
		if r.Code != 0 || r.Meeting == nil {
			t.Fatalf("createMeeting: %+v", r)
		}
	}
	m1, m2 := *r1.Meeting, *r2.Meeting
	if m1.Pswd != "" || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(m2.Pswd) {
		t.Errorf("passwords %q %q", m1.Pswd, m2.Pswd)
	}
	if m1.Creator != "alice" || m1.StartTime < before || m1.MemberCount != 0 ||
		m1.PubMeetURL != "https://meet.example/m/"+strconv.Itoa(m1.ID) || m1.ID <= 0 {
		t.Errorf("meeting %+v", m1)
	}
	if m1.ID == m2.ID || m2.ID == r3.Meeting.ID || m1.ID == r3.Meeting.ID {
		t.Errorf("IDs not unique: %d %d %d", m1.ID, m2.ID, r3.Meeting.ID)
	}
	// Another enterprise neither sees nor destroys them.
	if r := o.req(protocol.Msg{Op: protocol.OpGetMeetings}); len(r.Meetings) != 0 {
		t.Errorf("ent2 sees %d meetings", len(r.Meetings))
	}
	if code := o.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: m1.ID}); code != protocol.MeetNotExist {
		t.Errorf("destroy another enterprise's meeting: %d, want 800", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: 1}); code != protocol.MeetNotExist {
		t.Errorf("destroy unknown: %d, want 800", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: r3.Meeting.ID}); code != 0 {
		t.Errorf("destroy: %d", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: r3.Meeting.ID}); code != protocol.MeetNotExist {
		t.Errorf("destroy twice: %d, want 800", code)
	}
	r := a.req(protocol.Msg{Op: protocol.OpGetMeetings})
	if len(r.Meetings) != 2 || r.Meetings[0] != m2 || r.Meetings[1] != m1 {
		t.Errorf("getMeetings (newest first) %+v", r.Meetings)
	}
	seen := map[int]bool{m1.ID: true, m2.ID: true, r3.Meeting.ID: true}

	// Restart on the same store.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	a.waitClosed()
	s2 := startServer(t, dir, func(c *Config) { c.PublicURL = "https://meet.example/m/" })
	a2 := login(t, s2, "ent1", "alice")
	r = a2.req(protocol.Msg{Op: protocol.OpGetMeetings})
	if len(r.Meetings) != 2 || r.Meetings[0] != m2 || r.Meetings[1] != m1 {
		t.Errorf("after restart %+v", r.Meetings)
	}
	r4 := a2.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "after restart"})
	if seen[r4.Meeting.ID] {
		t.Errorf("ID %d reused after a restart (destroyed or not)", r4.Meeting.ID)
	}
	seen[r4.Meeting.ID] = true
	o2 := login(t, s2, "ent2", "oscar")
	r5 := o2.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "ent2"})
	if seen[r5.Meeting.ID] {
		t.Errorf("IDs not unique across enterprises: %d", r5.Meeting.ID)
	}
}
