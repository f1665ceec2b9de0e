package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// epoch is the zero of the run's clock: scheduled and completion times are
// nanoseconds since it, on the monotonic clock.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// bench is one run: the server, the floors and the report.
type bench struct {
	cfg      config
	rep      *Report
	srv      *srvTarget
	floors   *floorServers
	floorPid int
	tmp      string
	log      io.Writer
	fleets   atomic.Int64
	// cpu0 is the CPU time of the server (or floor server) and of this
	// process when the phase being measured began (see mark); nil outside
	// a phase.
	cpu0 *cpuMark
}

type cpuMark struct {
	pid      int // the process serving the phase; 0: not measured
	srv, gen float64
}

// mark notes the CPU time of the server and of this process at the start
// of a measured phase; the next add reports what each spent per counted
// operation since (srv_cpu_us_per_op, gen_cpu_us_per_op). These depend
// less than rates on what else runs on the machine, and show which side an
// optimisation helped. The drain after a phase is included.
func (b *bench) mark() {
	pid := 0
	if b.srv != nil {
		pid = b.srv.pid
	}
	b.markPid(pid)
}

// markPid is mark for a phase served by process pid (a floor's relay).
func (b *bench) markPid(pid int) {
	b.cpu0 = &cpuMark{pid: pid, srv: procCPU(pid), gen: selfCPU()}
}

// procCPU is process pid's CPU seconds so far, or -1 when it is not measured.
func procCPU(pid int) float64 {
	if pid == 0 {
		return -1
	}
	ps, err := readProc(pid)
	if err != nil {
		return -1
	}
	return ps.CPU
}

// selfCPU is this process's user + system CPU seconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// workload names in the order they run.
var workloads = []string{"floors", "idle", "login", "cmd", "call", "status", "xfer", "during"}

