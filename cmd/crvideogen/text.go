package main

// Hand-written parts of include/crvideomgr.h: the overview, the export macro and
// the SDK-level functions implemented in capi/sdk.go.

const headerIntro = `/*
 * crvideomgr.h: the C API of libcrvideomgr, an implementation of Cloudroom's
 * CloudroomVideoMgr component (login, calls, meetings, data and file transfer).
 * ` + genNote + `
 *
 * USING IT
 *
 *     crvideo_setCallbacks(&cbs, sizeof cbs, my_state);   // any time
 *     crvideo_init("/var/lib/myapp/crvideo");              // logs go to .../crvideomgr.log
 *     crvideo_setServerAddr("127.0.0.1:2727");
 *     crvideomgr_login("demo", "<md5 hex of the password>", "Alice", "alice", "", "");
 *     ...                                                  // results arrive on callbacks
 *     crvideomgr_logout();
 *     crvideo_uninit();
 *
 * Every crvideomgr_ function but logout reports its outcome asynchronously, once, through
 * the callback named in its description; never from inside the call itself. Events
 * still pending at crvideo_uninit are dropped: a request still in flight then gets no
 * callback.
 *
 * STRINGS
 *
 * All strings are NUL-terminated UTF-8. A NULL string argument is treated as "". The
 * library copies every argument before the call returns. Strings returned by the
 * library (char *) belong to the caller and are freed with crvideo_free, never with
 * free() of another C runtime. Strings passed to callbacks belong to the library and
 * are valid only until the callback returns: copy what you keep.
 *
 * THREADS AND RE-ENTRANCY
 *
 * Every function is thread-safe and may be called from any thread, including from
 * inside a callback (login, logout and crvideo_uninit included).
 *
 * Thread mode (the default): callbacks run one at a time, in event order, on one
 * thread owned by the library, created by crvideo_init (and by each switch back from
 * poll mode) and ended by crvideo_uninit (or a switch to poll mode).
 * No lock that a library function needs is held while a callback runs, so any function
 * may be called from a callback. A slow callback delays the ones after it (never the
 * network: events queue meanwhile).
 *
 * Poll mode (crvideo_setPollMode(1)): callbacks run only inside crvideo_poll, on the
 * thread that calls it; crvideo_pollFd returns a file descriptor that is readable while
 * events are pending, for select/poll/epoll, Qt's QSocketNotifier or GLib's
 * g_unix_fd_add.
 *
 * After crvideo_uninit returns (called outside a callback), or once the callback that
 * called it returns, no callback of that crvideo_init runs again (calls made afterwards
 * fail with CRVIDEOSDK_NOT_INIT, below). Do not hold a
 * lock that your callbacks take while calling crvideo_uninit from another thread: it
 * waits for a running callback to return. Callbacks must return normally: no C++
 * exception and no longjmp may cross the library.
 *
 * BEFORE crvideo_init AND AFTER crvideo_uninit (CRVIDEOSDK_NOT_INIT)
 *
 * There is no session: every crvideomgr_ function but logout fails with
 * CRVIDEOSDK_NOT_INIT through its failure callback, registered with crvideo_setCallbacks
 * as for any other failure (loginFail(CRVIDEOSDK_NOT_INIT, cookie), callFail(callID,
 * CRVIDEOSDK_NOT_INIT, cookie), sendCmdRlst(taskID, CRVIDEOSDK_NOT_INIT, "") ...), and
 * those that return an ID return one. The callback arrives asynchronously, never from
 * inside the call: in thread mode on a short-lived library thread (or on the dispatch
 * thread of a crvideo_init that comes before they ran), in poll mode inside crvideo_poll, which then returns how many ran
 * (-CRVIDEOSDK_NOT_INIT when none was pending); crvideo_pollFd signals them. Calls made
 * while such refusals are still pending have theirs queued behind (at most 65536 are
 * kept; beyond, a refusal is dropped and logged). logout does nothing. The refusal is
 * written to the log of the last crvideo_init, if any. crvideo_setCallbacks,
 * crvideo_setServerAddr, crvideo_setTrustedCA and crvideo_setPollMode work at any time
 * and their settings survive crvideo_uninit.
 *
 * ERRORS INSIDE THE LIBRARY
 *
 * No NULL, empty or oversized argument, out-of-range number or order of calls crashes
 * or hangs the host (string pointers must be NULL or point to NUL-terminated strings).
 * An internal failure in a function is caught and reported as CRVIDEOSDK_INNER_ERR on
 * the function's failure callback (or as a NULL ID, or a negative crvideo_poll result)
 * and logged.
 *
 * RULES OF A GO-BUILT LIBRARY
 *
 * libcrvideomgr is written in Go and carries the Go runtime:
 *  - one Go runtime per process: do not load two Go-built shared libraries that
 *    each start a runtime into one process;
 *  - never unloaded: dlclose() does not unload it; load it once for the life of the
 *    process;
 *  - no fork() without exec() after crvideo_init (or after the library is loaded): the
 *    child gets a broken runtime. fork() followed at once by exec() is fine;
 *  - signal handlers the host installs must use SA_ONSTACK (and should chain to the
 *    handler they replace): a signal may arrive on a thread running Go code. The
 *    runtime installs handlers for the synchronous signals (SIGSEGV, SIGBUS, SIGFPE)
 *    and SIGPIPE and passes on to the earlier handler what is not its own;
 *  - the runtime starts a few threads of its own when the library loads.
 *
 * LOGGING
 *
 * The library never writes to stdout or stderr. It logs to
 * <sdkDatSavePath>/crvideomgr.log (renamed to crvideomgr.log.1 at crvideo_init once it
 * exceeds 10 MiB): quote it in bug reports.
 */
#ifndef CRVIDEOMGR_H
#define CRVIDEOMGR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

`

