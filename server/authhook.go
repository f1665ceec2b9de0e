package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/crvideomgr/crvideomgr/protocol"
)

// privAuthCode verification through the customer's HTTP service
// (Config.AuthWebhook). The contract, also in docs/protocol.md:
//
// Request: POST to the URL, Content-Type application/json, body
//
//	{"authAcnt":"demo","usrID":"alice","privAcnt":"alice","nickName":"Alice",
//	 "privAuthCode":"…","remoteAddr":"192.0.2.7"}
//
// usrID is the ID the user will have (privAcnt, or the server-assigned one
// when privAcnt is empty); remoteAddr is the client's address as throttled
// (IPv4, or an IPv6 /64). The call is made only after authAcnt/authPswd
// checked out.
//
// Answer: 200 with a JSON object {"ok":true} allows the login; 200 with
// {"ok":false}, or status 401 or 403, refuses it (17). Anything else — no
// answer within AuthWebhookTimeout, a transport error, another status
// (redirects are not followed), a body that is not a JSON object with a
// boolean "ok", a body over 64 KiB — is a failure of the service (16).

// Webhook defaults.
const (
	DefaultAuthWebhookTimeout = 3 * time.Second
	DefaultAuthWebhookConc    = 32
	// maxHookBody bounds the webhook's answer read.
	maxHookBody = 64 << 10
)

// hookRequest is the JSON body posted to the webhook.
type hookRequest struct {
	AuthAcnt     string `json:"authAcnt"`
	UsrID        string `json:"usrID"`
	PrivAcnt     string `json:"privAcnt"`
	NickName     string `json:"nickName"`
	PrivAuthCode string `json:"privAuthCode"`
	RemoteAddr   string `json:"remoteAddr"`
}

// authHook calls the verification service. slots bounds the calls in flight;
// ctx is cancelled when the server closes.
type authHook struct {
	url     string
	timeout time.Duration
	client  *http.Client
	tr      *http.Transport
	slots   chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
}

// newAuthHook checks the URL and prepares the client.
func newAuthHook(rawURL string, timeout time.Duration, conc int) (*authHook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server: auth webhook %q: not an http:// or https:// URL", rawURL)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost = conc
	tr.MaxIdleConnsPerHost = conc
	ctx, cancel := context.WithCancel(context.Background())
	return &authHook{
		url:     rawURL,
		timeout: timeout,
		tr:      tr,
		client: &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		slots:  make(chan struct{}, conc),
		ctx:    ctx,
		cancel: cancel,
	}, nil
}

// close cancels calls in flight and drops idle connections. Idempotent.
func (h *authHook) close() {
	h.cancel()
	h.tr.CloseIdleConnections()
}

// Errors of the verification service, logged by the caller.
var (
	// errHookBusy: no call slot became free within the timeout.
	errHookBusy = errors.New("auth webhook: too many calls in flight")
	// errHookAnswer: the answer is not one of the contract's.
	errHookAnswer = errors.New("auth webhook: unexpected answer")
)

// verify asks the service about one login and returns 0,
// CustomAuthFailed (17) or CustomAuthException (16, with the reason). It
// blocks for at most the timeout, waiting for a free slot included. Runs in
// a connection's reader goroutine, no lock held.
func (h *authHook) verify(req hookRequest) (int, error) {
	ctx, cancel := context.WithTimeout(h.ctx, h.timeout)
	defer cancel()
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return protocol.CustomAuthException, errHookBusy
	}
	body, _ := json.Marshal(req)
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return protocol.CustomAuthException, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("User-Agent", "crvideosrv")
	resp, err := h.client.Do(hr)
	if err != nil {
		return protocol.CustomAuthException, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return protocol.CustomAuthFailed, nil
	default:
		return protocol.CustomAuthException, fmt.Errorf("%w: status %d", errHookAnswer, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHookBody+1))
	if err != nil {
		return protocol.CustomAuthException, err
	}
	if len(data) > maxHookBody {
		return protocol.CustomAuthException, fmt.Errorf("%w: body over %d bytes", errHookAnswer, maxHookBody)
	}
	var ans struct {
		OK *bool `json:"ok"`
	}
	if err := json.Unmarshal(data, &ans); err != nil || ans.OK == nil {
		return protocol.CustomAuthException, fmt.Errorf("%w: body is not {\"ok\":true|false}", errHookAnswer)
	}
	if !*ans.OK {
		return protocol.CustomAuthFailed, nil
	}
	return protocol.NoErr, nil
}
