package protocol

import "errors"

// Version is the wire protocol version. The client sends it in its login
// request; a server speaking another version fails the login with
// MismatchClientVer (4).
const Version = 1

// Request operations: text frames sent by the client with an ID > 0. The
// server answers each with exactly one reply carrying the same ID and a Code.
const (
	OpLogin               = "login"         // Ver, Acnt, Pswd, Nick, Priv, Auth → UsrID, Limits
	OpLogout              = "logout"        // → code; the server then ends the session
	OpSetDND              = "setDND"        // DND
	OpGetUserStatus       = "getUserStatus" // Paged, After → Users, More
	OpStartStatusNotify   = "startStatusNotify"
	OpStopStatusNotify    = "stopStatusNotify"
	OpCreateMeeting       = "createMeeting"  // Subject, CreatePswd → Meeting
	OpDestroyMeeting      = "destroyMeeting" // MeetID
	OpGetMeetings         = "getMeetings"    // Paged, AfterID → Meetings, More
	OpCall                = "call"           // CallID, To, MeetObj, Ext
	OpAcceptCall          = "acceptCall"     // CallID, MeetObj, Ext
	OpRejectCall          = "rejectCall"     // CallID, Ext
	OpHungupCall          = "hungupCall"     // CallID, Ext
	OpCallMoreParty       = "callMoreParty"  // CallID (the invite ID), To, MeetObj, Ext
	OpCancelCallMoreParty = "cancelCallMoreParty"
	OpSendBegin           = "sendBegin"  // Task, To, Kind, Total, Name → Window, Chunk
	OpCancelSend          = "cancelSend" // Task
	// OpResume is the first request on a new connection of a session whose
	// connection was lost: Token, N and NB (frames received per lane) →
	// N and NB of the server; code 207 with Boot when the session is gone.
	OpResume = "resume"
)

// One-way operations: text frames sent by the client without an ID. They
// get no reply.
const (
	OpCmdAck   = "cmdAck"   // receiver: Task (a FrameCmd) was delivered to the application
	OpXferAck  = "xferAck"  // receiver: N bytes of Task are stored; N == Total means "all staged"
	OpXferFail = "xferFail" // receiver: Task cannot be stored (Code, e.g. FileWriteErr)
	// OpAck acknowledges the server's frames: N control and NB bulk frames
	// received in all. Not numbered itself.
	OpAck = "ack"
)

// Server pushes: text frames without an ID, named by Push, numbered by Seq
// (per session, from 1, for resume after reconnect).
const (
	PushLineOff      = "lineOff"      // Code; the server closes the connection after it
	PushUserStatus   = "userStatus"   // User
	PushCallIn       = "callIn"       // CallID, From, MeetObj, Ext (calls and invites)
	PushCallAccepted = "callAccepted" // CallID, MeetObj, Ext
	PushCallRejected = "callRejected" // CallID, Code (606 or 604), Ext
	PushCallHungup   = "callHungup"   // CallID, Ext
	PushPartyStatus  = "partyStatus"  // CallID (invite ID), Status
	PushSendRslt     = "sendRslt"     // Task, Code: the final result of a cmd, buffer or file task
	PushXferAck      = "xferAck"      // Task, N: bytes the receiver has stored (progress, credit)
	PushXferBegin    = "xferBegin"    // Task, From, Kind, Total, Name
	PushXferDone     = "xferDone"     // Task: commit, deliver to the application
	PushXferCancel   = "xferCancel"   // Task: discard, notifyCancelSend
	// PushAck acknowledges the client's frames (N control, NB bulk). It has
	// no Seq and is not numbered itself.
	PushAck = "ack"
)

// Transfer kinds in Msg.Kind.
const (
	KindBuffer = "buffer"
	KindFile   = "file"
)

