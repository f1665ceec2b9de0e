package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
)

// makeFile writes size bytes (a random 1 MiB block repeated) to a new file.
func makeFile(dir string, size int64) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("payload-%d.bin", size))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	block := make([]byte, 1<<20)
	rand.Read(block)
	for left := size; left > 0; {
		k := min(left, int64(len(block)))
		if _, err := f.Write(block[:k]); err != nil {
			f.Close()
			return "", err
		}
		left -= k
	}
	return path, f.Close()
}

// wlXfer: sendBuffer and sendFile throughput with 1 and 8 pairs, each pair
// sending XferSize-byte transfers one after another for Dur.
func (b *bench) wlXfer(ctx context.Context) error {
	raw := make([]byte, b.cfg.XferSize)
	rand.Read(raw)
	data := base64.StdEncoding.EncodeToString(raw)
	raw = nil
	file, err := makeFile(b.tmp, b.cfg.XferSize)
	if err != nil {
		return err
	}
	for _, kind := range []string{"buffer", "file"} {
		for _, np := range []int{1, 8} {
			if err := b.xfer(ctx, kind, np, data, file); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *bench) xfer(ctx context.Context, kind string, np int, data, file string) error {
	f, err := b.newFleet(ctx, "x"+kind, 2*np)
	if err != nil {
		return err
	}
	defer f.closeAll()
	size := b.cfg.XferSize
	var bytes, bad, active, last atomic.Int64
	var deadline int64
	h := &hist{}
	startAt := make([]atomic.Int64, 2*np)
	send := func(a, to *user) {
		startAt[a.idx].Store(now())
		if kind == "buffer" {
			a.m.SendBuffer(to.id, data)
		} else {
			a.m.SendFile(to.id, file)
		}
	}
	f.setHandler(func(u *user, ev evKind, id string, code int, s string) {
		switch ev {
		case evBufferRslt, evFileRslt:
			t := now()
			if code != 0 {
				bad.Add(1)
			} else {
				bytes.Add(size)
				h.record(time.Duration(t - startAt[u.idx].Load()))
				last.Store(t)
			}
			if t < deadline && code == 0 {
				send(u, f.users[u.idx^1])
			} else {
				active.Add(-1)
			}
		case evFileData:
			os.Remove(s)
		}
	})
	start := now()
	deadline = start + int64(b.cfg.Dur)
	active.Store(int64(np))
	for p := 0; p < np; p++ {
		send(f.users[2*p], f.users[2*p+1])
	}
	waitUntil(ctx, b.cfg.Dur+b.cfg.Drain+time.Minute, func() bool { return active.Load() == 0 })
	el := time.Duration(last.Load() - start)
	api := map[string]string{"buffer": "sendBuffer", "file": "sendFile"}[kind]
	r := b.add(&Result{Name: fmt.Sprintf("%s-%d", kind, np),
		What:  fmt.Sprintf("%s payload throughput, %d pair(s), %d MiB transfers back to back", api, np, size>>20),
		Value: float64(bytes.Load()) / el.Seconds() / 1e6, Unit: "MB/s", Better: "higher", Users: 2 * np, Seconds: el.Seconds(),
		Count: bytes.Load() / size, Failed: bad.Load(), Lat: h.summary(), Note: "latency = one whole transfer"})
	b.rep.compare(r, fmt.Sprintf("floor-tcp-relay-%d", np))
	return nil
}

// wlDuring: sendCmd latency (open loop at ProbeRate) on the connections of
// a pair that sends a BigSize file, and on another pair, first with no
// transfer, then while the transfer runs.
func (b *bench) wlDuring(ctx context.Context) error {
	file, err := makeFile(b.tmp, b.cfg.BigSize)
	if err != nil {
		return err
	}
	defer os.Remove(file)
	f, err := b.newFleet(ctx, "dur", 4)
	if err != nil {
		return err
	}
	defer f.closeAll()
	data := cmdPayload()
	pend := newPending()
	var same, other atomic.Pointer[hist]
	var done, bad, xferDone, xferEnd atomic.Int64
	f.setHandler(func(u *user, ev evKind, id string, code int, s string) {
		switch ev {
		case evCmdRslt:
			u.settled()
			sched, ok := pend.take(id)
			if !ok {
				return
			}
			if code != 0 {
				bad.Add(1)
				return
			}
			h := same.Load()
			if u.idx >= 2 {
				h = other.Load()
			}
			h.record(time.Duration(now() - sched))
			done.Add(1)
		case evFileRslt:
			xferEnd.Store(now())
			xferDone.Store(int64(1 + code))
		case evFileData:
			os.Remove(s)
		}
	})
	probe := func(dur time.Duration, until func() bool) (*hist, *hist, int64) {
		hs, ho := &hist{}, &hist{}
		same.Store(hs)
		other.Store(ho)
		pctx, cancel := context.WithCancel(ctx)
		defer cancel()
		if until != nil {
			go func() {
				for !until() && pctx.Err() == nil {
					time.Sleep(5 * time.Millisecond)
				}
				cancel()
			}()
		}
		done.Store(0)
		issued := openLoop(pctx, b.cfg.ProbeRate, dur, 1, func(i int, sched int64) {
			a, to := f.users[0], f.users[1]
			if i%2 == 1 {
				a, to = f.users[2], f.users[3]
			}
			pend.issue(a, func() string { return a.m.SendCmd(to.id, data) }, sched)
		})
		waitUntil(ctx, b.cfg.Drain, func() bool { return done.Load()+bad.Load() >= issued })
		return hs, ho, issued
	}
	hs, ho, n := probe(b.cfg.Dur, nil)
	idle := b.add(&Result{Name: "signal-idle", What: fmt.Sprintf("sendCmd latency, open loop at %.0f/s, no transfer (same connections as the transfer below)", b.cfg.ProbeRate),
		Value: hs.summary().p99(), Unit: "ms p99", Better: "lower", Users: 4, Offered: b.cfg.ProbeRate, Count: int64(hs.n.Load()),
		Unfinished: n - int64(hs.n.Load()+ho.n.Load()), Lat: hs.summary(), Extra: map[string]float64{"other_pair_p99_ms": ho.summary().p99()}})
	t0 := now()
	f.users[0].m.SendFile(f.users[1].id, file)
	hs, ho, n = probe(10*time.Minute, func() bool { return xferDone.Load() != 0 })
	el := time.Duration(xferEnd.Load() - t0)
	r := b.add(&Result{Name: "signal-during-xfer", What: fmt.Sprintf("sendCmd latency on the same connections while a %d MiB sendFile runs (%.0f MB/s)", b.cfg.BigSize>>20,
		float64(b.cfg.BigSize)/el.Seconds()/1e6),
		Value: hs.summary().p99(), Unit: "ms p99", Better: "lower", Users: 4, Offered: b.cfg.ProbeRate, Seconds: el.Seconds(), Count: int64(hs.n.Load()),
		Failed: bad.Load(), Unfinished: n - int64(hs.n.Load()+ho.n.Load()), Lat: hs.summary(),
		Extra: map[string]float64{"other_pair_p99_ms": ho.summary().p99(), "xfer_MBps": float64(b.cfg.BigSize) / el.Seconds() / 1e6}})
	if xferDone.Load() != 1 {
		r.Note = fmt.Sprintf("transfer result code %d", xferDone.Load()-1)
	}
	r.Floor, r.FloorValue = "signal-idle", idle.Value
	if idle.Value > 0 {
		r.Ratio = r.Value / idle.Value
	}
	return nil
}

// judge sets every figure's target from the issue.
func (b *bench) judge() {
	r := b.rep
	if x := r.find("idle-hold"); x != nil && x.Value > 0 {
		target(x, "19,000 users ≤ 15 KB", x.Users >= 19000 && x.Value <= 15)
	}
	if x := r.find("login-storm"); x != nil && x.Lat != nil {
		target(x, "4,000/s p99 ≤ 50 ms", x.Value >= 4000*0.98 && x.Lat.P99 <= 50)
	}
	if x := r.find("call-peak"); x != nil {
		target(x, "≥ 5,000/s", x.Value >= 5000)
	}
	if x := r.find("call-lat"); x != nil && x.Lat != nil {
		target(x, "p99 ≤ 5 ms at 2,500/s", x.Offered >= 2500 && x.Rate >= 0.98*x.Offered && x.Lat.P99 <= 5)
	}
	if x := r.find("cmd-peak"); x != nil {
		target(x, "≥ 100,000/s", x.Value >= 100000)
	}
	for _, n := range []string{"buffer-1", "buffer-8", "file-1", "file-8"} {
		if x := r.find(n); x != nil && x.Floor != "" {
			target(x, "≥ 50% of TCP relay", x.Ratio >= 0.5)
		}
	}
	if x := r.find("status-fanout"); x != nil {
		target(x, "≥ 100,000/s", x.Value >= 100000)
	}
	if x := r.find("signal-during-xfer"); x != nil && x.Floor != "" {
		target(x, "p99 ≤ 2× idle", x.Ratio <= 2)
	}
}
