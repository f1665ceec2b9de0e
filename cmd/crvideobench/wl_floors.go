package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// wlFloors measures the floors: the raw TCP relay with 1 and 8 streams, and
// the gorilla relay's echo rate and latency, connect rate and fan-out.
func (b *bench) wlFloors(ctx context.Context) error {
	for _, n := range []int{1, 8} {
		bytes, el, err := tcpRelayThroughput(ctx, b.floors.tcpAddr, n, b.cfg.Dur, uint64(n)<<32)
		if err != nil {
			return err
		}
		b.add(&Result{Name: fmt.Sprintf("floor-tcp-relay-%d", n), What: fmt.Sprintf("raw TCP relay on loopback, %d stream(s), io.CopyBuffer 256 KiB through the middle", n),
			Value: float64(bytes) / el.Seconds() / 1e6, Unit: "MB/s", Better: "higher", Seconds: el.Seconds(), Count: bytes})
	}
	dial := newFleet("", "", "", "", "", b.cfg.Src, 100).dials
	pairs := b.cfg.CmdPairs
	cl, err := b.relayClients(ctx, 2*pairs, 0, false, dial)
	if err != nil {
		return err
	}
	defer closeRelay(cl)
	// Echo: a → relay → b, b → relay → a; one operation is four WebSocket
	// messages, like a sendCmd (FrameCmd, forwarded FrameCmd, cmdAck, sendRslt).
	var hp atomic.Pointer[hist]
	var done, deadline atomic.Int64
	closedLoop := atomic.Bool{}
	for p := 0; p < pairs; p++ {
		a, bb := cl[2*p], cl[2*p+1]
		go a.readLoop(func(src uint32, kind byte, sched int64) {
			hp.Load().record(time.Duration(now() - sched))
			done.Add(1)
			if closedLoop.Load() && now() < deadline.Load() {
				a.sendMsg(bb.id, 'q', now())
			}
		})
		go bb.readLoop(func(src uint32, kind byte, sched int64) {
			bb.sendMsg(src, 'a', sched)
		})
	}
	// Peak: closed loop, CmdWindow in flight per pair.
	h := &hist{}
	hp.Store(h)
	closedLoop.Store(true)
	start := now()
	deadline.Store(start + int64(b.cfg.Dur))
	for w := 0; w < b.cfg.CmdWindow; w++ {
		for p := 0; p < pairs; p++ {
			cl[2*p].sendMsg(cl[2*p+1].id, 'q', now())
		}
	}
	time.Sleep(b.cfg.Dur)
	n := done.Load()
	el := time.Duration(now() - start)
	waitUntil(ctx, b.cfg.Drain, func() bool {
		return h.n.Load() >= uint64(int64(pairs*b.cfg.CmdWindow)+n) || now() > deadline.Load()+int64(time.Second)
	})
	b.add(&Result{Name: "floor-ws-echo-peak", What: fmt.Sprintf("gorilla relay echo (4 WebSocket messages per op), closed loop, %d pairs × %d in flight", pairs, b.cfg.CmdWindow),
		Value: float64(n) / el.Seconds(), Unit: "ops/s", Better: "higher", Users: 2 * pairs, Seconds: el.Seconds(), Count: n, Rate: float64(n) / el.Seconds(), Lat: h.summary()})
	time.Sleep(200 * time.Millisecond)
	// Latency: open loop at the sendCmd latency rate.
	closedLoop.Store(false)
	h = &hist{}
	hp.Store(h)
	done.Store(0)
	start = now()
	issued := openLoop(ctx, b.cfg.CmdRate, b.cfg.Dur, 4, func(i int, sched int64) {
		p := i % pairs
		cl[2*p].sendMsg(cl[2*p+1].id, 'q', sched)
	})
	waitUntil(ctx, b.cfg.Drain, func() bool { return done.Load() >= issued })
	el = time.Duration(now() - start)
	b.add(&Result{Name: "floor-ws-echo-lat", What: fmt.Sprintf("gorilla relay echo, open loop at %.0f/s over %d pairs", b.cfg.CmdRate, pairs),
		Value: h.summary().p99(), Unit: "ms p99", Better: "lower", Users: 2 * pairs, Offered: b.cfg.CmdRate, Seconds: el.Seconds(),
		Count: done.Load(), Unfinished: issued - done.Load(), Rate: float64(done.Load()) / el.Seconds(), Lat: h.summary()})
	closeRelay(cl)

	if err := b.floorChain(ctx, dial); err != nil {
		return err
	}
	if err := b.floorConnect(ctx, dial); err != nil {
		return err
	}
	return b.floorFanout(ctx, dial)
}

