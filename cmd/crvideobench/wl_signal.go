package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// wlIdle holds IdleUsers logged in and measures the server's RSS and CPU per
// user (and the gorilla relay's per idle connection, its floor).
func (b *bench) wlIdle(ctx context.Context) error {
	n := b.cfg.IdleUsers
	if b.floorPid != 0 {
		// A fresh relay process, so that memory the earlier floors left in
		// its heap does not hide what the idle connections take.
		old, oldPid := b.floors, b.floorPid
		if err := b.startFloors(ctx); err != nil {
			return err
		}
		r, err := b.hold(ctx, "relay", b.floors.wsAddr, b.floorPid, n)
		b.floors.close()
		b.floors, b.floorPid = old, oldPid
		if err != nil {
			return err
		}
		r.Name, r.What = "floor-ws-idle", "gorilla relay: server RSS per idle connection"
		b.add(r)
	}
	r, err := b.hold(ctx, "srv", b.srv.addr, b.srv.pid, n)
	if err != nil {
		return err
	}
	r.Name, r.What = "idle-hold", fmt.Sprintf("%d logged-in idle users: server RSS per user", n)
	b.rep.compare(r, "floor-ws-idle")
	b.add(r)
	return nil
}

// hold logs n users in to target (srv or relay), measures pid's RSS growth
// and its CPU over IdleHold, and logs them out.
func (b *bench) hold(ctx context.Context, target, addr string, pid, n int) (*Result, error) {
	runtimeGCWait()
	var before, mid, end procStat
	var err error
	if pid != 0 {
		if before, err = readProc(pid); err != nil {
			return nil, err
		}
	}
	t0 := time.Now()
	var ok, failed int
	var stop func()
	if b.cfg.FloorSub {
		ok, failed, stop, err = b.spawnWorkers(ctx, target, addr, n)
		if err != nil {
			return nil, err
		}
	} else {
		if target == "relay" {
			ok, failed, stop = holdRelay(ctx, addr, n, 0, b.cfg.Src, 150)
		} else {
			f := newFleet(addr, b.cfg.Acnt, b.cfg.Pswd, fmt.Sprintf("i%d-", b.fleets.Add(1)), b.tmp, b.cfg.Src, 150)
			f.add(n)
			var lerr error
			failed, lerr = loginAll(ctx, f.users, 200)
			ok, stop = n-failed, f.closeAll
			if lerr != nil {
				fmt.Fprintln(b.log, "  idle:", lerr)
			}
		}
	}
	connect := time.Since(t0)
	time.Sleep(time.Second) // let the connections settle (first pings, GC)
	if pid != 0 {
		mid, _ = readProc(pid)
	}
	time.Sleep(b.cfg.IdleHold)
	if pid != 0 {
		end, _ = readProc(pid)
	}
	stop()
	r := &Result{Unit: "KB/user", Better: "lower", Users: ok, Count: int64(ok), Failed: int64(failed), Seconds: b.cfg.IdleHold.Seconds(),
		Extra: map[string]float64{"connect_s": connect.Seconds()}}
	if pid == 0 || ok == 0 {
		r.Note = "server shares this process: memory not measured"
		return r, nil
	}
	r.Value = float64(end.RSS-before.RSS) / float64(ok) / 1024
	r.Extra["rss_before_mb"] = float64(before.RSS) / 1e6
	r.Extra["rss_held_mb"] = float64(end.RSS) / 1e6
	r.Extra["cpu_pct_per_1k_users"] = (end.CPU - mid.CPU) / b.cfg.IdleHold.Seconds() * 100 / float64(ok) * 1000
	r.Extra["connect_per_s"] = float64(ok) / connect.Seconds()
	r.Note = fmt.Sprintf("RSS %.0f → %.0f MB; CPU %.2f%% of a core per 1000 users (pings); kernel socket memory not included",
		float64(before.RSS)/1e6, float64(end.RSS)/1e6, r.Extra["cpu_pct_per_1k_users"])
	return r, nil
}

func runtimeGCWait() { time.Sleep(500 * time.Millisecond) }

