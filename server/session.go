package server

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/internal/replay"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/google/uuid"
)

// enterprise is the live state of one enterprise (authAcnt): its online
// users, calls and transfers. Enterprises never see each other. Every field
// below mu, and the fields of its sessions, calls and transfers marked so,
// are guarded by mu.
type enterprise struct {
	srv  *Server
	name string
	log  *slog.Logger

	mu    sync.Mutex
	users map[string]*session    // online users by usrID
	subs  map[*session]struct{}  // status subscribers
	calls map[string]*call       // live calls and invites by ID
	xfers map[*transfer]struct{} // buffer/file transfers, waiting or begun (sweep)
}

func newEnterprise(s *Server, name string) *enterprise {
	return &enterprise{
		srv:   s,
		name:  name,
		log:   s.log.With("enterprise", name),
		users: make(map[string]*session),
		subs:  make(map[*session]struct{}),
		calls: make(map[string]*call),
		xfers: make(map[*transfer]struct{}),
	}
}

// session is one logged-in user on one connection.
type session struct {
	ent   *enterprise
	usrID string
	nick  string

	// pushMu makes numbering and queueing a push one step, so seq follows
	// queue order.
	pushMu sync.Mutex
	seq    uint64

	// token names the session in OpResume; stream carries everything it
	// sends after the login reply; recv counts what it received.
	token  string
	stream *replay.Stream
	recv   replay.RecvCounter
	// rmu is held while a frame of the session is handled, so a replaced
	// connection's reader and the new one never interleave.
	rmu sync.Mutex

	// overflowed: the stream overflowed once (see overflow).
	overflowed atomic.Bool

	// Guarded by ent.mu.
	c        *conn       // current connection; nil while waiting for a resume
	grace    *time.Timer // ends the session when no resume comes
	graceGen uint64      // invalidates a grace timer that lost a race with resume
	noResume bool        // slow consumer or refused resume: end when the connection goes
	ended    bool
	dnd      int
	status   int // last status announced: protocol.StatusIdle or StatusBusy
	calls    map[string]*call
	out      map[string]*transfer // transfers this session sends, by task
	in       map[string]*transfer // transfers this session receives, by task
	nCmds    int                  // kindCmd entries of out
	cmdBytes int64                // their size (transfer.size)
	// As a receiver of commands: bytes forwarded awaiting cmdAck, and the
	// commands held until CmdWindow allows them (oldest first).
	cmdIn int64
	held  tqueue
	// As a receiver of transfers: those begun (at most MaxIncoming) and
	// those waiting for a slot, oldest first (their sendBegin unanswered).
	nIn     int
	waiting tqueue
}

// push numbers m as the session's next push and queues it. Non-blocking;
// called with ent.mu held (so pushes to a session are ordered). A push
// whose encoding would exceed protocol.MaxTextFrame is logged and dropped
// (see pages.go).
func (s *session) push(m *protocol.Msg) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	m.Seq = s.seq + 1
	b, ok := encodeFrame(s.ent.log, m)
	if !ok {
		return
	}
	s.seq++
	s.sendCtrl(outbox.Frame{Head: b})
}

// pushTemplate numbers and queues a push encoded once for many sessions
// (see broadcastStatus). Non-blocking; called with ent.mu held.
func (s *session) pushTemplate(t *protocol.PushTemplate) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	b := t.WithSeq(s.seq + 1)
	if len(b) > protocol.MaxTextFrame {
		s.ent.log.Error("push over the text frame limit not sent", "len", len(b))
		return
	}
	s.seq++
	s.sendCtrl(outbox.Frame{Head: b})
}

// reply answers request id on the session's stream. Non-blocking; ent.mu
// should be held (see overflow). A reply over protocol.MaxTextFrame goes
// out as code 8 instead (encodeReply).
func (s *session) reply(id uint64, code int, m *protocol.Msg) {
	if m == nil {
		m = &protocol.Msg{}
	}
	m.ID, m.Code = id, code
	s.sendCtrl(outbox.Frame{Head: encodeReply(s.ent.log, m)})
}

// lockLive locks e.mu and reports true if s is still live; when s has ended
// it unlocks again and reports false.
func (e *enterprise) lockLive(s *session) bool {
	e.mu.Lock()
	if s.ended {
		e.mu.Unlock()
		return false
	}
	return true
}

// validName checks nickName / privAcnt: at most 128 code points, and
// protocol.ValidID (valid UTF-8, no NUL, C0, DEL or C1 control: a C
// application could not see past a NUL, and "bob\x00" must not be a second
// bob).
func validName(v string) bool {
	return utf8.RuneCountInString(v) <= protocol.MaxNameRunes && protocol.ValidID(v)
}

