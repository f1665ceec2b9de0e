/*
 * kill.c: processes that die without a word. REFERENCE §3 "Lost connections": a
 * closed connection is noticed at once, a silent one within the server's
 * -ping-timeout; the session then waits -resume-grace for its client and, when the
 * grace runs out, ends: the peers of its calls get notifyCallHungup, its transfers
 * fail (sender 1000, receiver notifyCancelSend) and status subscribers see it
 * offline. After a server restart the library logs in again by itself.
 *
 *   killpeer  a user in a call, sending one file and receiving another, is killed
 *             with SIGKILL; its peer measures when each consequence arrives
 *   freeze    a user in a call is stopped (SIGSTOP: the connection stays open but
 *             silent); declared dead after ping timeout + grace, then killed
 *   srvkill   the server is killed with SIGKILL while two users are in a call and
 *             restarted on the same port: both log in again by themselves
 *
 * tests/run-c.sh starts the server; the Makefile runs these with short timeouts in
 * CRV_SERVER_ARGS (read here to know what to expect), and run-c.sh leaves the
 * server's pid in CRV_SRV_PID and its command line in $CRV_TMP/server.cmd.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "scenarios.h"

#define T 10000
#define MARGIN_MS 3000                 /* scheduling on a loaded 2-core machine */
#define XFER_LEN (48L * 1024 * 1024)   /* a file that cannot finish in a blink */
#define WINDOW (2L * 1024 * 1024)      /* the server's flow-control window (DefaultWindow) */

extern char **environ;

/* server_ms returns the duration of a server flag in CRV_SERVER_ARGS
 * ("-resume-grace 3s", "-ping-timeout=500ms"), or def_ms. */
static long server_ms(const char *flag, long def_ms)
{
    const char *args = getenv("CRV_SERVER_ARGS");
    size_t fl = strlen(flag);
    for (const char *p = args; p && (p = strstr(p, flag)) != NULL; p += fl) {
        const char *v = p + fl;
        if (*v != ' ' && *v != '=')
            continue;
        char *end;
        double x = strtod(v + 1, &end);
        if (strncmp(end, "ms", 2) == 0)
            return (long)x;
        if (*end == 's')
            return (long)(x * 1000);
        if (*end == 'm')
            return (long)(x * 60000);
    }
    return def_ms;
}

static long grace_ms(void) { return server_ms("-resume-grace", 30000); }
static long ping_ms(void) { return server_ms("-ping-timeout", 10000); }

/* proc_state returns the state letter of /proc/<pid>/stat ('T' stopped), or 0. */
static char proc_state(int pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

static void wait_stopped(int pid)
{
    long deadline = h_now_ms() + T;
    while (proc_state(pid) != 'T') {
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__, "process %d not stopped within %d ms (state %c)", pid, T, proc_state(pid));
        h_sleep_ms(2);
    }
}

/* user_status returns userStatus of usr in a UserStatusObj(s) JSON text, -1 when
 * the user is not in it. */
static int user_status(const char *json, const char *usr)
{
    char key[300];
    snprintf(key, sizeof key, "\"userID\":\"%s\"", usr);
    const char *p = strstr(json, key);
    if (!p)
        return -1;
    const char *obj = p;
    while (obj > json && *obj != '{')
        obj--;
    const char *end = strchr(p, '}');
    const char *s = strstr(obj, "\"userStatus\":");
    if (!s || (end && s > end))
        return -1;
    return atoi(s + 13);
}

/* wait_status waits for notifyUserStatus saying usr has status st. */
static ev_t *wait_status(const char *usr, int st, int ms)
{
    long deadline = h_now_ms() + ms;
    for (;;) {
        long left = deadline - h_now_ms();
        ev_t *e = ev_wait("notifyUserStatus", NULL, left > 0 ? (int)left : 0);
        if (e == NULL)
            h_fail(__FILE__, __LINE__, "no notifyUserStatus(%s: userStatus %d) within %d ms", usr, st, ms);
        if (user_status(e->s[0], usr) == st)
            return e;
    }
}

static void sparse_file(const char *path, long len)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ASSERT(fd >= 0);
    ASSERT_EQ(ftruncate(fd, len), 0);
    close(fd);
}

