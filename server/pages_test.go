package server

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// getUserStatus pages by userID within the byte budget: every page fits,
// the pages together are the whole sorted list, and a request without
// paging (an older library) gets 8 rather than a frame over the limit.
func TestUserStatusPages(t *testing.T) {
	s := newTestServer(t, nil)
	s.pageBytes = 300 // a few entries per page
	var want []string
	var clients []*tclient
	for i := 0; i < 40; i++ {
		id := fmt.Sprintf("user-%02d-%s", i, strings.Repeat("<", i%7)) // escaped: varied lengths
		clients = append(clients, login(t, s, "ent1", id))
		want = append(want, id)
	}
	login(t, s, "ent2", "stranger")
	slices.Sort(want)
	c := clients[0]
	var got []string
	after, pages := "", 0
	for {
		r := c.req(protocol.Msg{Op: protocol.OpGetUserStatus, Paged: true, After: after})
		if r.Code != 0 {
			t.Fatalf("page %d: code %d", pages, r.Code)
		}
		pages++
		size := 0
		for _, u := range r.Users {
			got = append(got, u.UserID)
			size += len(protocol.AppendUserStatus(nil, &u)) + 1
		}
		if size > s.pageBytes {
			t.Fatalf("page %d: %d bytes of entries, budget %d", pages, size, s.pageBytes)
		}
		if !r.More {
			break
		}
		after = r.Users[len(r.Users)-1].UserID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("assembled %d users %v, want %d", len(got), got, len(want))
	}
	if pages < 10 {
		t.Errorf("%d pages for 40 users in 300-byte pages", pages)
	}
	if code := c.code(protocol.Msg{Op: protocol.OpGetUserStatus}); code != protocol.ServerException {
		t.Errorf("unpaged request for a list over one page: %d, want 8", code)
	}
	s.pageBytes = defaultPageBytes
	if r := c.req(protocol.Msg{Op: protocol.OpGetUserStatus}); r.Code != 0 || len(r.Users) != 40 || r.More {
		t.Errorf("unpaged request for a list that fits: code %d, %d users, more %v", r.Code, len(r.Users), r.More)
	}
}

// getMeetings pages newest first by meeting ID cursor; with the longest
// entries (escaped subjects, a long pubMeetUrl) every reply frame stays
// within MaxTextFrame and pages are nearly full. Before, the whole list was
// one reply of any size.
func TestMeetingPagesFitTextFrame(t *testing.T) {
	dir := t.TempDir()
	for n, p := range testAccounts {
		if err := AddAccount(dir, n, p); err != nil {
			t.Fatal(err)
		}
	}
	subj := strings.Repeat("<", protocol.MaxSubjectRunes) // 6 bytes each, escaped
	subjects := make([]string, 300)
	for i := range subjects {
		subjects[i] = subj
	}
	ids, err := AddMeetings(dir, "ent1", strings.Repeat("&", 128), subjects, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(ids) // newest first
	url := "https://meet.example/" + strings.Repeat("&", 1000) + "/"
	s := startServer(t, dir, func(c *Config) { c.PublicURL = url })
	a := login(t, s, "ent1", "alice")
	entry := len(protocol.AppendMeetInfo(nil, &protocol.MeetInfo{ID: ids[0], Subject: subj, PubMeetURL: url + "12345678", Creator: strings.Repeat("&", 128)}))
	var got []int
	after, pages := 0, 0
	for {
		r := a.req(protocol.Msg{Op: protocol.OpGetMeetings, Paged: true, AfterID: after})
		if r.Code != 0 {
			t.Fatalf("page %d: code %d", pages, r.Code)
		}
		pages++
		frame := len(protocol.Encode(r))
		if frame > protocol.MaxTextFrame {
			t.Fatalf("page %d: frame of %d bytes", pages, frame)
		}
		if r.More && frame < protocol.MaxTextFrame-pageSlack-entry {
			t.Errorf("page %d: %d bytes, not full (entry %d)", pages, frame, entry)
		}
		for _, m := range r.Meetings {
			got = append(got, m.ID)
		}
		if !r.More {
			break
		}
		after = r.Meetings[len(r.Meetings)-1].ID
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("assembled %d meetings, want %d newest first", len(got), len(ids))
	}
	t.Logf("%d meetings of %d bytes each: %d pages", len(ids), entry, pages)
	// A cursor whose meeting was destroyed meanwhile still works.
	if code := a.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: ids[10]}); code != 0 {
		t.Fatal(code)
	}
	r := a.req(protocol.Msg{Op: protocol.OpGetMeetings, Paged: true, AfterID: ids[10]})
	if r.Code != 0 || len(r.Meetings) == 0 || r.Meetings[0].ID != ids[11] {
		t.Errorf("after a destroyed meeting: code %d, first %v", r.Code, r.Meetings[:min(1, len(r.Meetings))])
	}
	if code := a.code(protocol.Msg{Op: protocol.OpGetMeetings, Paged: true, AfterID: 5}); code != protocol.ParamErr {
		t.Errorf("cursor that is no meeting ID: %d, want 5", code)
	}
	// The whole list in one reply would be over the limit: refused with 8.
	if code := a.code(protocol.Msg{Op: protocol.OpGetMeetings}); code != protocol.ServerException {
		t.Errorf("unpaged getMeetings over one frame: %d, want 8", code)
	}
}

