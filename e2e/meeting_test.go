package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func createMeeting(t *testing.T, c *client, subject string, pswd int) protocol.MeetInfo {
	t.Helper()
	cookie := "create-" + subject
	c.CreateMeeting(subject, pswd, cookie)
	ev := c.r.wait(t, "CreateMeetingSuccess", func(ev Ev) bool { return ev.S[1] == cookie })
	var mi protocol.MeetInfo
	if err := json.Unmarshal([]byte(ev.S[0]), &mi); err != nil {
		t.Fatalf("MeetInfoObj %q: %v", ev.S[0], err)
	}
	return mi
}

func listMeetings(t *testing.T, c *client, cookie string) []protocol.MeetInfo {
	t.Helper()
	c.GetMeetings(cookie)
	ev := c.r.wait(t, "GetMeetingsSuccess", func(ev Ev) bool { return ev.S[1] == cookie })
	var list []protocol.MeetInfo
	if err := json.Unmarshal([]byte(ev.S[0]), &list); err != nil || list == nil {
		t.Fatalf("MeetInfoObjs %q: %v", ev.S[0], err)
	}
	return list
}

func TestMeetings(t *testing.T) {
	e := newEnv(t, time.Second)
	a := e.login("demo", "alice")

	if l := listMeetings(t, a, "empty"); len(l) != 0 {
		t.Fatalf("new store has meetings %v", l)
	}
	before := time.Now().Unix()
	m1 := createMeeting(t, a, "周会 weekly", 0)
	m2 := createMeeting(t, a, strings.Repeat("会", 50), 1)
	if m1.ID <= 0 || m2.ID <= 0 || m1.ID == m2.ID {
		t.Fatalf("meeting IDs %d %d", m1.ID, m2.ID)
	}
	if m1.Pswd != "" || len(m2.Pswd) != 6 || strings.Trim(m2.Pswd, "0123456789") != "" {
		t.Fatalf("passwords %q %q", m1.Pswd, m2.Pswd)
	}
	if m1.Subject != "周会 weekly" || m1.Creator != "alice" || m1.StartTime < before || m1.MemberCount != 0 {
		t.Fatalf("MeetInfo %+v", m1)
	}
	if utf8.RuneCountInString(m2.Subject) != 50 {
		t.Fatalf("subject %q", m2.Subject)
	}

	for _, bad := range []struct {
		subject string
		pswd    int
	}{{strings.Repeat("会", 51), 0}, {"x", 2}, {"x", -1}} {
		a.CreateMeeting(bad.subject, bad.pswd, "bad")
		ev := a.r.wait(t, "CreateMeetingFail", nil)
		if ev.I[0] != protocol.ParamErr || ev.S[0] != "bad" {
			t.Fatalf("createMeeting(%d runes, %d) %v, want 5", utf8.RuneCountInString(bad.subject), bad.pswd, ev)
		}
		a.r.mu.Lock()
		a.r.evs = nil
		a.r.mu.Unlock()
	}

	l := listMeetings(t, a, "two")
	if len(l) != 2 || l[0].ID != m2.ID || l[1].ID != m1.ID {
		t.Fatalf("list %+v, want newest first", l)
	}
	a.DestroyMeeting(m1.ID, "d1")
	if ev := a.r.wait(t, "DestroyMeetingRslt", nil); ev.I[0] != 0 || ev.S[0] != "d1" {
		t.Fatalf("destroy %v", ev)
	}
	a.DestroyMeeting(m1.ID, "d2")
	if ev := a.r.wait(t, "DestroyMeetingRslt", withS("d2")); ev.I[0] != protocol.MeetNotExist {
		t.Fatalf("destroy again %v, want 800", ev)
	}
	a.DestroyMeeting(123, "d3")
	if ev := a.r.wait(t, "DestroyMeetingRslt", withS("d3")); ev.I[0] != protocol.MeetNotExist {
		t.Fatalf("destroy unknown %v, want 800", ev)
	}
}

func TestMeetingsSurviveRestartAndIDsNeverReused(t *testing.T) {
	// The grace is long enough for a restart on a loaded machine (Close
	// alone may take its 2 s): alice's library must still be trying when
	// the server comes back, so that it logs in again instead of lineOff.
	e := newEnvWith(t, time.Second, 20*time.Second, 2*time.Second)
	a := e.login("demo", "alice")
	m1 := createMeeting(t, a, "keep", 1)
	m2 := createMeeting(t, a, "drop", 0)
	a.DestroyMeeting(m2.ID, "d")
	a.r.wait(t, "DestroyMeetingRslt", nil)

	e.restart()
	b := e.login("demo", "bob")
	l := listMeetings(t, b, "after")
	if len(l) != 1 || l[0] != m1 {
		t.Fatalf("after restart %+v, want exactly %+v", l, m1)
	}
	m3 := createMeeting(t, b, "new", 0)
	if m3.ID == m1.ID || m3.ID == m2.ID {
		t.Fatalf("ID %d reused (had %d, %d)", m3.ID, m1.ID, m2.ID)
	}
	// alice's library logs in again by itself after the restart; a request
	// made before it has (still in flight at the restart) fails with 207.
	var got string
	for i := 0; got == ""; i++ {
		cookie := fmt.Sprint("alice-after-", i)
		a.GetMeetings(cookie)
		ev := a.r.wait(t, "", func(ev Ev) bool {
			return (ev.Name == "GetMeetingsSuccess" || ev.Name == "GetMeetingsFail") && ev.S[len(ev.S)-1] == cookie
		})
		if ev.Name == "GetMeetingsSuccess" {
			got = ev.S[0]
		} else if ev.I[0] != protocol.ConnectionLost || i > 100 {
			t.Fatalf("alice after restart: %v", ev)
		}
	}
	var al []protocol.MeetInfo
	if json.Unmarshal([]byte(got), &al); len(al) != 2 {
		t.Fatalf("alice after restart sees %s", got)
	}
	if _, ok := a.r.find("LineOff", nil); ok {
		t.Fatal("lineOff although the server came back within the grace")
	}
}
