package server

import (
	"crypto/rand"
	"errors"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// Meeting handlers run in the caller's reader goroutine and hold no
// enterprise lock: the store serialises its own writers.

// meetInfo turns a stored meeting into a MeetInfoObj.
func (s *Server) meetInfo(r meetingRec) protocol.MeetInfo {
	url := ""
	if s.cfg.PublicURL != "" {
		url = s.cfg.PublicURL + strconv.Itoa(r.ID)
	}
	return protocol.MeetInfo{
		ID:         r.ID,
		Pswd:       r.Pswd,
		Subject:    r.Subject,
		PubMeetURL: url,
		Creator:    r.Creator,
		StartTime:  r.StartTime,
	}
}

// meetPassword returns 6 random decimal digits.
func meetPassword() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		return "", err
	}
	p := strconv.FormatInt(n.Int64(), 10)
	for len(p) < 6 {
		p = "0" + p
	}
	return p, nil
}

// createMeeting stores a new meeting and replies with its MeetInfoObj.
// Reader goroutine, under s.rmu only (the store has its own locks).
func (e *enterprise) createMeeting(s *session, m *protocol.Msg) {
	if !utf8.ValidString(m.Subject) || utf8.RuneCountInString(m.Subject) > protocol.MaxSubjectRunes ||
		(m.CreatePswd != 0 && m.CreatePswd != 1) {
		s.reply(m.ID, protocol.ParamErr, nil)
		return
	}
	pswd := ""
	if m.CreatePswd == 1 {
		var err error
		if pswd, err = meetPassword(); err != nil {
			s.reply(m.ID, protocol.InnerErr, nil)
			return
		}
	}
	rec, err := e.srv.store.createMeeting(e.name, s.usrID, m.Subject, pswd, time.Now(), e.srv.cfg.MaxMeetings)
	if errors.Is(err, ErrMeetingCap) {
		s.log().Warn("createMeeting: the enterprise has the most meetings allowed", "max", e.srv.cfg.MaxMeetings)
		s.reply(m.ID, protocol.ServerException, nil)
		return
	}
	if err != nil {
		s.log().Error("createMeeting: store", "err", err)
		s.reply(m.ID, protocol.ServerException, nil)
		return
	}
	mi := e.srv.meetInfo(rec)
	s.reply(m.ID, protocol.NoErr, &protocol.Msg{Meeting: &mi})
}

// destroyMeeting deletes one of the enterprise's meetings (800 if unknown).
// Reader goroutine, under s.rmu only.
func (e *enterprise) destroyMeeting(s *session, m *protocol.Msg) {
	err := e.srv.store.destroyMeeting(e.name, m.MeetID)
	switch {
	case err == nil:
		s.reply(m.ID, protocol.NoErr, nil)
	case errors.Is(err, ErrMeetNotExist):
		s.reply(m.ID, protocol.MeetNotExist, nil)
	default:
		s.log().Error("destroyMeeting: store", "err", err)
		s.reply(m.ID, protocol.ServerException, nil)
	}
}

// getMeetings replies with the enterprise's meetings, newest first: those
// after meeting m.AfterID (5 if it is not a meeting ID), as many as fit in
// one page, with More when others follow. A request without Paged (an
// older library) gets the whole list in one reply, or 8 when it does not
// fit. Reader goroutine, under s.rmu only.
func (e *enterprise) getMeetings(s *session, m *protocol.Msg) {
	p := pager{budget: e.srv.pageBytes}
	var list []protocol.MeetInfo
	more, err := e.srv.store.scanMeetings(e.name, m.AfterID, func(r meetingRec) bool {
		mi := e.srv.meetInfo(r)
		if !p.fits(func(b []byte) []byte { return protocol.AppendMeetInfo(b, &mi) }) {
			return false
		}
		list = append(list, mi)
		return true
	})
	switch {
	case errors.Is(err, ErrMeetNotExist):
		s.reply(m.ID, protocol.ParamErr, nil)
	case err != nil:
		s.log().Error("getMeetings: store", "err", err)
		s.reply(m.ID, protocol.ServerException, nil)
	case more && (!m.Paged || len(list) == 0):
		s.log().Warn("getMeetings: list does not fit in one reply", "paged", m.Paged)
		s.reply(m.ID, protocol.ServerException, nil)
	default:
		s.reply(m.ID, protocol.NoErr, &protocol.Msg{Meetings: list, More: more})
	}
}