const headerExportMacro = `/** CRVIDEO_API marks the functions the library exports. */
#if defined(_WIN32)
#define CRVIDEO_API __declspec(dllimport)
#elif defined(__GNUC__)
#define CRVIDEO_API __attribute__((visibility("default")))
#else
#define CRVIDEO_API
#endif

`

const callbacksIntro = `/**
 * CRVideoMgrCallbacks holds one function pointer per callback of CloudroomVideoMgr,
 * registered with crvideo_setCallbacks. Each takes the userdata given there first,
 * then the documented arguments in the documented order. A NULL field means "not
 * interested". Zero the struct (memset or = {0}) before filling it in.
 *
 * All callbacks run on the dispatch thread (thread mode) or inside crvideo_poll (poll
 * mode), one at a time, in event order. String arguments are never NULL and are valid
 * only until the callback returns. Any library function may be called from a callback.
 *
 * JSON shapes: MeetInfoObj {"ID":83920145,"pswd":"","subject":"weekly","pubMeetUrl":"",
 * "creator":"alice","memberCount":0,"startTime":1764086400}; UserStatusObj
 * {"userID":"bob","userStatus":1,"DNDType":0} with userStatus 0 offline, 1 online and
 * idle, 2 busy, 3 in a meeting. Parse them tolerantly: fields may be added.
 */
`