// run measures the floors and then every selected workload.
func run(ctx context.Context, cfg config, args []string, log io.Writer) (*Report, error) {
	started := time.Now()
	tmp, err := os.MkdirTemp("", "crvideobench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	rep := newReport(args)
	srv, err := startServer(ctx, cfg, tmp)
	if err != nil {
		return rep, fmt.Errorf("server: %w", err)
	}
	defer srv.stop()
	rep.Server = srv.desc
	b := &bench{cfg: cfg, rep: rep, srv: srv, tmp: tmp, log: log}
	if err := b.startFloors(ctx); err != nil {
		return rep, fmt.Errorf("floors: %w", err)
	}
	defer b.floors.close()
	// One login first: the server verifies a password the slow way
	// (PBKDF2) once and caches it; the workloads measure the steady state.
	warm, err := b.newFleet(ctx, "warm", 1)
	if err != nil {
		return rep, fmt.Errorf("first login: %w", err)
	}
	warm.closeAll()
	sel := map[string]bool{}
	for _, w := range strings.Split(cfg.Work, ",") {
		w = strings.TrimSpace(w)
		if w == "all" {
			for _, x := range workloads {
				sel[x] = true
			}
			continue
		}
		sel[w] = true
	}
	fns := map[string]func(context.Context) error{
		"floors": b.wlFloors, "idle": b.wlIdle, "login": b.wlLogin, "cmd": b.wlCmd,
		"call": b.wlCall, "status": b.wlStatus, "xfer": b.wlXfer, "during": b.wlDuring,
	}
	for _, w := range workloads {
		if !sel[w] {
			continue
		}
		delete(sel, w)
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		t := time.Now()
		fmt.Fprintf(log, "crvideobench: %s ...\n", w)
		if err := fns[w](ctx); err != nil {
			return rep, fmt.Errorf("%s: %w", w, err)
		}
		fmt.Fprintf(log, "crvideobench: %s done in %.1fs\n", w, time.Since(t).Seconds())
	}
	for w := range sel {
		return rep, fmt.Errorf("unknown workload %q", w)
	}
	b.judge()
	rep.Seconds = time.Since(started).Seconds()
	return rep, nil
}

// startFloors starts the two relays, as a subprocess when the server under
// test is one.
func (b *bench) startFloors(ctx context.Context) error {
	if !b.cfg.FloorSub {
		fl, err := startFloors()
		b.floors = fl
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	af := filepath.Join(b.tmp, "floor.addr")
	os.Remove(af) // a previous relay's
	cmd := exec.Command(exe, "-role", "floor-server", "-addr-file", af)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	line, err := waitAddrFile(ctx, af, cmd)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	ws, tcp, _ := strings.Cut(line, " ")
	b.floorPid = cmd.Process.Pid
	b.floors = &floorServers{wsAddr: ws, tcpAddr: tcp, close: func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}}
	return nil
}

// add appends a result to the report and logs it.
func (b *bench) add(r *Result) *Result {
	b.rep.Results = append(b.rep.Results, r)
	lat := ""
	if r.Lat != nil {
		lat = fmt.Sprintf(" p50 %.3f p99 %.3f max %.3f ms", r.Lat.P50, r.Lat.P99, r.Lat.Max)
	}
	if c0 := b.cpu0; c0 != nil && r.Count > 0 {
		b.cpu0 = nil
		if r.Extra == nil {
			r.Extra = map[string]float64{}
		}
		if s1 := procCPU(c0.pid); c0.srv >= 0 && s1 >= 0 {
			r.Extra["srv_cpu_us_per_op"] = (s1 - c0.srv) * 1e6 / float64(r.Count)
			lat += fmt.Sprintf(" srv %.1f µs/op", r.Extra["srv_cpu_us_per_op"])
		}
		r.Extra["gen_cpu_us_per_op"] = (selfCPU() - c0.gen) * 1e6 / float64(r.Count)
		lat += fmt.Sprintf(" gen %.1f µs/op", r.Extra["gen_cpu_us_per_op"])
	}
	fmt.Fprintf(b.log, "  %-22s %12s %-8s n=%d fail=%d unfinished=%d%s\n", r.Name, fnum(r.Value), r.Unit, r.Count, r.Failed, r.Unfinished, lat)
	return r
}

// newFleet creates n users of a fresh fleet and logs them in.
func (b *bench) newFleet(ctx context.Context, name string, n int) (*fleet, error) {
	k := b.fleets.Add(1)
	f := newFleet(b.srv.addr, b.cfg.Acnt, b.cfg.Pswd, fmt.Sprintf("b%d-%s%d-", os.Getpid(), name, k), b.tmp, b.cfg.Src, int(k)*b.cfg.Src%200)
	f.add(n)
	if _, err := loginAll(ctx, f.users, 200); err != nil {
		f.closeAll()
		return nil, err
	}
	return f, nil
}

// openLoop issues operations at rate per second for dur from `workers`
// goroutines (each at rate/workers, staggered): issue(i, sched) gets the
// operation's number and its scheduled time, which it must use as the start
// of the latency. Issue runs late, never early. Returns how many were issued.
func openLoop(ctx context.Context, rate float64, dur time.Duration, workers int, issue func(i int, sched int64)) int64 {
	if rate <= 0 {
		return 0
	}
	workers = max(1, min(workers, int(rate/200)+1))
	total := int64(rate * dur.Seconds())
	interval := float64(time.Second) / rate
	t0 := now() + int64(time.Millisecond)
	var issued atomic.Int64
	done := make(chan struct{}, workers)
	for w := 0; w < workers; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			// Worker w owns the operations i ≡ w (mod workers).
			for i := int64(w); i < total; i += int64(workers) {
				sched := t0 + int64(float64(i)*interval)
				if d := sched - now(); d > 0 {
					time.Sleep(time.Duration(d))
				}
				if ctx.Err() != nil {
					return
				}
				issue(int(i), sched)
				issued.Add(1)
			}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	return issued.Load()
}

// waitUntil polls cond every 5 ms until it holds or timeout passes.
func waitUntil(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// spawnWorkers starts idle-worker processes holding n users of target
// (srv or relay) at addr, and returns once all are logged in. stop ends them.
func (b *bench) spawnWorkers(ctx context.Context, target, addr string, n int) (ok, failed int, stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, nil, err
	}
	k := (n + b.cfg.PerProc - 1) / b.cfg.PerProc
	type worker struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		out   *bufio.Reader
	}
	var ws []worker
	stop = func() {
		for _, w := range ws {
			w.stdin.Close()
		}
		for _, w := range ws {
			w.cmd.Wait()
		}
	}
	first := 0
	for i := 0; i < k; i++ {
		m := n / k
		if i < n%k {
			m++
		}
		kf := b.fleets.Add(1)
		cmd := exec.Command(exe, "-role", "idle-worker", "-target", target, "-addr", addr, "-acnt", b.cfg.Acnt, "-pswd", b.cfg.Pswd,
			"-n", fmt.Sprint(m), "-first", fmt.Sprint(first), "-src", fmt.Sprint(b.cfg.Src),
			"-prefix", fmt.Sprintf("w%d-%d-", os.Getpid(), kf))
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			stop()
			return 0, 0, nil, err
		}
		ws = append(ws, worker{cmd, in, bufio.NewReader(out)})
		first += m
	}
	for _, w := range ws {
		line, err := w.out.ReadString('\n')
		if err != nil {
			stop()
			return 0, 0, nil, fmt.Errorf("worker: %v", err)
		}
		var o, f int
		fmt.Sscanf(line, "ready %d %d", &o, &f)
		ok += o
		failed += f
	}
	return ok, failed, stop, nil
}

// idleWorkerMain is -role idle-worker: log n users in (target srv: core
// clients; relay: raw gorilla clients of the floor relay), print
// "ready OK FAILED", hold them until stdin closes.
func idleWorkerMain(ctx context.Context, cfg config, target, addr, prefix string, n, first int) int {
	tmp, err := os.MkdirTemp("", "crvideobench-w-")
	if err != nil {
		return 1
	}
	defer os.RemoveAll(tmp)
	srcBase := (first / 1000) % 200
	var closeAll func()
	ok, failed := 0, 0
	if target == "relay" {
		ok, failed, closeAll = holdRelay(ctx, addr, n, first, cfg.Src, srcBase)
	} else {
		f := newFleet(addr, cfg.Acnt, cfg.Pswd, prefix, tmp, cfg.Src, srcBase)
		f.add(n)
		var err error
		failed, err = loginAll(ctx, f.users, 200)
		ok = n - failed
		if err != nil {
			fmt.Fprintln(os.Stderr, "idle-worker:", err)
		}
		closeAll = f.closeAll
	}
	fmt.Printf("ready %d %d\n", ok, failed)
	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-ctx.Done():
	case <-done:
	}
	closeAll()
	return 0
}
