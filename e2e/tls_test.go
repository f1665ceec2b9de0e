package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/crvideomgr/crvideomgr/server"
)

// newEnvCfg is newEnv (enterprises demo and other, 1 s ring timeout) with
// server settings changed by mod.
func newEnvCfg(t *testing.T, mod func(*server.Config)) *env {
	t.Helper()
	return newEnvMod(t, time.Second, 2*time.Second, 2*time.Second, mod)
}

// newClientCfg is newClient with engine settings changed by mod.
func (e *env) newClientCfg(mod func(*core.Config)) *client {
	e.t.Helper()
	r := &rec{}
	tmp := e.t.TempDir()
	cfg := core.Config{Callback: r, TempDir: tmp, Logger: testLogger()}
	mod(&cfg)
	m := core.New(cfg)
	m.SetServerAddr(e.addr)
	e.t.Cleanup(m.Close)
	return &client{Mgr: m, r: r, tmp: tmp}
}

// tryLogin logs c in and returns the LoginSuccess or LoginFail event of
// this attempt (a fresh cookie tells it from earlier ones). On success c.id
// is set.
func (c *client) tryLogin(t *testing.T, acnt, pswdMD5, priv, auth string) Ev {
	t.Helper()
	cookie := "try-" + time.Now().Format(time.RFC3339Nano)
	c.Login(acnt, pswdMD5, "nick "+priv, priv, auth, cookie)
	ev := c.r.wait(t, "", func(ev Ev) bool {
		return (ev.Name == "LoginSuccess" && ev.S[1] == cookie) || (ev.Name == "LoginFail" && ev.S[0] == cookie)
	})
	if ev.Name == "LoginSuccess" {
		c.id = ev.S[0]
	}
	return ev
}

// loginCode is 0 for LoginSuccess, else LoginFail's code.
func loginCode(ev Ev) int {
	if ev.Name == "LoginSuccess" {
		return 0
	}
	return ev.I[0]
}

// pki is a CA and a server certificate it issued for 127.0.0.1 and
// localhost, as PEM files in a temp directory.
type pki struct {
	caFile, certFile, keyFile string
}

func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "crvideo test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "crvideosrv"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem")}
	for path, b := range map[string]*pem.Block{
		p.caFile:   {Type: "CERTIFICATE", Bytes: caDER},
		p.certFile: {Type: "CERTIFICATE", Bytes: srvDER},
		p.keyFile:  {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// newTLSEnv starts a wss:// server with a certificate of a fresh CA.
func newTLSEnv(t *testing.T) (*env, pki) {
	p := newPKI(t)
	e := newEnvCfg(t, func(c *server.Config) { c.TLSCert, c.TLSKey = p.certFile, p.keyFile })
	return e, p
}

// trusting returns an engine setting that trusts the CA of p.
func trusting(t *testing.T, p pki) func(*core.Config) {
	conf, err := core.TrustedCAConfig(p.caFile)
	if err != nil {
		t.Fatalf("TrustedCAConfig: %v", err)
	}
	return func(c *core.Config) { c.TLSConfig = conf }
}

func TestTLSLoginCallAndSendCmdWithTrustedCA(t *testing.T) {
	e, p := newTLSEnv(t)
	a, b := e.newClientCfg(trusting(t, p)), e.newClientCfg(trusting(t, p))
	for _, c := range []*client{a, b} {
		c.SetServerAddr("wss://" + e.addr)
	}
	if ev := a.tryLogin(t, "demo", md5hex("demo"), "alice", ""); ev.Name != "LoginSuccess" {
		t.Fatalf("alice over wss: %v", ev)
	}
	// A host name the certificate names works as well as its IP address.
	_, port, _ := net.SplitHostPort(e.addr)
	b.SetServerAddr("wss://localhost:" + port + "/ws")
	if ev := b.tryLogin(t, "demo", md5hex("demo"), "bob", ""); ev.Name != "LoginSuccess" {
		t.Fatalf("bob over wss: %v", ev)
	}
	connectedCall(t, a, b)
	task := a.SendCmd("bob", "aGVsbG8gb3ZlciBUTFM=")
	if ev := a.r.wait(t, "SendCmdRlst", withS(task)); ev.I[0] != 0 {
		t.Fatalf("sendCmd over wss: %v", ev)
	}
	if ev := b.r.wait(t, "NotifyCmdData", nil); ev.S[0] != "alice" || ev.S[1] != "aGVsbG8gb3ZlciBUTFM=" {
		t.Fatalf("NotifyCmdData = %v", ev)
	}
}

func TestTLSUntrustedCertificate209(t *testing.T) {
	e, p := newTLSEnv(t)
	// The system roots do not know the test CA.
	c := e.newClient()
	c.SetServerAddr("wss://" + e.addr)
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", ""); loginCode(ev) != protocol.SSLErr {
		t.Fatalf("system roots: %v, want 209", ev)
	}
	// Another CA is not trusted either.
	other, err := core.TrustedCAConfig(newPKI(t).caFile)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTLSConfig(other)
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", ""); loginCode(ev) != protocol.SSLErr {
		t.Fatalf("another CA: %v, want 209", ev)
	}
	// The right CA, set on the same engine, applies from the next login.
	right, err := core.TrustedCAConfig(p.caFile)
	if err != nil {
		t.Fatal(err)
	}
	c.SetTLSConfig(right)
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", ""); ev.Name != "LoginSuccess" {
		t.Fatalf("trusted CA: %v", ev)
	}
	// A name the certificate does not cover fails verification: 209.
	wrongName := right.Clone()
	wrongName.ServerName = "not-the-server.example"
	d := e.newClientCfg(func(c *core.Config) { c.TLSConfig = wrongName })
	d.SetServerAddr("wss://" + e.addr)
	if ev := d.tryLogin(t, "demo", md5hex("demo"), "dan", ""); loginCode(ev) != protocol.SSLErr {
		t.Fatalf("wrong host: %v, want 209", ev)
	}
}

