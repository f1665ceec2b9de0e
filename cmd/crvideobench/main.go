// Command crvideobench is the crvideomgr load generator: it drives simulated
// users through package core against a crvideosrv and measures, in the same
// run, the floors of the machine (a raw TCP relay, a minimal gorilla/websocket
// relay), then prints a table and writes a JSON report.
//
//	crvideobench -spawn build/crvideosrv [-short] [-json FILE] [-workloads LIST]
//	crvideobench -server HOST:PORT -acnt NAME -pswd PASSWORD ...
//
// Arrivals are open-loop: each operation has a scheduled send time and its
// latency is measured from that time, so a stalled server or generator
// cannot hide its stalls. Peak throughput figures are measured closed-loop
// (a fixed number of operations in flight) and say so. Connections are
// spread over 127.0.0.x source addresses; the idle-hold workload re-executes
// this program as worker processes when one process would exceed its open
// file limit.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/crvideomgr/crvideomgr/server"
)

// config is everything a run needs; flags fill it.
type config struct {
	Server   string // address of a running server
	Spawn    string // path of crvideosrv to start as a subprocess
	InProc   bool   // run the server in this process
	Acnt     string
	Pswd     string
	Src      int // source addresses 127.0.0.x
	Work     string
	Short    bool
	Dur      time.Duration
	JSON     string
	CPUProf  string
	PerProc  int
	FloorSub bool // run the floor relays as a subprocess

	IdleUsers   int
	IdleHold    time.Duration
	LoginRate   float64
	CmdPairs    int
	CmdWindow   int
	CmdRate     float64
	CallPairs   int
	CallRate    float64
	StatusSubs  int
	StatusTogl  int
	StatusRate  float64
	XferSize    int64
	BigSize     int64
	ProbeRate   float64
	Drain       time.Duration
	StatusTrace bool
}

func defaultConfig() config {
	return config{Acnt: "bench", Pswd: "bench", Src: 8, Work: "all", Dur: 3 * time.Second, PerProc: 9000,
		IdleUsers: 19000, IdleHold: 10 * time.Second, LoginRate: 4000, CmdPairs: 50, CmdWindow: 32, CmdRate: 5000,
		CallPairs: 500, CallRate: 2500, StatusSubs: 100, StatusTogl: 10, StatusRate: 1500,
		XferSize: 32 << 20, BigSize: 2 << 30, ProbeRate: 500, Drain: 10 * time.Second}
}

// shorten turns a config into the short run of `make bench`.
func (c *config) shorten() {
	c.Dur = 2 * time.Second
	c.IdleUsers = min(c.IdleUsers, 19000)
	c.IdleHold = 5 * time.Second
	c.BigSize = min(c.BigSize, 1<<30)
	c.Drain = 5 * time.Second
}

