// Command crvideosrv is the crvideomgr signaling server (REFERENCE §5):
//
//	crvideosrv [-listen 127.0.0.1:2727] [-data DIR] [-ring-timeout 30s] [-ping-timeout 10s]
//	           [-resume-grace 30s] [-addr-file FILE] [-public-url URL] [-max-buffer N] [-max-file N]
//	           [-max-cmds N] [-max-cmd-bytes N] [-cmd-window N] [-max-transfers N] [-max-meetings N]
//	           [-max-incoming N] [-stall-timeout D] [-max-conns N] [-max-pending-per-ip N]
//	           [-tls-cert FILE -tls-key FILE] [-auth-webhook URL] [-auth-webhook-timeout 3s]
//	           [-login-fail-window 1m] [-login-fail-ip 10] [-login-fail-acnt 30] [-login-block 1m]
//	           [-login-trust 24h]
//	crvideosrv account add    -data DIR NAME PASSWORD
//	crvideosrv account list   -data DIR
//	crvideosrv account remove -data DIR NAME
//
// SIGTERM and SIGINT shut it down cleanly (exit 0, store closed).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/crvideomgr/crvideomgr/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "account" {
		return account(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("crvideosrv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg server.Config
	fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "`host:port` to listen on (port 0 picks a free port)")
	fs.StringVar(&cfg.DataDir, "data", server.DefaultDataDir, "`directory` of the store (accounts, meetings), created if missing")
	fs.DurationVar(&cfg.RingTimeout, "ring-timeout", server.DefaultRingTimeout, "unanswered calls end after this")
	fs.DurationVar(&cfg.PingTimeout, "ping-timeout", server.DefaultPingTimeout, "a connection silent this long is dead")
	fs.DurationVar(&cfg.ResumeGrace, "resume-grace", server.DefaultResumeGrace, "how long a lost session may be resumed before it ends")
	fs.StringVar(&cfg.AddrFile, "addr-file", "", "write the bound host:port to this `file` once accepting")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "base `URL` of meetings' pubMeetUrl (the meeting ID is appended)")
	fs.Int64Var(&cfg.MaxBuffer, "max-buffer", server.DefaultMaxBuffer, "largest sendBuffer in `bytes`")
	fs.Int64Var(&cfg.MaxFile, "max-file", server.DefaultMaxFile, "largest sendFile in `bytes`")
	fs.IntVar(&cfg.MaxCmds, "max-cmds", server.DefaultMaxCmds, "sendCmds one user may have awaiting acknowledgement")
	fs.Int64Var(&cfg.MaxCmdBytes, "max-cmd-bytes", server.DefaultMaxCmdBytes, "`bytes` of sendCmds one user may have awaiting acknowledgement")
	fs.Int64Var(&cfg.CmdWindow, "cmd-window", server.DefaultCmdWindow, "`bytes` of sendCmds forwarded to one receiver and not yet acknowledged; more are held")
	fs.IntVar(&cfg.MaxTransfers, "max-transfers", server.DefaultMaxTransfers, "buffer/file transfers one user may have in flight")
	fs.IntVar(&cfg.MaxMeetings, "max-meetings", server.DefaultMaxMeetings, "meetings one enterprise may have stored (createMeeting beyond it fails with 8)")
	fs.IntVar(&cfg.MaxIncoming, "max-incoming", server.DefaultMaxIncoming, "buffer/file transfers in flight towards one receiver; more wait for a slot")
	fs.DurationVar(&cfg.StallTimeout, "stall-timeout", 0, "a transfer without progress this long fails (0: 2 × -ping-timeout + -resume-grace)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "open connections at most, beyond: HTTP 503 (0: the open-file limit minus 256)")
	fs.IntVar(&cfg.MaxPendingPerIP, "max-pending-per-ip", server.DefaultMaxPendingPerIP, "connections of one address (IPv6: /64) not logged in yet, beyond: HTTP 429 (-1: no limit)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM `file` of the TLS certificate chain; with -tls-key the server serves wss:// only")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM `file` of the TLS private key")
	fs.StringVar(&cfg.AuthWebhook, "auth-webhook", "", "`URL` of the service that verifies privAuthCode (POST JSON; see docs/protocol.md)")
	fs.DurationVar(&cfg.AuthWebhookTimeout, "auth-webhook-timeout", server.DefaultAuthWebhookTimeout, "a verification not answered in this time fails the login with 16")
	fs.DurationVar(&cfg.LoginFailWindow, "login-fail-window", server.DefaultLoginFailWindow, "failed logins are counted over this window")
	fs.IntVar(&cfg.LoginFailIP, "login-fail-ip", server.DefaultLoginFailIP, "failed logins from one address within the window that block it (-1: no limit)")
	fs.IntVar(&cfg.LoginFailAcnt, "login-fail-acnt", server.DefaultLoginFailAcnt, "failed logins of one account within the window that block it (-1: no limit)")
	fs.DurationVar(&cfg.LoginBlock, "login-block", server.DefaultLoginBlock, "how long a blocked address or account is refused (code 8)")
	fs.DurationVar(&cfg.LoginTrust, "login-trust", server.DefaultLoginTrust, "an address that logged in to an account within this time is not refused by the account's block (-1s: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "crvideosrv: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg.Logger = log

	srv, err := server.New(cfg)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	if err := srv.Start(); err != nil {
		log.Error("start", "err", err)
		srv.Close()
		return 1
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	got := <-sig
	signal.Stop(sig)
	log.Info("shutting down", "signal", got.String())
	done := make(chan error, 1)
	go func() { done <- srv.Close() }()
	select {
	case err := <-done:
		if err != nil {
			log.Error("close", "err", err)
			return 1
		}
	case <-time.After(8 * time.Second):
		log.Error("close timed out")
		return 1
	}
	return 0
}

const accountUsage = `usage:
  crvideosrv account add    -data DIR NAME PASSWORD
  crvideosrv account list   -data DIR
  crvideosrv account remove -data DIR NAME
`

// account runs the account subcommands against the store (which must not be
// held open by a running server).
func account(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountUsage)
		return 2
	}
	verb := args[0]
	fs := flag.NewFlagSet("crvideosrv account "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", server.DefaultDataDir, "`directory` of the store")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	rest := fs.Args()
	var err error
	switch {
	case verb == "add" && len(rest) == 2:
		var existed bool
		if existed, err = server.UpsertAccount(*data, rest[0], rest[1]); err == nil {
			what := "added"
			if existed {
				what = "updated"
			}
			fmt.Fprintf(stdout, "account %q %s in %s\n", rest[0], what, *data)
		}
	case verb == "list" && len(rest) == 0:
		var names []string
		if names, err = server.ListAccounts(*data); err == nil {
			for _, n := range names {
				fmt.Fprintln(stdout, n)
			}
		}
	case verb == "remove" && len(rest) == 1:
		if err = server.RemoveAccount(*data, rest[0]); err == nil {
			fmt.Fprintf(stdout, "account %q removed from %s\n", rest[0], *data)
		}
	default:
		fmt.Fprint(stderr, accountUsage)
		return 2
	}
	if err != nil {
		if errors.Is(err, server.ErrNoAccount) {
			fmt.Fprintf(stderr, "crvideosrv: no account %q\n", rest[0])
		} else {
			fmt.Fprintf(stderr, "crvideosrv: %v\n", err)
		}
		return 1
	}
	return 0
}
