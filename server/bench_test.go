package server

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/protocol"
	"github.com/gorilla/websocket"
)

// BenchmarkLogin measures dial + upgrade + login round trips with 8
// concurrent clients (the login cache makes all but the first cheap).
func BenchmarkLogin(b *testing.B) {
	s := newTestServer(b, nil)
	var n atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := n.Add(1)
				if i > int64(b.N) {
					return
				}
				ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
				if err != nil {
					b.Error(err)
					return
				}
				m := protocol.Msg{ID: 1, Op: protocol.OpLogin, Ver: 1, Acnt: "ent1", Pswd: md5Hex("pw1"), Priv: "u" + strconv.FormatInt(i, 10)}
				ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m))
				_, data, err := ws.ReadMessage()
				if err != nil {
					b.Error(err)
					return
				}
				if r, _ := protocol.Decode(data); r == nil || r.Code != 0 {
					b.Errorf("login reply %s", data)
				}
				ws.Close()
			}
		}()
	}
	wg.Wait()
}

// BenchmarkRelay pushes a buffer transfer through the server between two raw
// clients (DefaultChunk chunks within DefaultWindow, the receiver acking
// every chunk with xferAck and every 4 with a stream ack, as the library
// does) and reports the throughput and the server's allocations per chunk.
func BenchmarkRelay(b *testing.B) {
	s := newTestServer(b, func(c *Config) { c.MaxBuffer = 1 << 40 })
	dialLogin := func(priv string) *websocket.Conn {
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+s.Addr()+"/ws", nil)
		if err != nil {
			b.Fatal(err)
		}
		m := protocol.Msg{ID: 1, Op: protocol.OpLogin, Ver: 1, Acnt: "ent1", Pswd: md5Hex("pw1"), Priv: priv}
		ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m))
		if _, _, err := ws.ReadMessage(); err != nil {
			b.Fatal(err)
		}
		return ws
	}
	snd, rcv := dialLogin("snd"), dialLogin("rcv")
	defer snd.Close()
	defer rcv.Close()
	const chunk = DefaultChunk
	total := int64(b.N) * chunk
	b.SetBytes(chunk)
	b.ReportAllocs()
	begin := protocol.Msg{ID: 2, Op: protocol.OpSendBegin, Task: "t", To: "rcv", Kind: protocol.KindBuffer, Total: total}
	snd.WriteMessage(websocket.TextMessage, protocol.Encode(&begin))
	b.ResetTimer()
	// Receiver: ack every chunk.
	done := make(chan struct{})
	go func() {
		defer close(done)
		var got int64
		for got < total {
			typ, r, err := rcv.NextReader()
			if err != nil {
				b.Error(err)
				return
			}
			buf, err := msgbuf.Read(r, 1<<20)
			if err != nil {
				b.Error(err)
				return
			}
			if typ != websocket.BinaryMessage {
				buf.Release()
				continue
			}
			_, p, _ := protocol.ParseHeader(buf.B)
			got += int64(len(p))
			buf.Release()
			ack := protocol.Msg{Op: protocol.OpXferAck, Task: "t", N: got}
			rcv.WriteMessage(websocket.TextMessage, protocol.Encode(&ack))
			if nb := got / chunk; nb%4 == 0 || got == total {
				sack := protocol.Msg{Op: protocol.OpAck, NB: nb}
				rcv.WriteMessage(websocket.TextMessage, protocol.Encode(&sack))
			}
		}
	}()
	// Sender: keep within the window using the relayed xferAcks.
	var acked atomic.Int64
	credit := make(chan struct{}, 1)
	go func() {
		for {
			_, data, err := snd.ReadMessage()
			if err != nil {
				return
			}
			if m, _ := protocol.Decode(data); m != nil && m.Push == protocol.PushXferAck {
				acked.Store(m.N)
				select {
				case credit <- struct{}{}:
				default:
				}
			}
		}
	}()
	frame := protocol.AppendHeader(nil, protocol.Header{Type: protocol.FrameChunk, Task: "t"})
	hl := len(frame)
	frame = append(frame, make([]byte, chunk)...)
	for off := int64(0); off < total; off += chunk {
		for off+chunk-acked.Load() > DefaultWindow {
			<-credit
		}
		binary.BigEndian.PutUint64(frame[6:hl], uint64(off))
		snd.WriteMessage(websocket.BinaryMessage, frame)
	}
	<-done
}

// BenchmarkIdleSessionMemory logs in 2,000 raw clients (tiny client
// buffers, no client goroutines) and reports the Go heap and stacks held per
// idle logged-in session, server and client side together (the client side
// is a small, fixed part). Run with -benchtime=1x; CRVIDEO_HEAPPROFILE=FILE
// writes a heap profile while the sessions are held.
func BenchmarkIdleSessionMemory(b *testing.B) {
	const n = 2000
	if os.Getenv("CRVIDEO_HEAPPROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	s := newTestServer(b, nil)
	d := websocket.Dialer{ReadBufferSize: 256, WriteBufferSize: 256}
	mem := func() (heap, stack uint64) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	for b.Loop() {
		heap0, stack0 := mem()
		conns := make([]*websocket.Conn, 0, n)
		for i := range n {
			ws, _, err := d.Dial("ws://"+s.Addr()+"/ws", nil)
			if err != nil {
				b.Fatal(err)
			}
			m := protocol.Msg{ID: 1, Op: protocol.OpLogin, Ver: 1, Acnt: "ent1", Pswd: md5Hex("pw1"), Priv: fmt.Sprint("idle-", i)}
			ws.WriteMessage(websocket.TextMessage, protocol.Encode(&m))
			if _, _, err := ws.ReadMessage(); err != nil {
				b.Fatal(err)
			}
			conns = append(conns, ws)
		}
		time.Sleep(200 * time.Millisecond)
		heap1, stack1 := mem()
		b.ReportMetric(float64(heap1+stack1-heap0-stack0)/n, "B/session")
		b.ReportMetric(float64(stack1-stack0)/n, "stackB/session")
		if f := os.Getenv("CRVIDEO_HEAPPROFILE"); f != "" {
			if out, err := os.Create(f); err == nil {
				pprof.WriteHeapProfile(out)
				out.Close()
			}
		}
		for _, ws := range conns {
			ws.Close()
		}
	}
}
