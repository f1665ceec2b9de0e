/*
 * demo.c: two users, alice and bob, each in their own process (the library is a
 * process singleton), print every call they make (->) and every callback they get
 * (<-). Run it with `make demo`.
 *
 *   bob:   logs in and reacts: accepts the call, keeps the file, logs out on hangup.
 *   alice: logs in, watches until bob is online, creates a meeting, calls bob with
 *          it, sends him a file once he accepts, hangs up when the file has
 *          arrived, destroys the meeting and logs out.
 *
 * Everything after login happens inside callbacks: the library allows any call
 * from a callback, so the program is a small state machine. main() only waits.
 *
 *   demo alice|bob SERVER ACCOUNT MD5PASSWORD WORKDIR
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crvideomgr.h"

static const char *me;     /* "alice" or "bob" */
static const char *workdir;
static char call_id[128];  /* the call in progress */
static int meeting_id;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done;

static void say(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const char *dir, const char *fmt, ...)
{
    va_list ap;
    printf("%-5s %s ", me, dir);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static void finish(void)
{
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

/* ---- callbacks: all run on the library's dispatch thread, one at a time -------- */

static int started; /* alice: the meeting and call have been started */

/* bob_online starts alice's part once the status JSON shows bob online. */
static void bob_online(const char *json)
{
    if (started || strstr(json, "\"userID\":\"bob\"") == NULL || strstr(json, "\"userStatus\":0") != NULL)
        return;
    started = 1;
    say("->", "createMeeting(\"demo meeting\", createPswd=1)");
    crvideomgr_createMeeting("demo meeting", 1, "");
}

static void loginSuccess(void *ud, const char *usrID, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "loginSuccess(usrID=%s)", usrID);
    if (strcmp(me, "alice") == 0) {
        /* The seed's advice: take the full list first, then follow the changes. */
        say("->", "getUserStatus(); startUserStatusNotify()  (is bob online?)");
        crvideomgr_getUserStatus("");
        crvideomgr_startUserStatusNotify("");
    }
}

static void loginFail(void *ud, int sdkErr, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "loginFail(%d: %s)", sdkErr, crvideo_strerror(sdkErr));
    finish();
}

static void getUserStatusSuccess(void *ud, const char *usersStatus, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "getUserStatusSuccess(%s)", usersStatus);
    bob_online(usersStatus);
}

static void notifyUserStatus(void *ud, const char *userStatus, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "notifyUserStatus(%s)", userStatus);
    bob_online(userStatus);
}

static void createMeetingSuccess(void *ud, const char *meetObj, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "createMeetingSuccess(%s)", meetObj);
    const char *id = strstr(meetObj, "\"ID\":");
    meeting_id = id ? atoi(id + 5) : 0;
    char *cid = crvideomgr_call("bob", meetObj, "let's talk", "my-cookie");
    snprintf(call_id, sizeof call_id, "%s", cid);
    crvideo_free(cid); /* returned strings are ours: free them with crvideo_free */
    say("->", "call(bob, meetObj, \"let's talk\") = %s", call_id);
}

static void callSuccess(void *ud, const char *callID, const char *cookie)
{
    (void)ud;
    say("<-", "callSuccess(%s, cookie=%s)  (bob's phone is ringing)", callID, cookie);
}

static void callFail(void *ud, const char *callID, int sdkErr, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "callFail(%s, %d: %s)", callID, sdkErr, crvideo_strerror(sdkErr));
    finish();
}

static void notifyCallIn(void *ud, const char *callID, const char *meetObj, const char *callerID, const char *usrExtDat)
{
    (void)ud;
    say("<-", "notifyCallIn(%s, meetObj=%s, from=%s, \"%s\")", callID, meetObj, callerID, usrExtDat);
    snprintf(call_id, sizeof call_id, "%s", callID);
    say("->", "acceptCall(%s, \"\", \"sure\")", callID);
    crvideomgr_acceptCall(callID, "", "sure", "");
}

static void acceptCallSuccess(void *ud, const char *callID, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "acceptCallSuccess(%s)", callID);
}

