package protocol

import (
	"encoding/json"
	"testing"
)

// benchMsgs are representative messages of the hot paths: the sendCmd
// result push, a call request, a status push and a login reply.
var benchMsgs = []struct {
	name string
	m    *Msg
}{
	{"sendRslt", &Msg{Push: PushSendRslt, Seq: 18231, Task: "7f0c1d9e-5b1a-4c8e-9a53-2f1e8c0d6b4a", Code: 0}},
	{"call", &Msg{ID: 412, Op: OpCall, CallID: "c-2f1e8c0d6b4a", To: "user-0042",
		MeetObj: `{"ID":81234567,"pswd":"","subject":"weekly sync","pubMeetUrl":"https://meet.example/81234567"}`,
		Ext:     `{"reason":"join me","prio":1}`}},
	{"userStatus", &Msg{Push: PushUserStatus, Seq: 99, User: &UserStatus{UserID: "user-0042", UserStatus: StatusBusy, DNDType: 1}}},
	{"loginReply", &Msg{ID: 1, Code: 0, UsrID: "alice", Token: "0d5df29e19a6269b0de7bbc8d3d43718", Boot: "a833307c6d5df29e",
		Limits: &Limits{MaxBuffer: 10 << 20, MaxFile: 1 << 30, Chunk: 64 << 10, Window: 2 << 20, PingTimeout: 10000, ResumeGrace: 30000, MaxCmds: 1024, MaxTransfers: 64}}},
}

// benchEach runs op on every message of benchMsgs (m and its encoding) as
// a sub-benchmark; bytes/s count the encoding's length.
func benchEach(b *testing.B, op func(m *Msg, data []byte) error) {
	for _, c := range benchMsgs {
		data := Encode(c.m)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := op(c.m, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	benchEach(b, func(m *Msg, _ []byte) error { Encode(m); return nil })
}

func BenchmarkDecode(b *testing.B) {
	benchEach(b, func(_ *Msg, data []byte) error { _, err := Decode(data); return err })
}

// BenchmarkEncodeStdlib and BenchmarkDecodeStdlib measure encoding/json on
// the same messages, for comparison.
func BenchmarkEncodeStdlib(b *testing.B) {
	benchEach(b, func(m *Msg, _ []byte) error { _, err := json.Marshal(m); return err })
}

func BenchmarkDecodeStdlib(b *testing.B) {
	benchEach(b, func(_ *Msg, data []byte) error { var m Msg; return json.Unmarshal(data, &m) })
}