// wlLogin: a login storm, open loop at LoginRate for Dur, each arrival a new
// user (a new connection); latency to LoginSuccess.
func (b *bench) wlLogin(ctx context.Context) error {
	n := int(b.cfg.LoginRate * b.cfg.Dur.Seconds())
	f := newFleet(b.srv.addr, b.cfg.Acnt, b.cfg.Pswd, fmt.Sprintf("l%d-%d-", b.fleets.Add(1), now()), b.tmp, b.cfg.Src, 50)
	defer f.closeAll()
	users := f.add(n)
	sched := make([]atomic.Int64, n)
	h := &hist{}
	var ok, bad, lastCode atomic.Int64
	f.setHandler(func(u *user, ev evKind, id string, code int, s string) {
		switch ev {
		case evLogin:
			h.record(time.Duration(now() - sched[u.idx].Load()))
			ok.Add(1)
		case evLoginFail:
			bad.Add(1)
			lastCode.Store(int64(code))
		}
	})
	b.mark()
	start := now()
	issued := openLoop(ctx, b.cfg.LoginRate, b.cfg.Dur, 2, func(i int, t int64) {
		sched[i].Store(t)
		users[i].login()
	})
	waitUntil(ctx, b.cfg.Drain, func() bool { return ok.Load()+bad.Load() >= issued })
	el := time.Duration(now() - start)
	r := b.add(&Result{Name: "login-storm", What: fmt.Sprintf("login storm: %d new connections + logins, open loop at %.0f/s", n, b.cfg.LoginRate),
		Value: float64(ok.Load()) / el.Seconds(), Unit: "logins/s", Better: "higher", Users: n, Offered: b.cfg.LoginRate, Seconds: el.Seconds(),
		Count: ok.Load(), Failed: bad.Load(), Unfinished: issued - ok.Load() - bad.Load(), Rate: float64(ok.Load()) / el.Seconds(), Lat: h.summary()})
	if bad.Load() > 0 {
		r.Note = fmt.Sprintf("last loginFail code %d", lastCode.Load())
	}
	b.rep.compare(r, "floor-ws-connect")
	return nil
}

// cmdPayload is a 48-byte sendCmd payload, base64.
func cmdPayload() string {
	raw := make([]byte, 48)
	rand.Read(raw)
	return base64.StdEncoding.EncodeToString(raw)
}

// wlCmd: sendCmd between pairs; peak (closed loop) and latency (open loop).
func (b *bench) wlCmd(ctx context.Context) error {
	pairs := b.cfg.CmdPairs
	f, err := b.newFleet(ctx, "cmd", 2*pairs)
	if err != nil {
		return err
	}
	defer f.closeAll()
	data := cmdPayload()
	pend := newPending()
	var hp atomic.Pointer[hist]
	var done, bad, delivered, deadline atomic.Int64
	var closedLoop atomic.Bool
	send := func(a, to *user, sched int64) {
		pend.issue(a, func() string { return a.m.SendCmd(to.id, data) }, sched)
	}
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
			} else {
				hp.Load().record(time.Duration(now() - sched))
				done.Add(1)
			}
			if closedLoop.Load() && now() < deadline.Load() {
				send(u, f.users[u.idx^1], now())
			}
		case evCmdData:
			delivered.Add(1)
		}
	})
	// Peak: closed loop, CmdWindow in flight per pair.
	h := &hist{}
	hp.Store(h)
	closedLoop.Store(true)
	b.mark()
	start := now()
	deadline.Store(start + int64(b.cfg.Dur))
	for w := 0; w < b.cfg.CmdWindow; w++ {
		for p := 0; p < pairs; p++ {
			send(f.users[2*p], f.users[2*p+1], now())
		}
	}
	time.Sleep(b.cfg.Dur)
	n := done.Load()
	el := time.Duration(now() - start)
	waitUntil(ctx, b.cfg.Drain, func() bool { return pend.size() == 0 })
	r := b.add(&Result{Name: "cmd-peak", What: fmt.Sprintf("sendCmd → sendCmdRlst(0), closed loop, %d pairs × %d in flight", pairs, b.cfg.CmdWindow),
		Value: float64(n) / el.Seconds(), Unit: "cmds/s", Better: "higher", Users: 2 * pairs, Seconds: el.Seconds(),
		Count: n, Failed: bad.Load(), Unfinished: int64(pend.size()), Rate: float64(n) / el.Seconds(), Lat: h.summary()})
	b.rep.compare(r, "floor-ws-echo-peak")
	// Latency: open loop.
	closedLoop.Store(false)
	h = &hist{}
	hp.Store(h)
	done.Store(0)
	bad.Store(0)
	b.mark()
	start = now()
	issued := openLoop(ctx, b.cfg.CmdRate, b.cfg.Dur, 4, func(i int, sched int64) {
		p := i % pairs
		send(f.users[2*p], f.users[2*p+1], sched)
	})
	waitUntil(ctx, b.cfg.Drain, func() bool { return done.Load()+bad.Load() >= issued })
	el = time.Duration(now() - start)
	r = b.add(&Result{Name: "cmd-lat", What: fmt.Sprintf("sendCmd → sendCmdRlst(0), open loop at %.0f/s over %d pairs", b.cfg.CmdRate, pairs),
		Value: h.summary().p99(), Unit: "ms p99", Better: "lower", Users: 2 * pairs, Offered: b.cfg.CmdRate, Seconds: el.Seconds(),
		Count: done.Load(), Failed: bad.Load(), Unfinished: issued - done.Load() - bad.Load(), Rate: float64(done.Load()) / el.Seconds(), Lat: h.summary()})
	b.rep.compare(r, "floor-ws-echo-lat")
	return nil
}

