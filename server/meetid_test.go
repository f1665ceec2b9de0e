package server

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
	bolt "go.etcd.io/bbolt"
)

func TestMeetIDPermutationInverts(t *testing.T) {
	p := meetIDPerm{key: []byte("0123456789abcdef0123456789abcdef")}
	seen := make(map[uint32]bool)
	for _, x := range append([]uint32{0, 1, meetIDSpace - 1}, randUint32s(2000)...) {
		v := p.encrypt(x)
		if v >= meetIDSpace {
			t.Fatalf("encrypt(%d) = %d, out of range", x, v)
		}
		if p.decrypt(v) != x {
			t.Fatalf("decrypt(encrypt(%d)) = %d", x, p.decrypt(v))
		}
		seen[v] = true
	}
}

func randUint32s(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = rand.Uint32N(meetIDSpace)
	}
	return out
}

// Meeting IDs are 8-digit, unique and never reused — across enterprises,
// destroys and restarts — and not the consecutive numbers they were (a
// user could count other enterprises' meetings from its own IDs). This
// failed before: IDs were 10000001, 10000002, …
func TestMeetingIDsUniqueAndUnguessable(t *testing.T) {
	dir := t.TempDir()
	seen := make(map[int]bool)
	var order []int
	create := func(st *store, ent string, n int) {
		for i := 0; i < n; i++ {
			rec, err := st.createMeeting(ent, "alice", "s", "", time.Now(), 0)
			if err != nil {
				t.Fatal(err)
			}
			if rec.ID < 10000000 || rec.ID > 99999999 {
				t.Fatalf("ID %d is not 8 digits", rec.ID)
			}
			if seen[rec.ID] {
				t.Fatalf("ID %d handed out twice", rec.ID)
			}
			seen[rec.ID] = true
			order = append(order, rec.ID)
		}
	}
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	create(st, "ent1", 300)
	create(st, "ent2", 300)
	// Destroy some: their IDs must not come back.
	for _, id := range order[:50] {
		ent := "ent1"
		if err := st.destroyMeeting(ent, id); err != nil {
			t.Fatal(err)
		}
	}
	st.close()
	st, err = openStore(dir) // restart: same key, same sequence
	if err != nil {
		t.Fatal(err)
	}
	create(st, "ent1", 300)
	st.close()
	near := 0
	for i := 1; i < len(order); i++ {
		if d := order[i] - order[i-1]; d >= -1000 && d <= 1000 {
			near++
		}
	}
	// 899 random pairs in 90 M values: each within ±1000 with p ≈ 2.2e-5.
	if near > 2 {
		t.Errorf("%d of %d consecutive IDs within 1000 of each other: %v…", near, len(order)-1, order[:10])
	}
	// Another store has another key: its first IDs differ.
	st2, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st2.close()
	rec, _ := st2.createMeeting("ent1", "alice", "s", "", time.Now(), 0)
	if rec.ID == order[0] {
		t.Errorf("two stores gave the same first ID %d: the key is not random", rec.ID)
	}
}

func TestMeetingIDsExhausted(t *testing.T) {
	st, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	if err := st.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeetings).SetSequence(meetIDSpace - 1)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.createMeeting("ent1", "a", "last", "", time.Now(), 0); err != nil {
		t.Fatalf("the last ID: %v", err)
	}
	if _, err := st.createMeeting("ent1", "a", "one too many", "", time.Now(), 0); !errors.Is(err, ErrMeetIDsExhausted) {
		t.Fatalf("after 90,000,000 IDs: %v, want ErrMeetIDsExhausted", err)
	}
}

