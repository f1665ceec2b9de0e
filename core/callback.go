package core

// Callback receives every result and notification of a Mgr: one method per
// callback of the seed API (CloudroomVideoMgr.md), same names (NotifyUserStatus
// for the seed's misspelt ntifyUserStatus) and same parameters in the same order.
//
// Methods run one at a time, in event order, on the Mgr's dispatch goroutine,
// never inside the API call that caused them. A method may call any Mgr method,
// Close included. Embed NopCallback to implement only some of them.
type Callback interface {
	LoginSuccess(usrID, cookie string)
	LoginFail(sdkErr int, cookie string)
	SetDNDStatusSuccess(cookie string)
	SetDNDStatusFail(sdkErr int, cookie string)
	GetUserStatusSuccess(usersStatus, cookie string)
	GetUserStatusFail(sdkErr int, cookie string)
	StartUserStatusNotifyRslt(sdkErr int, cookie string)
	StopUserStatusNotifyRslt(sdkErr int, cookie string)
	NotifyUserStatus(userStatus, cookie string)
	LineOff(sdkErr int)
	CreateMeetingSuccess(meetObj, cookie string)
	CreateMeetingFail(sdkErr int, cookie string)
	DestroyMeetingRslt(sdkErr int, cookie string)
	GetMeetingsSuccess(jsonMeetings, cookie string)
	GetMeetingsFail(sdkErr int, cookie string)
	CallSuccess(callID, cookie string)
	CallFail(callID string, sdkErr int, cookie string)
	AcceptCallSuccess(callID, cookie string)
	AcceptCallFail(callID string, sdkErr int, cookie string)
	RejectCallSuccess(callID, cookie string)
	RejectCallFail(callID string, sdkErr int, cookie string)
	HungupCallSuccess(callID, cookie string)
	HungupCallFail(callID string, sdkErr int, cookie string)
	NotifyCallIn(callID, meetObj, callerID, usrExtDat string)
	NotifyCallAccepted(callID, usrExtDat, meetObj string)
	NotifyCallRejected(callID string, reason int, usrExtDat string)
	NotifyCallHungup(callID, usrExtDat string)
	CallMorePartyRslt(callID string, sdkErr int, cookie string)
	CancelCallMorePartyRslt(callID string, sdkErr int, cookie string)
	NotifyCallMorePartyStatus(callID string, status int)
	SendCmdRlst(taskID string, sdkErr int, cookie string)
	SendBufferRlst(taskID string, sdkErr int, cookie string)
	SendFileRlst(taskID, fileName string, sdkErr int, cookie string)
	SendProgress(taskID string, sendedLen, totalLen int, cookie string)
	CancelSendRlst(taskID string, sdkErr int, cookie string)
	NotifyCmdData(sourceUserID, data string)
	NotifyBufferData(sourceUserID, data string)
	NotifyFileData(sourceUserID, tmpFile, orgFileName string)
	NotifyCancelSend(sendID string)
}

// NopCallback implements Callback with methods that do nothing.
type NopCallback struct{}

func (NopCallback) LoginSuccess(usrID, cookie string)                              {}
func (NopCallback) LoginFail(sdkErr int, cookie string)                            {}
func (NopCallback) SetDNDStatusSuccess(cookie string)                              {}
func (NopCallback) SetDNDStatusFail(sdkErr int, cookie string)                     {}
func (NopCallback) GetUserStatusSuccess(usersStatus, cookie string)                {}
func (NopCallback) GetUserStatusFail(sdkErr int, cookie string)                    {}
func (NopCallback) StartUserStatusNotifyRslt(sdkErr int, cookie string)            {}
func (NopCallback) StopUserStatusNotifyRslt(sdkErr int, cookie string)             {}
func (NopCallback) NotifyUserStatus(userStatus, cookie string)                     {}
func (NopCallback) LineOff(sdkErr int)                                             {}
func (NopCallback) CreateMeetingSuccess(meetObj, cookie string)                    {}
func (NopCallback) CreateMeetingFail(sdkErr int, cookie string)                    {}
func (NopCallback) DestroyMeetingRslt(sdkErr int, cookie string)                   {}
func (NopCallback) GetMeetingsSuccess(jsonMeetings, cookie string)                 {}
func (NopCallback) GetMeetingsFail(sdkErr int, cookie string)                      {}
func (NopCallback) CallSuccess(callID, cookie string)                              {}
func (NopCallback) CallFail(callID string, sdkErr int, cookie string)              {}
func (NopCallback) AcceptCallSuccess(callID, cookie string)                        {}
func (NopCallback) AcceptCallFail(callID string, sdkErr int, cookie string)        {}
func (NopCallback) RejectCallSuccess(callID, cookie string)                        {}
func (NopCallback) RejectCallFail(callID string, sdkErr int, cookie string)        {}
func (NopCallback) HungupCallSuccess(callID, cookie string)                        {}
func (NopCallback) HungupCallFail(callID string, sdkErr int, cookie string)        {}
func (NopCallback) NotifyCallIn(callID, meetObj, callerID, usrExtDat string)       {}
func (NopCallback) NotifyCallAccepted(callID, usrExtDat, meetObj string)           {}
func (NopCallback) NotifyCallRejected(callID string, reason int, usrExtDat string) {}
func (NopCallback) NotifyCallHungup(callID, usrExtDat string)                      {}
func (NopCallback) CallMorePartyRslt(callID string, sdkErr int, cookie string)     {}
func (NopCallback) CancelCallMorePartyRslt(callID string, sdkErr int, cookie string) {
}
func (NopCallback) NotifyCallMorePartyStatus(callID string, status int)             {}
func (NopCallback) SendCmdRlst(taskID string, sdkErr int, cookie string)            {}
func (NopCallback) SendBufferRlst(taskID string, sdkErr int, cookie string)         {}
func (NopCallback) SendFileRlst(taskID, fileName string, sdkErr int, cookie string) {}
func (NopCallback) SendProgress(taskID string, sendedLen, totalLen int, cookie string) {
}
func (NopCallback) CancelSendRlst(taskID string, sdkErr int, cookie string)  {}
func (NopCallback) NotifyCmdData(sourceUserID, data string)                  {}
func (NopCallback) NotifyBufferData(sourceUserID, data string)               {}
func (NopCallback) NotifyFileData(sourceUserID, tmpFile, orgFileName string) {}
func (NopCallback) NotifyCancelSend(sendID string)                           {}