func TestTLSPlainClientToTLSServer209(t *testing.T) {
	e, p := newTLSEnv(t)
	for _, addr := range []string{e.addr, "ws://" + e.addr} {
		c := e.newClientCfg(trusting(t, p))
		c.SetServerAddr(addr)
		if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", ""); loginCode(ev) != protocol.SSLErr {
			t.Fatalf("%s to a TLS server: %v, want 209", addr, ev)
		}
	}
}

func TestTLSClientToPlainServer209(t *testing.T) {
	e := newEnv(t, time.Second)
	c := e.newClient()
	c.SetServerAddr("wss://" + e.addr)
	if ev := c.tryLogin(t, "demo", md5hex("demo"), "alice", ""); loginCode(ev) != protocol.SSLErr {
		t.Fatalf("wss to a plain server: %v, want 209", ev)
	}
	// A server that accepts TCP and says nothing is a connection failure,
	// not a TLS one (the handshake times out).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() { <-ctx.Done(); conn.Close() }()
		}
	}()
	c2 := e.newClient()
	c2.SetServerAddr("wss://" + l.Addr().String())
	if ev := c2.tryLogin(t, "demo", md5hex("demo"), "bob", ""); loginCode(ev) != protocol.CreateConnFailed {
		t.Fatalf("silent server: %v, want 203", ev)
	}
}

func TestTLSServerConfigChecked(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	for _, cfg := range []server.Config{
		{DataDir: dir, TLSCert: p.certFile},                   // no key
		{DataDir: dir, TLSKey: p.keyFile},                     // no certificate
		{DataDir: dir, TLSCert: p.keyFile, TLSKey: p.keyFile}, // not a certificate
		{DataDir: dir, TLSCert: p.certFile, TLSKey: filepath.Join(dir, "missing")},
	} {
		if s, err := server.New(cfg); err == nil {
			s.Close()
			t.Errorf("server.New(cert %q, key %q) succeeded", cfg.TLSCert, cfg.TLSKey)
		}
	}
}

func TestTrustedCAConfigRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600)
	caPEM, err := os.ReadFile(newPKI(t).caFile)
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.pem") // a valid certificate after 1 MiB of blank lines
	os.WriteFile(big, append(bytes.Repeat([]byte("\n"), 1<<20), caPEM...), 0o600)
	// /dev/zero would be read without end, a FIFO waited on: neither is a
	// regular file.
	fifo := filepath.Join(dir, "fifo.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{filepath.Join(dir, "missing.pem"), junk, dir, big, fifo, "/dev/zero"} {
		if _, err := core.TrustedCAConfig(f); err == nil {
			t.Errorf("TrustedCAConfig(%s) succeeded", f)
		}
	}
	// Verification stays on: the config trusts the file's CA only.
	conf, err := core.TrustedCAConfig(newPKI(t).caFile)
	if err != nil || conf.InsecureSkipVerify || conf.RootCAs == nil || conf.MinVersion < tls.VersionTLS12 {
		t.Fatalf("TrustedCAConfig = %+v, %v", conf, err)
	}
}
