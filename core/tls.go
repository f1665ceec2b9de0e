package core

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

// errTLS marks a dial that reached the server but failed in the TLS
// handshake: an untrusted or wrong-host certificate, a server that does not
// speak TLS, no common protocol version. The login reports it as SSLErr
// (209).
var errTLS = errors.New("core: TLS handshake failed")

// tlsDialer returns the dialer of wss:// connections: TCP through netDial
// (nil: a net.Dialer), then the TLS handshake with conf (nil: system roots,
// verification on), so that a handshake failure can be told from a TCP one.
func tlsDialer(conf *tls.Config, netDial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dial := netDial
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		raw, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cfg := &tls.Config{}
		if conf != nil {
			cfg = conf.Clone()
		}
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				host = addr
			}
			cfg.ServerName = host
		}
		cfg.NextProtos = []string{"http/1.1"}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			if ctx.Err() != nil {
				return nil, err // a timeout is not a TLS failure
			}
			return nil, fmt.Errorf("%w: %w", errTLS, err)
		}
		return tc, nil
	}
}

// plainToTLS reports whether resp is a TLS server's answer to a plain HTTP
// request (a ws:// address of a wss:// server): status 400 with a body that
// says HTTPS, as Go's net/http and nginx answer.
func plainToTLS(resp *http.Response) bool {
	if resp == nil || resp.StatusCode != http.StatusBadRequest || resp.Body == nil {
		return false
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return strings.Contains(strings.ToUpper(string(b)), "HTTPS")
}

// ErrBadCAFile is returned by TrustedCAConfig for a file that is not a
// readable regular file of at most 1 MiB holding a PEM certificate.
var ErrBadCAFile = errors.New("core: CA file unreadable, not a regular file, over 1 MiB or without a PEM certificate")

// maxCAFile bounds the CA file read (a whole system CA bundle is ~200 KiB).
const maxCAFile = 1 << 20

// TrustedCAConfig returns TLS settings that trust exactly the CA
// certificates of a PEM file (one or more CERTIFICATE blocks), instead of the
// system roots; verification stays on. For Config.TLSConfig or SetTLSConfig.
// Only a regular file is read, and at most 1 MiB of it: a device such as
// /dev/zero or a FIFO is refused rather than read without end or waited on.
func TrustedCAConfig(pemFile string) (*tls.Config, error) {
	fi, err := os.Stat(pemFile) // does not open, so a FIFO cannot block it
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCAFile, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrBadCAFile)
	}
	f, err := os.Open(pemFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCAFile, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() { // replaced meanwhile
		return nil, fmt.Errorf("%w: not a regular file", ErrBadCAFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCAFile+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCAFile, err)
	}
	if len(data) > maxCAFile {
		return nil, fmt.Errorf("%w: over %d bytes", ErrBadCAFile, maxCAFile)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%w: no PEM certificate", ErrBadCAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