func main() {
	cfg := defaultConfig()
	role := flag.String("role", "", "internal: floor-server or idle-worker")
	fs := flag.CommandLine
	fs.StringVar(&cfg.Server, "server", "", "`host:port` of a running crvideosrv (with -acnt/-pswd)")
	fs.StringVar(&cfg.Spawn, "spawn", "", "start this crvideosrv `binary` as a subprocess on 127.0.0.1:0 with a fresh store")
	fs.BoolVar(&cfg.InProc, "inproc", false, "run the server in this process (for profiling the two together)")
	fs.StringVar(&cfg.Acnt, "acnt", cfg.Acnt, "enterprise account")
	fs.StringVar(&cfg.Pswd, "pswd", cfg.Pswd, "enterprise password (plain; its MD5 is sent)")
	fs.IntVar(&cfg.Src, "src", cfg.Src, "number of 127.0.0.x source addresses")
	fs.StringVar(&cfg.Work, "workloads", cfg.Work, "comma-separated: floors,idle,login,cmd,call,status,xfer,during (all)")
	fs.BoolVar(&cfg.Short, "short", false, "the short run of make bench (under 5 minutes)")
	fs.DurationVar(&cfg.Dur, "dur", cfg.Dur, "length of each measured phase")
	fs.StringVar(&cfg.JSON, "json", "", "write the JSON report to `file`")
	fs.StringVar(&cfg.CPUProf, "cpuprofile", "", "write a CPU profile of this process to `file` (with -inproc it covers the server)")
	fs.IntVar(&cfg.PerProc, "per-proc", cfg.PerProc, "most users per load-generator process (open file limit)")
	fs.IntVar(&cfg.IdleUsers, "idle-users", cfg.IdleUsers, "users held logged in by the idle workload")
	fs.DurationVar(&cfg.IdleHold, "idle-hold", cfg.IdleHold, "how long the idle workload holds its users (CPU is measured over it)")
	fs.Float64Var(&cfg.LoginRate, "login-rate", cfg.LoginRate, "login storm arrivals per second")
	fs.IntVar(&cfg.CmdPairs, "cmd-pairs", cfg.CmdPairs, "sendCmd pairs")
	fs.IntVar(&cfg.CmdWindow, "cmd-window", cfg.CmdWindow, "sendCmds in flight per pair, peak throughput phase")
	fs.Float64Var(&cfg.CmdRate, "cmd-rate", cfg.CmdRate, "sendCmd arrivals per second, latency phase")
	fs.IntVar(&cfg.CallPairs, "call-pairs", cfg.CallPairs, "call setup pairs")
	fs.Float64Var(&cfg.CallRate, "call-rate", cfg.CallRate, "call setup arrivals per second, latency phase")
	fs.IntVar(&cfg.StatusSubs, "status-subs", cfg.StatusSubs, "status subscribers")
	fs.IntVar(&cfg.StatusTogl, "status-togglers", cfg.StatusTogl, "users toggling do-not-disturb")
	fs.Float64Var(&cfg.StatusRate, "status-rate", cfg.StatusRate, "DND changes per second (each is pushed to every subscriber)")
	fs.Int64Var(&cfg.XferSize, "xfer-size", cfg.XferSize, "bytes of each sendBuffer/sendFile in the throughput workload")
	fs.Int64Var(&cfg.BigSize, "big-size", cfg.BigSize, "bytes of the file sent while signaling latency is probed")
	fs.Float64Var(&cfg.ProbeRate, "probe-rate", cfg.ProbeRate, "sendCmd probes per second in the during-transfer workload")
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "how long to wait for unfinished operations after a phase")
	// Worker roles.
	wAddr := fs.String("addr", "", "internal: worker target address")
	wN := fs.Int("n", 0, "internal: worker users")
	wFirst := fs.Int("first", 0, "internal: worker first user number")
	wTarget := fs.String("target", "srv", "internal: worker target, srv or relay")
	wAddrFile := fs.String("addr-file", "", "internal: floor-server address file")
	wPrefix := fs.String("prefix", "", "internal: worker usrID prefix")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *role {
	case "floor-server":
		os.Exit(floorServerMain(ctx, *wAddrFile))
	case "idle-worker":
		os.Exit(idleWorkerMain(ctx, cfg, *wTarget, *wAddr, *wPrefix, *wN, *wFirst))
	case "":
	default:
		fmt.Fprintf(os.Stderr, "crvideobench: unknown role %q\n", *role)
		os.Exit(2)
	}
	if cfg.Short {
		cfg.shorten()
	}
	if cfg.CPUProf != "" {
		f, err := os.Create(cfg.CPUProf)
		if err != nil {
			fmt.Fprintln(os.Stderr, "crvideobench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	cfg.FloorSub = cfg.Spawn != "" || cfg.Server != ""
	rep, err := run(ctx, cfg, os.Args[1:], os.Stderr)
	if rep != nil {
		rep.writeTable(os.Stdout)
		if cfg.JSON != "" {
			if err := rep.writeJSON(cfg.JSON); err != nil {
				fmt.Fprintln(os.Stderr, "crvideobench:", err)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "crvideobench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// target is the server under test.
type srvTarget struct {
	addr string
	pid  int // 0 when the server shares this process
	desc string
	stop func()
}

// startServer starts or finds the server the config names.
func startServer(ctx context.Context, cfg config, tmp string) (*srvTarget, error) {
	switch {
	case cfg.Server != "":
		return &srvTarget{addr: cfg.Server, desc: "external " + cfg.Server + " (memory and CPU not measured)", stop: func() {}}, nil
	case cfg.Spawn != "":
		data := filepath.Join(tmp, "srvdata")
		out, err := exec.CommandContext(ctx, cfg.Spawn, "account", "add", "-data", data, cfg.Acnt, cfg.Pswd).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("account add: %v: %s", err, out)
		}
		af := filepath.Join(tmp, "srv.addr")
		cmd := exec.Command(cfg.Spawn, "-listen", "127.0.0.1:0", "-addr-file", af, "-data", data,
			"-max-buffer", "1099511627776", "-max-file", "1099511627776",
			// Thousands of logins in flight from one address: no per-address cap.
			"-max-pending-per-ip", "-1")
		logf, _ := os.Create(filepath.Join(tmp, "srv.log"))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		addr, err := waitAddrFile(ctx, af, cmd)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, err
		}
		return &srvTarget{addr: addr, pid: cmd.Process.Pid, desc: "crvideosrv subprocess (" + filepath.Base(cfg.Spawn) + ")",
			stop: func() {
				cmd.Process.Signal(syscall.SIGTERM)
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					<-done
				}
				logf.Close()
			}}, nil
	default:
		data := filepath.Join(tmp, "srvdata")
		if err := server.AddAccount(data, cfg.Acnt, cfg.Pswd); err != nil {
			return nil, err
		}
		s, err := server.New(server.Config{Listen: "127.0.0.1:0", DataDir: data, MaxBuffer: 1 << 40, MaxFile: 1 << 40})
		if err != nil {
			return nil, err
		}
		if err := s.Start(); err != nil {
			s.Close()
			return nil, err
		}
		return &srvTarget{addr: s.Addr(), desc: "in-process server (memory and CPU not measured)", stop: func() { s.Close() }}, nil
	}
}

// waitAddrFile waits for a subprocess to write its address file.
func waitAddrFile(ctx context.Context, path string, cmd *exec.Cmd) (string, error) {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("%s did not write %s", cmd.Path, path)
}

// floorServerMain is -role floor-server: both relays until stdin closes or
// a signal arrives.
func floorServerMain(ctx context.Context, addrFile string) int {
	fl, err := startFloors()
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor-server:", err)
		return 1
	}
	defer fl.close()
	if err := os.WriteFile(addrFile+".tmp", []byte(fl.wsAddr+" "+fl.tcpAddr+"\n"), 0o644); err != nil {
		return 1
	}
	os.Rename(addrFile+".tmp", addrFile)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, bufio.NewReader(os.Stdin)); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
	return 0
}