const sdkDecls = `/* ---- SDK level (Cloudroom's CloudroomVideoSDK) ------------------------------------ */

/**
 * crvideo_init starts the SDK: creates sdkDatSavePath if missing, opens the log file
 * <sdkDatSavePath>/crvideomgr.log and starts the dispatch thread (in thread mode).
 * Call it once before any crvideomgr_ function; it may be called again after
 * crvideo_uninit, any number of times, also in the callback that called crvideo_uninit.
 *
 * Returns CRVIDEOSDK_NOERR; CRVIDEOSDK_PARAM_ERR when sdkDatSavePath is NULL, "" or
 * cannot be created or written; CRVIDEOSDK_LOGINSTATE_ERROR when the SDK is already
 * initialised (the running instance is left as it is).
 */
CRVIDEO_API int crvideo_init(const char *sdkDatSavePath);

/**
 * crvideo_uninit stops the SDK: ends the session as crvideomgr_logout does, drops
 * pending events, stops the dispatch thread and closes the log. Does nothing when not
 * initialised. It is prompt in every state: logged in, mid-transfer, mid-login (a
 * dial or a login reply under way) and reconnecting to servers that do not answer
 * alike. When logged in it waits for the server's answer to the logout (at most 2 s;
 * not at all when the connection is dead), from inside a callback too.
 *
 * Called outside a callback, it returns once no callback of this instance is running
 * and none will run again (it waits for one running on another thread to return);
 * only the CRVIDEOSDK_NOT_INIT failures of calls made after it still arrive. Called
 * from inside a callback, it waits for no callback (ending the session may still take
 * up to the 2 s above) and none of this instance runs after the current one returns.
 * The callback registration, server address, trusted CAs and poll mode are kept for
 * the next crvideo_init.
 */
CRVIDEO_API void crvideo_uninit(void);

/**
 * crvideo_setServerAddr sets where crvideomgr_login connects:
 * "host:port[;host:port...]" (tried in order), or ws:// or wss:// URLs. The copy is
 * kept across crvideo_uninit and used by the next login (a session, its reconnects
 * included, keeps the addresses it logged in with). May be called at any time, before
 * crvideo_init too.
 */
CRVIDEO_API void crvideo_setServerAddr(const char *serverAddr);

/**
 * crvideo_setTrustedCA makes wss:// connections trust exactly the CA certificates in
 * the PEM file pemFile (one or more "BEGIN CERTIFICATE" blocks), instead of the
 * system's root certificates: for a server whose certificate your own CA issued.
 * Certificates are always verified, the host name included. NULL or "" restores the
 * system roots. The file is read during the call; the setting applies from the next
 * crvideomgr_login on and is kept across crvideo_uninit. A certificate that does not
 * verify makes login fail with CRVIDEOSDK_SSL_ERR.
 *
 * Returns CRVIDEOSDK_NOERR; CRVIDEOSDK_PARAM_ERR when the file cannot be read, is not a
 * regular file (a device or FIFO is refused, never read), is over 1 MiB or holds no PEM
 * certificate (the previous setting is then kept). May be called at any time, before
 * crvideo_init too.
 */
CRVIDEO_API int crvideo_setTrustedCA(const char *pemFile);

/**
 * crvideo_setCallbacks registers the callbacks and the userdata passed to each. The
 * library copies the first cbsSize bytes of *cbs (pass sizeof(CRVideoMgrCallbacks) as
 * your program was compiled, so a newer library can grow the struct at its end); the
 * caller's struct need not outlive the call. userdata is passed back untouched.
 *
 * NULL cbs clears the registration. May be called before or after crvideo_init; the
 * registration survives crvideo_uninit. A callback
 * already running finishes with the old registration; the next one uses the new.
 *
 * Returns CRVIDEOSDK_NOERR, or CRVIDEOSDK_PARAM_ERR when cbsSize is smaller than
 * CRVIDEOMGR_CALLBACKS_V1_SIZE (the registration is then unchanged).
 */
CRVIDEO_API int crvideo_setCallbacks(const CRVideoMgrCallbacks *cbs, size_t cbsSize, void *userdata);

/**
 * crvideo_strerror returns a short English text for an error code, or "unknown error
 * code" for a value not in CRVIDEOSDK_ERR_DEF. The string is static: do not free it.
 * Works at any time.
 */
CRVIDEO_API const char *crvideo_strerror(int sdkErr);

/**
 * crvideo_version returns the library version, "MAJOR.MINOR.PATCH" (compare with
 * CRVIDEOMGR_VERSION). The string is static: do not free it. Works at any time.
 */
CRVIDEO_API const char *crvideo_version(void);

/**
 * crvideo_free frees a string returned by this library (crvideomgr_call and the other
 * ID-returning functions). NULL is ignored. Works at any time.
 */
CRVIDEO_API void crvideo_free(void *p);

/* ---- Poll mode (an extension: Cloudroom's SDK has no equivalent) -------------------- */

/**
 * crvideo_setPollMode chooses where callbacks run: on == 0 (the default) on the
 * library's dispatch thread; on != 0 only inside crvideo_poll, on the caller's
 * thread. May be called at any time, before crvideo_init too (from a callback the
 * change applies after the current callback returns); the setting survives
 * crvideo_uninit. Switching never loses or reorders events; a switch back to thread
 * mode starts a new dispatch thread (unless the previous one has not ended yet). Returns CRVIDEOSDK_NOERR.
 */
CRVIDEO_API int crvideo_setPollMode(int on);

/**
 * crvideo_poll runs up to maxEvents pending callbacks (all pending ones when
 * maxEvents <= 0) on the calling thread and returns how many ran, 0 when none was
 * pending. Never blocks waiting for events: wait on crvideo_pollFd for that.
 *
 * Initialised, it returns 0 when poll mode is off or when called from inside a callback
 * (it does not nest). Not initialised, it runs the pending CRVIDEOSDK_NOT_INIT
 * failures (see above) and returns how many ran, or -CRVIDEOSDK_NOT_INIT when none ran
 * (none pending, poll mode off, or called from inside a callback). Calls from several
 * threads are serialised: callbacks still run one at a time.
 */
CRVIDEO_API int crvideo_poll(int maxEvents);

/**
 * crvideo_pollFd returns a file descriptor that is readable while events are pending
 * in poll mode. Do not read, write or close it: crvideo_poll clears it. It may be
 * readable without an event (crvideo_poll then returns 0). The same descriptor serves
 * the whole life of the process, across crvideo_uninit and crvideo_init. Returns -1
 * when the system has no descriptor to spare. Works at any time.
 */
CRVIDEO_API int crvideo_pollFd(void);

`