// createMeeting over Config.MaxMeetings fails with 8; a destroy makes room;
// other enterprises are not affected. Before the cap an enterprise could
// store meetings without bound.
func TestMeetingCapPerEnterprise(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.MaxMeetings = 3 })
	a := login(t, s, "ent1", "alice")
	o := login(t, s, "ent2", "oscar")
	var ids []int
	for i := 0; i < 3; i++ {
		r := a.req(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "m"})
		if r.Code != 0 {
			t.Fatalf("meeting %d: %d", i, r.Code)
		}
		ids = append(ids, r.Meeting.ID)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "fourth"}); code != protocol.ServerException {
		t.Fatalf("meeting over the cap: %d, want 8", code)
	}
	if code := o.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "other"}); code != 0 {
		t.Fatalf("another enterprise: %d", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpDestroyMeeting, MeetID: ids[0]}); code != 0 {
		t.Fatal(code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "room again"}); code != 0 {
		t.Fatalf("after a destroy: %d", code)
	}
	if code := a.code(protocol.Msg{Op: protocol.OpCreateMeeting, Subject: "fifth"}); code != protocol.ServerException {
		t.Fatalf("at the cap again: %d, want 8", code)
	}
	if _, err := New(Config{DataDir: t.TempDir(), PublicURL: string(make([]byte, MaxPublicURL+1))}); err == nil {
		t.Error("a public URL over MaxPublicURL was accepted")
	}
}

// A store written before the sequence-keyed layout (meetings keyed by ID =
// 10000000 + sequence) is upgraded on open: its meetings keep their IDs,
// list newest first, can be destroyed, and new IDs never collide with them.
func TestMeetingStoreUpgrade(t *testing.T) {
	dir := t.TempDir()
	db, err := bolt.Open(filepath.Join(dir, storeFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const old = 5000
	err = db.Update(func(tx *bolt.Tx) error {
		if _, err := tx.CreateBucket(bucketAccounts); err != nil {
			return err
		}
		root, err := tx.CreateBucket(bucketMeetings)
		if err != nil {
			return err
		}
		for i := 1; i <= old; i++ {
			seq, _ := root.NextSequence()
			ent := []byte("ent1")
			if i%2 == 0 {
				ent = []byte("ent2")
			}
			b, err := root.CreateBucketIfNotExists(ent)
			if err != nil {
				return err
			}
			var k [8]byte
			binary.BigEndian.PutUint64(k[:], meetIDBase+seq)
			v, _ := json.Marshal(meetingRec{ID: meetIDBase + int(seq), Subject: "old", Creator: "a"})
			if err := b.Put(k[:], v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	recs, err := st.listMeetings("ent1")
	if err != nil || len(recs) != old/2 || recs[0].ID != meetIDBase+old-1 || recs[len(recs)-1].ID != meetIDBase+1 {
		t.Fatalf("upgraded list: %d meetings, %v", len(recs), err)
	}
	if err := st.destroyMeeting("ent1", meetIDBase+1); err != nil {
		t.Fatalf("destroy an old meeting: %v", err)
	}
	for i := 0; i < 3000; i++ {
		rec, err := st.createMeeting("ent1", "a", "new", "", time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if rec.ID <= meetIDBase+old {
			t.Fatalf("new ID %d collides with an old one", rec.ID)
		}
	}
	recs, _ = st.listMeetings("ent1")
	if len(recs) != old/2-1+3000 || recs[0].Subject != "new" || recs[len(recs)-1].ID != meetIDBase+3 {
		t.Fatalf("after new meetings: %d, newest %q, oldest %d", len(recs), recs[0].Subject, recs[len(recs)-1].ID)
	}
	// An old sequence's permuted ID was never handed out: it is no second
	// name of the old meeting (ent1 holds the odd sequences).
	for seq := uint64(3); seq < 3+20; seq += 2 {
		v := uint64(st.perm.encrypt(uint32(seq - 1)))
		if st.legacy(v) {
			continue
		}
		alias := meetIDBase + int(v)
		if err := st.destroyMeeting("ent1", alias); !errors.Is(err, ErrMeetNotExist) {
			t.Fatalf("destroy %d, the permuted ID of old sequence %d: %v, want ErrMeetNotExist", alias, seq, err)
		}
		if _, err := st.scanMeetings("ent1", alias, func(meetingRec) bool { return true }); !errors.Is(err, ErrMeetNotExist) {
			t.Fatalf("scan after %d: %v, want ErrMeetNotExist", alias, err)
		}
	}
	if recs2, _ := st.listMeetings("ent1"); len(recs2) != len(recs) {
		t.Fatalf("%d meetings left, want %d", len(recs2), len(recs))
	}
}
