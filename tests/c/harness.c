/* harness.c: see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *h_scenario = "?";
void (*ev_hook)(const ev_t *ev);

void h_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    FAIL [%s pid %d] %s:%d: ", h_scenario, (int)getpid(), file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    _exit(1);
}

long h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- the event queue ---------------------------------------------------------- */

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static ev_t *q_head, *q_tail;
static int q_seq;
static int poll_driven;

void h_set_poll(int on) { poll_driven = on; }

/* Every callback must get back the userdata given to crvideo_setCallbacks. */
static int h_userdata_marker;

static void check_ud(void *ud)
{
    if (ud != &h_userdata_marker)
        h_fail(__FILE__, __LINE__, "callback got userdata %p, registered %p", ud, (void *)&h_userdata_marker);
}

static char *dup_s(const char *s)
{
    /* The library promises never to pass NULL. */
    if (s == NULL)
        h_fail(__FILE__, __LINE__, "callback got a NULL string");
    return strdup(s);
}

static void record(const char *name, const char *s0, const char *s1, const char *s2, const char *s3,
                   int i0, int i1)
{
    ev_t *e = calloc(1, sizeof *e);
    e->name = name;
    e->s[0] = s0 ? dup_s(s0) : NULL;
    e->s[1] = s1 ? dup_s(s1) : NULL;
    e->s[2] = s2 ? dup_s(s2) : NULL;
    e->s[3] = s3 ? dup_s(s3) : NULL;
    e->i[0] = i0;
    e->i[1] = i1;
    e->thread = (unsigned long)pthread_self();
    pthread_mutex_lock(&q_mu);
    e->seq = ++q_seq;
    if (q_tail)
        q_tail->next = e;
    else
        q_head = e;
    q_tail = e;
    pthread_cond_broadcast(&q_cv);
    pthread_mutex_unlock(&q_mu);
    if (ev_hook)
        ev_hook(e);
}

/* One recorder per callback shape. A string argument that must be present is
 * passed through dup_s, which fails on NULL. */
#define CB_S(n)                                                                          \
    static void cb_##n(void *ud, const char *a) { check_ud(ud); record(#n, a, NULL, NULL, NULL, 0, 0); }
#define CB_I(n)                                                                          \
    static void cb_##n(void *ud, int a) { check_ud(ud); record(#n, NULL, NULL, NULL, NULL, a, 0); }
#define CB_SS(n)                                                                         \
    static void cb_##n(void *ud, const char *a, const char *b) { check_ud(ud); record(#n, a, b, NULL, NULL, 0, 0); }
#define CB_IS(n)                                                                         \
    static void cb_##n(void *ud, int a, const char *b) { check_ud(ud); record(#n, b, NULL, NULL, NULL, a, 0); }
#define CB_SI(n)                                                                         \
    static void cb_##n(void *ud, const char *a, int b) { check_ud(ud); record(#n, a, NULL, NULL, NULL, b, 0); }
#define CB_SIS(n)                                                                        \
    static void cb_##n(void *ud, const char *a, int b, const char *c) { check_ud(ud); record(#n, a, c, NULL, NULL, b, 0); }
#define CB_SSS(n)                                                                        \
    static void cb_##n(void *ud, const char *a, const char *b, const char *c) { check_ud(ud); record(#n, a, b, c, NULL, 0, 0); }
#define CB_SSSS(n)                                                                       \
    static void cb_##n(void *ud, const char *a, const char *b, const char *c, const char *d) { check_ud(ud); record(#n, a, b, c, d, 0, 0); }
#define CB_SSIS(n)                                                                       \
    static void cb_##n(void *ud, const char *a, const char *b, int c, const char *d) { check_ud(ud); record(#n, a, b, d, NULL, c, 0); }
#define CB_SIIS(n)                                                                       \
    static void cb_##n(void *ud, const char *a, int b, int c, const char *d) { check_ud(ud); record(#n, a, d, NULL, NULL, b, c); }

/* Int arguments of IS/SI/SIS callbacks land in i[0]; string arguments in s[] in order,
 * so loginFail(sdkErr, cookie) records s[0] = cookie, i[0] = sdkErr. */
