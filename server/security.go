package server

import (
	"crypto/tls"
	"errors"
	"fmt"

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
// returns 0 or the code to reply with, counting failures for the throttle.
// Reader goroutine, no lock held; it blocks for a PBKDF2 run and at most
// AuthWebhookTimeout for the service, which delays only this connection.
func (c *conn) authenticate(m *protocol.Msg, usrID string) int {
	s := c.srv
	addr := addrKey(c.ws.RemoteAddr())
	if s.loginThrottled(addr, m.Acnt, m.Priv) {
		c.log().Info("login refused: throttled", "acnt", m.Acnt)
		return protocol.ServerException
	}
	code := protocol.AcntPswdErr
	err := ErrNoAccount
	if m.Acnt != "" && m.Pswd != "" {
		err = s.checkAccount(m.Acnt, m.Pswd)
	}
	if err != nil {
		if !errors.Is(err, ErrNoAccount) && !errors.Is(err, ErrWrongPassword) {
			c.log().Error("login: store", "err", err)
			return protocol.ServerException
		}
		c.log().Info("login failed", "acnt", m.Acnt, "code", code)
		s.loginFailed(addr, m.Acnt, m.Priv, code)
		return code
	}
	if s.hook == nil {
		return protocol.NoErr
	}
	if m.Auth == "" {
		return protocol.CustomAuthNoInfo
	}
	code, err = s.hook.verify(hookRequest{AuthAcnt: m.Acnt, UsrID: usrID, PrivAcnt: m.Priv,
		NickName: m.Nick, PrivAuthCode: m.Auth, RemoteAddr: addr})
	switch code {
	case protocol.CustomAuthException:
		c.log().Warn("login: auth webhook failed", "acnt", m.Acnt, "usrID", usrID, "err", err)
	case protocol.CustomAuthFailed:
		c.log().Info("login failed: auth webhook refused", "acnt", m.Acnt, "usrID", usrID)
		s.loginFailed(addr, m.Acnt, m.Priv, code)
	}
	return code
}
