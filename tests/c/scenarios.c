/*
 * scenarios.c: what crvtest checks. Each role is one user in one process; roles of a
 * scenario meet at file barriers (h_post / h_wait_post). Every callback is waited for
 * with its arguments checked; coverage of all callbacks is checked by the runner.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "scenarios.h"

#define T 10000 /* ms: generous wait for a callback */

void h_report(const char *fmt, ...)
{
    char path[600];
    snprintf(path, sizeof path, "%s/report", getenv("CRV_SYNC"));
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static char *b64(const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    size_t k;
    for (k = 0; k + 2 < n; k += 3) {
        unsigned v = (unsigned)p[k] << 16 | (unsigned)p[k + 1] << 8 | p[k + 2];
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = tab[(v >> 6) & 63];
        *o++ = tab[v & 63];
    }
    if (k < n) {
        unsigned v = (unsigned)p[k] << 16 | (k + 1 < n ? (unsigned)p[k + 1] << 8 : 0);
        *o++ = tab[v >> 18];
        *o++ = tab[(v >> 12) & 63];
        *o++ = k + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = 0;
    return out;
}

static unsigned long long fnv(const unsigned char *p, size_t n)
{
    unsigned long long h = 1469598103934665603ULL;
    for (size_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 1099511628211ULL;
    return h;
}

static unsigned char *pattern(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    unsigned x = seed * 2654435761u + 1;
    for (size_t k = 0; k < n; k++) {
        x = x * 1103515245u + 12345u;
        p[k] = (unsigned char)(x >> 16);
    }
    return p;
}

static unsigned long long fnv_file(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    unsigned long long h = 1469598103934665603ULL;
    int c;
    *size = 0;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF) {
        h = (h ^ (unsigned char)c) * 1099511628211ULL;
        (*size)++;
    }
    fclose(f);
    return h;
}

/* check_one_thread asserts that every callback so far ran on one thread, not main's. */
static void check_one_thread(pthread_t main_thread)
{
    unsigned long first;
    ASSERT_EQ(ev_threads(&first), 1);
    ASSERT(first != (unsigned long)main_thread);
}

/* ---- api: the SDK level, no server ----------------------------------------- */

/* A self-signed CA certificate (its key was not kept): crvideo_setTrustedCA only
   parses it. */
static const char test_ca_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBhzCCAS2gAwIBAgIBATAKBggqhkjOPQQDAjAqMSgwJgYDVQQDEx9jcnZpZGVv\n"
    "IEMgdGVzdCBDQSAobm8ga2V5IGtlcHQpMCAXDTI1MDEwMTAwMDAwMFoYDzIxMjUw\n"
    "MTAxMDAwMDAwWjAqMSgwJgYDVQQDEx9jcnZpZGVvIEMgdGVzdCBDQSAobm8ga2V5\n"
    "IGtlcHQpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuAoDKocjcuBvOKvJFy0l\n"
    "fxUllOFYUnYozs+O65qZN5D154BDO5jvSg+0Tn6Np7PgtroLoNyX9Bj01+JigqE4\n"
    "ZaNCMEAwDgYDVR0PAQH/BAQDAgIEMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYE\n"
    "FIRF4QktNRSmjmp3ulJ8YEvoGJeHMAoGCCqGSM49BAMCA0gAMEUCIFrXZDTyiXFr\n"
    "tt2TsU0cpfZ/g+bv3nHCX9R/cFEKa99MAiEAxXhMjBC4Wlv7cVUxqg7g/zPk8QNP\n"
    "YFj9riMYKt0WUnk=\n"
    "-----END CERTIFICATE-----\n";

/* write_tmp writes text to a new file under CRV_TMP and returns its path (static). */
static const char *write_tmp(const char *name, const char *text)
{
    static char path[8][600];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 600, "%s/%s-%d", getenv("CRV_TMP"), name, (int)getpid());
    FILE *f = fopen(p, "w");
    ASSERT(f != NULL);
    fputs(text, f);
    fclose(f);
    return p;
}

/* check_trusted_ca: crvideo_setTrustedCA's return codes. Works before crvideo_init. */
static void check_trusted_ca(void)
{
    ASSERT_EQ(crvideo_setTrustedCA(NULL), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_setTrustedCA(""), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_setTrustedCA("/no/such/dir/ca.pem"), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_setTrustedCA(getenv("CRV_TMP")), CRVIDEOSDK_PARAM_ERR); /* a directory */
    ASSERT_EQ(crvideo_setTrustedCA("/dev/zero"), CRVIDEOSDK_PARAM_ERR); /* not read without end */
    ASSERT_EQ(crvideo_setTrustedCA(write_tmp("garbage.pem", "not a certificate\n")), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_setTrustedCA(write_tmp("badblock.pem",
                  "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_setTrustedCA(write_tmp("ca.pem", test_ca_pem)), CRVIDEOSDK_NOERR);
}

static int readable(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* check_not_init makes every call without an instance and checks the
 * CRVIDEOSDK_NOT_INIT failures (poll: in poll mode). */
static void check_not_init(int poll_mode)
{
    unsigned long me = (unsigned long)pthread_self();
    ev_reset();
    if (poll_mode)
        while (readable(crvideo_pollFd(), 0)) /* clear a stale signal */
            crvideo_poll(0);
    int base = ev_total(); /* a count that ev_reset does not reset */
    crvideomgr_login("a", "b", "c", "d", "", "ni-login");
    crvideomgr_logout(); /* nothing */
    crvideomgr_setDNDStatus(1, "ni-dnd");
    crvideomgr_getUserStatus("ni-gus");
    crvideomgr_startUserStatusNotify("ni-start");
    crvideomgr_stopUserStatusNotify("ni-stop");
    crvideomgr_createMeeting("m", 0, "ni-cm");
    crvideomgr_destroyMeeting(1, "ni-dm");
    crvideomgr_getMeetings("ni-gm");
    char *call = crvideomgr_call("x", "", "", "ni-call");
    crvideomgr_acceptCall("c1", "", "", "ni-acc");
    crvideomgr_rejectCall("c2", "", "ni-rej");
    crvideomgr_hungupCall("c3", "", "ni-hup");
    char *mp = crvideomgr_callMoreParty("x", "", "", "ni-mp");
    crvideomgr_cancelCallMoreParty("i1", "", "ni-cmp");
    char *cmd = crvideomgr_sendCmd("x", "aGk=");
    char *buf = crvideomgr_sendBuffer("x", "aGk=");
    char *file = crvideomgr_sendFile("x", "/etc/hostname");
    crvideomgr_cancelSend("t1");
    ASSERT(call && *call && mp && *mp && cmd && *cmd && buf && *buf && file && *file);
    if (poll_mode) {
        ASSERT_EQ(ev_total() - base, 0); /* nothing runs unless polled */
        ASSERT(readable(crvideo_pollFd(), T));
    }
    ev_t *e = ev_expect("loginFail", "ni-login", T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_NOT_INIT);
    if (poll_mode)
        ASSERT(e->thread == me);
    else
        ASSERT(e->thread != me);
#define NI(cbname, cookie) ASSERT_EQ(ev_expect(cbname, cookie, T)->i[0], CRVIDEOSDK_NOT_INIT)
    NI("setDNDStatusFail", "ni-dnd");
    NI("getUserStatusFail", "ni-gus");
    NI("startUserStatusNotifyRslt", "ni-start");
    NI("stopUserStatusNotifyRslt", "ni-stop");
    NI("createMeetingFail", "ni-cm");
    NI("destroyMeetingRslt", "ni-dm");
    NI("getMeetingsFail", "ni-gm");
    NI("callFail", call);
    NI("acceptCallFail", "c1");
    NI("rejectCallFail", "c2");
    NI("hungupCallFail", "c3");
    NI("callMorePartyRslt", mp);
    NI("cancelCallMorePartyRslt", "i1");
    NI("sendCmdRlst", cmd);
    NI("sendBufferRlst", buf);
    e = ev_expect("sendFileRlst", file, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_NOT_INIT);
    ASSERT_STR_EQ(e->s[1], "/etc/hostname");
    NI("cancelSendRlst", "t1");
#undef NI
    ASSERT_EQ(ev_total() - base, 18); /* one each, logout none */
    ev_none("loginFail", 100);
    if (poll_mode)
        ASSERT_EQ(crvideo_poll(0), -CRVIDEOSDK_NOT_INIT); /* none left */
    crvideo_free(call);
    crvideo_free(mp);
    crvideo_free(cmd);
    crvideo_free(buf);
    crvideo_free(file);
}

static void role_api(void)
{
    /* Version and codes. */
    ASSERT_STR_EQ(crvideo_version(), CRVIDEOMGR_VERSION);
    ASSERT_EQ(CRVIDEOMGR_VERSION_MAJOR, 1);
    static const struct { int v, want; } codes[] = {
        {CRVIDEOSDK_NOERR, 0}, {CRVIDEOSDK_UNKNOWERR, 1}, {CRVIDEOSDK_OUTOF_MEM, 2},
        {CRVIDEOSDK_INNER_ERR, 3}, {CRVIDEOSDK_MISMATCHCLIENTVER, 4}, {CRVIDEOSDK_PARAM_ERR, 5},
        {CRVIDEOSDK_ERR_DATA, 6}, {CRVIDEOSDK_ANCTPSWD_ERR, 7}, {CRVIDEOSDK_SERVER_EXCEPTION, 8},
        {CRVIDEOSDK_LOGINSTATE_ERROR, 9}, {CRVIDEOSDK_KICKOUT_BY_RELOGIN, 10},
        {CRVIDEOSDK_NOT_INIT, 11}, {CRVIDEOSDK_NOT_LOGIN, 12}, {CRVIDEOSDK_BASE64_COV_ERR, 13},
        {CRVIDEOSDK_CUSTOMAUTH_NOINFO, 14}, {CRVIDEOSDK_CUSTOMAUTH_NOTSUPPORT, 15},
        {CRVIDEOSDK_CUSTOMAUTH_EXCEPTION, 16}, {CRVIDEOSDK_CUSTOMAUTH_FAILED, 17},
        {CRVIDEOSDK_NO_SERVERINFO, 201}, {CRVIDEOSDK_NOSERVER_RSP, 202},
        {CRVIDEOSDK_CREATE_CONN_FAILED, 203}, {CRVIDEOSDK_SOCKETTIMEOUT, 205},
        {CRVIDEOSDK_CONNECTIONLOST, 207}, {CRVIDEOSDK_SSL_ERR, 209}, {CRVIDEOSDK_INVALID_CALLID, 600},
        {CRVIDEOSDK_ERR_CALL_EXIST, 601}, {CRVIDEOSDK_ERR_BUSY, 602}, {CRVIDEOSDK_ERR_OFFLINE, 603},
        {CRVIDEOSDK_ERR_NOANSWER, 604}, {CRVIDEOSDK_ERR_REFUSE, 606}, {CRVIDEOSDK_MEETNOTEXIST, 800},
        {CRVIDEOSDK_SENDFAIL, 1000}, {CRVIDEOSDK_SENDCMD_LARGE, 1100},
        {CRVIDEOSDK_SENDBUFFER_LARGE, 1101}, {CRVIDEOSDK_SENDDATA_TARGETINVALID, 1102},
        {CRVIDEOSDK_TRANSID_INVALID, 1104}, {CRVIDEOSDK_FILE_NOT_EXIST, 1400},
        {CRVIDEOSDK_FILE_READ_ERR, 1401}, {CRVIDEOSDK_FILE_WRITE_ERR, 1402},
        {CRVIDEOSDK_FILE_SIZE_UNSUPPORT, 1405},
    };
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        ASSERT_EQ(codes[k].v, codes[k].want);
        const char *t = crvideo_strerror(codes[k].v);
        ASSERT(t != NULL && *t != 0);
        ASSERT(strcmp(t, "unknown error code") != 0);
    }
    ASSERT_STR_EQ(crvideo_strerror(CRVIDEOSDK_NOT_INIT), "SDK not initialised");
    ASSERT_STR_EQ(crvideo_strerror(12345), "unknown error code");
    ASSERT_STR_EQ(crvideo_strerror(-1), "unknown error code");
    ASSERT_STR_EQ(crvideo_strerror(INT_MIN), "unknown error code");

    /* Registration works before init; a too small struct is refused. */
    CRVideoMgrCallbacks c;
    memset(&c, 0, sizeof c);
    ASSERT_EQ(crvideo_setCallbacks(&c, 8, NULL), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_setCallbacks(&c, CRVIDEOMGR_CALLBACKS_V1_SIZE - 1, NULL), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_setCallbacks(NULL, 0, NULL), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_setCallbacks(&c, sizeof c + 64, NULL), CRVIDEOSDK_NOERR); /* newer app */
    h_register();
    check_trusted_ca(); /* leaves the test CA trusted: plain ws:// logins below are unaffected */

    /* CRVIDEOSDK_NOT_INIT before init: every function but logout fails with 11 through
     * its callback, on a library thread, never inside the call; ID functions return an
     * ID, the one their callback names. */
    ASSERT_EQ(crvideo_poll(0), -CRVIDEOSDK_NOT_INIT);
    check_not_init(0);
    crvideo_uninit();
    ASSERT_GE(crvideo_pollFd(), 0);
    ASSERT_EQ(crvideo_pollFd(), crvideo_pollFd());
    /* ... and in poll mode: only inside crvideo_poll, the fd says when. */
    ASSERT_EQ(crvideo_setPollMode(1), CRVIDEOSDK_NOERR);
    h_set_poll(1);
    check_not_init(1);
    h_set_poll(0);
    ASSERT_EQ(crvideo_setPollMode(0), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_poll(0), -CRVIDEOSDK_NOT_INIT);
    ev_reset();

    /* init arguments and order. */
    ASSERT_EQ(crvideo_init(NULL), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_init(""), CRVIDEOSDK_PARAM_ERR);
    ASSERT_EQ(crvideo_init("/proc/self/no/such/dir"), CRVIDEOSDK_PARAM_ERR);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sdk-api-%d", getenv("CRV_TMP"), (int)getpid());
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_LOGINSTATE_ERROR);
    ASSERT_EQ(crvideo_poll(0), 0); /* thread mode: nothing to do */

    /* Before login: CRVIDEOSDK_NOT_LOGIN on every result callback, cookies echoed. */
    crvideomgr_setDNDStatus(1, "k1");
    ASSERT_EQ(ev_expect("setDNDStatusFail", "k1", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_getUserStatus("k2");
    ASSERT_EQ(ev_expect("getUserStatusFail", "k2", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_startUserStatusNotify("k3");
    ASSERT_EQ(ev_expect("startUserStatusNotifyRslt", "k3", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_stopUserStatusNotify("k4");
    ASSERT_EQ(ev_expect("stopUserStatusNotifyRslt", "k4", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_createMeeting("m", 0, "k5");
    ASSERT_EQ(ev_expect("createMeetingFail", "k5", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_destroyMeeting(1, "k6");
    ASSERT_EQ(ev_expect("destroyMeetingRslt", "k6", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_getMeetings("k7");
    ASSERT_EQ(ev_expect("getMeetingsFail", "k7", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    char *id = crvideomgr_call("bob", "", "", "k8");
    ASSERT(id != NULL && *id);
    ev_t *e = ev_expect("callFail", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_NOT_LOGIN);
    ASSERT_STR_EQ(e->s[1], "k8");
    crvideo_free(id);
    crvideomgr_acceptCall("c1", "", "", "k9");
    ASSERT_EQ(ev_expect("acceptCallFail", "c1", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_rejectCall("c2", "", "k10");
    ASSERT_EQ(ev_expect("rejectCallFail", "c2", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideomgr_hungupCall("c3", "", "k11");
    ASSERT_EQ(ev_expect("hungupCallFail", "c3", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    id = crvideomgr_callMoreParty("bob", "", "", "k12");
    ASSERT_EQ(ev_expect("callMorePartyRslt", id, T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideo_free(id);
    crvideomgr_cancelCallMoreParty("i1", "", "k13");
    ASSERT_EQ(ev_expect("cancelCallMorePartyRslt", "i1", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    id = crvideomgr_sendCmd("bob", "aGk=");
    ASSERT_EQ(ev_expect("sendCmdRlst", id, T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideo_free(id);
    id = crvideomgr_sendBuffer("bob", "aGk=");
    ASSERT_EQ(ev_expect("sendBufferRlst", id, T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideo_free(id);
    id = crvideomgr_sendFile("bob", "/etc/hostname");
    ASSERT_EQ(ev_expect("sendFileRlst", id, T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    crvideo_free(id);
    crvideomgr_cancelSend("t1");
    ASSERT_EQ(ev_expect("cancelSendRlst", "t1", T)->i[0], CRVIDEOSDK_NOT_LOGIN);

    /* Login failures: no address, nothing listening, wrong password. */
    crvideo_setServerAddr("");
    crvideomgr_login(h_acnt(), h_pswd(), "n", "api-u", "", "L1");
    ASSERT_EQ(ev_expect("loginFail", "L1", T)->i[0], CRVIDEOSDK_NO_SERVERINFO);
    crvideo_setServerAddr("127.0.0.1:1");
    crvideomgr_login(h_acnt(), h_pswd(), "n", "api-u", "", "L2");
    ASSERT_EQ(ev_expect("loginFail", "L2", T)->i[0], CRVIDEOSDK_CREATE_CONN_FAILED);
    crvideo_setServerAddr(h_addr());
    crvideomgr_login(h_acnt(), "00000000000000000000000000000000", "n", "api-u", "", "L3");
    ASSERT_EQ(ev_expect("loginFail", "L3", T)->i[0], CRVIDEOSDK_ANCTPSWD_ERR);
    crvideomgr_login("no-such-enterprise", h_pswd(), "n", "api-u", "", "L4");
    ASSERT_EQ(ev_expect("loginFail", "L4", T)->i[0], CRVIDEOSDK_ANCTPSWD_ERR);
    /* wss:// to this plain server: the TLS handshake fails. */
    char wss[600];
    snprintf(wss, sizeof wss, "wss://%s", h_addr());
    crvideo_setServerAddr(wss);
    crvideomgr_login(h_acnt(), h_pswd(), "n", "api-u", "", "L5");
    ASSERT_EQ(ev_expect("loginFail", "L5", T)->i[0], CRVIDEOSDK_SSL_ERR);
    crvideo_setServerAddr(h_addr());
    ASSERT_EQ(crvideo_setTrustedCA(NULL), CRVIDEOSDK_NOERR);

    crvideo_uninit();
    crvideo_uninit();
    /* The log is under sdkDatSavePath. */
    char log[700];
    snprintf(log, sizeof log, "%s/crvideomgr.log", dir);
    struct stat st;
    ASSERT_EQ(stat(log, &st), 0);
    ASSERT_GT(st.st_size, 0);
}

/* ---- session: one user against the server --------------------------------- */

static void role_session(void)
{
    pthread_t main_thread = pthread_self();
    h_register();
    h_init();
    const char *me = h_uid("solo");
    const char *uid = h_login(me);
    ASSERT_STR_EQ(uid, me);

    crvideomgr_login(h_acnt(), h_pswd(), "again", me, "", "L2");
    ASSERT_EQ(ev_expect("loginFail", "L2", T)->i[0], CRVIDEOSDK_LOGINSTATE_ERROR);

    crvideomgr_getUserStatus("gus");
    ev_t *e = ev_expect("getUserStatusSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "gus");
    ASSERT_CONTAINS(e->s[0], me);
    ASSERT_CONTAINS(e->s[0], "\"userStatus\"");

    crvideomgr_startUserStatusNotify("sub");
    ASSERT_EQ(ev_expect("startUserStatusNotifyRslt", "sub", T)->i[0], 0);
    crvideomgr_setDNDStatus(7, "dnd");
    ev_expect("setDNDStatusSuccess", "dnd", T);
    e = ev_expect("notifyUserStatus", NULL, T);
    ASSERT_CONTAINS(e->s[0], me);
    ASSERT_CONTAINS(e->s[0], "\"DNDType\":7");
    ASSERT_STR_EQ(e->s[1], "sub");
    crvideomgr_stopUserStatusNotify("unsub");
    ASSERT_EQ(ev_expect("stopUserStatusNotifyRslt", "unsub", T)->i[0], 0);
    crvideomgr_setDNDStatus(0, "dnd0");
    ev_expect("setDNDStatusSuccess", "dnd0", T);
    ev_none("notifyUserStatus", 300);

    /* Meetings. */
    crvideomgr_createMeeting("weekly sync", 1, "cm");
    e = ev_expect("createMeetingSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "cm");
    ASSERT_CONTAINS(e->s[0], "\"subject\":\"weekly sync\"");
    ASSERT_CONTAINS(e->s[0], "\"creator\":");
    char *idp = strstr(e->s[0], "\"ID\":");
    ASSERT(idp != NULL);
    int meetID = atoi(idp + 5);
    ASSERT_GT(meetID, 0);
    char *pw = strstr(e->s[0], "\"pswd\":\"");
    ASSERT(pw != NULL);
    ASSERT_EQ(strcspn(pw + 8, "\""), 6);
    char longsubj[52];
    memset(longsubj, 'x', 51);
    longsubj[51] = 0;
    crvideomgr_createMeeting(longsubj, 0, "cm-long");
    ASSERT_EQ(ev_expect("createMeetingFail", "cm-long", T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideomgr_createMeeting("ok", 2, "cm-pswd");
    ASSERT_EQ(ev_expect("createMeetingFail", "cm-pswd", T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideomgr_getMeetings("gm");
    e = ev_expect("getMeetingsSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "gm");
    ASSERT(e->s[0][0] == '[');
    char want[64];
    snprintf(want, sizeof want, "\"ID\":%d", meetID);
    ASSERT_CONTAINS(e->s[0], want);
    crvideomgr_destroyMeeting(meetID, "dm");
    ASSERT_EQ(ev_expect("destroyMeetingRslt", "dm", T)->i[0], 0);
    crvideomgr_destroyMeeting(meetID, "dm2");
    ASSERT_EQ(ev_expect("destroyMeetingRslt", "dm2", T)->i[0], CRVIDEOSDK_MEETNOTEXIST);

    /* Calls that fail. */
    char *id = crvideomgr_call(me, "", "", "self");
    e = ev_expect("callFail", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_PARAM_ERR);
    ASSERT_STR_EQ(e->s[1], "self");
    crvideo_free(id);
    id = crvideomgr_call(h_uid("nobody"), "", "", "off");
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_ERR_OFFLINE);
    crvideo_free(id);
    char big[9000];
    memset(big, 'e', sizeof big - 1);
    big[sizeof big - 1] = 0;
    id = crvideomgr_call(h_uid("nobody"), "", big, "big");
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideo_free(id);
    crvideomgr_acceptCall("no-such-call", "", "", "ac");
    e = ev_expect("acceptCallFail", "no-such-call", T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_INVALID_CALLID);
    ASSERT_STR_EQ(e->s[1], "ac");
    crvideomgr_rejectCall("no-such-call", "", "rc");
    ASSERT_EQ(ev_expect("rejectCallFail", "no-such-call", T)->i[0], CRVIDEOSDK_INVALID_CALLID);
    crvideomgr_hungupCall("no-such-call", "", "hc");
    ASSERT_EQ(ev_expect("hungupCallFail", "no-such-call", T)->i[0], CRVIDEOSDK_INVALID_CALLID);
    id = crvideomgr_callMoreParty(h_uid("nobody"), "", "", "cmp");
    e = ev_expect("callMorePartyRslt", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_INVALID_CALLID);
    ASSERT_STR_EQ(e->s[1], "cmp");
    crvideo_free(id);
    crvideomgr_cancelCallMoreParty("no-such-invite", "", "ccmp");
    ASSERT_EQ(ev_expect("cancelCallMorePartyRslt", "no-such-invite", T)->i[0], CRVIDEOSDK_INVALID_CALLID);

    /* Transfers that fail. */
    id = crvideomgr_sendCmd(h_uid("nobody"), "aGVsbG8=");
    e = ev_expect("sendCmdRlst", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_SENDDATA_TARGETINVALID);
    ASSERT_STR_EQ(e->s[1], "");
    crvideo_free(id);
    id = crvideomgr_sendCmd(h_uid("nobody"), "%%% not base64 %%%");
    ASSERT_EQ(ev_expect("sendCmdRlst", id, T)->i[0], CRVIDEOSDK_BASE64_COV_ERR);
    crvideo_free(id);
    unsigned char *raw = pattern(51 * 1024, 1);
    char *enc = b64(raw, 51 * 1024);
    id = crvideomgr_sendCmd(h_uid("nobody"), enc);
    ASSERT_EQ(ev_expect("sendCmdRlst", id, T)->i[0], CRVIDEOSDK_SENDCMD_LARGE);
    crvideo_free(id);
    free(raw);
    free(enc);
    id = crvideomgr_sendBuffer(h_uid("nobody"), "aGVsbG8=");
    ASSERT_EQ(ev_expect("sendBufferRlst", id, T)->i[0], CRVIDEOSDK_SENDDATA_TARGETINVALID);
    crvideo_free(id);
    id = crvideomgr_sendFile(h_uid("nobody"), "/");
    ASSERT_EQ(ev_expect("sendFileRlst", id, T)->i[0], CRVIDEOSDK_FILE_READ_ERR); /* a directory */
    crvideo_free(id);
    id = crvideomgr_sendFile(h_uid("nobody"), "/no/such/file");
    e = ev_expect("sendFileRlst", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_FILE_NOT_EXIST);
    ASSERT_STR_EQ(e->s[1], "/no/such/file");
    crvideo_free(id);
    crvideomgr_cancelSend("no-such-task");
    e = ev_expect("cancelSendRlst", "no-such-task", T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_TRANSID_INVALID);

    /* Logout, then NOT_LOGIN, then log in again without uninit. */
    crvideomgr_logout();
    crvideomgr_getUserStatus("after");
    ASSERT_EQ(ev_expect("getUserStatusFail", "after", T)->i[0], CRVIDEOSDK_NOT_LOGIN);
    h_login(me);
    crvideomgr_logout();
    check_one_thread(main_thread);
    crvideo_uninit();
}

/* ---- call: two users -------------------------------------------------------- */

#define MEET "{\"ID\":42,\"subject\":\"s\"}"

static void role_call_a(void)
{
    pthread_t main_thread = pthread_self();
    h_register();
    h_init();
    free(h_wait_post("b-ready", T));
    const char *b = h_uid("b");
    h_login(h_uid("a"));

    /* 1: accepted, 601 while connected, hung up by the caller. */
    char *id = crvideomgr_call(b, MEET, "hello", "c1");
    ev_t *e = ev_expect("callSuccess", id, T);
    ASSERT_STR_EQ(e->s[1], "c1");
    int success_seq = e->seq;
    e = ev_expect("notifyCallAccepted", id, T);
    ASSERT_LT(success_seq, e->seq); /* event order: ringing before accepted */
    ASSERT_STR_EQ(e->s[1], "welcome");
    ASSERT_STR_EQ(e->s[2], "{\"ID\":43}");
    char *id2 = crvideomgr_call(b, "", "", "c1b");
    ASSERT_EQ(ev_expect("callFail", id2, T)->i[0], CRVIDEOSDK_ERR_CALL_EXIST);
    crvideo_free(id2);
    crvideomgr_hungupCall(id, "bye", "h1");
    ASSERT_STR_EQ(ev_expect("hungupCallSuccess", id, T)->s[1], "h1");
    crvideomgr_hungupCall(id, "", "h2");
    ASSERT_EQ(ev_expect("hungupCallFail", id, T)->i[0], CRVIDEOSDK_INVALID_CALLID);
    crvideo_free(id);

    /* 2: rejected. */
    free(h_wait_post("b-1", T));
    id = crvideomgr_call(b, "", "ext2", "c2");
    ev_expect("callSuccess", id, T);
    e = ev_expect("notifyCallRejected", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_ERR_REFUSE);
    ASSERT_STR_EQ(e->s[1], "no thanks");
    crvideo_free(id);

    /* 3: no answer within the server's ring timeout (1 s in tests). */
    free(h_wait_post("b-2", T));
    id = crvideomgr_call(b, "", "", "c3");
    ev_expect("callSuccess", id, T);
    e = ev_expect("notifyCallRejected", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_ERR_NOANSWER);
    ASSERT_STR_EQ(e->s[1], "");
    crvideo_free(id);

    /* 4: callee hangs up a connected call. */
    free(h_wait_post("b-3", T));
    id = crvideomgr_call(b, "", "", "c4");
    ev_expect("notifyCallAccepted", id, T);
    ASSERT_STR_EQ(ev_expect("notifyCallHungup", id, T)->s[1], "callee bye");
    crvideo_free(id);

    /* 5: do-not-disturb. */
    free(h_wait_post("b-dnd", T));
    id = crvideomgr_call(b, "", "", "c5");
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_ERR_BUSY);
    crvideo_free(id);
    h_post("a-done", "");
    crvideomgr_logout();
    check_one_thread(main_thread);
    crvideo_uninit();
}

static void role_call_b(void)
{
    h_register();
    h_init();
    h_login(h_uid("b"));
    crvideomgr_startUserStatusNotify("watch");
    ev_expect("startUserStatusNotifyRslt", "watch", T);
    h_post("b-ready", "");
    const char *a = h_uid("a");

    ev_t *e = ev_expect("notifyCallIn", NULL, T);
    ASSERT_STR_EQ(e->s[1], MEET);
    ASSERT_STR_EQ(e->s[2], a);
    ASSERT_STR_EQ(e->s[3], "hello");
    char call1[256];
    snprintf(call1, sizeof call1, "%s", e->s[0]);
    crvideomgr_acceptCall(call1, "{\"ID\":43}", "welcome", "acc");
    ASSERT_STR_EQ(ev_expect("acceptCallSuccess", call1, T)->s[1], "acc");
    ASSERT_STR_EQ(ev_expect("notifyCallHungup", call1, T)->s[1], "bye");
    /* A's status went online, then busy, then idle: seen through the subscription. */
    e = ev_expect("notifyUserStatus", NULL, T);
    ASSERT_STR_EQ(e->s[1], "watch");
    h_post("b-1", "");

    e = ev_expect("notifyCallIn", NULL, T);
    ASSERT_STR_EQ(e->s[3], "ext2");
    char call2[256];
    snprintf(call2, sizeof call2, "%s", e->s[0]);
    crvideomgr_rejectCall(call2, "no thanks", "rej");
    ASSERT_STR_EQ(ev_expect("rejectCallSuccess", call2, T)->s[1], "rej");
    crvideomgr_acceptCall(call2, "", "", "late");
    ASSERT_EQ(ev_expect("acceptCallFail", call2, T)->i[0], CRVIDEOSDK_INVALID_CALLID);
    h_post("b-2", "");

    e = ev_expect("notifyCallIn", NULL, T);
    char call3[256];
    snprintf(call3, sizeof call3, "%s", e->s[0]);
    ASSERT_STR_EQ(ev_expect("notifyCallHungup", call3, T)->s[1], ""); /* ring timeout */
    h_post("b-3", "");

    e = ev_expect("notifyCallIn", NULL, T);
    char call4[256];
    snprintf(call4, sizeof call4, "%s", e->s[0]);
    crvideomgr_acceptCall(call4, "", "", "");
    ev_expect("acceptCallSuccess", call4, T);
    crvideomgr_hungupCall(call4, "callee bye", "hb");
    ev_expect("hungupCallSuccess", call4, T);

    crvideomgr_setDNDStatus(1, "dnd");
    ev_expect("setDNDStatusSuccess", "dnd", T);
    h_post("b-dnd", "");
    free(h_wait_post("a-done", T));
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- moreparty: three users --------------------------------------------------- */

static void role_mp_a(void)
{
    h_register();
    h_init();
    free(h_wait_post("b-ready", T));
    free(h_wait_post("c-ready", T));
    h_login(h_uid("a"));
    const char *b = h_uid("b"), *c = h_uid("c");
    char *call = crvideomgr_call(b, "", "", "");
    ev_expect("notifyCallAccepted", call, T);

    /* Invite 1: rejected. */
    char *inv = crvideomgr_callMoreParty(c, MEET, "join us", "mp1");
    ev_t *e = ev_expect("callMorePartyRslt", inv, T);
    ASSERT_EQ(e->i[0], 0);
    ASSERT_STR_EQ(e->s[1], "mp1");
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 0);
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 2);
    crvideo_free(inv);

    /* Invite 2: cancelled while ringing. */
    inv = crvideomgr_callMoreParty(c, "", "", "mp2");
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 0);
    crvideomgr_cancelCallMoreParty(inv, "never mind", "cancel");
    e = ev_expect("cancelCallMorePartyRslt", inv, T);
    ASSERT_EQ(e->i[0], 0);
    ASSERT_STR_EQ(e->s[1], "cancel");
    crvideomgr_cancelCallMoreParty(inv, "", "again");
    ASSERT_EQ(ev_expect("cancelCallMorePartyRslt", inv, T)->i[0], CRVIDEOSDK_INVALID_CALLID);
    crvideo_free(inv);

    /* Invite 3: accepted, then hung up by the invitee. */
    inv = crvideomgr_callMoreParty(c, "", "", "mp3");
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 0);
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 1);
    ASSERT_EQ(ev_expect("notifyCallMorePartyStatus", inv, T)->i[0], 4);
    crvideo_free(inv);

    /* The original call is unaffected. */
    crvideomgr_hungupCall(call, "", "");
    ev_expect("hungupCallSuccess", call, T);
    crvideo_free(call);
    h_post("a-done", "");
    crvideomgr_logout();
    crvideo_uninit();
}

static void role_mp_b(void)
{
    h_register();
    h_init();
    h_login(h_uid("b"));
    h_post("b-ready", "");
    ev_t *e = ev_expect("notifyCallIn", NULL, T);
    crvideomgr_acceptCall(e->s[0], "", "", "");
    ev_expect("notifyCallHungup", e->s[0], T);
    free(h_wait_post("a-done", T));
    crvideomgr_logout();
    crvideo_uninit();
}

static void role_mp_c(void)
{
    h_register();
    h_init();
    h_login(h_uid("c"));
    h_post("c-ready", "");
    const char *a = h_uid("a");
    ev_t *e = ev_expect("notifyCallIn", NULL, T);
    ASSERT_STR_EQ(e->s[1], MEET);
    ASSERT_STR_EQ(e->s[2], a);
    ASSERT_STR_EQ(e->s[3], "join us");
    crvideomgr_rejectCall(e->s[0], "", "");
    ev_expect("rejectCallSuccess", e->s[0], T);

    e = ev_expect("notifyCallIn", NULL, T);
    ASSERT_STR_EQ(ev_expect("notifyCallHungup", e->s[0], T)->s[1], "never mind");

    e = ev_expect("notifyCallIn", NULL, T);
    crvideomgr_acceptCall(e->s[0], "", "", "");
    ev_expect("acceptCallSuccess", e->s[0], T);
    crvideomgr_hungupCall(e->s[0], "", "");
    ev_expect("hungupCallSuccess", e->s[0], T);
    free(h_wait_post("a-done", T));
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- transfer: sendCmd, sendBuffer, sendFile, cancelSend ------------------------ */

#define BUF_LEN (3 * 1024 * 1024 + 17)
#define FILE_LEN (2 * 1024 * 1024 + 5)
#define BIG_FILE_LEN (7L * 1024 * 1024)  /* under the test server's 8 MiB limit */
#define OVER_LIMIT (9L * 1024 * 1024)

static void role_xfer_a(void)
{
    h_register();
    h_init();
    free(h_wait_post("b-ready", T));
    h_login(h_uid("a"));
    const char *b = h_uid("b");

    char *id = crvideomgr_sendCmd(b, "aGVsbG8gYm9i");
    ev_t *e = ev_expect("sendCmdRlst", id, T);
    ASSERT_EQ(e->i[0], 0);
    ASSERT_STR_EQ(e->s[1], "");
    crvideo_free(id);

    unsigned char *raw = pattern(BUF_LEN, 7);
    char *enc = b64(raw, BUF_LEN);
    id = crvideomgr_sendBuffer(b, enc);
    free(enc);
    free(raw);
    e = ev_expect("sendBufferRlst", id, 30000);
    ASSERT_EQ(e->i[0], 0);
    int progress = 0, last = -1, rlst_seq = e->seq;
    for (ev_t *p; (p = ev_wait("sendProgress", id, 0)) != NULL; progress++) {
        ASSERT_EQ(p->i[1], BUF_LEN);
        ASSERT_GE(p->i[0], last);
        ASSERT_LT(p->seq, rlst_seq); /* event order: every progress before the result */
        last = p->i[0];
    }
    ASSERT_GE(progress, 2);
    ASSERT_EQ(last, BUF_LEN);
    crvideo_free(id);

    char path[600];
    snprintf(path, sizeof path, "%s/xfer-%d.bin", getenv("CRV_TMP"), (int)getpid());
    raw = pattern(FILE_LEN, 9);
    FILE *f = fopen(path, "wb");
    ASSERT(f != NULL);
    ASSERT_EQ(fwrite(raw, 1, FILE_LEN, f), FILE_LEN);
    fclose(f);
    char sum[64];
    snprintf(sum, sizeof sum, "%llu", fnv(raw, FILE_LEN));
    free(raw);
    h_post("file-sum", sum);
    id = crvideomgr_sendFile(b, path);
    e = ev_expect("sendFileRlst", id, 30000);
    ASSERT_EQ(e->i[0], 0);
    ASSERT_STR_EQ(e->s[1], path);
    ASSERT(ev_wait("sendProgress", id, 0) != NULL);
    crvideo_free(id);

    /* Cancel a large transfer right away: either the cancel wins (0, the receiver
     * gets notifyCancelSend, no sendFileRlst) or the transfer had finished (1104). */
    free(h_wait_post("b-got-file", 30000));
    snprintf(path, sizeof path, "%s/xfer-big-%d.bin", getenv("CRV_TMP"), (int)getpid());
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(ftruncate(fd, BIG_FILE_LEN), 0);
    close(fd);
    id = crvideomgr_sendFile(b, path);
    crvideomgr_cancelSend(id);
    e = ev_expect("cancelSendRlst", id, T);
    if (e->i[0] == 0) {
        ev_none("sendFileRlst", 500);
        h_post("cancel", "0");
    } else {
        ASSERT_EQ(e->i[0], CRVIDEOSDK_TRANSID_INVALID);
        ASSERT_EQ(ev_expect("sendFileRlst", id, T)->i[0], 0);
        h_post("cancel", "1104");
    }
    h_report("cancelSend of a 7 MiB file right after sendFile: %s", e->i[0] == 0 ? "cancelled in flight" : "had already finished");
    crvideo_free(id);
    free(h_wait_post("b-done", 30000));

    /* Over the server's limits. */
    raw = pattern(OVER_LIMIT, 3);
    enc = b64(raw, OVER_LIMIT);
    free(raw);
    id = crvideomgr_sendBuffer(b, enc);
    ASSERT_EQ(ev_expect("sendBufferRlst", id, T)->i[0], CRVIDEOSDK_SENDBUFFER_LARGE);
    crvideo_free(id);
    fd = open(path, O_WRONLY | O_TRUNC);
    ASSERT(fd >= 0);
    ASSERT_EQ(ftruncate(fd, OVER_LIMIT), 0);
    close(fd);
    id = crvideomgr_sendFile(b, path);
    ASSERT_EQ(ev_expect("sendFileRlst", id, T)->i[0], CRVIDEOSDK_FILE_SIZE_UNSUPPORT);
    crvideo_free(id);
    unlink(path);

    /* Logout with a transfer in flight: the task ends with CRVIDEOSDK_SENDFAIL. */
    enc[BIG_FILE_LEN / 3 * 4] = 0;
    id = crvideomgr_sendBuffer(b, enc);
    free(enc);
    crvideomgr_logout();
    e = ev_expect("sendBufferRlst", id, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_SENDFAIL);
    crvideo_free(id);
    h_post("a-done", "");
    crvideo_uninit();
}

static void role_xfer_b(void)
{
    h_register();
    h_init();
    h_login(h_uid("b"));
    h_post("b-ready", "");
    const char *a = h_uid("a");
    ev_t *e = ev_expect("notifyCmdData", a, T);
    ASSERT_STR_EQ(e->s[1], "aGVsbG8gYm9i");

    e = ev_expect("notifyBufferData", a, 30000);
    unsigned char *raw = pattern(BUF_LEN, 7);
    char *enc = b64(raw, BUF_LEN);
    ASSERT_EQ(strlen(e->s[1]), strlen(enc));
    ASSERT(strcmp(e->s[1], enc) == 0);
    free(enc);
    free(raw);

    e = ev_expect("notifyFileData", a, 30000);
    char *sum = h_wait_post("file-sum", T);
    long size;
    char got[64];
    snprintf(got, sizeof got, "%llu", fnv_file(e->s[1], &size));
    ASSERT_EQ(size, FILE_LEN);
    ASSERT_STR_EQ(got, sum);
    ASSERT(strchr(e->s[2], '/') == NULL);
    ASSERT(strncmp(e->s[2], "xfer-", 5) == 0);
    ASSERT_EQ(unlink(e->s[1]), 0);
    free(sum);
    h_post("b-got-file", "");

    char *outcome = h_wait_post("cancel", 30000);
    if (strcmp(outcome, "0") == 0) {
        ev_expect("notifyCancelSend", NULL, T);
        ev_none("notifyFileData", 300);
    } else {
        e = ev_expect("notifyFileData", a, 30000);
        unlink(e->s[1]);
    }
    free(outcome);
    h_post("b-done", "");
    free(h_wait_post("a-done", 30000));
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- kick: the same user logs in twice ----------------------------------------- */

static void role_kick_1(void)
{
    h_register();
    h_init();
    h_login(h_uid("same"));
    h_post("first-in", "");
    ASSERT_EQ(ev_expect("lineOff", NULL, T)->i[0], CRVIDEOSDK_KICKOUT_BY_RELOGIN);
    /* After lineOff the user may log in again without uninit; now the other goes. */
    h_login(h_uid("same"));
    free(h_wait_post("second-off", T));
    crvideomgr_logout();
    crvideo_uninit();
}

static void role_kick_2(void)
{
    h_register();
    h_init();
    free(h_wait_post("first-in", T));
    h_login(h_uid("same"));
    ASSERT_EQ(ev_expect("lineOff", NULL, T)->i[0], CRVIDEOSDK_KICKOUT_BY_RELOGIN);
    h_post("second-off", "");
    crvideo_uninit();
}

/* ---- reentrant: API calls, logout, login and uninit from inside callbacks -------- */

static volatile int hook_step;
static volatile int slow_state;
static volatile int uninit_returned;

static void reentrant_hook(const ev_t *e)
{
    if (strcmp(e->name, "loginSuccess") == 0 && strcmp(e->s[1], "first") == 0) {
        /* Logout and log in again from inside the callback. */
        crvideomgr_logout();
        crvideomgr_login(h_acnt(), h_pswd(), "n", e->s[0], "", "second");
        hook_step = 1;
    } else if (strcmp(e->name, "loginSuccess") == 0 && strcmp(e->s[1], "second") == 0) {
        /* A request whose result would come later, then uninit inside the callback:
         * it must return, and no callback may run afterwards. */
        crvideomgr_getUserStatus("lost");
        char *id = crvideomgr_sendCmd("x", "aGk=");
        crvideo_free(id);
        crvideo_uninit();
        uninit_returned = 1;
        hook_step = 2;
    } else if (strcmp(e->name, "loginSuccess") == 0 && strcmp(e->s[1], "third") == 0) {
        /* uninit, init and login again, all inside one callback. */
        crvideo_uninit();
        char dir[600];
        snprintf(dir, sizeof dir, "%s/sdk-reentrant-b-%d", getenv("CRV_TMP"), (int)getpid());
        ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
        crvideo_setServerAddr(h_addr());
        crvideomgr_login(h_acnt(), h_pswd(), "n", e->s[0], "", "fourth");
        hook_step = 3;
    } else if (strcmp(e->name, "getUserStatusSuccess") == 0 && strcmp(e->s[1], "slow") == 0) {
        /* A slow callback: crvideo_uninit on the main thread must wait for it. */
        slow_state = 1;
        h_sleep_ms(300);
        slow_state = 2;
    } else if (strcmp(e->name, "getUserStatusSuccess") == 0 && strcmp(e->s[1], "cb-swap") == 0) {
        /* Re-register from inside a callback, and poll (which does not nest). */
        ASSERT_EQ(crvideo_poll(0), 0);
        h_register();
    }
}

static void role_reentrant(void)
{
    h_register();
    h_init();
    ev_hook = reentrant_hook;
    const char *me = h_uid("r");
    crvideomgr_login(h_acnt(), h_pswd(), "n", me, "", "first");
    ev_expect("loginSuccess", NULL, T);
    ev_expect("loginSuccess", NULL, T);
    long t0 = h_now_ms();
    while (!uninit_returned && h_now_ms() - t0 < T)
        h_sleep_ms(5);
    ASSERT_EQ(uninit_returned, 1);
    int before = ev_total();
    ev_none("getUserStatusSuccess", 500);
    ev_none("sendCmdRlst", 1);
    ASSERT_EQ(ev_total(), before);
    ASSERT_EQ(crvideo_poll(0), -CRVIDEOSDK_NOT_INIT);

    /* A new init after an uninit inside a callback works. */
    h_init();
    crvideomgr_login(h_acnt(), h_pswd(), "n", me, "", "third");
    ev_expect("loginSuccess", NULL, T); /* third: its hook re-inits and logs in */
    ev_t *e = ev_expect("loginSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "fourth");
    ASSERT_EQ(hook_step, 3);
    crvideomgr_getUserStatus("cb-swap");
    ev_expect("getUserStatusSuccess", NULL, T);
    crvideomgr_getUserStatus("after-swap");
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, T)->s[1], "after-swap");

    /* uninit from another thread while a callback runs: it returns only after the
     * callback did, and nothing runs afterwards. */
    crvideomgr_getUserStatus("slow");
    crvideomgr_getUserStatus("after-slow");
    long t1 = h_now_ms();
    while (slow_state == 0 && h_now_ms() - t1 < T)
        h_sleep_ms(1);
    ASSERT_EQ(slow_state, 1);
    crvideo_uninit();
    ASSERT_EQ(slow_state, 2);
    h_report("crvideo_uninit during a 300 ms callback returned after %ld ms, once it had finished", h_now_ms() - t1);
    ev_expect("getUserStatusSuccess", NULL, 0); /* "slow" */
    ev_none("getUserStatusSuccess", 300);       /* "after-slow" never runs */
    ev_hook = NULL;
}

/* ---- poll: callbacks on the application's thread --------------------------------- */

static volatile int poll_nested = -1;
static volatile int poll_uninit_done;

static void poll_hook(const ev_t *e)
{
    if (strcmp(e->name, "getUserStatusSuccess") != 0)
        return;
    if (strcmp(e->s[1], "nest") == 0)
        poll_nested = crvideo_poll(0);
    else if (strcmp(e->s[1], "bye") == 0) {
        crvideomgr_getUserStatus("never");
        crvideo_uninit();
        poll_uninit_done = 1;
    }
}

static int fd_readable(int ms)
{
    struct pollfd p = {crvideo_pollFd(), POLLIN, 0};
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void role_poll(void)
{
    pthread_t main_thread = pthread_self();
    h_register();
    ASSERT_EQ(crvideo_setPollMode(1), CRVIDEOSDK_NOERR); /* before init: kept */
    h_set_poll(1);
    h_init();
    ev_hook = poll_hook;
    h_login(h_uid("p"));
    unsigned long first;
    ASSERT_EQ(ev_threads(&first), 1);
    ASSERT(first == (unsigned long)main_thread);

    /* Nothing runs unless polled; the fd says when to. */
    ASSERT_EQ(crvideo_poll(0), 0);
    ASSERT(!fd_readable(0));
    int before = ev_total();
    crvideomgr_getUserStatus("g1");
    crvideomgr_getUserStatus("g2");
    crvideomgr_getUserStatus("g3");
    long t0 = h_now_ms();
    while (h_now_ms() - t0 < 300)
        h_sleep_ms(10); /* all three replies are queued by now, none has run */
    ASSERT_EQ(ev_total(), before);
    ASSERT(fd_readable(T));
    ASSERT_EQ(crvideo_poll(1), 1);
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, 0)->s[1], "g1");
    ASSERT(fd_readable(0)); /* two still pending */
    ASSERT_EQ(crvideo_poll(-1), 2);
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, 0)->s[1], "g2");
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, 0)->s[1], "g3");
    ASSERT(!fd_readable(0));

    /* crvideo_poll inside a callback does not nest. */
    crvideomgr_getUserStatus("nest");
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, T)->s[1], "nest");
    ASSERT_EQ(poll_nested, 0);

    /* Switch to thread mode and back: no event lost, right thread each time. */
    ASSERT_EQ(ev_threads(&first), 1);
    crvideo_setPollMode(0);
    h_set_poll(0);
    crvideomgr_getUserStatus("threaded");
    ev_t *e = ev_expect("getUserStatusSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "threaded");
    ASSERT(e->thread != (unsigned long)main_thread);
    crvideo_setPollMode(1);
    h_set_poll(1);
    crvideomgr_getUserStatus("polled");
    e = ev_expect("getUserStatusSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "polled");
    ASSERT(e->thread == (unsigned long)main_thread);

    /* uninit inside a polled callback. */
    crvideomgr_getUserStatus("bye");
    ASSERT_STR_EQ(ev_expect("getUserStatusSuccess", NULL, T)->s[1], "bye");
    ASSERT_EQ(poll_uninit_done, 1);
    ASSERT_EQ(crvideo_poll(0), -CRVIDEOSDK_NOT_INIT);
    h_set_poll(0);
    ev_none("getUserStatusSuccess", 300);
    ev_hook = NULL;

    /* Poll mode survives uninit; a new init works in it. */
    h_set_poll(1);
    h_init();
    h_login(h_uid("p"));
    crvideomgr_logout();
    crvideo_uninit();
    crvideo_setPollMode(0);
}

/* ---- misuse: NULL, huge and garbage arguments, wrong order, races -------------- */

static volatile int stress_stop;

static void *stress(void *arg)
{
    (void)arg;
    while (!stress_stop) {
        crvideomgr_getUserStatus(NULL);
        crvideomgr_setDNDStatus(-1, NULL);
        char *id = crvideomgr_call(NULL, NULL, NULL, NULL);
        crvideo_free(id);
        id = crvideomgr_sendCmd(NULL, NULL);
        crvideo_free(id);
        crvideomgr_cancelSend(NULL);
        crvideo_setServerAddr(h_addr());
        crvideo_poll(3);
    }
    return NULL;
}

static void *init_uninit(void *arg)
{
    char dir[600];
    (void)arg;
    snprintf(dir, sizeof dir, "%s/sdk-misuse-race-%d", getenv("CRV_TMP"), (int)getpid());
    for (int k = 0; k < 40; k++) {
        int rc = crvideo_init(dir);
        ASSERT(rc == CRVIDEOSDK_NOERR || rc == CRVIDEOSDK_LOGINSTATE_ERROR);
        crvideomgr_getUserStatus("race");
        crvideo_uninit();
    }
    return NULL;
}

static void role_misuse(void)
{
    h_register();
    /* Everything with NULL, before init. */
    crvideo_setServerAddr(NULL);
    crvideomgr_login(NULL, NULL, NULL, NULL, NULL, NULL);
    crvideomgr_logout();
    crvideomgr_setDNDStatus(0, NULL);
    crvideomgr_getUserStatus(NULL);
    crvideomgr_startUserStatusNotify(NULL);
    crvideomgr_stopUserStatusNotify(NULL);
    crvideomgr_createMeeting(NULL, 0, NULL);
    crvideomgr_destroyMeeting(0, NULL);
    crvideomgr_getMeetings(NULL);
    {
        char *id = crvideomgr_call(NULL, NULL, NULL, NULL); /* an ID, and a NOT_INIT failure */
        ASSERT(id != NULL);
        crvideo_free(id);
    }
    crvideomgr_acceptCall(NULL, NULL, NULL, NULL);
    crvideomgr_rejectCall(NULL, NULL, NULL);
    crvideomgr_hungupCall(NULL, NULL, NULL);
    {
        char *id = crvideomgr_callMoreParty(NULL, NULL, NULL, NULL); /* an ID, and a NOT_INIT failure */
        ASSERT(id != NULL);
        crvideo_free(id);
    }
    crvideomgr_cancelCallMoreParty(NULL, NULL, NULL);
    {
        char *id = crvideomgr_sendCmd(NULL, NULL); /* an ID, and a NOT_INIT failure */
        ASSERT(id != NULL);
        crvideo_free(id);
    }
    {
        char *id = crvideomgr_sendBuffer(NULL, NULL); /* an ID, and a NOT_INIT failure */
        ASSERT(id != NULL);
        crvideo_free(id);
    }
    {
        char *id = crvideomgr_sendFile(NULL, NULL); /* an ID, and a NOT_INIT failure */
        ASSERT(id != NULL);
        crvideo_free(id);
    }
    crvideomgr_cancelSend(NULL);
    crvideo_free(NULL);
    crvideo_uninit();
    /* Their CRVIDEOSDK_NOT_INIT failures, in call order: cancelSendRlst is the last. */
    ASSERT_EQ(ev_expect("cancelSendRlst", "", T)->i[0], CRVIDEOSDK_NOT_INIT);
    ASSERT_EQ(ev_count("loginFail"), 1);
    ev_reset();
    ASSERT_EQ(crvideo_poll(INT_MIN), -CRVIDEOSDK_NOT_INIT);

    h_init();
    /* NULL login: an empty enterprise is refused, nothing crashes. */
    crvideomgr_login(NULL, NULL, NULL, NULL, NULL, NULL);
    ev_t *e = ev_expect("loginFail", "", T);
    ASSERT_NE(e->i[0], 0);
    /* Huge strings: a 16 MiB nickname is refused with PARAM_ERR. */
    size_t huge = 16u << 20;
    char *h = malloc(huge + 1);
    memset(h, 'n', huge);
    h[huge] = 0;
    crvideomgr_login(h_acnt(), h_pswd(), h, "m", "", "huge");
    ASSERT_EQ(ev_expect("loginFail", "huge", T)->i[0], CRVIDEOSDK_PARAM_ERR);

    h_login(h_uid("m"));
    /* NULL everywhere while logged in: each still gets its one result. */
    crvideomgr_setDNDStatus(0, NULL);
    ev_expect("setDNDStatusSuccess", "", T);
    crvideomgr_createMeeting(NULL, 0, NULL);
    ASSERT_STR_EQ(ev_expect("createMeetingSuccess", NULL, T)->s[1], ""); /* "" is a valid subject */
    crvideomgr_destroyMeeting(-1, NULL);
    ASSERT_EQ(ev_expect("destroyMeetingRslt", "", T)->i[0], CRVIDEOSDK_MEETNOTEXIST);
    crvideomgr_createMeeting("x", -1, "neg");
    ASSERT_EQ(ev_expect("createMeetingFail", "neg", T)->i[0], CRVIDEOSDK_PARAM_ERR);
    char *id = crvideomgr_call(NULL, NULL, NULL, NULL);
    ASSERT(id != NULL);
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideo_free(id);
    crvideomgr_acceptCall(NULL, NULL, NULL, NULL);
    ASSERT_NE(ev_expect("acceptCallFail", "", T)->i[0], 0);
    crvideomgr_hungupCall(NULL, NULL, NULL);
    ASSERT_NE(ev_expect("hungupCallFail", "", T)->i[0], 0);
    id = crvideomgr_call(h_uid("nobody"), "not json", h, "hugeext");
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideo_free(id);
    id = crvideomgr_call(h_uid("nobody"), h, "", "hugemeet");
    ASSERT_EQ(ev_expect("callFail", id, T)->i[0], CRVIDEOSDK_PARAM_ERR);
    crvideo_free(id);
    id = crvideomgr_sendCmd(NULL, NULL);
    ASSERT_NE(ev_expect("sendCmdRlst", id, T)->i[0], 0);
    crvideo_free(id);
    id = crvideomgr_sendFile(h_uid("nobody"), NULL);
    ASSERT_NE(ev_expect("sendFileRlst", id, T)->i[0], 0);
    crvideo_free(id);
    memset(h, 'A', huge); /* valid base64, far over the sendCmd limit */
    id = crvideomgr_sendCmd(h_uid("nobody"), h);
    ASSERT_EQ(ev_expect("sendCmdRlst", id, T)->i[0], CRVIDEOSDK_SENDCMD_LARGE);
    crvideo_free(id);
    crvideomgr_cancelSend(NULL);
    ASSERT_EQ(ev_expect("cancelSendRlst", "", T)->i[0], CRVIDEOSDK_TRANSID_INVALID);
    free(h);

    /* Wrong order: logout twice, init twice, uninit twice. */
    crvideomgr_logout();
    crvideomgr_logout();
    char dir[600];
    snprintf(dir, sizeof dir, "%s/x", getenv("CRV_TMP"));
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_LOGINSTATE_ERROR);
    crvideo_uninit();
    crvideo_uninit();

    /* Races: four threads hammer the API while the main thread inits and uninits. Their
     * callbacks (CRVIDEOSDK_NOT_INIT failures by the ten thousand) are not recorded. */
    ASSERT_EQ(crvideo_setCallbacks(NULL, 0, NULL), CRVIDEOSDK_NOERR);
    pthread_t th[4];
    for (int k = 0; k < 4; k++)
        ASSERT_EQ(pthread_create(&th[k], NULL, stress, NULL), 0);
    for (int k = 0; k < 40; k++) {
        h_init();
        h_sleep_ms(5);
        crvideo_setPollMode(k & 1);
        h_sleep_ms(5);
        crvideo_uninit();
    }
    /* ... and two of them init and uninit concurrently with the main thread. */
    pthread_t cyc[2];
    for (int k = 0; k < 2; k++)
        ASSERT_EQ(pthread_create(&cyc[k], NULL, init_uninit, NULL), 0);
    for (int k = 0; k < 40; k++) {
        crvideo_init(dir); /* NOERR or LOGINSTATE_ERROR, whoever is first */
        crvideo_uninit();
    }
    for (int k = 0; k < 2; k++)
        pthread_join(cyc[k], NULL);
    stress_stop = 1;
    for (int k = 0; k < 4; k++)
        pthread_join(th[k], NULL);
    crvideo_setPollMode(0);
    /* The refusals still queued run before this one, the last. */
    h_register();
    crvideomgr_getUserStatus("drained");
    ASSERT_EQ(ev_expect("getUserStatusFail", "drained", T)->i[0], CRVIDEOSDK_NOT_INIT);
    ev_reset();
    /* Still fully usable. */
    h_init();
    h_login(h_uid("m"));
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- nofault: the shipped library has no fault injection ------------------------- */

/* CRVIDEOMGR_TEST_FAULT means something only to the test build
 * (build/faults/, crvtest-faults): in the shipped library every function
 * behaves normally with it set. */
static void role_nofault(void)
{
    h_register();
    setenv("CRVIDEOMGR_TEST_FAULT", "createMeeting", 1);
    h_init();
    h_login(h_uid("nf"));
    crvideomgr_createMeeting("no-boom", 0, "no-boom");
    ASSERT_STR_EQ(ev_expect("createMeetingSuccess", NULL, T)->s[1], "no-boom");
    crvideomgr_logout();
    crvideo_uninit();
    setenv("CRVIDEOMGR_TEST_FAULT", "dispatch", 1);
    h_init();
    h_login(h_uid("nf"));
    crvideomgr_logout();
    crvideo_uninit();
    unsetenv("CRVIDEOMGR_TEST_FAULT");
    char log[600], line[8192];
    snprintf(log, sizeof log, "%s/sdk-nofault-%d/crvideomgr.log", getenv("CRV_TMP"), (int)getpid());
    FILE *f = fopen(log, "r");
    ASSERT(f != NULL);
    int injected = 0;
    while (fgets(line, sizeof line, f))
        injected += strstr(line, "injected fault") != NULL;
    fclose(f);
    ASSERT_EQ(injected, 0);
}

/* ---- fault: a panic inside the library becomes CRVIDEOSDK_INNER_ERR --------------- */

/* Needs the test build of the library (crvtest-faults): named only. */

static void role_fault(void)
{
    h_register();
    setenv("CRVIDEOMGR_TEST_FAULT", "createMeeting", 1);
    h_init();
    h_login(h_uid("f"));
    crvideomgr_createMeeting("boom", 0, "boom");
    ASSERT_EQ(ev_expect("createMeetingFail", "boom", T)->i[0], CRVIDEOSDK_INNER_ERR);
    crvideo_uninit();
    setenv("CRVIDEOMGR_TEST_FAULT", "call", 1);
    h_init();
    h_login(h_uid("f"));
    ASSERT(crvideomgr_call("x", "", "", "") == NULL); /* an ID function: NULL */
    crvideomgr_getMeetings("still-alive");
    ASSERT_STR_EQ(ev_expect("getMeetingsSuccess", NULL, T)->s[1], "still-alive");
    crvideomgr_logout();
    crvideo_uninit();
    /* A panic in the dispatch after every callback: each is logged, dispatching goes on. */
    setenv("CRVIDEOMGR_TEST_FAULT", "dispatch", 1);
    h_init();
    h_login(h_uid("f"));
    for (int k = 0; k < 3; k++) {
        crvideomgr_getMeetings("after-panic");
        ASSERT_STR_EQ(ev_expect("getMeetingsSuccess", NULL, T)->s[1], "after-panic");
    }
    crvideomgr_logout();
    crvideo_uninit();
    unsetenv("CRVIDEOMGR_TEST_FAULT");
    /* Each panic is in the log, with its stack. */
    char log[600], line[8192];
    snprintf(log, sizeof log, "%s/sdk-fault-%d/crvideomgr.log", getenv("CRV_TMP"), (int)getpid());
    FILE *f = fopen(log, "r");
    ASSERT(f != NULL);
    int in_export = 0, in_dispatch = 0;
    while (fgets(line, sizeof line, f)) {
        in_export += strstr(line, "injected fault in createMeeting") != NULL;
        in_dispatch += strstr(line, "injected fault after a callback") != NULL;
    }
    fclose(f);
    ASSERT_EQ(in_export, 1);
    ASSERT_EQ(in_dispatch, 4); /* loginSuccess and three getMeetingsSuccess */
}

/* ---- cycles: 1,000 x init/login/logout/uninit -------------------------------------- */

static void role_cycles(void)
{
    int n = getenv("CRV_CYCLES") ? atoi(getenv("CRV_CYCLES")) : 1000;
    int warm = n / 10;
    long th0 = 0, rss0 = 0, fd0 = 0, thmax = 0;
    const char *me = h_uid("cyc");
    char dir[600];
    snprintf(dir, sizeof dir, "%s/sdk-cycles-%d", getenv("CRV_TMP"), (int)getpid());
    h_register();
    crvideo_setServerAddr(h_addr());
    long t0 = h_now_ms();
    for (int k = 1; k <= n; k++) {
        ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
        h_login(me);
        crvideomgr_logout();
        crvideo_uninit();
        ev_reset();
        if (k == warm) {
            th0 = h_threads();
            rss0 = h_rss_kb();
            fd0 = h_open_fds();
        }
        if (k > warm && h_threads() > thmax)
            thmax = h_threads();
    }
    long th1 = h_threads(), rss1 = h_rss_kb(), fd1 = h_open_fds();
    /* Goroutines: at every uninit the library logs the exact number of goroutines
     * (from a stop-the-world dump) and how many of those it started are left, which
     * must be none; it logs their stacks when any is. */
    char log[700];
    static char line[1 << 16];
    snprintf(log, sizeof log, "%s/crvideomgr.log", dir);
    FILE *f = fopen(log, "r");
    ASSERT(f != NULL);
    int seen = 0, libleft = 0;
    long g0 = -1, g1 = -1, gmax = 0;
    while (fgets(line, sizeof line, f)) {
        char *g = strstr(line, "msg=crvideo_uninit");
        if (g == NULL || (g = strstr(line, " goroutines=")) == NULL)
            continue;
        long v = atol(g + 12);
        if ((g = strstr(line, "libraryGoroutines=")) != NULL && atol(g + 18) != 0)
            libleft++;
        if (++seen == warm)
            g0 = v;
        if (seen > warm && v > gmax)
            gmax = v;
        g1 = v;
    }
    h_report("goroutines after uninit: %ld after %d cycles -> %ld after %d (max %ld); "
             "uninits with library goroutines left: %d",
             g0, warm, g1, n, gmax, libleft);
    if (libleft || g1 > g0 + 2 || gmax > g0 + 4) {
        /* Diagnose: the stacks the library logged, or else the uninit lines. */
        rewind(f);
        int shown = 0;
        char *g;
        while (fgets(line, sizeof line, f) && shown < 5)
            if (strstr(line, "still running") || (!libleft && strstr(line, "msg=crvideo_uninit") &&
                                                   (g = strstr(line, " goroutines=")) && atol(g + 12) > g0 + 2)) {
                printf("log: %s", line);
                shown++;
            }
    }
    fclose(f);
    ASSERT_EQ(seen, n);
    ASSERT_EQ(libleft, 0);
    ASSERT_LE(g1, g0 + 2);
    ASSERT_LE(gmax, g0 + 4);
    h_report("%d cycles in %ld ms; after %d warm-up cycles -> after %d: threads %ld -> %ld (max %ld), "
             "RSS %ld -> %ld KiB (%+ld KiB), open fds %ld -> %ld",
             n, h_now_ms() - t0, warm, n, th0, th1, thmax, rss0, rss1, rss1 - rss0, fd0, fd1);
    /* The Go runtime parks idle threads instead of ending them, so the count can
     * creep up to the peak concurrency it has needed; a leak would add a thread per
     * cycle (hundreds here). The dispatch thread itself ends at every uninit. */
    ASSERT_LE(th1, th0 + 4);
    ASSERT_LE(thmax, th0 + 8);
    ASSERT_EQ(fd1, fd0);
#if defined(__SANITIZE_ADDRESS__)
    /* ASan keeps freed blocks in quarantine and every allocation stack in its stack
     * depot, so RSS grows with the number of C allocations: only a loose bound here.
     * The strict RSS bound is checked by the plain (non-ASan) build. */
    h_report("(ASan build: RSS bound 48 MiB; the plain build checks 4 MiB)");
    ASSERT_LE(rss1 - rss0, 48 * 1024);
#else
    ASSERT_LE(rss1 - rss0, 4 * 1024);
#endif
}

/* ---- uninit: prompt in every state ---------------------------------------------- */

/* A TCP listener that never accepts: connections to it complete in the kernel's
 * backlog and then hear nothing, so a WebSocket dial to it waits for its timeout. */
static int black_hole(char *addr, size_t n)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    ASSERT(l >= 0);
    ASSERT_EQ(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
    ASSERT_EQ(listen(l, 64), 0);
    ASSERT_EQ(getsockname(l, (struct sockaddr *)&sa, &len), 0);
    snprintf(addr, n, "127.0.0.1:%d", ntohs(sa.sin_port));
    return l;
}

/* proxy: accepts one connection on its listener and relays it to the server until
 * cut is set; then closes it and accepts no more (the listener becomes a black hole). */
static struct {
    int l;
    volatile int cut;
    pthread_t th;
} px;

static void *proxy_run(void *arg)
{
    (void)arg;
    int c = accept(px.l, NULL, NULL), s = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(c >= 0 && s >= 0);
    const char *a = h_addr(), *colon = strrchr(a, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(connect(s, (struct sockaddr *)&sa, sizeof sa), 0);
    char buf[65536];
    while (!px.cut) {
        struct pollfd p[2] = {{c, POLLIN, 0}, {s, POLLIN, 0}};
        if (poll(p, 2, 20) <= 0)
            continue;
        for (int k = 0; k < 2; k++)
            if (p[k].revents) {
                ssize_t n = read(p[k].fd, buf, sizeof buf);
                if (n <= 0 || write(p[1 - k].fd, buf, (size_t)n) != n)
                    px.cut = 1;
            }
    }
    close(c);
    close(s);
    return NULL;
}

/* timed_uninit returns how long crvideo_uninit takes, in ms. */
static long timed_uninit(void)
{
    long t0 = h_now_ms();
    crvideo_uninit();
    return h_now_ms() - t0;
}

/* The bound is a hang guard only (the engine's dial timeout is 5 s, its handshake
 * timeout 10 s); the figures are reported. */
#define UNINIT_BOUND_MS 2000

static void role_uninit_a(void)
{
    char hole[64];
    h_register();
    /* Mid-login: dialing a server that never answers. */
    int l = black_hole(hole, sizeof hole);
    h_init();
    crvideo_setServerAddr(hole);
    crvideomgr_login(h_acnt(), h_pswd(), "n", h_uid("a"), "", "");
    h_sleep_ms(200);
    long dial = timed_uninit();
    /* Reconnecting to a dead address list: logged in through a proxy that then cuts
     * the connection and becomes a black hole. */
    px.l = black_hole(hole, sizeof hole);
    px.cut = 0;
    ASSERT_EQ(pthread_create(&px.th, NULL, proxy_run, NULL), 0);
    h_init();
    crvideo_setServerAddr(hole);
    h_login(h_uid("a"));
    px.cut = 1;
    pthread_join(px.th, NULL);
    h_sleep_ms(500); /* the library notices and redials (into the black hole) */
    long reconnect = timed_uninit();
    close(px.l);
    close(l);
    /* Mid-transfer: sending 6 MiB to b. */
    crvideo_setServerAddr(h_addr());
    h_init();
    h_login(h_uid("a"));
    char *b = h_wait_post("b-ready", T);
    size_t n = 6u << 20;
    unsigned char *raw = calloc(1, n);
    char *enc = b64(raw, n);
    char *id = crvideomgr_sendBuffer(b, enc);
    ev_expect("sendProgress", id, T);
    h_post("a-sending", "1");
    long xfer = timed_uninit();
    h_report("crvideo_uninit took %ld ms mid-login (dialing), %ld ms reconnecting to a dead address, "
             "%ld ms mid-transfer (sender)", dial, reconnect, xfer);
    ASSERT_LE(dial, UNINIT_BOUND_MS);
    ASSERT_LE(reconnect, UNINIT_BOUND_MS);
    ASSERT_LE(xfer, UNINIT_BOUND_MS);
    crvideo_free(id);
    free(enc);
    free(raw);
    free(b);
    ev_reset();
}

static void role_uninit_b(void)
{
    h_register();
    h_init();
    h_post("b-ready", h_login(h_uid("b")));
    free(h_wait_post("a-sending", T));
    long xfer = timed_uninit();
    h_report("crvideo_uninit took %ld ms mid-transfer (receiver)", xfer);
    ASSERT_LE(xfer, UNINIT_BOUND_MS);
    ev_reset();
}

/* ---- leak canary: proves the leak check can fail ----------------------------------- */

static __attribute__((noinline)) void leak_ids(void)
{
    for (int k = 0; k < 16; k++) {
        char *id = crvideomgr_sendCmd("nobody", "aGk="); /* returned ID never freed: a leak */
        ASSERT(id != NULL);
    }
}

static __attribute__((noinline)) void scrub_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
}

static void role_canary(void)
{
    h_register();
    h_init();
    leak_ids();
    scrub_stack();
    crvideo_uninit();
}

const scenario_t scenarios[] = {
    {"api", "versions, codes, strerror, NOT_INIT, init misuse, NOT_LOGIN on every result, login errors", 1, {{"solo", role_api, 0}}, 0, NULL, 0},
    {"session", "one user: login, DND, status, meetings, failing calls and transfers, logout, relogin", 1, {{"solo", role_session, 0}}, 0, NULL, 0},
    {"call", "two users: accept, 601, hangup, reject, ring timeout, callee hangup, DND 602", 2, {{"a", role_call_a, 0}, {"b", role_call_b, 0}}, 0, NULL, 0},
    {"moreparty", "three users: invite rejected, cancelled, accepted and hung up", 3, {{"a", role_mp_a, 0}, {"b", role_mp_b, 0}, {"c", role_mp_c, 0}}, 0, NULL, 0},
    {"transfer", "two users: sendCmd, 3 MiB sendBuffer, 2 MiB sendFile with progress, cancelSend, limits, logout mid-transfer", 2, {{"a", role_xfer_a, 0}, {"b", role_xfer_b, 0}}, 0, NULL, 0},
    {"kick", "same user twice: lineOff(10) to the older session, both ways", 2, {{"first", role_kick_1, 0}, {"second", role_kick_2, 0}}, 0, NULL, 0},
    {"reentrant", "logout+login, uninit, and uninit+init+login from inside callbacks", 1, {{"solo", role_reentrant, 0}}, 0, NULL, 0},
    {"poll", "poll mode: callbacks on the caller's thread, pollFd, maxEvents, switching, uninit in a callback", 1, {{"solo", role_poll, 0}}, 0, NULL, 0},
    {"misuse", "NULL everywhere, 16 MiB strings, wrong order, 4 threads calling while 3 race init/uninit", 1, {{"solo", role_misuse, 0}}, 0, NULL, 0},
    {"nofault", "the shipped library ignores CRVIDEOMGR_TEST_FAULT: no injected panic", 1, {{"solo", role_nofault, 0}}, 0, NULL, 0},
    {"fault", "(test build, crvtest-faults) injected panics: in an export -> CRVIDEOSDK_INNER_ERR or a NULL ID; in dispatch -> logged, goes on",
     1, {{"solo", role_fault, 0}}, 0, NULL, 1},
    {"uninit", "crvideo_uninit is prompt mid-login, reconnecting to a dead address, mid-transfer (both sides)", 2, {{"a", role_uninit_a, 0}, {"b", role_uninit_b, 0}}, 0, NULL, 0},
    {"cycles", "1,000 init/login/logout/uninit cycles: goroutines, threads, RSS and fds do not grow", 1, {{"solo", role_cycles, 0}}, 600, NULL, 0},
    /* Named only (the Makefile runs them, each with a server of their own). */
    {"fuzz", "random bytes, lengths and numbers to every function from 4 threads: before init, initialised, logged in, racing init/uninit, after uninit",
     2, {{"me", role_fuzz, 0}, {"peer", role_fuzz_peer, 0}}, 900, NULL, 1},
    {"killpeer", "SIGKILL of a user in a call, sending and receiving files: its peer sees hangup, 1000, cancel, offline after the grace",
     2, {{"victim", role_killpeer_victim, 1}, {"peer", role_killpeer_peer, 0}}, 0, NULL, 1},
    {"freeze", "a user frozen (SIGSTOP) in a call: declared dead after ping timeout + grace, then killed",
     2, {{"victim", role_freeze_victim, 1}, {"peer", role_freeze_peer, 0}}, 0, NULL, 1},
    {"srvkill", "SIGKILL of the server, restarted on the same port: both users log in again by themselves, calls end, no lineOff",
     2, {{"a", role_srvkill_a, 0}, {"b", role_srvkill_b, 0}}, 0, NULL, 1},
    {NULL, NULL, 0, {{NULL, NULL, 0}}, 0, NULL, 0},
};

const scenario_t leak_canary = {"leak-canary", "an ID never freed must be reported by the leak checker", 1, {{"solo", role_canary, 0}}, 0, "LeakSanitizer", 0};

const scenario_t *find_scenario(const char *name)
{
    for (int k = 0; scenarios[k].name; k++)
        if (strcmp(scenarios[k].name, name) == 0)
            return &scenarios[k];
    if (strcmp(name, leak_canary.name) == 0)
        return &leak_canary;
    return NULL;
}
