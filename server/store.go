package server

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/protocol"
	bolt "go.etcd.io/bbolt"
)

// Store layout (bbolt, one file DataDir/crvideo.db):
//
//	accounts/<name>                  JSON accountRec (salted PBKDF2 of the MD5 hex)
//	meta/layout                      storeLayout (absent in stores written before it)
//	meta/meetKey                     the meeting ID permutation's key (random, made once)
//	meta/legacyMax                   BE64: the sequence at the upgrade to this layout
//	meetings                         its NextSequence counts meetings created, deployment-wide
//	meetings/<enterprise>/<seq BE64> JSON meetingRec; the bucket's Sequence is how many it holds
//
// A meeting is keyed by its creation sequence, so a cursor walks an
// enterprise's meetings newest first without reading the others; its ID is
// the keyed permutation of the sequence (meetid.go), which the store
// inverts to find the key again. The sequence is persistent, so an ID is
// never handed out twice, even after a destroy and a restart.
//
// Stores written before this layout keyed meetings by ID, which was then
// meetIDBase + sequence; openStore rekeys them by that sequence once and
// records the sequence reached (legacyMax): those IDs keep working, and a
// new ID whose permuted value falls among them is skipped.
const (
	storeFile    = "crvideo.db"
	meetIDBase   = 10000000
	pbkdf2Iter   = 120000
	pbkdf2KeyLen = 32
	saltLen      = 16
	// storeOpenTimeout bounds the wait for bbolt's file lock (another process,
	// e.g. a running server, holds the store).
	storeOpenTimeout = 2 * time.Second
	storeLayout      = 2
)

var (
	bucketAccounts = []byte("accounts")
	bucketMeetings = []byte("meetings")
	bucketMeta     = []byte("meta")
	keyLayout      = []byte("layout")
	keyMeetKey     = []byte("meetKey")
	keyLegacyMax   = []byte("legacyMax")
)

// Errors of the store.
var (
	// ErrBadAccountName: an account name is empty, over 128 characters or holds control characters.
	ErrBadAccountName = errors.New("server: invalid account name")
	// ErrNoAccount: no such enterprise account.
	ErrNoAccount = errors.New("server: no such account")
	// ErrWrongPassword: the account exists and the password does not match.
	ErrWrongPassword = errors.New("server: wrong password")
	// ErrMeetNotExist: no such meeting in this enterprise.
	ErrMeetNotExist = errors.New("server: meeting does not exist")
	// ErrStoreLocked: another process (a running server) holds the store open.
	ErrStoreLocked = errors.New("locked by another process")
	// ErrMeetingCap: the enterprise already stores the most meetings allowed.
	ErrMeetingCap = errors.New("server: meetings per enterprise at their limit")
	// ErrMeetIDsExhausted: all 90,000,000 meeting IDs have been handed out.
	ErrMeetIDsExhausted = errors.New("server: meeting IDs exhausted")
)

// accountRec is an enterprise account as stored: never the MD5 itself.
type accountRec struct {
	Salt []byte `json:"salt"`
	Iter int    `json:"iter"`
	Hash []byte `json:"hash"`
}

// meetingRec is a meeting as stored; pubMeetUrl is derived when it is read.
type meetingRec struct {
	ID        int    `json:"id"`
	Pswd      string `json:"pswd"`
	Subject   string `json:"subject"`
	Creator   string `json:"creator"`
	StartTime int64  `json:"startTime"`
}

// store wraps the bbolt database. bbolt serialises writers itself; store has
// no lock of its own and may be used from any goroutine.
type store struct {
	db *bolt.DB
	// Set by openStore, read-only after.
	perm      meetIDPerm
	legacyMax uint64
}