CB_SS(loginSuccess)
CB_IS(loginFail)
CB_S(setDNDStatusSuccess)
CB_IS(setDNDStatusFail)
CB_SS(getUserStatusSuccess)
CB_IS(getUserStatusFail)
CB_IS(startUserStatusNotifyRslt)
CB_IS(stopUserStatusNotifyRslt)
CB_SS(notifyUserStatus)
CB_I(lineOff)
CB_SS(createMeetingSuccess)
CB_IS(createMeetingFail)
CB_IS(destroyMeetingRslt)
CB_SS(getMeetingsSuccess)
CB_IS(getMeetingsFail)
CB_SS(callSuccess)
CB_SIS(callFail)
CB_SS(acceptCallSuccess)
CB_SIS(acceptCallFail)
CB_SS(rejectCallSuccess)
CB_SIS(rejectCallFail)
CB_SS(hungupCallSuccess)
CB_SIS(hungupCallFail)
CB_SSSS(notifyCallIn)
CB_SSS(notifyCallAccepted)
CB_SIS(notifyCallRejected)
CB_SS(notifyCallHungup)
CB_SIS(callMorePartyRslt)
CB_SIS(cancelCallMorePartyRslt)
CB_SI(notifyCallMorePartyStatus)
CB_SIS(sendCmdRlst)
CB_SIS(sendBufferRlst)
CB_SSIS(sendFileRlst)
CB_SIIS(sendProgress)
CB_SIS(cancelSendRlst)
CB_SS(notifyCmdData)
CB_SS(notifyBufferData)
CB_SSS(notifyFileData)
CB_S(notifyCancelSend)

void h_register(void)
{
    CRVideoMgrCallbacks c;
    memset(&c, 0, sizeof c);
#define SET(n) c.n = cb_##n;
    CRV_EACH_CALLBACK(SET)
#undef SET
    ASSERT_EQ(crvideo_setCallbacks(&c, sizeof c, &h_userdata_marker), CRVIDEOSDK_NOERR);
}

static ev_t *find(const char *name, const char *s0)
{
    for (ev_t *e = q_head; e; e = e->next)
        if (!e->consumed && strcmp(e->name, name) == 0 && (s0 == NULL || (e->s[0] && strcmp(e->s[0], s0) == 0)))
            return e;
    return NULL;
}

ev_t *ev_wait(const char *name, const char *s0, int ms)
{
    long deadline = h_now_ms() + ms;
    pthread_mutex_lock(&q_mu);
    for (;;) {
        ev_t *e = find(name, s0);
        if (e) {
            e->consumed = 1;
            pthread_mutex_unlock(&q_mu);
            return e;
        }
        long left = deadline - h_now_ms();
        if (left <= 0)
            break;
        if (poll_driven) {
            pthread_mutex_unlock(&q_mu);
            struct pollfd p = {crvideo_pollFd(), POLLIN, 0};
            ASSERT_GE(p.fd, 0);
            poll(&p, 1, left > 50 ? 50 : (int)left);
            int rc = crvideo_poll(0); /* -NOT_INIT: no instance and no refusal pending */
            ASSERT(rc >= 0 || rc == -CRVIDEOSDK_NOT_INIT);
            pthread_mutex_lock(&q_mu);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            long step = left > 50 ? 50 : left;
            ts.tv_nsec += step * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&q_cv, &q_mu, &ts);
        }
    }
    pthread_mutex_unlock(&q_mu);
    return NULL;
}

ev_t *h_expect(const char *file, int line, const char *name, const char *s0, int ms)
{
    ev_t *e = ev_wait(name, s0, ms);
    if (e == NULL) {
        fprintf(stderr, "    events so far:");
        pthread_mutex_lock(&q_mu);
        for (ev_t *x = q_head; x; x = x->next)
            fprintf(stderr, " %s%s(%.40s,%d)", x->consumed ? "" : "*", x->name, x->s[0] ? x->s[0] : "", x->i[0]);
        pthread_mutex_unlock(&q_mu);
        fprintf(stderr, "\n");
        h_fail(file, line, "no %s(%s) within %d ms", name, s0 ? s0 : "*", ms);
    }
    return e;
}