/* ---- killpeer ---------------------------------------------------------------- */

/* The victim stops itself (SIGSTOP) from the callback that reports its file
 * partly stored by the peer with more than a flow-control window to go: the
 * transfer cannot finish afterwards. The peer then kills it. */
static volatile int victim_stopping;

static void victim_hook(const ev_t *e)
{
    if (strcmp(e->name, "sendProgress") != 0 || victim_stopping)
        return;
    if (e->i[0] > 0 && (long)e->i[0] + 2 * WINDOW < (long)e->i[1]) {
        char v[300];
        victim_stopping = 1;
        snprintf(v, sizeof v, "%s %d", e->s[0], e->i[0]);
        h_post("victim-stopping", v);
        raise(SIGSTOP); /* every thread stops here; SIGKILL follows */
    }
}

/* victim_in_call logs the victim in, posts its pid as "victim-ready" and
 * accepts the call the peer then makes. */
static void victim_in_call(void)
{
    h_register();
    h_init();
    h_login(h_uid("victim"));
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    h_post("victim-ready", pid);
    ev_t *e = ev_expect("notifyCallIn", NULL, T);
    crvideomgr_acceptCall(e->s[0], "", "", "");
    ev_expect("acceptCallSuccess", e->s[0], T);
}

void role_killpeer_victim(void)
{
    victim_in_call();
    free(h_wait_post("f2-begun", T)); /* the peer's file to us is under way */
    char path[600];
    snprintf(path, sizeof path, "%s/victim-%d.bin", getenv("CRV_TMP"), (int)getpid());
    sparse_file(path, XFER_LEN);
    ev_hook = victim_hook;
    char *task = crvideomgr_sendFile(h_uid("peer"), path);
    /* Never returns normally: stopped by the hook, then killed. */
    ev_t *e = ev_wait("sendFileRlst", task, 60000);
    h_fail(__FILE__, __LINE__, "the victim's file ended (%d) before the victim could stop mid-transfer", e ? e->i[0] : -1);
}