// callPair is a caller and a callee that run one call at a time; calls
// scheduled while one is up wait in backlog with their scheduled times.
type callPair struct {
	a, b    *user
	mu      sync.Mutex
	busy    bool
	backlog []int64
}

// wlCall: call setup (call → callSuccess → callIn → accept → callAccepted),
// then hang up; peak (closed loop, one call per pair) and latency (open loop).
func (b *bench) wlCall(ctx context.Context) error {
	np := b.cfg.CallPairs
	f, err := b.newFleet(ctx, "call", 2*np)
	if err != nil {
		return err
	}
	defer f.closeAll()
	pairs := make([]*callPair, np)
	for i := range pairs {
		pairs[i] = &callPair{a: f.users[2*i], b: f.users[2*i+1]}
	}
	pend := newPending()
	var setupH, ringH atomic.Pointer[hist]
	var done, bad, deadline atomic.Int64
	var closedLoop atomic.Bool
	start := func(p *callPair, sched int64) {
		pend.issue(p.a, func() string { return p.a.m.Call(p.b.id, "", "", "") }, sched)
	}
	enqueue := func(p *callPair, sched int64) {
		p.mu.Lock()
		if p.busy {
			p.backlog = append(p.backlog, sched)
			p.mu.Unlock()
			return
		}
		p.busy = true
		p.mu.Unlock()
		start(p, sched)
	}
	release := func(p *callPair) {
		p.mu.Lock()
		if len(p.backlog) > 0 {
			next := p.backlog[0]
			p.backlog = p.backlog[1:]
			p.mu.Unlock()
			start(p, next)
			return
		}
		if closedLoop.Load() && now() < deadline.Load() {
			p.mu.Unlock()
			start(p, now())
			return
		}
		p.busy = false
		p.mu.Unlock()
	}
	f.setHandler(func(u *user, ev evKind, id string, code int, s string) {
		p := pairs[u.idx/2]
		switch ev {
		case evCallSuccess:
			u.settled()
			if sched, ok := pend.peek(id); ok {
				ringH.Load().record(time.Duration(now() - sched))
			}
		case evCallFail:
			u.settled()
			pend.take(id)
			bad.Add(1)
			release(p)
		case evCallIn:
			u.m.AcceptCall(id, "", "", "")
		case evAcceptFail:
			bad.Add(1)
		case evCallAccepted:
			u.settled()
			if sched, ok := pend.take(id); ok {
				setupH.Load().record(time.Duration(now() - sched))
				done.Add(1)
			}
			u.m.HungupCall(id, "", "")
		case evHungupRslt:
			if u == p.a {
				release(p)
			}
		}
	})
	measure := func(name, what string, offered float64, issue func() int64) *Result {
		sh, rh := &hist{}, &hist{}
		setupH.Store(sh)
		ringH.Store(rh)
		done.Store(0)
		bad.Store(0)
		b.mark()
		t0 := now()
		issued := issue()
		n := done.Load()
		el := time.Duration(now() - t0)
		idle := func() bool {
			for _, p := range pairs {
				p.mu.Lock()
				busy := p.busy
				p.mu.Unlock()
				if busy {
					return false
				}
			}
			return true
		}
		waitUntil(ctx, b.cfg.Drain, idle)
		if offered > 0 {
			n = done.Load()
			el = time.Duration(now() - t0)
		}
		r := &Result{Name: name, What: what, Users: 2 * np, Offered: offered, Seconds: el.Seconds(), Count: n, Failed: bad.Load(),
			Unfinished: max(0, issued-done.Load()-bad.Load()), Rate: float64(n) / el.Seconds(), Lat: sh.summary(),
			Extra: map[string]float64{"ring_p50_ms": rh.summary().p50(), "ring_p99_ms": rh.summary().p99()}}
		return r
	}
	closedLoop.Store(true)
	r := measure("call-peak", fmt.Sprintf("call setups (call → ringing → accept → accepted, then hang up), closed loop, %d pairs", np), 0, func() int64 {
		deadline.Store(now() + int64(b.cfg.Dur))
		for _, p := range pairs {
			enqueue(p, now())
		}
		time.Sleep(b.cfg.Dur)
		return 0
	})
	r.Value, r.Unit, r.Better, r.Unfinished = r.Rate, "setups/s", "higher", 0
	b.add(r)
	b.rep.compare(r, "floor-ws-chain")
	closedLoop.Store(false)
	r = measure("call-lat", fmt.Sprintf("call setup latency (scheduled call → notifyCallAccepted), open loop at %.0f/s over %d pairs", b.cfg.CallRate, np), b.cfg.CallRate, func() int64 {
		return openLoop(ctx, b.cfg.CallRate, b.cfg.Dur, 4, func(i int, sched int64) { enqueue(pairs[i%np], sched) })
	})
	r.Value, r.Unit, r.Better = r.Lat.p99(), "ms p99", "lower"
	b.add(r)
	b.rep.compare(r, "floor-ws-echo-lat")
	return nil
}