// floorChain is the floor of call setup: CallPairs pairs with one
// operation in flight each, closed loop, where an operation is three echoes
// in sequence (a → relay → b → relay → a, three times: 12 WebSocket
// messages; a call setup with its hang-up is 9, in three request legs).
// Like call setup, it cannot batch: each message is a system call and a
// wake-up on each side.
func (b *bench) floorChain(ctx context.Context, dial []func(context.Context, string, string) (net.Conn, error)) error {
	np := b.cfg.CallPairs
	cl, err := b.relayClients(ctx, 2*np, 5<<20, false, dial)
	if err != nil {
		return err
	}
	defer closeRelay(cl)
	h := &hist{}
	var done, busy, deadline atomic.Int64
	for p := 0; p < np; p++ {
		a, bb := cl[2*p], cl[2*p+1]
		leg := 0 // only a's reader touches it
		go a.readLoop(func(src uint32, kind byte, sched int64) {
			if leg++; leg < 3 {
				a.sendMsg(bb.id, 'q', sched)
				return
			}
			leg = 0
			h.record(time.Duration(now() - sched))
			done.Add(1)
			if now() < deadline.Load() {
				a.sendMsg(bb.id, 'q', now())
				return
			}
			busy.Add(-1)
		})
		go bb.readLoop(func(src uint32, kind byte, sched int64) {
			bb.sendMsg(src, 'a', sched)
		})
	}
	b.markPid(b.floorPid)
	start := now()
	deadline.Store(start + int64(b.cfg.Dur))
	busy.Store(int64(np))
	for p := 0; p < np; p++ {
		cl[2*p].sendMsg(cl[2*p+1].id, 'q', now())
	}
	time.Sleep(b.cfg.Dur)
	n := done.Load()
	el := time.Duration(now() - start)
	waitUntil(ctx, b.cfg.Drain, func() bool { return busy.Load() == 0 })
	b.add(&Result{Name: "floor-ws-chain", What: fmt.Sprintf("gorilla relay: three echoes in sequence per op (12 WebSocket messages), closed loop, %d pairs × 1 in flight", np),
		Value: float64(n) / el.Seconds(), Unit: "ops/s", Better: "higher", Users: 2 * np, Seconds: el.Seconds(), Count: n, Rate: float64(n) / el.Seconds(), Lat: h.summary()})
	return nil
}

func (l *Latency) p99() float64 {
	if l == nil {
		return 0
	}
	return l.P99
}

// relayClients connects n relay clients numbered from first.
func (b *bench) relayClients(ctx context.Context, n int, first uint32, sub bool, dial []func(context.Context, string, string) (net.Conn, error)) ([]*relayClient, error) {
	cl, _, err := dialRelays(ctx, b.floors.wsAddr, n, first, sub, dial)
	if err != nil {
		closeRelay(cl)
		return nil, err
	}
	return cl, nil
}

// dialRelays connects n relay clients numbered from first, 100 at a time,
// spread over dial. A client that failed is nil in cl; failed counts them
// and err is the first failure.
func dialRelays(ctx context.Context, addr string, n int, first uint32, sub bool, dial []func(context.Context, string, string) (net.Conn, error)) (cl []*relayClient, failed int, err error) {
	cl = make([]*relayClient, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, 100)
	for i := range cl {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, cerr := dialRelay(ctx, addr, first+uint32(i), sub, dial[i%len(dial)])
			mu.Lock()
			defer mu.Unlock()
			if cerr != nil {
				failed++
				if err == nil {
					err = cerr
				}
				return
			}
			cl[i] = c
		}()
	}
	wg.Wait()
	return cl, failed, err
}

func closeRelay(cl []*relayClient) {
	for _, c := range cl {
		if c != nil {
			c.ws.Close()
		}
	}
}

