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
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// Store layout (bbolt, one file DataDir/crvideo.db):
//
//	accounts/<name>                 JSON accountRec (salted PBKDF2 of the MD5 hex)
//	meetings                        its NextSequence numbers meeting IDs, deployment-wide
//	meetings/<enterprise>/<id BE64> JSON meetingRec
//
// Meeting IDs are meetIDBase + the bucket sequence, which bbolt persists, so an
// ID is never handed out twice, even after a destroy and a restart.
const (
	storeFile    = "crvideo.db"
	meetIDBase   = 10000000
	pbkdf2Iter   = 120000
	pbkdf2KeyLen = 32
	saltLen      = 16
	// storeOpenTimeout bounds the wait for bbolt's file lock (another process,
	// e.g. a running server, holds the store).
	storeOpenTimeout = 2 * time.Second
)

var (
	bucketAccounts = []byte("accounts")
	bucketMeetings = []byte("meetings")
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
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketAccounts, bucketMeetings} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("server: init store: %w", err)
	}
	return &store{db: db}, nil
}

func (st *store) close() error { return st.db.Close() }

// validAccountName reports whether name can name an enterprise account.
func validAccountName(name string) bool {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 128 {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
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

func meetKey(id int) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(id))
	return k[:]
}

// createMeeting stores a new meeting of enterprise ent with the next ID.
func (st *store) createMeeting(ent, creator, subject, pswd string, now time.Time) (meetingRec, error) {
	rec := meetingRec{Pswd: pswd, Subject: subject, Creator: creator, StartTime: now.Unix()}
	err := st.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketMeetings)
		seq, err := root.NextSequence()
		if err != nil {
			return err
		}
		rec.ID = meetIDBase + int(seq)
		b, err := root.CreateBucketIfNotExists([]byte(ent))
		if err != nil {
			return err
		}
		val, _ := json.Marshal(rec)
		return b.Put(meetKey(rec.ID), val)
	})
	return rec, err
}

// destroyMeeting deletes meeting id of enterprise ent, or returns ErrMeetNotExist.
func (st *store) destroyMeeting(ent string, id int) error {
	if id <= 0 {
		return ErrMeetNotExist
	}
	return st.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeetings).Bucket([]byte(ent))
		if b == nil || b.Get(meetKey(id)) == nil {
			return ErrMeetNotExist
		}
		return b.Delete(meetKey(id))
	})
}

// listMeetings returns the enterprise's meetings, newest (highest ID) first.
func (st *store) listMeetings(ent string) ([]meetingRec, error) {
	var out []meetingRec
	err := st.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeetings).Bucket([]byte(ent))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var rec meetingRec
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			out = append(out, rec)
		}
		return nil
	})
	return out, err
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
