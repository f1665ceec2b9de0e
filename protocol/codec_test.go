package protocol

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// diffCheck checks Decode on data: a message Decode accepts encodes into one
// that decodes to the same message, and on plain input (plainJSON) Decode
// agrees with json.Unmarshal, error or not.
func diffCheck(t *testing.T, data []byte) {
	t.Helper()
	got, err := Decode(data)
	if err != nil && (got != nil || err != ErrBadMessage) {
		t.Fatalf("Decode(%q) = %+v, %v; want nil, ErrBadMessage", data, got, err)
	}
	if plainJSON(data) {
		var want Msg
		stdErr := json.Unmarshal(data, &want)
		if (stdErr == nil) != (err == nil) {
			t.Fatalf("Decode(%q): err = %v, json.Unmarshal: %v", data, err, stdErr)
		}
		if err == nil && !reflect.DeepEqual(got, &want) {
			t.Fatalf("Decode(%q)\n = %#v\nwant %#v", data, got, &want)
		}
	}
	if err != nil {
		return
	}
	// Round trip: what the encoder writes of it decodes to what it wrote
	// (the encoder writes [] as absent, and bytes that are not UTF-8 as
	// U+FFFD).
	enc := Encode(got)
	back, err := Decode(enc)
	if err != nil {
		t.Fatalf("Encode(Decode(%q)) = %s does not decode: %v", data, enc, err)
	}
	if utf8.Valid(data) {
		if norm(back); !reflect.DeepEqual(back, norm(got)) {
			t.Fatalf("round trip of Decode(%q):\n%s\n → %#v", data, enc, back)
		}
	} else if enc2 := Encode(back); !bytes.Equal(Encode(mustDecode(t, enc2)), enc2) {
		t.Fatalf("round trip of Decode(%q): %s is no fixpoint", data, enc2)
	}
	if utf8.Valid(data) {
		encodeCheck(t, got)
	}
}

// norm returns m with empty slices as nil, as the encoder writes them.
func norm(m *Msg) *Msg {
	if len(m.Users) == 0 {
		m.Users = nil
	}
	if len(m.Meetings) == 0 {
		m.Meetings = nil
	}
	return m
}

func mustDecode(t *testing.T, b []byte) *Msg {
	t.Helper()
	m, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode(%s): %v", b, err)
	}
	return m
}

// fieldNames are the JSON names of Msg and of the objects it holds.
var fieldNames = func() []string {
	var names []string
	for _, v := range []any{Msg{}, Limits{}, UserStatus{}, MeetInfo{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			names = append(names, strings.Split(rt.Field(i).Tag.Get("json"), ",")[0])
		}
	}
	return names
}()