// floorConnect: WebSocket connect + upgrade + hello round trip, open loop at
// the login storm's rate.
func (b *bench) floorConnect(ctx context.Context, dial []func(context.Context, string, string) (net.Conn, error)) error {
	h := &hist{}
	var ok, bad atomic.Int64
	var mu sync.Mutex
	var all []*relayClient
	start := now()
	issued := openLoop(ctx, b.cfg.LoginRate, b.cfg.Dur, 2, func(i int, sched int64) {
		go func() {
			c, err := dialRelay(ctx, b.floors.wsAddr, uint32(1<<20+i), false, dial[i%len(dial)])
			if err != nil {
				bad.Add(1)
				return
			}
			h.record(time.Duration(now() - sched))
			ok.Add(1)
			mu.Lock()
			all = append(all, c)
			mu.Unlock()
		}()
	})
	waitUntil(ctx, b.cfg.Drain, func() bool { return ok.Load()+bad.Load() >= issued })
	el := time.Duration(now() - start)
	b.add(&Result{Name: "floor-ws-connect", What: fmt.Sprintf("gorilla relay: TCP connect + WebSocket upgrade + hello round trip, open loop at %.0f/s", b.cfg.LoginRate),
		Value: float64(ok.Load()) / el.Seconds(), Unit: "conn/s", Better: "higher", Offered: b.cfg.LoginRate, Seconds: el.Seconds(),
		Count: ok.Load(), Failed: bad.Load(), Unfinished: issued - ok.Load() - bad.Load(), Rate: float64(ok.Load()) / el.Seconds(), Lat: h.summary()})
	mu.Lock()
	closeRelay(all)
	mu.Unlock()
	return nil
}

// floorFanout: togglers broadcast through the relay to every subscriber,
// open loop at the status workload's rate.
func (b *bench) floorFanout(ctx context.Context, dial []func(context.Context, string, string) (net.Conn, error)) error {
	subs, err := b.relayClients(ctx, b.cfg.StatusSubs, 2<<20, true, dial)
	if err != nil {
		return err
	}
	defer closeRelay(subs)
	tog, err := b.relayClients(ctx, b.cfg.StatusTogl, 3<<20, false, dial)
	if err != nil {
		return err
	}
	defer closeRelay(tog)
	h := &hist{}
	var got atomic.Int64
	var last atomic.Int64
	for _, s := range subs {
		go s.readLoop(func(src uint32, kind byte, sched int64) {
			t := now()
			h.record(time.Duration(t - sched))
			got.Add(1)
			last.Store(t)
		})
	}
	start := now()
	issued := openLoop(ctx, b.cfg.StatusRate, b.cfg.Dur, 2, func(i int, sched int64) {
		tog[i%len(tog)].sendMsg(broadcastDst, 's', sched)
	})
	want := issued * int64(len(subs))
	waitUntil(ctx, b.cfg.Drain, func() bool { return got.Load() >= want })
	el := time.Duration(last.Load() - start)
	b.add(&Result{Name: "floor-ws-fanout", What: fmt.Sprintf("gorilla relay broadcast: %.0f msgs/s from %d senders to %d subscribers", b.cfg.StatusRate, len(tog), len(subs)),
		Value: float64(got.Load()) / el.Seconds(), Unit: "msgs/s", Better: "higher", Users: len(subs) + len(tog), Offered: b.cfg.StatusRate * float64(len(subs)),
		Seconds: el.Seconds(), Count: got.Load(), Unfinished: want - got.Load(), Rate: float64(got.Load()) / el.Seconds(), Lat: h.summary()})
	return nil
}

// holdRelay connects n idle relay clients (an idle worker's job).
func holdRelay(ctx context.Context, addr string, n, first, src, srcBase int) (ok, failed int, closeAll func()) {
	dial := newFleet("", "", "", "", "", src, srcBase).dials
	cl, failed, _ := dialRelays(ctx, addr, n, uint32(4<<20+first), false, dial)
	for _, c := range cl {
		if c != nil {
			go c.readLoop(func(uint32, byte, int64) {})
		}
	}
	return n - failed, failed, func() { closeRelay(cl) }
}