const mgrIntro = `/* ---- CloudroomVideoMgr: one function per method of the seed API ------------------- */

/*
 * What holds for every function below, and is not repeated at each:
 *  - it copies its arguments, queues the request and returns at once; its result (the
 *    callbacks under "Reported by") never arrives from inside the call;
 *  - cookie is your data, echoed back untouched in the result callback and never sent
 *    to the server;
 *  - a function that returns an ID returns a new NUL-terminated string that is yours
 *    to free with crvideo_free, also when the request fails at once (the failure then
 *    arrives on the callback with this ID) and when the SDK is not initialised
 *    (CRVIDEOSDK_NOT_INIT); NULL only on an internal error (CRVIDEOSDK_INNER_ERR);
 *  - a request that needs a session fails with CRVIDEOSDK_NOT_LOGIN when not logged in.
 */

`

const cppIntro = `/*
 * CloudroomVideoMgr.h: header-only C++11 wrapper over crvideomgr.h, the seed's API as a
 * C++ user writes it:
 *
 *     struct MyCb : CloudroomVideoMgrCallback {
 *         void loginSuccess(const std::string &usrID, const std::string &cookie) override;
 *     } cb;
 *     CloudroomVideoSDK::instance()->init("/tmp/myapp");
 *     CloudroomVideoSDK::instance()->setServerAddr("127.0.0.1:2727");
 *     CloudroomVideoMgr::instance()->setCallback(&cb);
 *     CloudroomVideoMgr::instance()->login("demo", md5hex, "Alice", "alice", "", "");
 *
 * ` + genNote + `
 *
 * Everything crvideomgr.h says about threads, re-entrancy, ownership and the Go runtime
 * holds here too. Callback methods run where crvideomgr.h's callbacks run (the library's
 * dispatch thread, or inside CloudroomVideoSDK::poll in poll mode); their std::string arguments are copies the
 * method may keep. An exception thrown by a callback method is caught and dropped: it
 * never crosses into the library. The CloudroomVideoMgrCallback object must outlive its
 * registration: call setCallback(nullptr) before destroying it.
 */
#ifndef CLOUDROOM_VIDEO_MGR_H
#define CLOUDROOM_VIDEO_MGR_H

#include <string>

#include "crvideomgr.h"

/**
 * CloudroomVideoSDK wraps the SDK-level functions (init, uninit, server address,
 * poll mode). A process-wide singleton, like the library.
 */
class CloudroomVideoSDK {
public:
    /** instance returns the process-wide object. */
    static CloudroomVideoSDK *instance() { static CloudroomVideoSDK sdk; return &sdk; }

    /** init starts the SDK; see crvideo_init. Returns a CRVIDEOSDK_ERR_DEF value. */
    int init(const std::string &sdkDatSavePath) { return crvideo_init(sdkDatSavePath.c_str()); }
    /** uninit stops the SDK; see crvideo_uninit. */
    void uninit() { crvideo_uninit(); }
    /** setServerAddr sets the server address list; see crvideo_setServerAddr. */
    void setServerAddr(const std::string &serverAddr) { crvideo_setServerAddr(serverAddr.c_str()); }
    /** setTrustedCA trusts the CAs of a PEM file for wss:// ("" restores the system roots); see crvideo_setTrustedCA. */
    int setTrustedCA(const std::string &pemFile) { return crvideo_setTrustedCA(pemFile.c_str()); }
    /** setPollMode switches between thread mode and poll mode; see crvideo_setPollMode. */
    int setPollMode(bool on) { return crvideo_setPollMode(on ? 1 : 0); }
    /** poll runs pending callbacks in poll mode; see crvideo_poll. */
    int poll(int maxEvents = 0) { return crvideo_poll(maxEvents); }
    /** pollFd is readable while events are pending; see crvideo_pollFd. */
    int pollFd() { return crvideo_pollFd(); }
    /** strerror returns the text of an error code. */
    static std::string strerror(int sdkErr) { return crvideo_strerror(sdkErr); }
    /** version returns the library version. */
    static std::string version() { return crvideo_version(); }

private:
    CloudroomVideoSDK() {}
    CloudroomVideoSDK(const CloudroomVideoSDK &) = delete;
    CloudroomVideoSDK &operator=(const CloudroomVideoSDK &) = delete;
};

`
