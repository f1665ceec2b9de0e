package e2e

import (
	"encoding/base64"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
)

// cmdCounter is a receiver's callback that counts the commands it gets per
// source and checks their size, without keeping the data (thousands of
// 50 KiB commands).
type cmdCounter struct {
	*rec
	want int // decoded size every command must have

	mu    sync.Mutex
	n     map[string]int
	wrong int
}

func (c *cmdCounter) NotifyCmdData(from, data string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if base64.StdEncoding.DecodedLen(len(data)) < c.want || base64.StdEncoding.DecodedLen(len(data)) > c.want+2 {
		c.wrong++
	}
	c.n[from]++
}

func (c *cmdCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, k := range c.n {
		n += k
	}
	return n
}

// resultCounter is a sender's callback that counts SendCmdRlst codes.
type resultCounter struct {
	*rec
	mu    sync.Mutex
	codes map[int]int
	n     int
}

func (c *resultCounter) SendCmdRlst(task string, code int, cookie string) {
	c.mu.Lock()
	c.codes[code]++
	c.n++
	c.mu.Unlock()
}

func (c *resultCounter) results() (int, map[int]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[int]int, len(c.codes))
	for k, v := range c.codes {
		m[k] = v
	}
	return c.n, m
}

// TestManySendersOneHonestReceiver: several users call SendCmd with 50 KiB
// payloads as fast as the library takes them, thousands each, towards one
// receiver that reads everything. The receiver stays connected (it used to
// be cut off as a slow consumer within a second: lineOff 207), and every
// command is delivered exactly once with result 0 — or failed with a code,
// none lost silently.
func TestManySendersOneHonestReceiver(t *testing.T) {
	const senders, each = 4, 600
	e := newEnv(t, time.Second)

	recv := &cmdCounter{rec: &rec{}, want: protocol.MaxCmdBytes, n: make(map[string]int)}
	rm := core.New(core.Config{Callback: recv, TempDir: t.TempDir(), Logger: testLogger()})
	rm.SetServerAddr(e.addr)
	t.Cleanup(rm.Close)
	rm.Login("demo", md5hex("demo"), "victim", "victim", "", "l")
	if ev := recv.wait(t, "", func(ev Ev) bool { return ev.Name == "LoginSuccess" || ev.Name == "LoginFail" }); ev.Name != "LoginSuccess" {
		t.Fatalf("receiver login: %v", ev)
	}

	data := base64.StdEncoding.EncodeToString(randBytes(protocol.MaxCmdBytes, 1))
	var outs []*resultCounter
	var mgrs []*core.Mgr
	for i := range senders {
		rc := &resultCounter{rec: &rec{}, codes: make(map[int]int)}
		m := core.New(core.Config{Callback: rc, TempDir: t.TempDir(), Logger: testLogger()})
		m.SetServerAddr(e.addr)
		t.Cleanup(m.Close)
		id := fmt.Sprint("sender", i)
		m.Login("demo", md5hex("demo"), id, id, "", "l")
		if ev := rc.wait(t, "", func(ev Ev) bool { return ev.Name == "LoginSuccess" || ev.Name == "LoginFail" }); ev.Name != "LoginSuccess" {
			t.Fatalf("sender login: %v", ev)
		}
		outs, mgrs = append(outs, rc), append(mgrs, m)
	}
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	start := time.Now()
	var wg sync.WaitGroup
	for _, m := range mgrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				m.SendCmd("victim", data)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 3*time.Minute, "every sendCmd's result", func() bool {
		if n := recv.count("LineOff", nil); n > 0 {
			t.Fatalf("the honest receiver was cut off: %v", recv.all())
		}
		for _, rc := range outs {
			if n, _ := rc.results(); n < each {
				return false
			}
		}
		return true
	})
	el := time.Since(start)
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	delivered := 0
	for i, rc := range outs {
		n, codes := rc.results()
		if n != each {
			t.Errorf("sender %d: %d results for %d commands", i, n, each)
		}
		if codes[0] != each {
			t.Errorf("sender %d: results %v, want all %d succeeded", i, codes, each)
		}
		delivered += codes[0]
	}
	waitFor(t, waitTimeout, "every command received", func() bool { return recv.total() >= delivered })
	recv.mu.Lock()
	for i := range senders {
		if got := recv.n[fmt.Sprint("sender", i)]; got != outs[i].codes[0] {
			t.Errorf("sender%d: %d received, %d succeeded", i, got, outs[i].codes[0])
		}
	}
	if recv.wrong != 0 {
		t.Errorf("%d commands arrived with a wrong size", recv.wrong)
	}
	recv.mu.Unlock()
	if n := recv.count("LineOff", nil); n > 0 {
		t.Fatalf("the honest receiver was cut off: %v", recv.all())
	}
	t.Logf("%d commands of 50 KiB from %d senders in %v: %.0f cmds/s received; heap in use %d → %d MiB",
		senders*each, senders, el.Round(time.Millisecond), float64(delivered)/el.Seconds(),
		ms0.HeapInuse>>20, ms1.HeapInuse>>20)
}
