package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// setSecurityDefaults fills the zero TLS, webhook and throttle fields of c
// and checks them. A negative LoginFail* disables that throttle.
func (c *Config) setSecurityDefaults() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("server: TLS needs both a certificate and a key file")
	}
	if c.AuthWebhookTimeout <= 0 {
		c.AuthWebhookTimeout = DefaultAuthWebhookTimeout
	}
	if c.AuthWebhookConc <= 0 {
		c.AuthWebhookConc = DefaultAuthWebhookConc
	}
	if c.LoginFailWindow <= 0 {
		c.LoginFailWindow = DefaultLoginFailWindow
	}
	if c.LoginFailIP == 0 {
		c.LoginFailIP = DefaultLoginFailIP
	}
	if c.LoginFailAcnt == 0 {
		c.LoginFailAcnt = DefaultLoginFailAcnt
	}
	if c.LoginBlock <= 0 {
		c.LoginBlock = DefaultLoginBlock
	}
	if c.ThrottleKeys <= 0 {
		c.ThrottleKeys = DefaultThrottleKeys
	}
	if c.LoginTrust == 0 {
		c.LoginTrust = DefaultLoginTrust
	}
	if c.LoginTrustKeys <= 0 {
		c.LoginTrustKeys = DefaultLoginTrustKeys
	}
	return nil
}

// initSecurity loads the TLS certificate, prepares the webhook client and
// the login throttles. Called by New.
func (s *Server) initSecurity() error {
	c := &s.cfg
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return fmt.Errorf("server: TLS certificate: %w", err)
		}
		s.tlsConf = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"}, // WebSocket upgrades need HTTP/1.1
		}
	}
	if c.AuthWebhook != "" {
		h, err := newAuthHook(c.AuthWebhook, c.AuthWebhookTimeout, c.AuthWebhookConc)
		if err != nil {
			return err
		}
		s.hook = h
	}
	s.ipThrottle = newThrottle(max(c.LoginFailIP, 0), c.LoginFailWindow, c.LoginBlock, c.ThrottleKeys)
	s.acntThrottle = newThrottle(max(c.LoginFailAcnt, 0), c.LoginFailWindow, c.LoginBlock, c.ThrottleKeys)
	s.trust = newTrustTable(max(c.LoginTrust, 0), c.LoginTrustKeys)
	s.loginWait = loginWait
	return nil
}

// closeSecurity cancels webhook calls in flight. Called by Close.
func (s *Server) closeSecurity() {
	if s.hook != nil {
		s.hook.close()
	}
}

// scheme is the WebSocket URL scheme the server serves.
func (s *Server) scheme() string {
	if s.tlsConf != nil {
		return "wss"
	}
	return "ws"
}