// Msg is every JSON text frame, in both directions. Fields not used by a
// message are omitted; a missing number reads as 0 and a missing string as "".
// Receivers ignore unknown fields, so fields are only ever added.
type Msg struct {
	ID   uint64 `json:"id,omitempty"`
	Op   string `json:"op,omitempty"`
	Push string `json:"push,omitempty"`
	Seq  uint64 `json:"seq,omitempty"`
	Code int    `json:"code,omitempty"`

	// login
	Ver    int     `json:"ver,omitempty"`
	Acnt   string  `json:"acnt,omitempty"`
	Pswd   string  `json:"pswd,omitempty"`
	Nick   string  `json:"nick,omitempty"`
	Priv   string  `json:"priv,omitempty"`
	Auth   string  `json:"auth,omitempty"`
	UsrID  string  `json:"usrID,omitempty"`
	Limits *Limits `json:"limits,omitempty"`
	Token  string  `json:"token,omitempty"` // login reply, resume: the session's resume token
	Boot   string  `json:"boot,omitempty"`  // login reply, failed resume: the server process's ID
	NB     int64   `json:"nb,omitempty"`    // ack, resume: bulk frames received

	// status
	DND   int          `json:"dnd,omitempty"`
	Users []UserStatus `json:"users,omitempty"`
	User  *UserStatus  `json:"user,omitempty"`

	// meetings
	Subject    string     `json:"subject,omitempty"`
	CreatePswd int        `json:"createPswd,omitempty"`
	MeetID     int        `json:"meetID,omitempty"`
	Meeting    *MeetInfo  `json:"meeting,omitempty"`
	Meetings   []MeetInfo `json:"meetings,omitempty"`

	// paged lists (getUserStatus, getMeetings): a request with Paged asks
	// for one page, after the cursor (After: the last userID of the
	// previous page; AfterID: the last meeting ID); a reply with More has
	// another page after it. A reply without More is the last page (older
	// servers always send the whole list that way).
	Paged   bool   `json:"paged,omitempty"`
	After   string `json:"after,omitempty"`
	AfterID int    `json:"afterID,omitempty"`
	More    bool   `json:"more,omitempty"`

	// calls
	CallID  string `json:"callID,omitempty"`
	To      string `json:"to,omitempty"`
	From    string `json:"from,omitempty"`
	MeetObj string `json:"meetObj,omitempty"`
	Ext     string `json:"ext,omitempty"`
	Status  int    `json:"status,omitempty"`

	// transfers
	Task   string `json:"task,omitempty"`
	Kind   string `json:"kind,omitempty"`
	Name   string `json:"name,omitempty"`
	Total  int64  `json:"total,omitempty"`
	N      int64  `json:"n,omitempty"`
	Window int64  `json:"window,omitempty"`
	Chunk  int    `json:"chunk,omitempty"`
}

// Limits are the server's settings a client needs, sent in the login reply.
type Limits struct {
	MaxBuffer   int64 `json:"maxBuffer"`   // largest sendBuffer payload, decoded bytes
	MaxFile     int64 `json:"maxFile"`     // largest sendFile file
	Chunk       int   `json:"chunk"`       // largest FrameChunk payload
	Window      int64 `json:"window"`      // unacknowledged bytes allowed per transfer
	PingTimeout int64 `json:"pingTimeout"` // milliseconds of silence after which a peer is dead
	ResumeGrace int64 `json:"resumeGrace"` // milliseconds a lost session waits for its client to resume
	// MaxCmds and MaxTransfers bound what one user may have in flight: sendCmds
	// not yet acknowledged by their receivers, and buffer/file transfers.
	// The library queues what is over them; 0 means no limit (older servers).
	MaxCmds      int `json:"maxCmds,omitempty"`
	MaxTransfers int `json:"maxTransfers,omitempty"`
	// MaxCmdBytes bounds the bytes of one user's FrameCmds (whole frames as
	// sent: header, IDs and payload) awaiting their cmdAck; the library
	// queues what is over it as it does for MaxCmds. 0: no limit.
	MaxCmdBytes int64 `json:"maxCmdBytes,omitempty"`
}

// MaxTextFrame is the largest text frame either side sends: the server
// never sends a larger one (it answers 8 instead, see docs/protocol.md).
const MaxTextFrame = 64 * 1024

// ErrBadMessage reports a text frame that is not a JSON object of Msg's shape.
var ErrBadMessage = errors.New("protocol: malformed message")
