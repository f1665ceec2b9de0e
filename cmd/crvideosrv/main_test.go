package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestAccountCommands(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := runCmd("account", "add", "-data", dir, "demo", "demo"); code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCmd("account", "add", "-data", dir, "demo", "other"); code != 0 || !strings.Contains(out, "updated") {
		t.Errorf("add again: %d %q", code, out)
	}
	runCmd("account", "add", "-data", dir, "acme", "x")
	if code, out, _ := runCmd("account", "list", "-data", dir); code != 0 || out != "acme\ndemo\n" {
		t.Errorf("list: %d %q", code, out)
	}
	if code, out, _ := runCmd("account", "remove", "-data", dir, "acme"); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("remove: %d %q", code, out)
	}
	if code, _, errs := runCmd("account", "remove", "-data", dir, "acme"); code != 1 || !strings.Contains(errs, "no account") {
		t.Errorf("remove twice: %d %q", code, errs)
	}
	if code, _, _ := runCmd("account", "add", "-data", dir, "onlyname"); code != 2 {
		t.Errorf("missing password: %d, want 2", code)
	}
	if code, _, _ := runCmd("account", "frobnicate"); code != 2 {
		t.Errorf("unknown verb: %d, want 2", code)
	}
	if code, _, _ := runCmd("-no-such-flag"); code != 2 {
		t.Errorf("unknown flag: %d, want 2", code)
	}
}

// TestSecurityFlagsChecked: a TLS certificate without its key, an
// unreadable one and a webhook that is not an http(s) URL stop the server
// at start (exit 1, the reason on stderr).
func TestSecurityFlagsChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-tls-cert", filepath.Join(dir, "c.pem")}, "both"},
		{[]string{"-tls-key", filepath.Join(dir, "k.pem")}, "both"},
		{[]string{"-tls-cert", filepath.Join(dir, "c.pem"), "-tls-key", filepath.Join(dir, "k.pem")}, "TLS certificate"},
		{[]string{"-auth-webhook", "ftp://example.com/x"}, "auth webhook"},
	} {
		args := append([]string{"-listen", "127.0.0.1:0", "-data", filepath.Join(dir, "data")}, tc.args...)
		if code, _, errs := runCmd(args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestSignalShutdown builds the command, starts it on port 0 and stops it
// with SIGTERM: exit status 0 and the store released.
func TestSignalShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "crvideosrv")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	addrFile := filepath.Join(dir, "addr")
	if code, _, errs := runCmd("account", "add", "-data", data, "demo", "demo"); code != 0 {
		t.Fatal(errs)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		os.Remove(addrFile)
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-data", data, "-addr-file", addrFile)
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var addr string
		deadline := time.Now().Add(10 * time.Second)
		for addr == "" {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no addr file; stderr:\n%s", stderr.String())
			}
			b, _ := os.ReadFile(addrFile)
			addr = strings.TrimSpace(string(b))
			time.Sleep(10 * time.Millisecond)
		}
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cmd.Process.Signal(sig)
		err = cmd.Wait()
		ws.Close()
		if err != nil {
			t.Fatalf("%v: exit %v; stderr:\n%s", sig, err, stderr.String())
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%v: shutdown took %v", sig, el)
		}
		// The store is closed: the account tool can open it.
		if code, out, errs := runCmd("account", "list", "-data", data); code != 0 || out != "demo\n" {
			t.Errorf("after %v: list %d %q %q", sig, code, out, errs)
		}
	}
}
