package protocol

import (
	"bytes"
	"errors"
	"testing"
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