// authenticate runs the credential checks of a login, in the order of
// docs/protocol.md after the parameter checks: the throttle (8), the
// enterprise account (7), then the verification service (14, 16, 17). It
// returns 0 or the code to reply with. Each slow check is counted before it
// runs and at most one is in flight per address, account and user (see
// throttle.go); a password the login cache knows is checked at once.
// Reader goroutine, no lock held; it may wait up to loginWait for its turn,
// then a PBKDF2 run and at most AuthWebhookTimeout for the service, which
// delays only this connection.
func (c *conn) authenticate(m *protocol.Msg, usrID string) int {
	s := c.srv
	addr := addrKey(c.ws.RemoteAddr())
	now := time.Now()
	deadline := now.Add(s.loginWait)
	trustAcnt := s.trust.trusted(acntKey(m.Acnt), addr, now)
	trustUser := m.Priv != "" && s.trust.trusted(userKey(m.Acnt, m.Priv), addr, now)
	if s.loginThrottled(addr, m.Acnt, m.Priv, trustAcnt, trustUser) {
		c.log().Info("login refused: throttled", "acnt", m.Acnt)
		return protocol.ServerException
	}
	pswd := strings.ToLower(m.Pswd)
	cached := func() bool {
		ok, _, _ := s.authCached(m.Acnt, pswd)
		return ok && m.Acnt != "" && pswd != ""
	}
	if !cached() {
		if code := c.checkPassword(m.Acnt, pswd, addr, trustAcnt, deadline, cached); code != protocol.NoErr {
			return code
		}
	}
	if s.hook == nil {
		s.trust.trust(acntKey(m.Acnt), addr, time.Now())
		return protocol.NoErr
	}
	if m.Auth == "" {
		return protocol.CustomAuthNoInfo
	}
	ipTry, ok := s.ipThrottle.acquire(addr, false, false, deadline, nil)
	if !ok {
		c.log().Info("login refused: throttled", "acnt", m.Acnt)
		return protocol.ServerException
	}
	var userTry *attempt
	if m.Priv != "" {
		if userTry, ok = s.acntThrottle.acquire(userKey(m.Acnt, m.Priv), true, trustUser, deadline, nil); !ok {
			ipTry.settle(false)
			c.log().Info("login refused: throttled", "acnt", m.Acnt, "usrID", usrID)
			return protocol.ServerException
		}
	}
	code, err := s.hook.verify(hookRequest{AuthAcnt: m.Acnt, UsrID: usrID, PrivAcnt: m.Priv,
		NickName: m.Nick, PrivAuthCode: m.Auth, RemoteAddr: addr})
	failed := code == protocol.CustomAuthFailed
	s.settled(ipTry.settle(failed), "address", addr)
	s.settled(userTry.settle(failed), "user", m.Acnt+"/"+m.Priv)
	switch code {
	case protocol.NoErr:
		now := time.Now()
		s.trust.trust(acntKey(m.Acnt), addr, now)
		if m.Priv != "" {
			s.trust.trust(userKey(m.Acnt, m.Priv), addr, now)
		}
	case protocol.CustomAuthException:
		c.log().Warn("login: auth webhook failed", "acnt", m.Acnt, "usrID", usrID, "err", err)
	case protocol.CustomAuthFailed:
		c.log().Info("login failed: auth webhook refused", "acnt", m.Acnt, "usrID", usrID)
	}
	return code
}

// checkPassword runs the slow check of the enterprise password (pswd in
// lowercase) as one counted attempt of the address and of the account,
// after waiting for the attempt in flight for either to end. cached reports
// whether the login cache now knows the password (another login verified it
// meanwhile): then no check is needed. It returns 0, 7 or 8. Reader
// goroutine, no lock held.
func (c *conn) checkPassword(acnt, pswd, addr string, trustAcnt bool, deadline time.Time, cached func() bool) int {
	s := c.srv
	ipTry, ok := s.ipThrottle.acquire(addr, true, false, deadline, cached)
	if !ok {
		c.log().Info("login refused: throttled", "acnt", acnt)
		return protocol.ServerException
	}
	acntTry, ok := s.acntThrottle.acquire(acntKey(acnt), true, trustAcnt, deadline, cached)
	if !ok {
		ipTry.settle(false)
		c.log().Info("login refused: throttled", "acnt", acnt)
		return protocol.ServerException
	}
	err := ErrNoAccount
	switch {
	case cached():
		err = nil
	case acnt != "" && pswd != "":
		err = s.checkAccount(acnt, pswd)
	}
	failed := errors.Is(err, ErrNoAccount) || errors.Is(err, ErrWrongPassword)
	s.settled(ipTry.settle(failed), "address", addr)
	s.settled(acntTry.settle(failed), "account", acnt)
	switch {
	case err == nil:
		return protocol.NoErr
	case failed:
		c.log().Info("login failed", "acnt", acnt, "code", protocol.AcntPswdErr)
		return protocol.AcntPswdErr
	default:
		c.log().Error("login: store", "err", err)
		return protocol.ServerException
	}
}

// settled logs a key that a failure has just blocked. Reader goroutine, no
// lock held.
func (s *Server) settled(blocked bool, what, key string) {
	if blocked {
		s.log.Warn("login throttle: "+what+" blocked", what, key, "for", s.cfg.LoginBlock)
	}
}

// loginThrottled reports whether a login from addr for acnt/priv is refused
// now: the address is blocked, or the account (the user) is and addr is not
// trusted for it. Any goroutine.
func (s *Server) loginThrottled(addr, acnt, priv string, trustAcnt, trustUser bool) bool {
	now := time.Now()
	if s.ipThrottle.blocked(addr, now) || !trustAcnt && s.acntThrottle.blocked(acntKey(acnt), now) {
		return true
	}
	return priv != "" && !trustUser && s.acntThrottle.blocked(userKey(acnt, priv), now)
}
