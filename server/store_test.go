package server

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crvideomgr/crvideomgr/protocol"
)

func TestAccounts(t *testing.T) {
	dir := t.TempDir()
	if err := AddAccount(dir, "acme", "secret"); err != nil {
		t.Fatal(err)
	}
	existed, err := UpsertAccount(dir, "acme", "secret2")
	if err != nil || !existed {
		t.Fatalf("upsert: %v %v", existed, err)
	}
	if err := AddAccount(dir, "beta", "b"); err != nil {
		t.Fatal(err)
	}
	if err := AddAccount(dir, "", "x"); !errors.Is(err, ErrBadAccountName) {
		t.Errorf("empty name: %v", err)
	}
	if err := AddAccount(dir, "a\nb", "x"); !errors.Is(err, ErrBadAccountName) {
		t.Errorf("control character: %v", err)
	}
	names, err := ListAccounts(dir)
	if err != nil || !slices.Equal(names, []string{"acme", "beta"}) {
		t.Fatalf("list %v %v", names, err)
	}
	if err := RemoveAccount(dir, "beta"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAccount(dir, "beta"); !errors.Is(err, ErrNoAccount) {
		t.Errorf("remove twice: %v", err)
	}
	// Only a salted hash is stored: neither the password nor its MD5.
	raw, err := os.ReadFile(filepath.Join(dir, storeFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), md5Hex("secret2")) || strings.Contains(string(raw), "secret2") {
		t.Error("store holds the password or its MD5")
	}

	// The running server holds the store; its own methods manage accounts,
	// and a changed password takes effect at once despite the login cache.
	s := startServer(t, dir, nil)
	if _, err := ListAccounts(dir); !errors.Is(err, ErrStoreLocked) {
		t.Errorf("ListAccounts while the server holds the store: %v", err)
	}
	login1 := func(pswd string) int {
		c := dial(t, s, "u")
		return c.code(protocol.Msg{Op: protocol.OpLogin, Ver: 1, Acnt: "acme", Pswd: md5Hex(pswd), Priv: "u"})
	}
	if code := login1("secret2"); code != 0 {
		t.Fatalf("login: %d", code)
	}
	if code := login1("secret2"); code != 0 { // cached path
		t.Fatalf("second login: %d", code)
	}
	if err := s.AddAccount("acme", "secret3"); err != nil {
		t.Fatal(err)
	}
	if code := login1("secret2"); code != protocol.AcntPswdErr {
		t.Errorf("old password after change: %d, want 7", code)
	}
	if code := login1("secret3"); code != 0 {
		t.Errorf("new password: %d", code)
	}
	if err := s.RemoveAccount("acme"); err != nil {
		t.Fatal(err)
	}
	if code := login1("secret3"); code != protocol.AcntPswdErr {
		t.Errorf("removed account: %d, want 7", code)
	}
	if names, _ := s.ListAccounts(); len(names) != 0 {
		t.Errorf("accounts left: %v", names)
	}
}