static void notifyCallAccepted(void *ud, const char *callID, const char *usrExtDat, const char *meetObj)
{
    (void)ud; (void)meetObj;
    say("<-", "notifyCallAccepted(%s, \"%s\")", callID, usrExtDat);
    char path[512];
    snprintf(path, sizeof path, "%s/agenda.txt", workdir);
    FILE *f = fopen(path, "w");
    for (int k = 0; f && k < 40000; k++)
        fprintf(f, "agenda line %d: discuss the demo\n", k);
    if (f)
        fclose(f);
    char *task = crvideomgr_sendFile("bob", path);
    say("->", "sendFile(bob, %s) = %s", path, task);
    crvideo_free(task);
}

static void sendProgress(void *ud, const char *taskID, int sendedLen, int totalLen, const char *cookie)
{
    (void)ud; (void)taskID; (void)cookie;
    say("<-", "sendProgress(%d / %d bytes)", sendedLen, totalLen);
}

static void sendFileRlst(void *ud, const char *taskID, const char *fileName, int sdkErr, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "sendFileRlst(%s, %s, %d: %s)", taskID, fileName, sdkErr, crvideo_strerror(sdkErr));
    say("->", "hungupCall(%s, \"bye\")", call_id);
    crvideomgr_hungupCall(call_id, "bye", "");
}

static void notifyFileData(void *ud, const char *sourceUserId, const char *tmpFile, const char *orgFileName)
{
    (void)ud;
    say("<-", "notifyFileData(from=%s, tmpFile=%s, name=%s)  (the file is ours now: removing it)",
        sourceUserId, tmpFile, orgFileName);
    remove(tmpFile);
}

static void hungupCallSuccess(void *ud, const char *callID, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "hungupCallSuccess(%s)", callID);
    say("->", "destroyMeeting(%d)", meeting_id);
    crvideomgr_destroyMeeting(meeting_id, "");
}

static void destroyMeetingRslt(void *ud, int sdkErr, const char *cookie)
{
    (void)ud; (void)cookie;
    say("<-", "destroyMeetingRslt(%d)", sdkErr);
    finish();
}

static void notifyCallHungup(void *ud, const char *callID, const char *usrExtDat)
{
    (void)ud;
    say("<-", "notifyCallHungup(%s, \"%s\")", callID, usrExtDat);
    finish();
}

int main(int argc, char **argv)
{
    if (argc != 6 || (strcmp(argv[1], "alice") != 0 && strcmp(argv[1], "bob") != 0)) {
        fprintf(stderr, "usage: %s alice|bob SERVER ACCOUNT MD5PASSWORD WORKDIR\n", argv[0]);
        return 2;
    }
    me = argv[1];
    workdir = argv[5];

    CRVideoMgrCallbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    cbs.loginSuccess = loginSuccess;
    cbs.loginFail = loginFail;
    cbs.getUserStatusSuccess = getUserStatusSuccess;
    cbs.notifyUserStatus = notifyUserStatus;
    cbs.createMeetingSuccess = createMeetingSuccess;
    cbs.destroyMeetingRslt = destroyMeetingRslt;
    cbs.callSuccess = callSuccess;
    cbs.callFail = callFail;
    cbs.notifyCallIn = notifyCallIn;
    cbs.acceptCallSuccess = acceptCallSuccess;
    cbs.notifyCallAccepted = notifyCallAccepted;
    cbs.sendProgress = sendProgress;
    cbs.sendFileRlst = sendFileRlst;
    cbs.notifyFileData = notifyFileData;
    cbs.hungupCallSuccess = hungupCallSuccess;
    cbs.notifyCallHungup = notifyCallHungup;
    crvideo_setCallbacks(&cbs, sizeof cbs, NULL);

    char sdkdir[512];
    snprintf(sdkdir, sizeof sdkdir, "%s/sdk-%s", workdir, me);
    say("->", "crvideo_init(%s)  (libcrvideomgr %s; log: %s/crvideomgr.log)", sdkdir, crvideo_version(), sdkdir);
    if (crvideo_init(sdkdir) != CRVIDEOSDK_NOERR)
        return 1;
    crvideo_setServerAddr(argv[2]);
    say("->", "login(%s, %s)", argv[3], me);
    crvideomgr_login(argv[3], argv[4], me, me, "", "");

    pthread_mutex_lock(&mu);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    say("->", "logout(); crvideo_uninit()");
    crvideomgr_logout();
    crvideo_uninit();
    return 0;
}
