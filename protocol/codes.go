package protocol

// Error codes of CRVIDEOSDK_ERR_DEF (REFERENCE §1). The numbers are Cloudroom's
// own and are never renumbered; new ones are only appended.
const (
	NoErr                 = 0
	UnknownErr            = 1
	OutOfMem              = 2
	InnerErr              = 3
	MismatchClientVer     = 4
	ParamErr              = 5
	ErrData               = 6
	AcntPswdErr           = 7
	ServerException       = 8
	LoginStateError       = 9
	KickoutByRelogin      = 10
	NotInit               = 11
	NotLogin              = 12
	Base64CovErr          = 13
	CustomAuthNoInfo      = 14
	CustomAuthNotSupport  = 15
	CustomAuthException   = 16
	CustomAuthFailed      = 17
	NoServerInfo          = 201
	NoServerRsp           = 202
	CreateConnFailed      = 203
	SocketTimeout         = 205
	ConnectionLost        = 207
	SSLErr                = 209
	InvalidCallID         = 600
	ErrCallExist          = 601
	ErrBusy               = 602
	ErrOffline            = 603
	ErrNoAnswer           = 604
	ErrRefuse             = 606
	MeetNotExist          = 800
	SendFail              = 1000
	SendCmdLarge          = 1100
	SendBufferLarge       = 1101
	SendDataTargetInvalid = 1102
	TransIDInvalid        = 1104
	FileNotExist          = 1400
	FileReadErr           = 1401
	FileWriteErr          = 1402
	FileSizeUnsupport     = 1405
)

// CodeInfo describes one error code: its C enum name and a short English text.
type CodeInfo struct {
	Code int
	Name string
	Text string
}

// Codes lists every error code in ascending order. It is the single source
// for crvideo_strerror and for the CRVIDEOSDK_ERR_DEF enum in the C header.
var Codes = []CodeInfo{
	{NoErr, "CRVIDEOSDK_NOERR", "success"},
	{UnknownErr, "CRVIDEOSDK_UNKNOWERR", "unknown error"},
	{OutOfMem, "CRVIDEOSDK_OUTOF_MEM", "out of memory"},
	{InnerErr, "CRVIDEOSDK_INNER_ERR", "internal error"},
	{MismatchClientVer, "CRVIDEOSDK_MISMATCHCLIENTVER", "client and server protocol versions do not match"},
	{ParamErr, "CRVIDEOSDK_PARAM_ERR", "invalid parameter"},
	{ErrData, "CRVIDEOSDK_ERR_DATA", "malformed data"},
	{AcntPswdErr, "CRVIDEOSDK_ANCTPSWD_ERR", "wrong account or password"},
	{ServerException, "CRVIDEOSDK_SERVER_EXCEPTION", "server-side failure"},
	{LoginStateError, "CRVIDEOSDK_LOGINSTATE_ERROR", "already logged in or logging in"},
	{KickoutByRelogin, "CRVIDEOSDK_KICKOUT_BY_RELOGIN", "the same user logged in elsewhere"},
	{NotInit, "CRVIDEOSDK_NOT_INIT", "SDK not initialised"},
	{NotLogin, "CRVIDEOSDK_NOT_LOGIN", "not logged in"},
	{Base64CovErr, "CRVIDEOSDK_BASE64_COV_ERR", "data is not valid base64"},
	{CustomAuthNoInfo, "CRVIDEOSDK_CUSTOMAUTH_NOINFO", "server requires privAuthCode, none given"},
	{CustomAuthNotSupport, "CRVIDEOSDK_CUSTOMAUTH_NOTSUPPORT", "privAuthCode given, server has no verification configured"},
	{CustomAuthException, "CRVIDEOSDK_CUSTOMAUTH_EXCEPTION", "custom verification service unreachable"},
	{CustomAuthFailed, "CRVIDEOSDK_CUSTOMAUTH_FAILED", "custom verification refused"},
	{NoServerInfo, "CRVIDEOSDK_NO_SERVERINFO", "no server address set"},
	{NoServerRsp, "CRVIDEOSDK_NOSERVER_RSP", "server did not answer in time"},
	{CreateConnFailed, "CRVIDEOSDK_CREATE_CONN_FAILED", "could not connect to any server address"},
	{SocketTimeout, "CRVIDEOSDK_SOCKETTIMEOUT", "network timeout"},
	{ConnectionLost, "CRVIDEOSDK_CONNECTIONLOST", "connection lost"},
	{SSLErr, "CRVIDEOSDK_SSL_ERR", "TLS failure"},
	{InvalidCallID, "CRVIDEOSDK_INVALID_CALLID", "call ID unknown, ended or not yours"},
	{ErrCallExist, "CRVIDEOSDK_ERR_CALL_EXIST", "already in a call"},
	{ErrBusy, "CRVIDEOSDK_ERR_BUSY", "callee busy or do-not-disturb"},
	{ErrOffline, "CRVIDEOSDK_ERR_OFFLINE", "callee offline"},
	{ErrNoAnswer, "CRVIDEOSDK_ERR_NOANSWER", "no answer"},
	{ErrRefuse, "CRVIDEOSDK_ERR_REFUSE", "call rejected"},
	{MeetNotExist, "CRVIDEOSDK_MEETNOTEXIST", "meeting does not exist"},
	{SendFail, "CRVIDEOSDK_SENDFAIL", "transfer broke off"},
	{SendCmdLarge, "CRVIDEOSDK_SENDCMD_LARGE", "command data over 50 KiB"},
	{SendBufferLarge, "CRVIDEOSDK_SENDBUFFER_LARGE", "buffer over the server's limit"},
	{SendDataTargetInvalid, "CRVIDEOSDK_SENDDATA_TARGETINVALID", "send target not online"},
	{TransIDInvalid, "CRVIDEOSDK_TRANSID_INVALID", "unknown or finished task ID"},
	{FileNotExist, "CRVIDEOSDK_FILE_NOT_EXIST", "file does not exist"},
	{FileReadErr, "CRVIDEOSDK_FILE_READ_ERR", "file cannot be read"},
	{FileWriteErr, "CRVIDEOSDK_FILE_WRITE_ERR", "receiver could not write the file"},
	{FileSizeUnsupport, "CRVIDEOSDK_FILE_SIZE_UNSUPPORT", "file over the server's limit"},
}

// CodeText returns the short English text of an error code, or "unknown error
// code" for a value not in Codes.
func CodeText(code int) string {
	for _, c := range Codes {
		if c.Code == code {
			return c.Text
		}
	}
	return "unknown error code"
}