// plainJSON reports whether data is input on which Decode and json.Unmarshal
// must agree: valid UTF-8 text whose first value is an object (or not JSON at
// all), nested at most MaxDepth levels, where no object repeats a key and no
// key differs from a field name only in case (encoding/json folds case and
// merges repeated keys; the protocol does neither).
func plainJSON(data []byte) bool {
	if !utf8.Valid(data) || !shallow(data) {
		return false
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] != '{' && json.Valid(data) {
		return false // a top-level value other than an object: encoding/json takes null
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	type level struct {
		obj  bool
		keys map[string]bool
		key  bool // the next string token is a key
	}
	var stack []*level
	for {
		tok, err := dec.Token()
		if err != nil {
			return true // the end, or invalid JSON: both must fail
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, isKey := tok.(string); isKey && top != nil && top.obj && top.key {
			if top.keys[k] {
				return false
			}
			top.keys[k] = true
			for _, f := range fieldNames {
				if k != f && strings.EqualFold(k, f) {
					return false
				}
			}
			top.key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}

func encodeCheck(t *testing.T, m *Msg) {
	t.Helper()
	std, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if enc := Encode(m); !bytes.Equal(enc, std) {
		t.Fatalf("Encode(%#v)\n = %s\nwant %s", m, enc, std)
	}
	if app := AppendEncode([]byte("x"), m); string(app) != "x"+string(std) {
		t.Fatalf("AppendEncode = %s, want x%s", app, std)
	}
	// The objects the library hands the application.
	same := func(got []byte, v any) {
		t.Helper()
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	same(AppendUserStatus(nil, m.User), m.User)
	same(AppendUserStatusList(nil, m.Users), m.Users)
	same(AppendMeetInfo(nil, m.Meeting), m.Meeting)
	same(AppendMeetInfoList(nil, m.Meetings), m.Meetings)
}

// realMsgs are messages of every op and push, as the server and library
// send them.
func realMsgs() []*Msg {
	meet := MeetInfo{ID: 81234567, Pswd: "123456", Subject: "周会 <weekly> & sync", PubMeetURL: "https://meet.example/81234567?a=1&b=2", Creator: "alice", MemberCount: 3, StartTime: 1764467000}
	user := UserStatus{UserID: "bob", UserStatus: StatusBusy, DNDType: 1}
	obj := `{"ID":81234567,"pswd":"","subject":"s"}`
	return []*Msg{
		{ID: 1, Op: OpLogin, Ver: Version, Acnt: "demo", Pswd: "fe01ce2a7fbac8fafaed7c982a04e229", Nick: "Alice", Priv: "alice", Auth: "code"},
		{ID: 1, UsrID: "alice", Token: "0d5df29e19a6269b", Boot: "a833307c", Limits: &Limits{MaxBuffer: 10 << 20, MaxFile: 1 << 30, Chunk: 64 << 10, Window: 2 << 20, PingTimeout: 10000, ResumeGrace: 30000, MaxCmds: 1024, MaxTransfers: 64, MaxCmdBytes: 4 << 20}},
		{ID: 1, Limits: &Limits{}},
		{ID: 1, Code: MismatchClientVer},
		{ID: 2, Op: OpLogout},
		{ID: 3, Op: OpSetDND, DND: 1},
		{ID: 4, Op: OpGetUserStatus},
		{ID: 4, Users: []UserStatus{user, {UserID: "carol"}}},
		{ID: 5, Op: OpStartStatusNotify},
		{ID: 6, Op: OpStopStatusNotify},
		{ID: 7, Op: OpCreateMeeting, Subject: "weekly", CreatePswd: 1},
		{ID: 7, Meeting: &meet},
		{ID: 8, Op: OpDestroyMeeting, MeetID: 81234567},
		{ID: 9, Op: OpGetMeetings},
		{ID: 9, Meetings: []MeetInfo{meet, {ID: 2}}},
		{ID: 19, Op: OpGetUserStatus, Paged: true, After: "u-0d5df29e"},
		{ID: 19, Users: []UserStatus{user}, More: true},
		{ID: 20, Op: OpGetMeetings, Paged: true, AfterID: 81234567},
		{ID: 20, Meetings: []MeetInfo{meet}, More: true},
		{ID: 10, Op: OpCall, CallID: "c1", To: "bob", MeetObj: obj, Ext: "hi\n\"there\""},
		{ID: 11, Op: OpAcceptCall, CallID: "c1", MeetObj: obj, Ext: "ok"},
		{ID: 12, Op: OpRejectCall, CallID: "c1", Ext: "busy"},
		{ID: 13, Op: OpHungupCall, CallID: "c1", Ext: "bye"},
		{ID: 14, Op: OpCallMoreParty, CallID: "i1", To: "carol", MeetObj: obj, Ext: "join"},
		{ID: 15, Op: OpCancelCallMoreParty, CallID: "i1"},
		{ID: 16, Op: OpSendBegin, Task: "t1", To: "bob", Kind: KindFile, Total: 1 << 33, Name: "report.pdf"},
		{ID: 16, Window: 2 << 20, Chunk: 64 << 10},
		{ID: 17, Op: OpCancelSend, Task: "t1"},
		{ID: 18, Op: OpResume, Token: "0d5df29e19a6269b", N: 12, NB: 3},
		{ID: 18, Code: 207, Boot: "a833307c"},
		{Op: OpCmdAck, Task: "t2"},
		{Op: OpXferAck, Task: "t1", N: 65536},
		{Op: OpXferFail, Task: "t1", Code: FileWriteErr},
		{Op: OpAck, N: 7, NB: 2},
		{Push: PushLineOff, Seq: 1, Code: 12},
		{Push: PushUserStatus, Seq: 2, User: &user},
		{Push: PushCallIn, Seq: 3, CallID: "c1", From: "alice", MeetObj: obj, Ext: "hi"},
		{Push: PushCallAccepted, Seq: 4, CallID: "c1", MeetObj: obj, Ext: "ok"},
		{Push: PushCallRejected, Seq: 5, CallID: "c1", Code: 606, Ext: "busy"},
		{Push: PushCallHungup, Seq: 6, CallID: "c1", Ext: "bye"},
		{Push: PushPartyStatus, Seq: 7, CallID: "i1", Status: PartyRejected},
		{Push: PushSendRslt, Seq: 8, Task: "t2"},
		{Push: PushSendRslt, Seq: 9, Task: "t3", Code: 1},
		{Push: PushXferAck, Seq: 10, Task: "t1", N: 1 << 20},
		{Push: PushXferBegin, Seq: 11, Task: "t1", From: "alice", Kind: KindBuffer, Total: 100, Name: "buf"},
		{Push: PushXferDone, Seq: 12, Task: "t1"},
		{Push: PushXferCancel, Seq: 13, Task: "t1"},
		{Push: PushAck, N: 99, NB: 4},
		{ID: 1<<64 - 1, Seq: 1<<64 - 1, Code: -1, Total: -1 << 63, N: 1<<63 - 1},
		{},
	}
}

// quirks are inputs where encoding/json has rules worth pinning down; each
// is checked against json.Unmarshal.
var quirks = []string{
	// Syntax and top level.
	``, ` `, `null`, ` null `, `nul`, `nullx`, `{}`, `{} `, `{}x`, `{},`, `[]`, `1`, `"s"`, `true`,
	// Booleans: true, false, null; anything else is a type error.
	`{"more":true}`, `{"more":false}`, `{"more":null}`, `{"more":1}`, `{"more":"true"}`, `{"more":tru}`, `{"paged":true,"paged":false}`, `{"MORE":true}`,
	`{"id":1}{}`, "\ufeff{}", `{"id":1,}`, `{,"id":1}`, `{"id" 1}`, `{"id":1 "op":"x"}`, `{'id':1}`,
	`{"id":1`, `{"id"`, `{"id":`, "{\"id\":1}\x00", "\t\r\n{\t\"id\"\r:\n1\t}\n",
	// Keys: exact first, then case-insensitive as encoding/json folds.
	`{"ID":1,"OP":"call","Push":"x","CallId":"c"}`, `{"ſeq":5}`, `{"tasK":"t"}`, `{"\u0069d":7}`, `{"i\u0064":8}`,
	`{"limits":{"MAXBUFFER":1,"maxbuffer":2}}`, `{"users":[{"USERID":"a","dndtype":3}]}`, `{"meeting":{"id":4,"Id":5}}`,
	`{"İd":1}`, `{"ıd":1}`, `{"seq\u0000":1}`, `{"verylongkeyverylongkeyverylongkey":1}`, `{"":1}`,
	// Duplicates: last wins; objects and arrays merge.
	`{"id":1,"id":2}`, `{"op":"a","op":null}`, `{"id":1,"id":null}`,
	`{"limits":{"maxBuffer":1,"maxCmds":2},"limits":{"maxFile":3}}`, `{"limits":{"maxBuffer":1},"limits":null}`,
	`{"limits":null,"limits":{"chunk":1}}`, `{"user":{"userID":"a"},"user":{"userStatus":1}}`, `{"user":null}`,
	`{"users":[{"userID":"a","userStatus":1}],"users":[{"DNDType":2}]}`,
	`{"users":[{"userID":"a"},{"userID":"b"}],"users":[{"userStatus":1}],"users":[{},{}]}`,
	`{"users":[{"userID":"a"}],"users":[]}`, `{"users":[{"userID":"a"}],"users":null}`, `{"users":[]}`,
	`{"users":[null,{"userID":"b"},null]}`, `{"users":[1]}`, `{"users":{}}`, `{"users":[{"userID":"a"}]`,
	`{"meetings":[{"ID":1,"subject":"s"},{"ID":2}],"meetings":[{"creator":"c"}]}`, `{"meetings":[[]]}`,
	`{"meeting":{"ID":1},"meeting":{"pswd":"p"}}`, `{"meeting":[]}`, `{"meeting":"x"}`, `{"limits":1}`,
	// Numbers.
	`{"id":0}`, `{"id":-0}`, `{"id":-1}`, `{"id":18446744073709551615}`, `{"id":18446744073709551616}`,
	`{"id":99999999999999999999}`, `{"code":9223372036854775807}`, `{"code":9223372036854775808}`,
	`{"code":-9223372036854775808}`, `{"code":-9223372036854775809}`, `{"code":-0}`, `{"code":1.0}`,
	`{"code":1e2}`, `{"code":1E2}`, `{"code":01}`, `{"code":-}`, `{"code":+1}`, `{"code":.5}`, `{"code":1.}`,
	`{"code":1e}`, `{"code":"1"}`, `{"code":true}`, `{"code":null}`, `{"code":{}}`, `{"code":[]}`,
	`{"n":-5,"nb":-9223372036854775808,"total":9223372036854775807}`, `{"seq":-0}`, `{"seq":1.5}`,
	// Strings.
	`{"op":1}`, `{"op":true}`, `{"op":{}}`, `{"op":[]}`, `{"ext":""}`, `{"ext":"a\"b\\c\/d\be\ff\ng\rh\ti"}`,
	`{"ext":"\u00e9\u4e2d\ud83d\ude00"}`, `{"ext":"\ud83d"}`, `{"ext":"\ude00\ud83d"}`, `{"ext":"\ud83dx"}`,
	`{"ext":"\ud83d\u0041"}`, `{"ext":"\ud83d\ud83d\ude00"}`, `{"ext":"\ud83d\"}`, `{"ext":"\u12"}`, `{"ext":"\uZZZZ"}`,
	`{"ext":"\x"}`, `{"ext":"\'"}`, "{\"ext\":\"a\x01b\"}", "{\"ext\":\"a\x7fb\"}", "{\"ext\":\"\xff\xfe\"}",
	"{\"ext\":\"\xed\xa0\x80\"}", "{\"ext\":\"\xe2\x80\xa8\xe2\x80\xa9<>&\"}", "{\"ext\":\"\xf0\x9f\x98\"}",
	`{"ext":"<script>&amp;</script>"}`, `{"ext":"\u0000"}`, `{"ext":"unterminated}`, "{\"ext\":\"\\u2028\"}",
	`{"meetObj":"{\"ID\":1}"}`, `{"ext":"é","ext":"\u00e9"}`,
	// Unknown fields: any valid value is skipped, invalid ones fail.
	`{"x":1,"id":2}`, `{"x":{"a":[1,{"b":null}],"c":"d"},"id":2}`, `{"x":[],"y":{},"z":[[[]]]}`,
	`{"x":true,"y":false,"z":null,"w":-1.5e+3}`, `{"x":tru}`, `{"x":[1,]}`, `{"x":{"a"}}`, `{"x":{"a":1,}}`,
	`{"x":[1 2]}`, `{"x":{1:2}}`, `{"x":"\q"}`, "{\"x\":\"\x01\"}", `{"x":01}`, `{"x":1.}`, `{"x":-}`,
	`{"x":[}`, `{"x":{]}`, `{"x":"\ud800"}`, "{\"x\":\"\xff\"}",
}

func TestCodecQuirks(t *testing.T) {
	for _, q := range quirks {
		diffCheck(t, []byte(q))
		for _, v := range []string{q, strings.TrimPrefix(q, `{"x":`), strings.TrimPrefix(q, `{"ext":`)} {
			if ValidJSON(v) != json.Valid([]byte(v)) {
				t.Fatalf("ValidJSON(%q) = %v", v, !json.Valid([]byte(v)))
			}
		}
	}
	encodeCheck(t, &Msg{Users: []UserStatus{}, Meetings: []MeetInfo{}})
	// Where the protocol's rules differ from encoding/json's.
	for _, c := range []struct {
		in   string
		want Msg
	}{
		// Exact names only: folded keys are unknown fields.
		{`{"ſeq":5,"tasK":"t","ID":1,"Op":"call","seq":6}`, Msg{Seq: 6}},
		// A repeated key: the last value, whole (nothing merges).
		{`{"users":[{"userID":"a"},{"userID":"b"}],"users":[{"userStatus":1}]}`, Msg{Users: []UserStatus{{UserStatus: 1}}}},
		{`{"limits":{"maxBuffer":1,"maxCmds":2},"limits":{"maxFile":3}}`, Msg{Limits: &Limits{MaxFile: 3}}},
		{`{"id":1,"id":2}`, Msg{ID: 2}},
		{`{"id":1,"id":null,"op":"call","op":null}`, Msg{}},
		{`{"users":[]}`, Msg{Users: []UserStatus{}}},
		{`{"users":[{"userID":"a"}],"users":null}`, Msg{}},
		// Bytes that are not UTF-8 are kept; escapes are decoded.
		{"{\"nick\":\"a\xffb\",\"ext\":\"\\ud83d\\ude00\\ud800\"}", Msg{Nick: "a\xffb", Ext: "\U0001F600\uFFFD"}},
	} {
		m, err := Decode([]byte(c.in))
		if err != nil || !reflect.DeepEqual(m, &c.want) {
			t.Errorf("Decode(%q) = %+v, %v; want %+v", c.in, m, err, c.want)
		}
	}
	for _, in := range []string{`null`, ` null `, `[]`, `"s"`, `1`, `{"id":1.0}`, `{"id":-0}`, `{"code":1e2}`, `{"users":[1]}`, `{"user":[]}`, `{"op":1}`} {
		if m, err := Decode([]byte(in)); err == nil {
			t.Errorf("Decode(%q) = %+v, want an error", in, m)
		}
	}
}

func TestCodecNesting(t *testing.T) {
	for _, depth := range []int{1, 2, MaxDepth - 1, MaxDepth, MaxDepth + 1, 1000} {
		for _, open := range []string{"[", `{"a":`} {
			end := "]"
			if open != "[" {
				end = "}"
			}
			// The Msg object is level 1.
			frame := `{"x":` + strings.Repeat(open, depth-1) + "1" + strings.Repeat(end, depth-1) + `}`
			_, err := Decode([]byte(frame))
			value := strings.Repeat(open, depth) + "1" + strings.Repeat(end, depth)
			if ok := depth <= MaxDepth; (err == nil) != ok || ValidJSON(value) != ok {
				t.Errorf("depth %d (%s): Decode err = %v, ValidJSON = %v; want accepted = %v", depth, open, err, ValidJSON(value), ok)
			}
		}
	}
	// Brackets inside strings are not nesting.
	deepText := `{"ext":"` + strings.Repeat("[{", MaxTextFrame/4) + `"}`
	if m, err := Decode([]byte(deepText)); err != nil || len(m.Ext) != MaxTextFrame/2 {
		t.Fatalf("brackets in a string: %v", err)
	}
	// A whole frame of '[' is refused before gjson's recursive validator
	// sees it (it would need a stack of megabytes).
	if _, err := Decode([]byte(strings.Repeat("[", MaxTextFrame))); err == nil {
		t.Fatal("64 KiB of [ accepted")
	}
	if ValidJSON(strings.Repeat("[", MaxTextFrame) + strings.Repeat("]", MaxTextFrame)) {
		t.Fatal("ValidJSON accepted 64 KiB of nesting")
	}
}

func TestCodecRealMessages(t *testing.T) {
	for _, m := range realMsgs() {
		encodeCheck(t, m)
		diffCheck(t, Encode(m))
	}
}

// TestCodecCoversEveryField sets every field of Msg and the types it
// reaches, so a field added to them but not to the codec fails here.
func TestCodecCoversEveryField(t *testing.T) {
	var m Msg
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				fill(v.Field(i))
			}
		case reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			fill(v.Index(0))
			fill(v.Index(1))
		case reflect.String:
			n++
			v.SetString("s" + strconv.Itoa(n))
		case reflect.Int, reflect.Int64:
			n++
			v.SetInt(int64(n))
		case reflect.Uint64:
			n++
			v.SetUint(uint64(n))
		case reflect.Bool:
			v.SetBool(true)
		default:
			t.Fatalf("field of kind %v: teach the codec and this test", v.Kind())
		}
	}
	fill(reflect.ValueOf(&m).Elem())
	encodeCheck(t, &m)
	got, err := Decode(Encode(&m))
	if err != nil || !reflect.DeepEqual(got, &m) {
		t.Fatalf("round trip of every field:\n%#v\n%#v, %v", got, &m, err)
	}
	// Names are matched exactly: upper-cased, no field is found (MeetInfo's
	// "ID" is, but inside "MEETING", which is not).
	up, _ := json.Marshal(&m)
	if got, err := Decode(bytes.ReplaceAll(bytes.ToUpper(up), []byte("TRUE"), []byte("true"))); err != nil || !reflect.DeepEqual(got, &Msg{}) {
		t.Fatalf("upper-cased names: %+v, %v", got, err)
	}
}

func FuzzCodecDiff(f *testing.F) {
	for _, m := range realMsgs() {
		f.Add(Encode(m))
	}
	for _, q := range quirks {
		f.Add([]byte(q))
	}
	// The corpus of the older FuzzDecode.
	files, _ := filepath.Glob("testdata/fuzz/FuzzDecode/*")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[1], "[]byte(") {
			continue
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			f.Fatal(name, err)
		}
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		diffCheck(t, data)
		if shallow(data) && ValidJSON(string(data)) != json.Valid(data) {
			t.Fatalf("ValidJSON(%q) = %v, json.Valid: %v", data, !json.Valid(data), json.Valid(data))
		}
		// Arbitrary bytes, invalid UTF-8 included, in every kind of string.
		s := string(data)
		encodeCheck(t, &Msg{Op: s, Ext: s, User: &UserStatus{UserID: s}, Meetings: []MeetInfo{{Subject: s}}})
	})
}
