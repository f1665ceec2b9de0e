package main

// This file is the one description of the C API: every CloudroomVideoMgr
// function, every callback, and the SDK-level functions. main.go turns it into
// include/crvideomgr.h, include/CloudroomVideoMgr.h and the capi glue
// (capi/zz_bridge.h, capi/zz_bridge.c, capi/zz_api.go), core.Callback
// (core/zz_callback.go) and the C tests' lists (tests/c/zz_api_surface.h). The
// error codes come from protocol.Codes.

// Param is one parameter of a function or callback. Type is "string" or "int".
type Param struct {
	Name string
	Type string
	Doc  string
}

// Func is one CloudroomVideoMgr method, exported as crvideomgr_<Name>.
type Func struct {
	Name      string  // seed name, e.g. "login"
	Params    []Param // seed order
	ReturnsID string  // "" for void; else what the returned string is ("call ID")
	Doc       string  // what it does; first sentence follows the name
	Results   string  // the callbacks that report its outcome, as prose
	// Fail is the Go call on a core.Callback that reports a failure of this
	// function with code `code`, used when the export itself panics; "" if the
	// function has no failure callback (logout) or returns an ID.
	Fail string
	// Refuse is the Go call that reports CRVIDEOSDK_NOT_INIT (`code`) for an
	// ID-returning function called while the SDK is not initialised; `id`
	// is the ID it returns. Functions without an ID use Fail.
	Refuse string
}

// Callback is one field of CRVideoMgrCallbacks and one method of core.Callback.
type Callback struct {
	Name   string // seed name (notifyUserStatus for the seed's ntifyUserStatus)
	Params []Param
	Doc    string
}

func s(name, doc string) Param { return Param{name, "string", doc} }
func i(name, doc string) Param { return Param{name, "int", doc} }

const cookieDoc = "your data for the result callback"

