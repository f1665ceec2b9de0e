package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a lock-free latency histogram of nanosecond values with log-linear
// buckets: exact below 128 ns, then 64 buckets per power of two (≤ 1.6%
// relative error), up to 2^47 ns. Any goroutine may record into it.
type hist struct {
	counts [128 + 40*64]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	max    atomic.Int64
}

func bucketOf(v int64) int {
	if v < 128 {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	e := bits.Len64(uint64(v)) // ≥ 8
	shift := e - 7
	idx := 128 + (shift-1)*64 + int(uint64(v)>>shift) - 64
	if idx >= len((&hist{}).counts) {
		idx = len((&hist{}).counts) - 1
	}
	return idx
}

// bucketTop is the largest value that falls into bucket idx.
func bucketTop(idx int) int64 {
	if idx < 128 {
		return int64(idx)
	}
	shift := (idx-128)/64 + 1
	m := int64((idx-128)%64 + 64)
	return (m+1)<<shift - 1
}

// record adds one latency.
func (h *hist) record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
}

// quantile returns the value at quantile q (0..1): the top of the bucket
// holding it, capped at the maximum seen.
func (h *hist) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	if rank < 1 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return time.Duration(min(bucketTop(i), h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}

// Latency is a histogram's summary in the report, in milliseconds.
type Latency struct {
	N    uint64  `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// summary summarises h; nil when it holds nothing.
func (h *hist) summary() *Latency {
	n := h.n.Load()
	if n == 0 {
		return nil
	}
	return &Latency{
		N:    n,
		Mean: ms(time.Duration(h.sum.Load() / int64(n))),
		P50:  ms(h.quantile(0.50)),
		P90:  ms(h.quantile(0.90)),
		P99:  ms(h.quantile(0.99)),
		Max:  ms(time.Duration(h.max.Load())),
	}
}
