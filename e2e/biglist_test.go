package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/core"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/crvideomgr/crvideomgr/server"
	"github.com/gorilla/websocket"
)

// Sizes of the big enterprise: 19,000 online users is about what one
// process holds under this machine's 20,000-open-files limit (the raw
// connections live in the test process, the server in a subprocess).
const (
	bigUsers     = 19000
	bigMeetings  = 10000
	bigInFlight  = 32 // logins in flight at once
	bigAcnt      = "big"
	bigListWait  = 40 * time.Second
	bigLoginWait = 20 * time.Second
)

// bigEnv is a crvideosrv subprocess whose enterprise "big" has bigMeetings
// stored meetings and, once loginRaw has run, bigUsers raw connections
// logged in with server-assigned usrIDs.
type bigEnv struct {
	addr     string
	meetIDs  []int // newest first
	usrIDs   []string
	conns    []*websocket.Conn
	proc     *exec.Cmd
	procDone chan error
}

// startBigEnv builds cmd/crvideosrv into a temp dir (the build cache makes
// it cheap), seeds the store in one transaction and starts the server.
func startBigEnv(tb testing.TB) *bigEnv {
	tb.Helper()
	dir := tb.TempDir()
	bin := filepath.Join(dir, "crvideosrv")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/crvideomgr/crvideomgr/cmd/crvideosrv").CombinedOutput(); err != nil {
		tb.Fatalf("go build crvideosrv: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if err := server.AddAccount(data, bigAcnt, bigAcnt); err != nil {
		tb.Fatal(err)
	}
	subjects := make([]string, bigMeetings)
	for i := range subjects {
		subjects[i] = fmt.Sprintf("weekly sync %d", i)
	}
	ids, err := server.AddMeetings(data, bigAcnt, "organiser", subjects, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	slices.Reverse(ids)
	addrFile := filepath.Join(dir, "addr")
	// A long ping timeout: the raw connections are not read, so they
	// answer no pings, and must not be dropped as dead meanwhile.
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-data", data, "-addr-file", addrFile, "-ping-timeout", "10m")
	if os.Getenv("CRVIDEO_TEST_LOG") != "" {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	e := &bigEnv{meetIDs: ids, proc: cmd, procDone: make(chan error, 1)}
	go func() { e.procDone <- cmd.Wait() }()
	tb.Cleanup(e.close)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(b), "\n") {
			e.addr = strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-e.procDone:
			tb.Fatalf("crvideosrv exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatal("crvideosrv did not start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return e
}

// loginRaw logs bigUsers raw WebSocket connections in (privAcnt "", so the
// server assigns usrIDs), bigInFlight at a time, and keeps them open without
// a goroutine each: they are not subscribed, so nothing is pushed to them.
func (e *bigEnv) loginRaw(tb testing.TB) {
	tb.Helper()
	d := websocket.Dialer{HandshakeTimeout: bigLoginWait, ReadBufferSize: 512, WriteBufferSize: 512, WriteBufferPool: &sync.Pool{}}
	login := protocol.Encode(&protocol.Msg{ID: 1, Op: protocol.OpLogin, Ver: protocol.Version, Acnt: bigAcnt, Pswd: md5hex(bigAcnt)})
	type result struct {
		ws    *websocket.Conn
		usrID string
		err   error
	}
	jobs := make(chan struct{})
	results := make(chan result, bigInFlight)
	var wg sync.WaitGroup
	for w := 0; w < bigInFlight; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				ws, _, err := d.Dial("ws://"+e.addr+"/ws", nil)
				if err != nil {
					results <- result{err: err}
					continue
				}
				ws.SetReadDeadline(time.Now().Add(bigLoginWait))
				err = ws.WriteMessage(websocket.TextMessage, login)
				var r *protocol.Msg
				if err == nil {
					var b []byte
					if _, b, err = ws.ReadMessage(); err == nil {
						r, err = protocol.Decode(b)
					}
				}
				if err == nil && (r.Code != 0 || r.UsrID == "") {
					err = fmt.Errorf("login reply code %d", r.Code)
				}
				if err != nil {
					ws.Close()
					results <- result{err: err}
					continue
				}
				ws.SetReadDeadline(time.Time{})
				results <- result{ws: ws, usrID: r.UsrID}
			}
		}()
	}
	go func() {
		for i := 0; i < bigUsers; i++ {
			jobs <- struct{}{}
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()
	var firstErr error
	for r := range results {
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		e.conns = append(e.conns, r.ws)
		e.usrIDs = append(e.usrIDs, r.usrID)
	}
	if firstErr != nil {
		tb.Fatalf("%d of %d raw logins failed, first: %v", bigUsers-len(e.conns), bigUsers, firstErr)
	}
}

func (e *bigEnv) close() {
	for _, ws := range e.conns {
		ws.Close()
	}
	e.conns = nil
	if e.proc != nil {
		_ = e.proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.procDone:
		case <-time.After(10 * time.Second):
			_ = e.proc.Process.Kill()
			<-e.procDone
		}
		e.proc = nil
	}
}

// engine logs a core.Mgr in to the big enterprise.
func (e *bigEnv) engine(tb testing.TB) (*core.Mgr, *rec, string) {
	tb.Helper()
	r := &rec{}
	m := core.New(core.Config{Callback: r, TempDir: tb.TempDir(), Logger: testLogger()})
	tb.Cleanup(m.Close)
	m.SetServerAddr(e.addr)
	m.Login(bigAcnt, md5hex(bigAcnt), "engine", "", "", "login")
	ev := r.waitWithin(tb, bigLoginWait, "", func(ev Ev) bool { return ev.Name == "LoginSuccess" || ev.Name == "LoginFail" })
	if ev.Name != "LoginSuccess" {
		tb.Fatalf("engine login: %v", ev)
	}
	return m, r, ev.S[0]
}

// bigList runs one list request of the engine (GetUserStatus, GetMeetings:
// the name of its callbacks without Success or Fail) and returns the list
// its Success callback reported.
func bigList[T any](tb testing.TB, r *rec, cb string, request func(cookie string), cookie string) []T {
	tb.Helper()
	request(cookie)
	ev := r.waitWithin(tb, bigListWait, "", func(ev Ev) bool {
		return (ev.Name == cb+"Success" || ev.Name == cb+"Fail") && ev.S[len(ev.S)-1] == cookie
	})
	if ev.Name != cb+"Success" {
		tb.Fatalf("%s: %v", cb, ev)
	}
	var list []T
	if err := json.Unmarshal([]byte(ev.S[0]), &list); err != nil {
		tb.Fatal(err)
	}
	return list
}

// With 19,000 users of one enterprise online and 10,000 meetings stored,
// getUserStatus and getMeetings succeed through the engine and return every
// entry. Before paging both failed with 202 after 30 s: the single reply
// (about 1.2 MB of users, 1 MB of meetings) was over what the library
// reads, and it resumed into the same frame over and over.
func TestBigEnterpriseLists(t *testing.T) {
	e := startBigEnv(t)
	start := time.Now()
	e.loginRaw(t)
	t.Logf("%d raw logins in %v", len(e.conns), time.Since(start).Round(time.Millisecond))
	m, r, me := e.engine(t)

	start = time.Now()
	users := bigList[protocol.UserStatus](t, r, "GetUserStatus", m.GetUserStatus, "users")
	t.Logf("getUserStatus: %d users in %v", len(users), time.Since(start).Round(time.Millisecond))
	want := append(slices.Clone(e.usrIDs), me)
	slices.Sort(want)
	got := make([]string, len(users))
	for i, u := range users {
		got[i] = u.UserID
		if u.UserStatus != protocol.StatusIdle {
			t.Fatalf("user %s status %d", u.UserID, u.UserStatus)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("getUserStatus returned %d users, want %d (sorted by userID)", len(got), len(want))
	}

	start = time.Now()
	meetings := bigList[protocol.MeetInfo](t, r, "GetMeetings", m.GetMeetings, "meetings")
	t.Logf("getMeetings: %d meetings in %v", len(meetings), time.Since(start).Round(time.Millisecond))
	ids := make([]int, len(meetings))
	for i, mi := range meetings {
		ids[i] = mi.ID
	}
	if !slices.Equal(ids, e.meetIDs) {
		t.Fatalf("getMeetings returned %d meetings, want %d newest first", len(ids), len(e.meetIDs))
	}
	e.close()
}

// BenchmarkBigEnterpriseLists times one getUserStatus of 19,001 users and
// one getMeetings of 10,000 meetings through the engine (docs/BENCHMARKS.md).
func BenchmarkBigEnterpriseLists(b *testing.B) {
	e := startBigEnv(b)
	e.loginRaw(b)
	m, r, _ := e.engine(b)
	b.Run("getUserStatus-19001", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if n := len(bigList[protocol.UserStatus](b, r, "GetUserStatus", m.GetUserStatus, fmt.Sprint("u", i))); n != bigUsers+1 {
				b.Fatalf("%d users", n)
			}
		}
	})
	b.Run("getMeetings-10000", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if n := len(bigList[protocol.MeetInfo](b, r, "GetMeetings", m.GetMeetings, fmt.Sprint("m", i))); n != bigMeetings {
				b.Fatalf("%d meetings", n)
			}
		}
	})
}