// openStore opens (creating if missing) the store in dir.
func openStore(dir string) (*store, error) {
	if dir == "" {
		return nil, errors.New("server: empty data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data directory: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, storeFile), 0o600, &bolt.Options{Timeout: storeOpenTimeout})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("server: store %s: %w (is a server running on it?)", dir, ErrStoreLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("server: open store %s: %w", dir, err)
	}
	st := &store{db: db}
	if err := db.Update(st.init); err != nil {
		db.Close()
		return nil, fmt.Errorf("server: init store: %w", err)
	}
	return st, nil
}

// init creates the buckets, upgrades an older layout and loads the meeting
// ID key (made on first use).
func (st *store) init(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketAccounts, bucketMeetings, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if v := meta.Get(keyLayout); v == nil {
		if err := upgradeMeetings(tx); err != nil {
			return err
		}
		if err := meta.Put(keyLegacyMax, meetKey(tx.Bucket(bucketMeetings).Sequence())); err != nil {
			return err
		}
		key := make([]byte, meetKeyLen)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		if err := meta.Put(keyMeetKey, key); err != nil {
			return err
		}
		if err := meta.Put(keyLayout, []byte{storeLayout}); err != nil {
			return err
		}
	} else if len(v) != 1 || v[0] != storeLayout {
		return fmt.Errorf("store layout %v is not %d (written by a newer server?)", v, storeLayout)
	}
	key, lm := meta.Get(keyMeetKey), meta.Get(keyLegacyMax)
	if len(key) != meetKeyLen || len(lm) != 8 {
		return errors.New("store meta damaged")
	}
	st.perm = meetIDPerm{key: slices.Clone(key)}
	st.legacyMax = binary.BigEndian.Uint64(lm)
	return nil
}

// upgradeMeetings rekeys the meetings of a store written before storeLayout
// (keyed by ID = meetIDBase + sequence) by their sequence, and sets each
// enterprise's count.
func upgradeMeetings(tx *bolt.Tx) error {
	root := tx.Bucket(bucketMeetings)
	var ents [][]byte
	if err := root.ForEach(func(k, v []byte) error {
		if v == nil {
			ents = append(ents, slices.Clone(k))
		}
		return nil
	}); err != nil {
		return err
	}
	for _, ent := range ents {
		b := root.Bucket(ent)
		type kv struct{ k, v []byte }
		var recs []kv
		if err := b.ForEach(func(k, v []byte) error {
			recs = append(recs, kv{slices.Clone(k), slices.Clone(v)})
			return nil
		}); err != nil {
			return err
		}
		for _, r := range recs {
			id := binary.BigEndian.Uint64(r.k)
			if len(r.k) != 8 || id <= meetIDBase || id >= meetIDBase+meetIDSpace {
				return fmt.Errorf("meeting key %x of %q is not a meeting ID", r.k, ent)
			}
			if err := b.Delete(r.k); err != nil {
				return err
			}
		}
		for _, r := range recs {
			if err := b.Put(meetKey(binary.BigEndian.Uint64(r.k)-meetIDBase), r.v); err != nil {
				return err
			}
		}
		if err := b.SetSequence(uint64(len(recs))); err != nil {
			return err
		}
	}
	return nil
}

func (st *store) close() error { return st.db.Close() }

// validAccountName reports whether name can name an enterprise account.
func validAccountName(name string) bool {
	return name != "" && protocol.ValidID(name) && utf8.RuneCountInString(name) <= 128
}

// md5Hex is the lowercase hex MD5 of a plain password, what a client sends as authPswd.
func md5Hex(password string) string {
	sum := md5.Sum([]byte(password))
	return hex.EncodeToString(sum[:])
}

// putAccount upserts an account with a fresh salt; it reports whether the
// account existed before. md5hex is the lowercase hex MD5 of the password.
func (st *store) putAccount(name, md5hex string) (existed bool, err error) {
	if !validAccountName(name) {
		return false, ErrBadAccountName
	}
	rec := accountRec{Salt: make([]byte, saltLen), Iter: pbkdf2Iter}
	if _, err := rand.Read(rec.Salt); err != nil {
		return false, err
	}
	rec.Hash, err = pbkdf2.Key(sha256.New, strings.ToLower(md5hex), rec.Salt, rec.Iter, pbkdf2KeyLen)
	if err != nil {
		return false, err
	}
	val, _ := json.Marshal(rec)
	err = st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		existed = b.Get([]byte(name)) != nil
		return b.Put([]byte(name), val)
	})
	return existed, err
}