// handleLogin checks a login request and, on success, registers the session
// (kicking an older session of the same usrID). Reader goroutine, no lock
// held; the password check may take tens of milliseconds, the verification
// service up to AuthWebhookTimeout.
func (c *conn) handleLogin(m *protocol.Msg) {
	switch {
	case m.Ver != protocol.Version:
		c.reply(m.ID, protocol.MismatchClientVer, nil)
		return
	case !validName(m.Nick) || !validName(m.Priv) || !protocol.ValidID(m.Acnt):
		c.reply(m.ID, protocol.ParamErr, nil)
		return
	case m.Auth != "" && c.srv.hook == nil:
		c.reply(m.ID, protocol.CustomAuthNotSupport, nil)
		return
	}
	usrID := m.Priv
	if usrID == "" {
		usrID = "u-" + uuid.NewString()
	}
	if code := c.authenticate(m, usrID); code != protocol.NoErr {
		c.reply(m.ID, code, nil)
		return
	}
	e := c.srv.enterprise(m.Acnt)
	s := &session{
		ent:    e,
		c:      c,
		token:  uuid.NewString(),
		stream: replay.New(maxCtrlBytes),
		usrID:  usrID,
		nick:   m.Nick,
		status: protocol.StatusIdle,
		calls:  make(map[string]*call),
		out:    make(map[string]*transfer),
		in:     make(map[string]*transfer),
	}
	s.stream.LimitAcksToWritten()
	s.stream.SetMaxBulkBytes(c.srv.maxBulkBytes)
	c.out.SetMaxCtrlBytes(maxOutboxBytes)
	c.sess = s
	c.live.Store(s)
	c.loggedIn()
	c.extendRead() // lift the login deadline
	kicked := e.login(s, m.ID)
	c.log().Info("login", "enterprise", e.name, "usrID", usrID, "kicked_older", kicked)
}

// login registers s as the online session of its usrID, kicking an older one
// with lineOff(10), replies to the login request and announces s. It reports
// whether an older session was kicked. Takes e.mu.
func (e *enterprise) login(s *session, reqID uint64) (kicked bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if old := e.users[s.usrID]; old != nil {
		old.push(&protocol.Msg{Push: protocol.PushLineOff, Code: protocol.KickoutByRelogin})
		e.endLocked(old)
		kicked = true
	}
	e.users[s.usrID] = s
	e.srv.registerToken(s)
	// The login reply is the handshake: it goes straight to the connection,
	// unnumbered; everything after it goes through the stream.
	s.c.reply(reqID, protocol.NoErr, &protocol.Msg{UsrID: s.usrID, Limits: &e.srv.limits, Token: s.token, Boot: e.srv.boot})
	_ = s.stream.Attach(s.c.out, 0, 0)
	e.broadcastStatus(s.userStatus())
	return kicked
}

// endSession ends s (idempotent): see endLocked. Takes e.mu.
func (e *enterprise) endSession(s *session, why string) {
	e.mu.Lock()
	ended := e.endLocked(s)
	e.mu.Unlock()
	if ended {
		s.log().Info("session ended", "why", why)
	}
}

// endLocked ends s unless it has already ended, and reports whether it did:
// its calls end (peers get callHungup, inviters partyStatus 4), its outgoing
// transfers are cancelled at their receivers, its incoming ones fail at
// their senders with 1000, subscribers see it offline, and its connection is
// closed once what is queued has been written. e.mu must be held.
func (e *enterprise) endLocked(s *session) bool {
	if s.ended {
		return false
	}
	s.ended = true
	if e.users[s.usrID] == s {
		delete(e.users, s.usrID)
	}
	delete(e.subs, s)
	for _, c := range mapValues(s.calls) {
		e.endCallBySessionEnd(c, s)
	}
	for _, t := range mapValues(s.out) {
		waiting := t.waiting
		e.dropTransfer(t)
		if t.kind != kindCmd && !waiting {
			t.to.push(&protocol.Msg{Push: protocol.PushXferCancel, Task: t.task})
		}
	}
	for _, t := range mapValues(s.in) {
		waiting := t.waiting
		e.dropTransfer(t)
		if waiting {
			t.from.reply(t.reqID, protocol.SendFail, nil)
		} else {
			t.from.push(&protocol.Msg{Push: protocol.PushSendRslt, Task: t.task, Code: protocol.SendFail})
		}
	}
	if e.users[s.usrID] == nil {
		e.broadcastStatus(protocol.UserStatus{UserID: s.usrID, UserStatus: protocol.StatusOffline, DNDType: s.dnd})
	}
	if s.c != nil {
		s.c.closeAfterFlush()
	}
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	e.srv.forgetToken(s.token)
	s.stream.Close()
	return true
}

// log returns the session's logger. Made on use, like conn.log.
func (s *session) log() *slog.Logger { return s.ent.log.With("usrID", s.usrID) }

// mapValues returns the values of m, so the caller may change m while iterating.
func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// logout replies 0, ends the session and closes the connection after the
// reply. Takes e.mu.
func (e *enterprise) logout(s *session, id uint64) {
	e.mu.Lock()
	s.reply(id, protocol.NoErr, nil)
	ended := e.endLocked(s)
	e.mu.Unlock()
	if ended {
		s.log().Info("logout")
	}
}