void role_killpeer_peer(void)
{
    h_register();
    h_init();
    const char *victim = h_uid("victim");
    h_login(h_uid("peer"));
    crvideomgr_startUserStatusNotify("watch");
    ASSERT_EQ(ev_expect("startUserStatusNotifyRslt", "watch", T)->i[0], 0);
    char *v = h_wait_post("victim-ready", T);
    int pid = atoi(v);
    free(v);
    ASSERT_GT(pid, 0);

    char *call = crvideomgr_call(victim, "", "", "");
    ev_expect("notifyCallAccepted", call, T);
    char path[600];
    snprintf(path, sizeof path, "%s/peer-%d.bin", getenv("CRV_TMP"), (int)getpid());
    sparse_file(path, XFER_LEN);
    char *mine = crvideomgr_sendFile(victim, path); /* F2: we send, the victim receives */
    ev_expect("sendProgress", mine, T);
    h_post("f2-begun", "");
    char *st = h_wait_post("victim-stopping", 30000);
    char theirs[256];
    int their_sent = 0;
    ASSERT_EQ(sscanf(st, "%255s %d", theirs, &their_sent), 2);
    free(st);
    wait_stopped(pid);

    /* Both transfers are stuck mid-way: neither has ended. */
    h_sleep_ms(300); /* let anything already on its way arrive (and fail below) */
    ASSERT(ev_wait("sendFileRlst", mine, 0) == NULL);
    ASSERT(ev_wait("notifyFileData", NULL, 0) == NULL);
    int my_sent = 0;
    for (ev_t *p; (p = ev_wait("sendProgress", mine, 0)) != NULL;)
        my_sent = p->i[0];
    ASSERT_LT(my_sent, XFER_LEN);

    long t0 = h_now_ms();
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    long grace = grace_ms(), ping = ping_ms(), bound = ping + grace + MARGIN_MS;

    /* Within the grace the victim stays online and in its call. */
    crvideomgr_getUserStatus("during-grace");
    ev_t *e = ev_expect("getUserStatusSuccess", NULL, T);
    ASSERT_STR_EQ(e->s[1], "during-grace");
    if (h_now_ms() - t0 < grace - 200)
        ASSERT_EQ(user_status(e->s[0], victim), 2); /* busy: in the call */

    e = ev_expect("notifyCallHungup", call, (int)bound);
    long t_hung = h_now_ms() - t0;
    ASSERT_STR_EQ(e->s[1], "");
    e = ev_expect("sendFileRlst", mine, (int)(bound - (h_now_ms() - t0)));
    long t_rlst = h_now_ms() - t0;
    ASSERT_EQ(e->i[0], CRVIDEOSDK_SENDFAIL);
    ev_expect("notifyCancelSend", theirs, (int)(bound - (h_now_ms() - t0)));
    long t_cancel = h_now_ms() - t0;
    wait_status(victim, 0, (int)(bound - (h_now_ms() - t0)));
    long t_off = h_now_ms() - t0;
    /* Not before the grace: the session waited for its client. */
    ASSERT_GE(t_hung, grace * 9 / 10);
    ASSERT_GE(t_rlst, grace * 9 / 10);
    ASSERT_GE(t_cancel, grace * 9 / 10);
    ASSERT_GE(t_off, grace * 9 / 10);
    h_report("victim killed (SIGKILL) mid-call with %.1f of %ld MiB of its file stored and %.1f MiB of ours; "
             "server -ping-timeout %ld ms -resume-grace %ld ms", their_sent / 1048576.0, XFER_LEN >> 20,
             my_sent / 1048576.0, ping, grace);
    h_report("peer noticed after: notifyCallHungup %ld ms, sendFileRlst(1000) %ld ms, notifyCancelSend %ld ms, "
             "offline (status push) %ld ms; bound %ld ms", t_hung, t_rlst, t_cancel, t_off, bound);
    /* Nothing of the victim's file is left here (the victim's partial copy of ours
     * died with it, in its temp directory). */
    ASSERT(ev_wait("notifyFileData", NULL, 0) == NULL);
    crvideo_free(mine);
    crvideo_free(call);
    unlink(path);
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- freeze ------------------------------------------------------------------ */

void role_freeze_victim(void)
{
    victim_in_call();
    h_post("victim-freezing", "");
    raise(SIGSTOP);
    h_fail(__FILE__, __LINE__, "the frozen victim was continued");
}

void role_freeze_peer(void)
{
    h_register();
    h_init();
    const char *victim = h_uid("victim");
    h_login(h_uid("peer"));
    crvideomgr_startUserStatusNotify("watch");
    ASSERT_EQ(ev_expect("startUserStatusNotifyRslt", "watch", T)->i[0], 0);
    char *v = h_wait_post("victim-ready", T);
    int pid = atoi(v);
    free(v);
    char *call = crvideomgr_call(victim, "", "", "");
    ev_expect("notifyCallAccepted", call, T);
    free(h_wait_post("victim-freezing", T));
    wait_stopped(pid);
    long t0 = h_now_ms(), grace = grace_ms(), ping = ping_ms(), bound = ping + grace + MARGIN_MS;
    ev_t *e = ev_expect("notifyCallHungup", call, (int)bound);
    long t_hung = h_now_ms() - t0;
    ASSERT_STR_EQ(e->s[1], "");
    wait_status(victim, 0, (int)(bound - (h_now_ms() - t0)));
    long t_off = h_now_ms() - t0;
    /* A silent connection is found dead only by the ping timeout; then the grace. */
    ASSERT_GE(t_hung, grace);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    h_report("victim frozen (SIGSTOP) mid-call, connection open but silent: notifyCallHungup after %ld ms, "
             "offline after %ld ms (-ping-timeout %ld ms + -resume-grace %ld ms, bound %ld ms); then killed",
             t_hung, t_off, ping, grace, bound);
    crvideo_free(call);
    crvideomgr_logout();
    crvideo_uninit();
}

/* ---- srvkill ------------------------------------------------------------------- */

/* listening reports whether something accepts connections at CRV_ADDR. */
static int listening(void)
{
    char host[128];
    snprintf(host, sizeof host, "%s", h_addr());
    char *colon = strrchr(host, ':');
    ASSERT(colon != NULL);
    *colon = 0;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    ASSERT_EQ(inet_pton(AF_INET, host, &sa.sin_addr), 1);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT(fd >= 0);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* restart_server starts crvideosrv again with run-c.sh's command line, on the same
 * address, and waits until it accepts connections. Its pid goes to
 * $CRV_TMP/server.pids, whose servers run-c.sh stops on exit. */
static pid_t restart_server(void)
{
    char path[600], addr2[600], log[600];
    snprintf(path, sizeof path, "%s/server.cmd", getenv("CRV_TMP"));
    snprintf(addr2, sizeof addr2, "%s/addr2", getenv("CRV_TMP"));
    snprintf(log, sizeof log, "%s/server2.log", getenv("CRV_TMP"));
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    ASSERT(n > 0);
    char *argv[64];
    int argc = 0;
    for (size_t k = 0; k < n && argc < 63; k += strlen(buf + k) + 1)
        argv[argc++] = buf + k;
    argv[argc] = NULL;
    for (int k = 0; k + 1 < argc; k++) {
        if (strcmp(argv[k], "-listen") == 0)
            argv[k + 1] = (char *)h_addr(); /* the same port */
        if (strcmp(argv[k], "-addr-file") == 0)
            argv[k + 1] = addr2;
    }
    unlink(addr2);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    snprintf(path, sizeof path, "%s/server.pids", getenv("CRV_TMP"));
    f = fopen(path, "a");
    ASSERT(f != NULL);
    fprintf(f, "%d\n", (int)pid);
    fclose(f);
    struct stat st;
    long deadline = h_now_ms() + T;
    while (stat(addr2, &st) != 0 || st.st_size == 0) {
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid)
            h_fail(__FILE__, __LINE__, "the restarted server exited (status %d): see %s", wst, log);
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__, "the restarted server did not listen within %d ms", T);
        h_sleep_ms(5);
    }
    return pid;
}

