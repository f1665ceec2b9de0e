package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
)

// evKind names a callback the workloads listen to.
type evKind int

const (
	evLogin evKind = iota
	evLoginFail
	evCmdRslt
	evCmdData
	evCallSuccess
	evCallFail
	evCallIn
	evAcceptFail
	evCallAccepted
	evHungupRslt
	evStatus
	evStatusNotifyRslt
	evDNDRslt
	evBufferRslt
	evFileRslt
	evBufferData
	evFileData
	evLineOff
)

// handler receives the callbacks of every user of a fleet; it runs on each
// user's dispatch goroutine, so concurrently for different users. id is the
// task or call ID, s a further string (the status JSON, the temp file).
type handler func(u *user, ev evKind, id string, code int, s string)

// fleet is a set of simulated users of one enterprise, each a core.Mgr with
// its own WebSocket connection, spread over several 127.0.0.x source
// addresses.
type fleet struct {
	addr   string
	acnt   string
	pswd   string // MD5 hex
	prefix string // usrID prefix, unique per run and process
	dials  []func(ctx context.Context, network, addr string) (net.Conn, error)
	tmp    string
	h      atomic.Pointer[handler]
	users  []*user
}

// user is one simulated client. It implements core.Callback.
type user struct {
	core.NopCallback
	f   *fleet
	m   *core.Mgr
	idx int
	id  string

	loginDone chan int   // the login result code
	mu        sync.Mutex // held while issuing a request (pending.issue)
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// newFleet prepares n users; srcAddrs source addresses 127.0.0.(srcBase…)
// are used in turn.
func newFleet(addr, acnt, pswd, prefix, tmp string, srcAddrs, srcBase int) *fleet {
	f := &fleet{addr: addr, acnt: acnt, pswd: md5hex(pswd), prefix: prefix, tmp: tmp}
	if srcAddrs < 1 {
		srcAddrs = 1
	}
	for i := 0; i < srcAddrs; i++ {
		ip := net.IPv4(127, 0, byte((srcBase+i)/250), byte(1+(srcBase+i)%250))
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
		f.dials = append(f.dials, d.DialContext)
	}
	f.setHandler(func(*user, evKind, string, int, string) {})
	return f
}

func (f *fleet) setHandler(h handler) { f.h.Store(&h) }

// add creates n more users (not logged in) and returns them.
func (f *fleet) add(n int) []*user {
	out := make([]*user, 0, n)
	for i := 0; i < n; i++ {
		idx := len(f.users)
		u := &user{f: f, idx: idx, id: f.prefix + strconv.Itoa(idx), loginDone: make(chan int, 1)}
		u.m = core.New(core.Config{Callback: u, TempDir: f.tmp, NetDial: f.dials[idx%len(f.dials)]})
		u.m.SetServerAddr(f.addr)
		f.users = append(f.users, u)
		out = append(out, u)
	}
	return out
}

// login starts u's login; the result arrives on loginDone and the handler.
func (u *user) login() {
	u.m.Login(u.f.acnt, u.f.pswd, "n", u.id, "", "")
}

// loginAll logs users in with at most conc logins in flight and returns how
// many failed.
func loginAll(ctx context.Context, users []*user, conc int) (failed int, err error) {
	sem := make(chan struct{}, conc)
	var bad, lastCode atomic.Int64
	var wg sync.WaitGroup
	for _, u := range users {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return int(bad.Load()), ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			u.login()
			select {
			case code := <-u.loginDone:
				if code != 0 {
					bad.Add(1)
					lastCode.Store(int64(code))
				}
			case <-time.After(30 * time.Second):
				bad.Add(1)
				lastCode.Store(-1)
			}
		}()
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		return int(n), fmt.Errorf("%d of %d logins failed, last code %d (-1: no answer in 30 s)", n, len(users), lastCode.Load())
	}
	return int(bad.Load()), nil
}

// closeAll closes every user of the fleet, a few at a time.
func (f *fleet) closeAll() {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, u := range f.users {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.m.Close()
			<-sem
		}()
	}
	wg.Wait()
	f.users = nil
}

func (u *user) ev(ev evKind, id string, code int, s string) { (*u.f.h.Load())(u, ev, id, code, s) }

