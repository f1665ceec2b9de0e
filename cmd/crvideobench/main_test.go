package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHist checks bucket bounds and quantiles against a known distribution.
func TestHist(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 1000, 123456, 1 << 33, 5e9} {
		top := bucketTop(bucketOf(v))
		if top < v || float64(top-v) > float64(v)/60+1 {
			t.Errorf("value %d: bucket top %d", v, top)
		}
	}
	h := &hist{}
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.9, 9 * time.Millisecond}, {0.99, 9900 * time.Microsecond}, {1, 10 * time.Millisecond}} {
		got := h.quantile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < 0 || d > 0.02 {
			t.Errorf("q%.2f = %v, want %v (+2%%)", c.q, got, c.want)
		}
	}
	if s := h.summary(); s.N != 10000 || s.Max != 10 {
		t.Errorf("summary %+v", s)
	}
}

func TestParseStatus(t *testing.T) {
	uid, dnd, ok := parseStatus(`{"userID":"b1-st3-7","userStatus":1,"DNDType":1}`)
	if !ok || uid != "b1-st3-7" || dnd != 1 {
		t.Fatalf("got %q %d %v", uid, dnd, ok)
	}
	if _, _, ok := parseStatus(`{"userStatus":1}`); ok {
		t.Fatal("parsed a status without userID")
	}
}

// TestSmoke runs every workload for a fraction of a second against an
// in-process server and checks the report: well-formed JSON, every figure
// counted something, nothing failed. It measures nothing.
func TestSmoke(t *testing.T) {
	cfg := defaultConfig()
	cfg.InProc = true
	cfg.Src = 3
	cfg.Dur = 200 * time.Millisecond
	cfg.IdleUsers, cfg.IdleHold = 20, 100*time.Millisecond
	cfg.LoginRate = 100
	cfg.CmdPairs, cfg.CmdWindow, cfg.CmdRate = 2, 4, 200
	cfg.CallPairs, cfg.CallRate = 4, 50
	cfg.StatusSubs, cfg.StatusTogl, cfg.StatusRate = 4, 2, 50
	cfg.XferSize, cfg.BigSize, cfg.ProbeRate = 256<<10, 4<<20, 100
	cfg.Drain = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	rep, err := run(ctx, cfg, []string{"-smoke"}, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := rep.writeJSON(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	want := []string{"floor-tcp-relay-1", "floor-tcp-relay-8", "floor-ws-echo-peak", "floor-ws-echo-lat", "floor-ws-chain", "floor-ws-connect",
		"floor-ws-fanout", "idle-hold", "login-storm", "cmd-peak", "cmd-lat", "call-peak", "call-lat", "status-fanout",
		"buffer-1", "buffer-8", "file-1", "file-8", "signal-idle", "signal-during-xfer"}
	for _, name := range want {
		r := back.find(name)
		if r == nil {
			t.Errorf("%s missing from the report", name)
			continue
		}
		if r.Count <= 0 || r.Failed != 0 || r.Unfinished != 0 {
			t.Errorf("%s: count %d failed %d unfinished %d %s", name, r.Count, r.Failed, r.Unfinished, r.Note)
		}
		if name != "idle-hold" && r.Value <= 0 {
			t.Errorf("%s: value %v", name, r.Value)
		}
		if strings.HasPrefix(name, "floor-") == (r.Floor != "") && name != "idle-hold" && name != "signal-idle" {
			t.Errorf("%s: floor %q", name, r.Floor)
		}
	}
	if t.Failed() {
		t.Log(log.String())
	}
	var table bytes.Buffer
	back.writeTable(&table)
	if !strings.Contains(table.String(), "call-lat") {
		t.Errorf("table:\n%s", table.String())
	}
}
