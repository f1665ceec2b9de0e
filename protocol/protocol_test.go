package protocol

import (
	"bytes"
	"errors"
	"testing"

	"github.com/crvideomgr/crvideomgr/internal/msgbuf"
	"github.com/crvideomgr/crvideomgr/internal/outbox"
)

func TestHeaderRoundTrip(t *testing.T) {
	cases := []Header{
		{Type: FrameCmd, Task: "t1", Peer: "bob"},
		{Type: FrameChunk, Task: "a-task", Offset: 1 << 40},
		{Type: FrameCmd, Task: string(bytes.Repeat([]byte("x"), MaxIDLen)), Peer: "用户"},
	}
	for _, h := range cases {
		frame := append(AppendHeader(nil, h), "payload"...)
		got, payload, err := ParseHeader(frame)
		if err != nil || got != h || string(payload) != "payload" {
			t.Fatalf("ParseHeader(AppendHeader(%+v)) = %+v, %q, %v", h, got, payload, err)
		}
	}
}

func TestParseHeaderRejects(t *testing.T) {
	good := AppendHeader(nil, Header{Type: FrameChunk, Task: "t", Offset: 5})
	bad := map[string][]byte{
		"short":       good[:HeaderLen-1],
		"type 0":      append([]byte{0}, good[1:]...),
		"type 3":      append([]byte{3}, good[1:]...),
		"empty task":  AppendHeader(nil, Header{Type: FrameCmd}),
		"task cut":    good[:len(good)-1],
		"huge offset": AppendHeader(nil, Header{Type: FrameChunk, Task: "t", Offset: -1}),
	}
	for name, f := range bad {
		if _, _, err := ParseHeader(f); !errors.Is(err, ErrBadFrame) {
			t.Errorf("%s: err = %v, want ErrBadFrame", name, err)
		}
	}
}

func TestDecode(t *testing.T) {
	m, err := Decode([]byte(`{"id":3,"op":"call","callID":"c","unknown":[1,2],"to":"bob"}`))
	if err != nil || m.ID != 3 || m.Op != OpCall || m.CallID != "c" || m.To != "bob" {
		t.Fatalf("Decode = %+v, %v", m, err)
	}
	for _, in := range []string{"", "[]", "{", `{"id":"x"}`, "null x"} {
		if _, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) accepted", in)
		}
	}
	enc := Encode(&Msg{Push: PushCallIn, Seq: 9, CallID: "c", From: "a"})
	back, err := Decode(enc)
	if err != nil || back.Push != PushCallIn || back.Seq != 9 || back.From != "a" {
		t.Fatalf("round trip %s → %+v", enc, back)
	}
}