void h_none(const char *file, int line, const char *name, int ms)
{
    ev_t *e = ev_wait(name, NULL, ms);
    if (e != NULL)
        h_fail(file, line, "unexpected %s(%s, %d)", name, e->s[0] ? e->s[0] : "", e->i[0]);
}

int ev_count(const char *name)
{
    int n = 0;
    pthread_mutex_lock(&q_mu);
    for (ev_t *e = q_head; e; e = e->next)
        n += strcmp(e->name, name) == 0;
    pthread_mutex_unlock(&q_mu);
    return n;
}

int ev_total(void)
{
    pthread_mutex_lock(&q_mu);
    int n = q_seq;
    pthread_mutex_unlock(&q_mu);
    return n;
}

void ev_reset(void)
{
    pthread_mutex_lock(&q_mu);
    ev_t *e = q_head;
    q_head = q_tail = NULL;
    pthread_mutex_unlock(&q_mu);
    while (e) {
        ev_t *next = e->next;
        for (int k = 0; k < 4; k++)
            free(e->s[k]);
        free(e);
        e = next;
    }
}

int ev_threads(unsigned long *first)
{
    unsigned long seen[64];
    int n = 0;
    pthread_mutex_lock(&q_mu);
    for (ev_t *e = q_head; e; e = e->next) {
        int k;
        for (k = 0; k < n; k++)
            if (seen[k] == e->thread)
                break;
        if (k == n && n < 64)
            seen[n++] = e->thread;
    }
    pthread_mutex_unlock(&q_mu);
    if (first)
        *first = n ? seen[0] : 0;
    return n;
}

void ev_dump_counts(const char *path)
{
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    pthread_mutex_lock(&q_mu);
    for (ev_t *e = q_head; e; e = e->next)
        fprintf(f, "%s %d\n", e->name, e->i[0]);
    pthread_mutex_unlock(&q_mu);
    fclose(f);
}

/* ---- environment -------------------------------------------------------------- */

static const char *env(const char *k)
{
    const char *v = getenv(k);
    if (v == NULL || *v == '\0')
        h_fail(__FILE__, __LINE__, "environment variable %s not set (run tests through tests/run-c.sh)", k);
    return v;
}

const char *h_addr(void) { return env("CRV_ADDR"); }
const char *h_acnt(void) { return env("CRV_ACNT"); }
const char *h_pswd(void) { return env("CRV_PSWD"); }

void h_init(void)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/sdk-%s-%d", env("CRV_TMP"), h_scenario, (int)getpid());
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
    crvideo_setServerAddr(h_addr());
}

const char *h_uid(const char *role)
{
    static char buf[8][128];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 128, "%s-%s", h_scenario, role);
    return b;
}

const char *h_login(const char *user)
{
    static char id[256];
    crvideomgr_login(h_acnt(), h_pswd(), user, user, "", "login-cookie");
    ev_t *e = ev_expect("loginSuccess", NULL, 10000);
    ASSERT_STR_EQ(e->s[1], "login-cookie");
    snprintf(id, sizeof id, "%s", e->s[0]);
    return id;
}

void h_post(const char *name, const char *value)
{
    char tmp[600], path[600];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", env("CRV_SYNC"), name);
    snprintf(path, sizeof path, "%s/%s", env("CRV_SYNC"), name);
    FILE *f = fopen(tmp, "w");
    ASSERT(f != NULL);
    fputs(value ? value : "", f);
    fclose(f);
    ASSERT_EQ(rename(tmp, path), 0);
}

char *h_wait_post(const char *name, int ms)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", env("CRV_SYNC"), name);
    long deadline = h_now_ms() + ms;
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f) {
            char *buf = calloc(1, 4096);
            size_t n = fread(buf, 1, 4095, f);
            buf[n] = 0;
            fclose(f);
            return buf;
        }
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__, "barrier %s not posted within %d ms", name, ms);
        if (poll_driven)
            crvideo_poll(0);
        h_sleep_ms(5);
    }
}

static long status_field(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = atol(line + kl + 1);
            break;
        }
    fclose(f);
    return v;
}

long h_threads(void) { return status_field("Threads"); }
long h_rss_kb(void) { return status_field("VmRSS"); }

int h_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the DIR's own fd */
}