// removeAccount deletes an account (its meetings stay). ErrNoAccount if absent.
func (st *store) removeAccount(name string) error {
	return st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAccounts)
		if b.Get([]byte(name)) == nil {
			return ErrNoAccount
		}
		return b.Delete([]byte(name))
	})
}

// listAccounts returns the account names, sorted.
func (st *store) listAccounts() ([]string, error) {
	var names []string
	err := st.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAccounts).ForEach(func(k, _ []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	sort.Strings(names)
	return names, err
}

// verifyAccount checks md5hex against the stored slow hash (slow: one PBKDF2
// run). It returns nil, ErrNoAccount or ErrWrongPassword.
func (st *store) verifyAccount(name, md5hex string) error {
	var rec accountRec
	found := false
	err := st.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAccounts).Get([]byte(name))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return err
	}
	if !found {
		// Spend the same time as a real check so a probe cannot tell
		// unknown accounts from wrong passwords.
		_, _ = pbkdf2.Key(sha256.New, md5hex, make([]byte, saltLen), pbkdf2Iter, pbkdf2KeyLen)
		return ErrNoAccount
	}
	h, err := pbkdf2.Key(sha256.New, strings.ToLower(md5hex), rec.Salt, rec.Iter, len(rec.Hash))
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(h, rec.Hash) != 1 {
		return ErrWrongPassword
	}
	return nil
}

// meetKey is the big-endian encoding of a sequence number.
func meetKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// legacy reports whether v (an ID minus meetIDBase) is a sequence-numbered
// ID from before storeLayout.
func (st *store) legacy(v uint64) bool { return v >= 1 && v <= st.legacyMax }

// idOf returns the meeting ID of creation sequence seq (1-based), and false
// when seq is legacy-shadowed (its permuted value is an old ID: skip it).
func (st *store) idOf(seq uint64) (int, bool) {
	v := uint64(st.perm.encrypt(uint32(seq - 1)))
	if st.legacy(v) {
		return 0, false
	}
	return meetIDBase + int(v), true
}

// seqOf returns the creation sequence of meeting ID id, false when id is
// outside the ID range or was never handed out: the permuted value of a
// sequence from before storeLayout (that sequence's meeting has its old ID;
// this one must not be a second name for it).
func (st *store) seqOf(id int) (uint64, bool) {
	if id < meetIDBase || id >= meetIDBase+meetIDSpace {
		return 0, false
	}
	v := uint64(id - meetIDBase)
	if st.legacy(v) {
		return v, true
	}
	seq := uint64(st.perm.decrypt(uint32(v))) + 1
	return seq, seq > st.legacyMax
}

// createMeeting stores a new meeting of enterprise ent with the next ID,
// unless ent already has maxMeetings (ErrMeetingCap; 0: no limit).
func (st *store) createMeeting(ent, creator, subject, pswd string, now time.Time, maxMeetings int) (meetingRec, error) {
	rec := meetingRec{Pswd: pswd, Subject: subject, Creator: creator, StartTime: now.Unix()}
	err := st.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketMeetings)
		b, err := root.CreateBucketIfNotExists([]byte(ent))
		if err != nil {
			return err
		}
		if maxMeetings > 0 && b.Sequence() >= uint64(maxMeetings) {
			return ErrMeetingCap
		}
		return st.addMeeting(root, b, &rec)
	})
	return rec, err
}

// addMeeting gives rec the next ID and stores it in b (an enterprise's
// bucket under root).
func (st *store) addMeeting(root, b *bolt.Bucket, rec *meetingRec) error {
	for {
		if root.Sequence() >= meetIDSpace {
			return ErrMeetIDsExhausted
		}
		seq, err := root.NextSequence()
		if err != nil {
			return err
		}
		id, ok := st.idOf(seq)
		if !ok {
			continue
		}
		rec.ID = id
		val, _ := json.Marshal(rec)
		if err := b.Put(meetKey(seq), val); err != nil {
			return err
		}
		return b.SetSequence(b.Sequence() + 1)
	}
}

