package protocol

import (
	"bytes"
	"testing"
)

// TestPushTemplate: WithSeq gives the same bytes as Encode with that Seq,
// for pushes with and without further fields and with characters JSON
// escapes.
func TestPushTemplate(t *testing.T) {
	msgs := []*Msg{
		{Push: PushUserStatus, User: &UserStatus{UserID: "u<1>&\"x\"", UserStatus: StatusBusy, DNDType: 1}},
		{Push: PushUserStatus, User: &UserStatus{UserID: "用户"}},
		{Push: PushLineOff, Code: 205},
		{Push: PushCallHungup, CallID: "c1", Ext: `{"a":"\u2028"}`},
		{Push: PushXferDone},
		{Push: "x\"y", Task: "t"},
		{Push: PushCallIn, Seq: 99, CallID: "c", From: "f"}, // Seq in the template is ignored
	}
	for _, m := range msgs {
		tpl := NewPushTemplate(m)
		for _, seq := range []uint64{0, 1, 9, 10, 12345, 1<<64 - 1} {
			want := *m
			want.Seq = seq
			if got, exp := tpl.WithSeq(seq), Encode(&want); !bytes.Equal(got, exp) {
				t.Errorf("seq %d: got %s, want %s", seq, got, exp)
			}
		}
	}
}

// BenchmarkPushTemplate: one userStatus for 1,000 subscribers, templated.
func BenchmarkPushTemplate(b *testing.B) {
	m := &Msg{Push: PushUserStatus, User: &UserStatus{UserID: "u-0123456789", UserStatus: StatusBusy}}
	b.ReportAllocs()
	for b.Loop() {
		tpl := NewPushTemplate(m)
		for i := range 1000 {
			_ = tpl.WithSeq(uint64(i + 1))
		}
	}
}

// BenchmarkPushEncodeEach: the same, encoding for each subscriber.
func BenchmarkPushEncodeEach(b *testing.B) {
	m := &Msg{Push: PushUserStatus, User: &UserStatus{UserID: "u-0123456789", UserStatus: StatusBusy}}
	b.ReportAllocs()
	for b.Loop() {
		for i := range 1000 {
			mm := *m
			mm.Seq = uint64(i + 1)
			_ = Encode(&mm)
		}
	}
}