func (l *Latency) p50() float64 {
	if l == nil {
		return 0
	}
	return l.P50
}

// wlStatus: togglers change do-not-disturb, open loop; every change is
// pushed to every subscriber.
func (b *bench) wlStatus(ctx context.Context) error {
	ns, nt := b.cfg.StatusSubs, b.cfg.StatusTogl
	f, err := b.newFleet(ctx, "st", ns+nt)
	if err != nil {
		return err
	}
	defer f.closeAll()
	subs, togs := f.users[:ns], f.users[ns:]
	togIdx := make(map[string]int, nt)
	for i, u := range togs {
		togIdx[u.id] = i
	}
	sched := make([][2]atomic.Int64, nt)
	state := make([]atomic.Int64, nt)
	h := &hist{}
	var got, last, subOK, dndBad atomic.Int64
	f.setHandler(func(u *user, ev evKind, id string, code int, s string) {
		switch ev {
		case evStatusNotifyRslt:
			if code == 0 {
				subOK.Add(1)
			}
		case evDNDRslt:
			if code != 0 {
				dndBad.Add(1)
			}
		case evStatus:
			uid, dnd, ok := parseStatus(s)
			if !ok {
				return
			}
			t, ok := togIdx[uid]
			if !ok || dnd < 0 || dnd > 1 {
				return
			}
			tn := now()
			h.record(time.Duration(tn - sched[t][dnd].Load()))
			got.Add(1)
			last.Store(tn)
		}
	})
	for _, u := range subs {
		u.m.StartUserStatusNotify("")
	}
	if !waitUntil(ctx, 30*time.Second, func() bool { return subOK.Load() >= int64(ns) }) {
		return fmt.Errorf("only %d of %d subscriptions", subOK.Load(), ns)
	}
	b.mark()
	start := now()
	issued := openLoop(ctx, b.cfg.StatusRate, b.cfg.Dur, 2, func(i int, t int64) {
		k := i % nt
		v := 1 - state[k].Load()
		state[k].Store(v)
		sched[k][v].Store(t)
		togs[k].m.SetDNDStatus(int(v), "")
	})
	want := issued * int64(ns)
	waitUntil(ctx, b.cfg.Drain, func() bool { return got.Load() >= want })
	el := time.Duration(last.Load() - start)
	r := b.add(&Result{Name: "status-fanout", What: fmt.Sprintf("userStatus pushes delivered (NotifyUserStatus): %.0f DND changes/s by %d users to %d subscribers", b.cfg.StatusRate, nt, ns),
		Value: float64(got.Load()) / el.Seconds(), Unit: "notifs/s", Better: "higher", Users: ns + nt, Offered: b.cfg.StatusRate * float64(ns),
		Seconds: el.Seconds(), Count: got.Load(), Failed: dndBad.Load(), Unfinished: want - got.Load(), Rate: float64(got.Load()) / el.Seconds(), Lat: h.summary()})
	b.rep.compare(r, "floor-ws-fanout")
	return nil
}

// parseStatus pulls userID and DNDType out of a UserStatusObj without a
// JSON parser (the generator must not be the bottleneck).
func parseStatus(js string) (uid string, dnd int, ok bool) {
	const k1, k2 = `"userID":"`, `"DNDType":`
	i := strings.Index(js, k1)
	if i < 0 {
		return "", 0, false
	}
	rest := js[i+len(k1):]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return "", 0, false
	}
	uid = rest[:j]
	i = strings.Index(js, k2)
	if i < 0 || i+len(k2) >= len(js) {
		return "", 0, false
	}
	c := js[i+len(k2)]
	if c < '0' || c > '9' {
		return "", 0, false
	}
	return uid, int(c - '0'), true
}