// destroyMeeting deletes meeting id of enterprise ent, or returns ErrMeetNotExist.
func (st *store) destroyMeeting(ent string, id int) error {
	seq, ok := st.seqOf(id)
	if !ok {
		return ErrMeetNotExist
	}
	return st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeetings).Bucket([]byte(ent))
		if b == nil || b.Get(meetKey(seq)) == nil {
			return ErrMeetNotExist
		}
		if err := b.Delete(meetKey(seq)); err != nil {
			return err
		}
		return b.SetSequence(b.Sequence() - 1)
	})
}

// scanMeetings calls fn with the enterprise's meetings newest first,
// starting after meeting afterID (0: from the newest; it need not exist any
// more), until fn returns false. It reports whether fn stopped it (more
// meetings may follow) — false when the list ran out.
func (st *store) scanMeetings(ent string, afterID int, fn func(meetingRec) bool) (stopped bool, err error) {
	var before uint64 // 0: from the newest
	if afterID != 0 {
		seq, ok := st.seqOf(afterID)
		if !ok {
			return false, ErrMeetNotExist
		}
		before = seq
	}
	err = st.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeetings).Bucket([]byte(ent))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else if k, v = c.Seek(meetKey(before)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev() // Seek found the first key ≥ before
		}
		for ; k != nil; k, v = c.Prev() {
			var rec meetingRec
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if !fn(rec) {
				stopped = true
				return nil
			}
		}
		return nil
	})
	return stopped, err
}

// listMeetings returns all of the enterprise's meetings, newest first.
func (st *store) listMeetings(ent string) ([]meetingRec, error) {
	var out []meetingRec
	_, err := st.scanMeetings(ent, 0, func(r meetingRec) bool { out = append(out, r); return true })
	return out, err
}

// AddMeetings stores meetings of enterprise ent created by creator, one per
// subject, in one transaction, in the store under dataDir (which no server
// may hold open), and returns their IDs. It is for provisioning and tests:
// subjects are taken as given and no per-enterprise limit applies.
func AddMeetings(dataDir, ent, creator string, subjects []string, now time.Time) ([]int, error) {
	st, err := openStore(dataDir)
	if err != nil {
		return nil, err
	}
	defer st.close()
	ids := make([]int, 0, len(subjects))
	err = st.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketMeetings)
		b, err := root.CreateBucketIfNotExists([]byte(ent))
		if err != nil {
			return err
		}
		for _, subj := range subjects {
			rec := meetingRec{Subject: subj, Creator: creator, StartTime: now.Unix()}
			if err := st.addMeeting(root, b, &rec); err != nil {
				return err
			}
			ids = append(ids, rec.ID)
		}
		return nil
	})
	return ids, err
}

// AddAccount creates or updates (upsert) enterprise account name with a plain
// password in the store under dataDir. It fails while a server holds that
// store open; use (*Server).AddAccount then.
func AddAccount(dataDir, name, password string) error {
	_, err := UpsertAccount(dataDir, name, password)
	return err
}

// UpsertAccount is AddAccount that also reports whether the account existed.
func UpsertAccount(dataDir, name, password string) (existed bool, err error) {
	st, err := openStore(dataDir)
	if err != nil {
		return false, err
	}
	defer st.close()
	return st.putAccount(name, md5Hex(password))
}

// RemoveAccount deletes enterprise account name from the store under dataDir
// (ErrNoAccount if there is none). The enterprise's meetings stay.
func RemoveAccount(dataDir, name string) error {
	st, err := openStore(dataDir)
	if err != nil {
		return err
	}
	defer st.close()
	return st.removeAccount(name)
}

// ListAccounts returns the enterprise account names in the store under dataDir, sorted.
func ListAccounts(dataDir string) ([]string, error) {
	st, err := openStore(dataDir)
	if err != nil {
		return nil, err
	}
	defer st.close()
	return st.listAccounts()
}
