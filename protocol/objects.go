package protocol

// MeetInfo is REFERENCE §2's MeetInfoObj.
type MeetInfo struct {
	ID          int    `json:"ID"`
	Pswd        string `json:"pswd"`
	Subject     string `json:"subject"`
	PubMeetURL  string `json:"pubMeetUrl"`
	Creator     string `json:"creator"`
	MemberCount int    `json:"memberCount"`
	StartTime   int64  `json:"startTime"`
}

// UserStatus is REFERENCE §2's UserStatusObj.
type UserStatus struct {
	UserID     string `json:"userID"`
	UserStatus int    `json:"userStatus"`
	DNDType    int    `json:"DNDType"`
}

// Values of UserStatus.UserStatus.
const (
	StatusOffline = 0
	StatusIdle    = 1
	StatusBusy    = 2
	StatusMeeting = 3
)

// Values of the callMoreParty status pushed in PushPartyStatus.
const (
	PartyRinging  = 0
	PartyAccepted = 1
	PartyRejected = 2
	PartyNoAnswer = 3
	PartyHungup   = 4
)

// Limits fixed by the API (REFERENCE §1–§3). Server-configurable limits travel
// in the login reply instead.
const (
	MaxCmdBytes     = 50 * 1024 // decoded sendCmd payload
	MaxExtBytes     = 8192      // usrExtDat and meetObj
	MaxSubjectRunes = 50        // meeting subject, in code points
	MaxNameRunes    = 128       // nickName and privAcnt, in code points
)