/* logged_in_again polls getUserStatus until it succeeds with both users listed
 * (and, when want is not NULL, the list contains want); returns the list. */
static char *logged_in_again(const char *a, const char *b, const char *want, int ms)
{
    long deadline = h_now_ms() + ms;
    for (int k = 0;; k++) {
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__, "not logged in again (both users online%s%s) within %d ms",
                   want ? ", the list containing " : "", want ? want : "", ms);
        char cookie[32];
        snprintf(cookie, sizeof cookie, "again-%d", k);
        crvideomgr_getUserStatus(cookie);
        for (;;) {
            ev_t *ok = ev_wait("getUserStatusSuccess", NULL, 20);
            if (ok && strcmp(ok->s[1], cookie) == 0) {
                if (user_status(ok->s[0], a) > 0 && user_status(ok->s[0], b) > 0 &&
                    (want == NULL || strstr(ok->s[0], want) != NULL))
                    return strdup(ok->s[0]);
                break;
            }
            if (ev_wait("getUserStatusFail", cookie, 0))
                break;
            if (h_now_ms() > deadline)
                h_fail(__FILE__, __LINE__, "not logged in again (both users online%s%s) within %d ms",
                       want ? ", the list containing " : "", want ? want : "", ms);
        }
        h_sleep_ms(50);
    }
}