var funcs = []Func{
	{
		Name: "login",
		Params: []Param{
			s("authAcnt", "the enterprise (tenant) account held by the server"),
			s("authPswd", "lowercase hex MD5 of the enterprise account's password"),
			s("nickName", "display name, at most 128 characters"),
			s("privAcnt", "your own user account, at most 128 characters; \"\" lets the server assign a unique usrID"),
			s("privAuthCode", "custom verification data; \"\" for none"),
			s("cookie", cookieDoc),
		},
		Doc: "logs in to the server set with crvideo_setServerAddr. A second login of the same " +
			"usrID in the same enterprise succeeds and the older session gets lineOff(CRVIDEOSDK_KICKOUT_BY_RELOGIN). " +
			"After logout or lineOff the user may log in again without crvideo_uninit.",
		Results: "loginSuccess(usrID, cookie) or loginFail(sdkErr, cookie): CRVIDEOSDK_ANCTPSWD_ERR, " +
			"CRVIDEOSDK_LOGINSTATE_ERROR (already logged in or logging in; also a login ended by logout before it " +
			"completed), CRVIDEOSDK_NO_SERVERINFO, " +
			"CRVIDEOSDK_CREATE_CONN_FAILED, CRVIDEOSDK_SSL_ERR (TLS handshake or certificate, see crvideo_setTrustedCA), " +
			"CRVIDEOSDK_CONNECTIONLOST (the connection broke, or no login reply within 10 s), " +
			"CRVIDEOSDK_PARAM_ERR, CRVIDEOSDK_CUSTOMAUTH_* (privAuthCode verification), CRVIDEOSDK_SERVER_EXCEPTION " +
			"(also: too many failed logins from this address or for this account; retry later).",
		Fail: "LoginFail(code, cookie)",
	},
	{
		Name: "logout",
		Doc: "ends the session: the peers of its calls get notifyCallHungup, its transfers fail, " +
			"status subscribers see the user offline. No callback reports it; callbacks already " +
			"queued still arrive. Does nothing when not logged in.",
		Results: "none.",
	},
	{
		Name: "setDNDStatus",
		Params: []Param{
			i("DNDStatus", "0 turns do-not-disturb off; any other value turns it on (the meaning is yours)"),
			s("cookie", cookieDoc),
		},
		Doc:     "sets the do-not-disturb status. Calls to a user whose status is not 0 fail at the caller with CRVIDEOSDK_ERR_BUSY.",
		Results: "setDNDStatusSuccess(cookie) or setDNDStatusFail(sdkErr, cookie).",
		Fail:    "SetDNDStatusFail(code, cookie)",
	},
	{
		Name:    "getUserStatus",
		Params:  []Param{s("cookie", cookieDoc)},
		Doc:     "asks for the status of every online user of the enterprise, the caller included.",
		Results: "getUserStatusSuccess(usersStatus, cookie) with a UserStatusObjs JSON array, or getUserStatusFail(sdkErr, cookie).",
		Fail:    "GetUserStatusFail(code, cookie)",
	},
	{
		Name:   "startUserStatusNotify",
		Params: []Param{s("cookie", cookieDoc)},
		Doc: "subscribes to status changes of every user of the enterprise (login, logout, lineOff, " +
			"call start and end, DND change); each arrives as notifyUserStatus with this cookie. " +
			"Call getUserStatus first for the initial picture.",
		Results: "startUserStatusNotifyRslt(sdkErr, cookie).",
		Fail:    "StartUserStatusNotifyRslt(code, cookie)",
	},
	{
		Name:    "stopUserStatusNotify",
		Params:  []Param{s("cookie", cookieDoc)},
		Doc:     "ends the subscription started by startUserStatusNotify. Logout ends it too.",
		Results: "stopUserStatusNotifyRslt(sdkErr, cookie).",
		Fail:    "StopUserStatusNotifyRslt(code, cookie)",
	},
	{
		Name: "createMeeting",
		Params: []Param{
			s("meetSubject", "subject, at most 50 characters (code points)"),
			i("createPswd", "0: no password; 1: the server generates a 6-digit password"),
			s("cookie", cookieDoc),
		},
		Doc:     "creates a meeting that persists until destroyMeeting.",
		Results: "createMeetingSuccess(meetObj, cookie) with a MeetInfoObj, or createMeetingFail(sdkErr, cookie): CRVIDEOSDK_PARAM_ERR for a long subject or createPswd not 0 or 1.",
		Fail:    "CreateMeetingFail(code, cookie)",
	},
	{
		Name: "destroyMeeting",
		Params: []Param{
			i("meetID", "the meeting's ID"),
			s("cookie", cookieDoc),
		},
		Doc:     "destroys a meeting of the enterprise.",
		Results: "destroyMeetingRslt(sdkErr, cookie): CRVIDEOSDK_MEETNOTEXIST for an unknown ID.",
		Fail:    "DestroyMeetingRslt(code, cookie)",
	},
	{
		Name:    "getMeetings",
		Params:  []Param{s("cookie", cookieDoc)},
		Doc:     "lists the enterprise's meetings, newest first.",
		Results: "getMeetingsSuccess(jsonMeetings, cookie) with a MeetInfoObjs JSON array, or getMeetingsFail(sdkErr, cookie).",
		Fail:    "GetMeetingsFail(code, cookie)",
	},
	{
		Name:   "call",
		Refuse: "CallFail(id, code, cookie)",
		Params: []Param{
			s("calledUserID", "the callee's usrID"),
			s("meetObj", "\"\" or a MeetInfoObj JSON object, at most 8192 bytes"),
			s("usrExtDat", "your data for the callee, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		ReturnsID: "the new call ID",
		Doc: "calls another user of the enterprise. Unanswered calls end after the server's ring " +
			"timeout (30 s by default) with notifyCallRejected(callID, CRVIDEOSDK_ERR_NOANSWER).",
		Results: "callSuccess(callID, cookie) once the callee is ringing (the callee gets notifyCallIn), or " +
			"callFail(callID, sdkErr, cookie): CRVIDEOSDK_ERR_OFFLINE, CRVIDEOSDK_ERR_BUSY (busy or DND), " +
			"CRVIDEOSDK_ERR_CALL_EXIST (you are in a call), CRVIDEOSDK_PARAM_ERR (yourself, bad meetObj, too long). " +
			"Then notifyCallAccepted, notifyCallRejected or notifyCallHungup.",
	},
	{
		Name: "acceptCall",
		Params: []Param{
			s("callID", "the call ID (or invite ID) from notifyCallIn"),
			s("meetObj", "\"\" or a MeetInfoObj JSON object for the caller, at most 8192 bytes"),
			s("usrExtDat", "your data for the caller, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		Doc:     "accepts a ringing incoming call; the caller gets notifyCallAccepted.",
		Results: "acceptCallSuccess(callID, cookie) or acceptCallFail(callID, sdkErr, cookie): CRVIDEOSDK_INVALID_CALLID when the call is unknown, ended or not yours.",
		Fail:    "AcceptCallFail(callID, code, cookie)",
	},
	{
		Name: "rejectCall",
		Params: []Param{
			s("callID", "the call ID (or invite ID) from notifyCallIn"),
			s("usrExtDat", "your data for the caller, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		Doc:     "rejects a ringing incoming call; the caller gets notifyCallRejected(callID, CRVIDEOSDK_ERR_REFUSE, usrExtDat).",
		Results: "rejectCallSuccess(callID, cookie) or rejectCallFail(callID, sdkErr, cookie): CRVIDEOSDK_INVALID_CALLID.",
		Fail:    "RejectCallFail(callID, code, cookie)",
	},
	{
		Name: "hungupCall",
		Params: []Param{
			s("callID", "the call ID (or invite ID)"),
			s("usrExtDat", "your data for the other party, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		Doc:     "hangs up a ringing or connected call, by either side; the other side gets notifyCallHungup(callID, usrExtDat).",
		Results: "hungupCallSuccess(callID, cookie) or hungupCallFail(callID, sdkErr, cookie): CRVIDEOSDK_INVALID_CALLID.",
		Fail:    "HungupCallFail(callID, code, cookie)",
	},
	{
		Name:   "callMoreParty",
		Refuse: "CallMorePartyRslt(id, code, cookie)",
		Params: []Param{
			s("called", "the third party's usrID"),
			s("meetObj", "\"\" or a MeetInfoObj JSON object, at most 8192 bytes"),
			s("usrExtDat", "your data for the invitee, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		ReturnsID: "the new invite ID",
		Doc: "invites a third party while in a connected call. The invitee gets an ordinary notifyCallIn " +
			"with the invite ID and answers it with acceptCall, rejectCall or hungupCall. The original call is unaffected.",
		Results: "callMorePartyRslt(inviteID, sdkErr, cookie): 0, CRVIDEOSDK_INVALID_CALLID (not in a connected call), " +
			"CRVIDEOSDK_ERR_OFFLINE, CRVIDEOSDK_ERR_BUSY; then notifyCallMorePartyStatus(inviteID, status).",
	},
	{
		Name: "cancelCallMoreParty",
		Params: []Param{
			s("inviteID", "the invite ID returned by callMoreParty"),
			s("usrExtDat", "your data for the invitee, at most 8192 bytes"),
			s("cookie", cookieDoc),
		},
		Doc:     "cancels a ringing invitation; the invitee gets notifyCallHungup(inviteID, usrExtDat).",
		Results: "cancelCallMorePartyRslt(inviteID, sdkErr, cookie): 0, or CRVIDEOSDK_INVALID_CALLID when the invite is not ringing.",
		Fail:    "CancelCallMorePartyRslt(inviteID, code, cookie)",
	},
	{
		Name:   "sendCmd",
		Refuse: "SendCmdRlst(id, code, \"\")",
		Params: []Param{
			s("targetUserId", "the receiver's usrID"),
			s("data", "base64 of at most 50 KiB of data"),
		},
		ReturnsID: "the new task ID",
		Doc: "sends a small block of data in one piece. It cannot be cancelled and reports no progress; " +
			"the receiver gets notifyCmdData(sourceUserId, data).",
		Results: "sendCmdRlst(taskID, sdkErr, \"\") once the receiving application has had notifyCmdData (its callback returned): 0, " +
			"CRVIDEOSDK_BASE64_COV_ERR, CRVIDEOSDK_SENDCMD_LARGE, CRVIDEOSDK_SENDDATA_TARGETINVALID, " +
			"CRVIDEOSDK_SENDFAIL (the receiver's session ended before it had the data).",
	},
	{
		Name:   "sendBuffer",
		Refuse: "SendBufferRlst(id, code, \"\")",
		Params: []Param{
			s("targetUserId", "the receiver's usrID"),
			s("data", "base64 of the data (at most the server's limit, 100 MiB by default)"),
		},
		ReturnsID: "the new task ID",
		Doc: "sends a large block of data in chunks, in parallel with other transfers, without delaying " +
			"calls; the receiver gets notifyBufferData(sourceUserId, data). Cancel with cancelSend.",
		Results: "sendProgress(taskID, sendedLen, totalLen, \"\") as it goes, then sendBufferRlst(taskID, sdkErr, \"\") " +
			"once the receiver has everything: 0, CRVIDEOSDK_BASE64_COV_ERR, CRVIDEOSDK_SENDBUFFER_LARGE, " +
			"CRVIDEOSDK_SENDDATA_TARGETINVALID, CRVIDEOSDK_SENDFAIL.",
	},
	{
		Name:   "sendFile",
		Refuse: "SendFileRlst(id, fileName, code, \"\")",
		Params: []Param{
			s("targetUserId", "the receiver's usrID"),
			s("fileName", "path of the file to send"),
		},
		ReturnsID: "the new task ID",
		Doc: "sends a file in chunks; the receiver gets notifyFileData(sourceUserId, tmpFile, orgFileName) " +
			"with a new file in its temp directory. Cancel with cancelSend.",
		Results: "sendProgress(taskID, sendedLen, totalLen, \"\") as it goes, then sendFileRlst(taskID, fileName, sdkErr, \"\"): " +
			"0, CRVIDEOSDK_FILE_NOT_EXIST, CRVIDEOSDK_FILE_READ_ERR, CRVIDEOSDK_FILE_SIZE_UNSUPPORT, " +
			"CRVIDEOSDK_SENDDATA_TARGETINVALID, CRVIDEOSDK_FILE_WRITE_ERR, CRVIDEOSDK_SENDFAIL.",
	},
	{
		Name:   "cancelSend",
		Params: []Param{s("taskID", "a task ID from sendBuffer or sendFile")},
		Doc: "cancels a transfer in flight; the receiver gets notifyCancelSend and keeps nothing, and no " +
			"send*Rlst follows for that task.",
		Results: "cancelSendRlst(taskID, sdkErr, \"\"): 0, or CRVIDEOSDK_TRANSID_INVALID for an unknown, " +
			"finished, already cancelled or sendCmd task.",
		Fail: "CancelSendRlst(taskID, code, \"\")",
	},
}

var callbacks = []Callback{
	{"loginSuccess", []Param{s("usrID", "your usrID"), s("cookie", "login's cookie")}, "reports a successful login."},
	{"loginFail", []Param{i("sdkErr", "why"), s("cookie", "login's cookie")}, "reports a failed login."},
	{"setDNDStatusSuccess", []Param{s("cookie", "setDNDStatus's cookie")}, "reports that setDNDStatus took effect."},
	{"setDNDStatusFail", []Param{i("sdkErr", "why"), s("cookie", "setDNDStatus's cookie")}, "reports that setDNDStatus failed."},
	{"getUserStatusSuccess", []Param{s("usersStatus", "UserStatusObjs JSON array of the enterprise's online users"), s("cookie", "getUserStatus's cookie")}, "delivers the status list asked for by getUserStatus. A user not in the list is offline."},
	{"getUserStatusFail", []Param{i("sdkErr", "why"), s("cookie", "getUserStatus's cookie")}, "reports that getUserStatus failed."},
	{"startUserStatusNotifyRslt", []Param{i("sdkErr", "0 or why not"), s("cookie", "startUserStatusNotify's cookie")}, "reports the result of startUserStatusNotify."},
	{"stopUserStatusNotifyRslt", []Param{i("sdkErr", "0 or why not"), s("cookie", "stopUserStatusNotify's cookie")}, "reports the result of stopUserStatusNotify."},
	{"notifyUserStatus", []Param{s("userStatus", "UserStatusObj JSON of the user whose status changed"), s("cookie", "startUserStatusNotify's cookie")}, "reports one user's status change while subscribed (the seed spells it ntifyUserStatus)."},
	{"lineOff", []Param{i("sdkErr", "CRVIDEOSDK_KICKOUT_BY_RELOGIN or CRVIDEOSDK_CONNECTIONLOST")}, "reports that the session ended without logout. You may log in again."},
	{"createMeetingSuccess", []Param{s("meetObj", "MeetInfoObj JSON of the new meeting"), s("cookie", "createMeeting's cookie")}, "reports a created meeting."},
	{"createMeetingFail", []Param{i("sdkErr", "why"), s("cookie", "createMeeting's cookie")}, "reports that createMeeting failed."},
	{"destroyMeetingRslt", []Param{i("sdkErr", "0 or why not"), s("cookie", "destroyMeeting's cookie")}, "reports the result of destroyMeeting."},
	{"getMeetingsSuccess", []Param{s("jsonMeetings", "MeetInfoObjs JSON array, newest first"), s("cookie", "getMeetings's cookie")}, "delivers the meeting list."},
	{"getMeetingsFail", []Param{i("sdkErr", "why"), s("cookie", "getMeetings's cookie")}, "reports that getMeetings failed."},
	{"callSuccess", []Param{s("callID", "the call ID call returned"), s("cookie", "call's cookie")}, "reports that the callee is ringing."},
	{"callFail", []Param{s("callID", "the call ID call returned"), i("sdkErr", "why"), s("cookie", "call's cookie")}, "reports that a call could not be placed."},
	{"acceptCallSuccess", []Param{s("callID", "the call ID"), s("cookie", "acceptCall's cookie")}, "reports that acceptCall connected the call."},
	{"acceptCallFail", []Param{s("callID", "the call ID"), i("sdkErr", "why"), s("cookie", "acceptCall's cookie")}, "reports that acceptCall failed."},
	{"rejectCallSuccess", []Param{s("callID", "the call ID"), s("cookie", "rejectCall's cookie")}, "reports that rejectCall ended the call."},
	{"rejectCallFail", []Param{s("callID", "the call ID"), i("sdkErr", "why"), s("cookie", "rejectCall's cookie")}, "reports that rejectCall failed."},
	{"hungupCallSuccess", []Param{s("callID", "the call ID"), s("cookie", "hungupCall's cookie")}, "reports that hungupCall ended the call."},
	{"hungupCallFail", []Param{s("callID", "the call ID"), i("sdkErr", "why"), s("cookie", "hungupCall's cookie")}, "reports that hungupCall failed."},
	{"notifyCallIn", []Param{s("callID", "the call ID (or invite ID) to answer"), s("meetObj", "the caller's meetObj, \"\" for none"), s("callerID", "the caller's (or inviter's) usrID"), s("usrExtDat", "the caller's data")}, "reports an incoming call or invitation. Answer with acceptCall, rejectCall or hungupCall."},
	{"notifyCallAccepted", []Param{s("callID", "the call ID"), s("usrExtDat", "the callee's data"), s("meetObj", "the callee's meetObj, \"\" for none")}, "reports that the callee accepted your call."},
	{"notifyCallRejected", []Param{s("callID", "the call ID"), i("reason", "CRVIDEOSDK_ERR_REFUSE (rejected) or CRVIDEOSDK_ERR_NOANSWER (ring timeout)"), s("usrExtDat", "the callee's data (\"\" on timeout)")}, "reports that your call was rejected or not answered."},
	{"notifyCallHungup", []Param{s("callID", "the call ID (or invite ID)"), s("usrExtDat", "the other party's data; \"\" on timeout or session end")}, "reports that the other party hung up, a ringing call timed out, an invitation was cancelled, or the other party's session ended."},
	{"callMorePartyRslt", []Param{s("callID", "the invite ID"), i("sdkErr", "0 or why not"), s("cookie", "callMoreParty's cookie")}, "reports the result of callMoreParty."},
	{"cancelCallMorePartyRslt", []Param{s("callID", "the invite ID"), i("sdkErr", "0 or why not"), s("cookie", "cancelCallMoreParty's cookie")}, "reports the result of cancelCallMoreParty."},
	{"notifyCallMorePartyStatus", []Param{s("callID", "the invite ID"), i("status", "0 ringing, 1 accepted, 2 rejected, 3 no answer, 4 hung up")}, "reports the invitee's state."},
	{"sendCmdRlst", []Param{s("taskID", "the task ID"), i("sdkErr", "0 or why not"), s("cookie", "\"\"")}, "reports the result of sendCmd."},
	{"sendBufferRlst", []Param{s("taskID", "the task ID"), i("sdkErr", "0 or why not"), s("cookie", "\"\"")}, "reports the result of sendBuffer."},
	{"sendFileRlst", []Param{s("taskID", "the task ID"), s("fileName", "the fileName passed to sendFile"), i("sdkErr", "0 or why not"), s("cookie", "\"\"")}, "reports the result of sendFile."},
	{"sendProgress", []Param{s("taskID", "the task ID"), i("sendedLen", "bytes sent so far (decoded data or file bytes)"), i("totalLen", "bytes in all"), s("cookie", "\"\"")}, "reports the progress of sendBuffer or sendFile: at least at start and end, at most about 10 times a second per task."},
	{"cancelSendRlst", []Param{s("taskID", "the task ID"), i("sdkErr", "0 or why not"), s("cookie", "\"\"")}, "reports the result of cancelSend."},
	{"notifyCmdData", []Param{s("sourceUserId", "the sender's usrID"), s("data", "base64 of the data")}, "delivers data sent with sendCmd."},
	{"notifyBufferData", []Param{s("sourceUserId", "the sender's usrID"), s("data", "base64 of the data")}, "delivers data sent with sendBuffer."},
	{"notifyFileData", []Param{s("sourceUserId", "the sender's usrID"), s("tmpFile", "path of a new file in the temp directory; it is yours: move or delete it"), s("orgFileName", "the sender's base file name (no directories)")}, "delivers a file sent with sendFile."},
	{"notifyCancelSend", []Param{s("sendId", "the task ID")}, "reports that an incoming transfer was cancelled or broke off; nothing of it is kept."},
}