// No reply or push over MaxTextFrame leaves the server: a reply becomes 8,
// a push is dropped, and a call whose callIn push would not fit (meetObj
// and ext within 8 KiB each, but escaped six-fold) is refused with 5 before
// anything rings.
func TestNoFrameOverTextFrameLimit(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	big := &protocol.Msg{ID: 7, Ext: strings.Repeat("x", protocol.MaxTextFrame)}
	r, err := protocol.Decode(encodeReply(log, big))
	if err != nil || r.ID != 7 || r.Code != protocol.ServerException || r.Ext != "" {
		t.Fatalf("oversize reply went out as %+v, %v", r, err)
	}
	if _, ok := encodeFrame(log, &protocol.Msg{Push: protocol.PushCallIn, Ext: big.Ext}); ok {
		t.Fatal("oversize push encoded")
	}

	// A request that fits can make a push that does not: callIn carries the
	// caller's usrID (here 128 '<', 768 bytes escaped) where the request
	// had the callee's.
	s := newTestServer(t, nil)
	caller := strings.Repeat("<", protocol.MaxNameRunes)
	a := login(t, s, "ent1", caller)
	b := login(t, s, "ent1", "bob")
	obj := `{"a":"` + strings.Repeat("<", protocol.MaxExtBytes-8) + `"}`
	req := protocol.Msg{ID: 99, Op: protocol.OpCall, CallID: "c1", To: "bob", MeetObj: obj}
	n := (protocol.MaxTextFrame - 16 - len(protocol.Encode(&req)) - len(`,"ext":""`)) / 6
	req.Ext = strings.Repeat("<", n)
	if l := len(protocol.Encode(&req)); l > protocol.MaxTextFrame || len(req.Ext) > protocol.MaxExtBytes {
		t.Fatalf("test request of %d bytes, ext %d", l, len(req.Ext))
	}
	push := protocol.Msg{Push: protocol.PushCallIn, CallID: "c1", From: caller, MeetObj: obj, Ext: req.Ext}
	if code := a.code(protocol.Msg{Op: protocol.OpCall, CallID: "c1", To: "bob", MeetObj: obj, Ext: req.Ext}); code != protocol.ParamErr {
		t.Fatalf("call whose callIn would be %d bytes: %d, want 5", len(protocol.Encode(&push)), code)
	}
	// Within the limit it rings, and bob's session is still in order.
	if code := a.code(protocol.Msg{Op: protocol.OpCall, CallID: "c2", To: "bob", MeetObj: obj}); code != 0 {
		t.Fatalf("call with only meetObj escaped: %d", code)
	}
	in := b.expect(protocol.PushCallIn, nil)
	if in.CallID != "c2" || len(protocol.Encode(in)) > protocol.MaxTextFrame {
		t.Fatalf("callIn %q of %d bytes", in.CallID, len(protocol.Encode(in)))
	}
}