// Callbacks the workloads use.
func (u *user) LoginSuccess(usrID, cookie string) {
	select {
	case u.loginDone <- 0:
	default:
	}
	u.ev(evLogin, usrID, 0, "")
}
func (u *user) LoginFail(code int, cookie string) {
	select {
	case u.loginDone <- code:
	default:
	}
	u.ev(evLoginFail, "", code, "")
}
func (u *user) LineOff(code int)                            { u.ev(evLineOff, "", code, "") }
func (u *user) SendCmdRlst(task string, code int, _ string) { u.ev(evCmdRslt, task, code, "") }
func (u *user) NotifyCmdData(from, data string)             { u.ev(evCmdData, from, 0, data) }
func (u *user) CallSuccess(callID, _ string)                { u.ev(evCallSuccess, callID, 0, "") }
func (u *user) CallFail(callID string, code int, _ string)  { u.ev(evCallFail, callID, code, "") }
func (u *user) NotifyCallIn(callID, _, from, _ string)      { u.ev(evCallIn, callID, 0, from) }
func (u *user) AcceptCallFail(callID string, code int, _ string) {
	u.ev(evAcceptFail, callID, code, "")
}
func (u *user) NotifyCallAccepted(callID, _, _ string) { u.ev(evCallAccepted, callID, 0, "") }
func (u *user) HungupCallSuccess(callID, _ string)     { u.ev(evHungupRslt, callID, 0, "") }
func (u *user) HungupCallFail(callID string, code int, _ string) {
	u.ev(evHungupRslt, callID, code, "")
}
func (u *user) NotifyUserStatus(js, _ string)                   { u.ev(evStatus, "", 0, js) }
func (u *user) StartUserStatusNotifyRslt(code int, _ string)    { u.ev(evStatusNotifyRslt, "", code, "") }
func (u *user) SetDNDStatusSuccess(cookie string)               { u.ev(evDNDRslt, cookie, 0, "") }
func (u *user) SetDNDStatusFail(code int, cookie string)        { u.ev(evDNDRslt, cookie, code, "") }
func (u *user) SendBufferRlst(task string, code int, _ string)  { u.ev(evBufferRslt, task, code, "") }
func (u *user) SendFileRlst(task, _ string, code int, _ string) { u.ev(evFileRslt, task, code, "") }
func (u *user) NotifyBufferData(from, data string)              { u.ev(evBufferData, from, len(data), "") }
func (u *user) NotifyFileData(from, tmpFile, _ string)          { u.ev(evFileData, from, 0, tmpFile) }

// pending maps task and call IDs to their scheduled start (nanoseconds
// since the epoch of the run), sharded to keep lock contention low.
type pending struct {
	seed   maphash.Seed
	shards [64]struct {
		mu sync.Mutex
		m  map[string]int64
	}
}

func newPending() *pending {
	p := &pending{seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].m = make(map[string]int64)
	}
	return p
}

// issue runs start (a core call that returns the new task or call ID) with
// u's issue lock held and records the ID's scheduled time. Callbacks never
// run inside a core call, so holding the lock across it cannot deadlock.
func (p *pending) issue(u *user, start func() string, sched int64) string {
	u.mu.Lock()
	id := start()
	p.put(id, sched)
	u.mu.Unlock()
	return id
}

// settled waits until an issue by u in progress has stored its ID: a
// callback about an ID u issued calls it before take or peek.
func (u *user) settled() {
	u.mu.Lock()
	u.mu.Unlock()
}

func (p *pending) shard(id string) *struct {
	mu sync.Mutex
	m  map[string]int64
} {
	return &p.shards[maphash.String(p.seed, id)%64]
}

func (p *pending) put(id string, sched int64) {
	s := p.shard(id)
	s.mu.Lock()
	s.m[id] = sched
	s.mu.Unlock()
}

// take removes and returns id's entry.
func (p *pending) take(id string) (int64, bool) {
	s := p.shard(id)
	s.mu.Lock()
	v, ok := s.m[id]
	if ok {
		delete(s.m, id)
	}
	s.mu.Unlock()
	return v, ok
}

// peek returns id's entry without removing it.
func (p *pending) peek(id string) (int64, bool) {
	s := p.shard(id)
	s.mu.Lock()
	v, ok := s.m[id]
	s.mu.Unlock()
	return v, ok
}

func (p *pending) size() int {
	n := 0
	for i := range p.shards {
		p.shards[i].mu.Lock()
		n += len(p.shards[i].m)
		p.shards[i].mu.Unlock()
	}
	return n
}