func TestCodesTable(t *testing.T) {
	seen := map[int]bool{}
	prev := -1
	for _, c := range Codes {
		if seen[c.Code] || c.Code <= prev || c.Name == "" || c.Text == "" {
			t.Fatalf("Codes entry %+v: duplicate, out of order or empty", c)
		}
		seen[c.Code], prev = true, c.Code
	}
	if CodeText(AcntPswdErr) != "wrong account or password" || CodeText(99999) != "unknown error code" {
		t.Fatal("CodeText")
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add(AppendHeader(nil, Header{Type: FrameCmd, Task: "t", Peer: "p"}))
	f.Add(AppendHeader(nil, Header{Type: FrameChunk, Task: "t", Offset: 7}))
	f.Add([]byte{2, 0, 0, 1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, payload, err := ParseHeader(b)
		if err != nil {
			return
		}
		// A header that parses re-encodes to the same prefix.
		re := AppendHeader(nil, h)
		if !bytes.Equal(re[:1], b[:1]) || !bytes.Equal(re[2:], b[2:len(re)]) || len(payload) != len(b)-len(re) {
			t.Fatalf("re-encoding %x gives %x", b, re)
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":1,"op":"login","ver":1}`))
	f.Add([]byte(`{"push":"callIn","seq":2,"callID":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		if _, err := Decode(Encode(m)); err != nil {
			t.Fatalf("Encode of a decoded message does not decode: %v", err)
		}
	})
}

// TestStreamAttachClosedOutbox: attaching an outbox whose connection has
// already died is a lost connection, not an error: the stream stays
// detached and keeps every frame, which the next Attach replays in order.
// Impossible counts still fail with ErrBadAck.
func TestStreamAttachClosedOutbox(t *testing.T) {
	s := NewStream(0)
	for _, h := range []string{"a", "b", "c"} {
		if err := s.Send(outbox.Frame{Head: []byte(h)}, false); err != nil {
			t.Fatal(err)
		}
	}
	dead := outbox.New(0)
	dead.Close()
	if err := s.Attach(dead, 1, 0); err != nil {
		t.Fatalf("Attach to a closed outbox: %v, want nil", err)
	}
	if err := s.Send(outbox.Frame{Head: []byte("d")}, false); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 3 { // "a" was acknowledged by the attach
		t.Fatalf("%d frames kept, want 3", c)
	}
	if err := s.Attach(outbox.New(0), 9, 0); !errors.Is(err, ErrBadAck) {
		t.Fatalf("impossible count: %v, want ErrBadAck", err)
	}
	live := outbox.New(0)
	if err := s.Attach(live, 1, 0); err != nil {
		t.Fatal(err)
	}
	var got string
	for {
		f, ok := live.Pop()
		if !ok {
			break
		}
		got += string(f.Head)
	}
	if got != "bcd" {
		t.Fatalf("replayed %q, want \"bcd\"", got)
	}
}

// TestStreamAcksLimitedToWritten: with LimitAcksToWritten an ack counts
// only frames the writer has written (Wrote): frames still queued stay
// kept and counted against the bound, whatever the peer claims; beyond
// what was sent is still an error. The bulk lane has its own bound.
func TestStreamAcksLimitedToWritten(t *testing.T) {
	s := NewStream(100)
	s.LimitAcksToWritten()
	s.SetMaxBulkBytes(50)
	out := outbox.New(0)
	if err := s.Attach(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Send(outbox.Frame{Head: make([]byte, 30)}, false); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := out.Pop()
	s.Wrote(f)
	if err := s.Ack(3, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 2 {
		t.Fatalf("%d control frames kept after an ack ahead of the writer, want 2", c)
	}
	if err := s.Send(outbox.Frame{Head: make([]byte, 50)}, false); err != ErrStreamFull {
		t.Fatalf("send over the bound: %v, want ErrStreamFull", err)
	}
	if err := s.Ack(4, 0); err != ErrBadAck {
		t.Fatalf("ack beyond sent: %v", err)
	}
	for {
		f, ok := out.Pop()
		if !ok {
			break
		}
		s.Wrote(f)
	}
	if err := s.Ack(3, 0); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.Unacked(); c != 0 {
		t.Fatalf("%d kept after everything was written and acked", c)
	}
	if err := s.Send(outbox.Frame{Body: make([]byte, 40)}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(outbox.Frame{Body: make([]byte, 40)}, true); err != ErrStreamFull {
		t.Fatalf("bulk over its bound: %v", err)
	}
}

// TestSharedFrameReleasedOnce checks that a Shared frame sent on a stream
// goes back to its pool only when both the connection's copy has been
// written and the peer has acknowledged the stream's copy.
func TestSharedFrameReleasedOnce(t *testing.T) {
	b, _ := msgbuf.Read(bytes.NewReader(make([]byte, 10000)), 1<<20)
	s := NewStream(0)
	out := outbox.New(0)
	if err := s.Attach(out, 0, 0); err != nil {
		t.Fatal(err)
	}
	bf := b.Frame(b.B)
	refs := bf.Shared
	if err := s.Send(bf, true); err != nil {
		t.Fatal(err)
	}
	b.Release() // the reader is done
	if got := refs.Load(); got != 2 {
		t.Fatalf("refs after send = %d, want 2 (stream, connection)", got)
	}
	f, ok := out.Pop()
	if !ok || f.Release == nil {
		t.Fatal("queued copy has no release")
	}
	f.Release() // written
	if got := refs.Load(); got != 1 {
		t.Fatalf("refs after write = %d, want 1", got)
	}
	if err := s.Ack(0, 1); err != nil {
		t.Fatal(err)
	}
	if got := refs.Load(); got != 0 {
		t.Fatalf("refs after ack = %d, want 0", got)
	}
}