void role_srvkill_a(void)
{
    h_register();
    h_init();
    const char *a = h_uid("a"), *b = h_uid("b");
    h_login(a);
    crvideomgr_setDNDStatus(3, "dnd");
    ev_expect("setDNDStatusSuccess", "dnd", T);
    free(h_wait_post("b-ready", T));
    char *call = crvideomgr_call(b, "", "", "");
    ev_expect("notifyCallAccepted", call, T);
    free(h_wait_post("b-in-call", T));

    const char *spid = getenv("CRV_SRV_PID");
    ASSERT(spid != NULL && atoi(spid) > 0);
    long grace = grace_ms(), t0 = h_now_ms();
    ASSERT_EQ(kill(atoi(spid), SIGKILL), 0);
    char t0s[32];
    snprintf(t0s, sizeof t0s, "%ld", t0); /* CLOCK_MONOTONIC: the same in every process */
    h_post("server-killed", t0s);
    long deadline = t0 + T;
    while (listening()) {
        ASSERT_LT(h_now_ms(), deadline);
        h_sleep_ms(2);
    }
    /* Down for a quarter of the grace: the libraries retry with backoff meanwhile. */
    h_sleep_ms((int)(grace / 4));
    pid_t srv = restart_server();
    long t_up = h_now_ms() - t0;

    ev_t *e = ev_expect("notifyCallHungup", call, (int)(grace + MARGIN_MS));
    long t_hung = h_now_ms() - t0;
    ASSERT_STR_EQ(e->s[1], "");
    free(logged_in_again(a, b, NULL, (int)(grace + MARGIN_MS)));
    long t_again = h_now_ms() - t0;
    /* The library restores do-not-disturb with a request after the relogin. */
    free(logged_in_again(a, b, "\"DNDType\":3", T));
    ASSERT_EQ(ev_count("lineOff"), 0);
    ASSERT_EQ(ev_count("loginSuccess"), 1); /* the relogin is silent */
    h_report("server killed (SIGKILL) and listening again on the same port after %ld ms (-resume-grace %ld ms)",
             t_up, grace);
    h_report("a: notifyCallHungup after %ld ms, logged in again (both users listed, DND restored) after %ld ms, no lineOff",
             t_hung, t_again);
    h_post("a-again", "");

    /* A new call on the new server: b rejects it. */
    free(h_wait_post("b-again", T));
    char *call2 = crvideomgr_call(b, "", "", "");
    e = ev_expect("notifyCallRejected", call2, T);
    ASSERT_EQ(e->i[0], CRVIDEOSDK_ERR_REFUSE);
    free(h_wait_post("b-done", T));
    ASSERT_EQ(ev_count("lineOff"), 0);
    crvideo_free(call);
    crvideo_free(call2);
    crvideomgr_logout();
    crvideo_uninit();
    /* Stop the restarted server (the last scenario of its run). */
    ASSERT_EQ(kill(srv, SIGTERM), 0);
    int wst;
    ASSERT_EQ(waitpid(srv, &wst, 0), srv);
    ASSERT(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
}

void role_srvkill_b(void)
{
    h_register();
    h_init();
    const char *a = h_uid("a"), *b = h_uid("b");
    h_login(b);
    crvideomgr_startUserStatusNotify("watch");
    ASSERT_EQ(ev_expect("startUserStatusNotifyRslt", "watch", T)->i[0], 0);
    h_post("b-ready", "");
    ev_t *e = ev_expect("notifyCallIn", NULL, T);
    char call[256];
    snprintf(call, sizeof call, "%s", e->s[0]);
    crvideomgr_acceptCall(call, "", "", "");
    ev_expect("acceptCallSuccess", call, T);
    h_post("b-in-call", "");

    char *t0s = h_wait_post("server-killed", T);
    long t0 = atol(t0s), grace = grace_ms();
    free(t0s);
    e = ev_expect("notifyCallHungup", call, (int)(grace + MARGIN_MS));
    long t_hung = h_now_ms() - t0;
    free(logged_in_again(a, b, NULL, (int)(grace + MARGIN_MS)));
    long t_again = h_now_ms() - t0;
    free(h_wait_post("a-again", T));
    ASSERT_EQ(ev_count("lineOff"), 0);
    ASSERT_EQ(ev_count("loginSuccess"), 1); /* the relogin is silent */
    /* The status subscription was restored: a's call shows up as a status push. */
    ev_reset();
    h_post("b-again", "");
    e = ev_expect("notifyCallIn", NULL, T);
    ASSERT_STR_EQ(e->s[2], a);
    wait_status(a, 2, T); /* a is busy, ringing us */
    crvideomgr_rejectCall(e->s[0], "", "");
    ev_expect("rejectCallSuccess", e->s[0], T);
    ASSERT_EQ(ev_count("lineOff"), 0);
    h_report("b: notifyCallHungup after %ld ms, logged in again after %ld ms, status subscription restored, no lineOff",
             t_hung, t_again);
    h_post("b-done", "");
    crvideomgr_logout();
    crvideo_uninit();
}
