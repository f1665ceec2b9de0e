package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/outbox"
	"github.com/crvideomgr/crvideomgr/internal/replay"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// A session outlives its connection: every frame it sends after the login
// reply goes through its replay.Stream (numbered, kept until the client
// acknowledges it), and every frame it receives is counted. When the
// connection is lost the session waits ResumeGrace for the client to come
// back with OpResume on a new connection; then both sides replay what the
// other has not received (docs/protocol.md, "Resume").

// sendCtrl sends a control frame on the session's stream. A client that
// lets more than maxCtrlBytes go unacknowledged is a slow consumer: it is
// cut off and its session ends. Non-blocking; any lock or none (see
// overflow).
func (s *session) sendCtrl(f outbox.Frame) {
	if err := s.stream.Send(f, false); errors.Is(err, replay.ErrFull) {
		s.overflow()
	}
}

// sendBulk sends a transfer chunk on the session's stream. The transfer
// windows bound what an honest receiver leaves unacknowledged (see
// maxBulkBytes); one that leaves more is cut off. Non-blocking; ent.mu held.
func (s *session) sendBulk(f outbox.Frame) {
	if err := s.stream.Send(f, true); errors.Is(err, replay.ErrFull) {
		s.overflow()
	}
}

// overflow ends a slow consumer's session without grace. Any goroutine,
// any lock or none: some replies overflow without ent.mu (parameter errors
// before lockLive, the meeting handlers, getUserStatus, handleRequest's
// own), so the work — noResume, and cutting off the connection or ending
// the grace — is done on a goroutine of its own that takes ent.mu. Once is
// enough: the stream refuses every later frame anyway.
func (s *session) overflow() {
	if !s.overflowed.CompareAndSwap(false, true) {
		return
	}
	go func() {
		s.ent.mu.Lock()
		defer s.ent.mu.Unlock()
		s.noResume = true
		if s.c != nil {
			s.c.kill(reasonSlowConsumer) // its reader then ends the session
		} else if s.grace != nil {
			s.grace.Reset(0)
		}
	}()
}

// sendAck acknowledges the client's frames when enough have arrived (or,
// with force, any at all). The ack goes straight to this connection; it is
// not numbered. Any goroutine (the reader, the writer's ping); no lock held
// but s.rmu at most.
func (c *conn) sendAck(s *session, force bool) {
	if n, nb, due := s.recv.AckDue(force); due {
		c.sendCtrl(outbox.Frame{Head: protocol.Encode(&protocol.Msg{Push: protocol.PushAck, N: int64(n), NB: int64(nb)})})
	}
}

// isCurrent reports whether c is s's connection. Takes ent.mu.
func (c *conn) isCurrent(s *session) bool {
	s.ent.mu.Lock()
	defer s.ent.mu.Unlock()
	return s.c == c && !s.ended
}

// connLost runs when c's reader ends. If c was the session's connection the
// session waits ResumeGrace for a resume — or ends at once after logout,
// kick, a slow consumer, or when the server is closing. Reader goroutine;
// takes s.rmu, then e.mu.
func (s *session) connLost(c *conn) {
	e := s.ent
	s.rmu.Lock()
	defer s.rmu.Unlock()
	// Logged after the unlock: under e.mu only queue pushes (see server.go).
	var logMsg, why string
	defer func() {
		if logMsg != "" {
			s.log().Info(logMsg, "why", why, "grace", e.srv.cfg.ResumeGrace)
		}
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.c != c || s.ended {
		return
	}
	s.c = nil
	s.stream.Detach()
	if s.noResume || e.srv.isClosed() {
		if e.endLocked(s) {
			logMsg, why = "session ended", "connection closed"
		}
		return
	}
	s.graceGen++
	gen := s.graceGen
	logMsg, why = "connection lost; waiting for resume", "connection lost"
	s.grace = time.AfterFunc(e.srv.cfg.ResumeGrace, func() {
		e.mu.Lock()
		ended := s.c == nil && s.graceGen == gen && e.endLocked(s)
		e.mu.Unlock()
		if ended {
			s.log().Info("session ended", "why", "resume grace ran out")
		}
	})
}

// handleResume attaches a new connection to the session named by the
// resume token: the reply carries the frames the server has received, then
// the server replays what the client has not. An unknown or ended session
// gets 207 with the server's boot ID, so the client can tell a restarted
// server (log in again) from an expired session (lineOff 207). Reader
// goroutine of the new connection, before it has a session; takes s.rmu,
// then e.mu.
func (c *conn) handleResume(m *protocol.Msg) {
	s := c.srv.sessionByToken(m.Token)
	gone := func() {
		c.reply(m.ID, protocol.ConnectionLost, &protocol.Msg{Boot: c.srv.boot})
	}
	if s == nil {
		gone()
		return
	}
	e := s.ent
	s.rmu.Lock()
	defer s.rmu.Unlock()
	// Logged after the unlock: under e.mu only queue pushes (see server.go).
	var refused error
	resumed := false
	defer func() {
		if refused != nil {
			s.log().Warn("resume refused", "err", refused)
		} else if resumed {
			s.log().Info("session resumed")
		}
	}()
	e.mu.Lock()
	defer e.mu.Unlock()
	if s.ended || s.noResume {
		gone()
		return
	}
	if old := s.c; old != nil {
		old.kill("replaced by a resumed connection")
	}
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	s.graceGen++
	c.out.SetMaxCtrlBytes(maxOutboxBytes)
	n, nb := s.recv.Counts()
	c.reply(m.ID, protocol.NoErr, &protocol.Msg{N: int64(n), NB: int64(nb)})
	// A connection that died as it was attached stays attached all the
	// same: its reader, ending, starts the grace (connLost) and the client
	// can resume again (Attach treats its closed outbox as a lost
	// connection). Only impossible counts refuse the resume.
	if err := s.stream.Attach(c.out, uint64(m.N), uint64(m.NB)); err != nil {
		refused = err
		s.noResume = true
		e.endLocked(s)
		c.closeAfterFlush()
		return
	}
	s.c = c
	c.sess = s
	c.live.Store(s)
	c.loggedIn()
	resumed = true
}

// tokenKey is the sessions map key of a resume token: its SHA-256. The
// token is a secret; a map lookup compares keys with early exit, so the
// map holds hashes, and the timing of a lookup tells nothing useful about a
// live token. The token found is then compared in constant time.
func tokenKey(token string) string {
	h := sha256.Sum256([]byte(token))
	return string(h[:])
}

// sessionByToken returns the live session with that resume token, or nil.
// Reader goroutine of a resuming connection; takes tokMu.
func (srv *Server) sessionByToken(token string) *session {
	if token == "" {
		return nil
	}
	srv.tokMu.Lock()
	s := srv.sessions[tokenKey(token)]
	srv.tokMu.Unlock()
	if s == nil || subtle.ConstantTimeCompare([]byte(s.token), []byte(token)) != 1 {
		return nil
	}
	return s
}

// registerToken makes s resumable by its token. Takes tokMu (a leaf lock).
func (srv *Server) registerToken(s *session) {
	srv.tokMu.Lock()
	srv.sessions[tokenKey(s.token)] = s
	srv.tokMu.Unlock()
}

// forgetToken unregisters an ended session's token. Takes tokMu.
func (srv *Server) forgetToken(token string) {
	srv.tokMu.Lock()
	delete(srv.sessions, tokenKey(token))
	srv.tokMu.Unlock()
}

// isClosed reports whether Close has begun. Any goroutine, no lock.
func (srv *Server) isClosed() bool { return srv.closing.Load() }
