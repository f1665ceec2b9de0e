/*
 * fuzz.c: the random-input scenario. Several threads pass random bytes, random
 * lengths and random numbers to every function of crvideomgr.h, in random order,
 * before crvideo_init, after it, while logged in to the real server, with init,
 * uninit, login and logout racing, and after crvideo_uninit. Every returned int must
 * be a known CRVIDEOSDK code (or what the function documents), every returned ID a
 * sane string freed with crvideo_free, every callback's arguments valid; no recovered
 * panic may appear in any log; and afterwards a normal login must still work.
 * LeakSanitizer checks the process at exit.
 *
 *   CRV_FUZZ_SEED   the seed (default: from the clock); printed in the report
 *   CRV_FUZZ_CALLS  how many calls in all (default 30000); `make fuzz-c` runs more
 *
 * A peer process stays logged in, so calls ring and are answered and transfers to
 * it really run. Strings are random bytes (invalid UTF-8 included), boundary
 * lengths, up to 4 MiB, NULL, and real IDs seen earlier, mutated or not.
 *
 * What is kept from being random, and why: function pointers (a random one would
 * crash any library; crvideo_setCallbacks gets random sizes with a valid, partial or
 * zeroed struct), directories given to crvideo_init (they are created: random ones
 * stay under the scratch directory), server addresses (no random host name may reach
 * a DNS server or another engineer's server on this machine: random ones carry a
 * control character, which the URL parser refuses, the others are fixed), and the
 * enterprise credentials of logins that reach the server (a few wrong ones only, so
 * as not to trip the server's failed-login throttle).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "scenarios.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#define NTHREADS 4
#define T 10000

/* ---- random numbers: splitmix64, one generator per thread ------------------------ */

typedef struct { uint64_t s; } rng_t;

static uint64_t rnd(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint32_t below(rng_t *r, uint32_t n) { return n ? (uint32_t)(rnd(r) % n) : 0; }
static int chance(rng_t *r, int percent) { return (int)below(r, 100) < percent; }

static int rand_int(rng_t *r)
{
    static const int special[] = {0, 1, -1, 2, 5, 6, INT_MIN, INT_MAX, INT_MIN + 1, INT_MAX - 1, 100, -100, 4096};
    switch (below(r, 4)) {
    case 0: return special[below(r, sizeof special / sizeof special[0])];
    case 1: return (int)below(r, 7) - 3;
    default: return (int)(uint32_t)rnd(r);
    }
}

/* ---- the codes of CRVIDEOSDK_ERR_DEF -------------------------------------------- */

static const int known[] = {
#define CODE(c) c,
    CRV_EACH_CODE(CODE)
#undef CODE
};

static int is_known(int c)
{
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
        if (known[k] == c)
            return 1;
    return 0;
}

/* ---- shared state ------------------------------------------------------------ */

enum { P_PRE, P_INIT, P_LOGGED, P_CHAOS, P_POST, NPHASES };
static const char *phase_name[NPHASES] = {"before init", "initialised", "logged in", "init/uninit/login/logout racing", "after uninit"};

/* One enumerator per function of the header (zz_api_surface.h): the switch in
 * one_call is on fn_t, so -Wswitch fails the build when a new one lacks its case. */
typedef enum {
#define FN(id, name) F_##id,
    CRV_EACH_FUNCTION(FN)
#undef FN
} fn_t;
#define NFUNCS CRV_NFUNCTIONS
static const char *fn_name[NFUNCS] = {
#define FN(id, name) name,
    CRV_EACH_FUNCTION(FN)
#undef FN
};

static atomic_int phase;
static atomic_long calls_total, calls_fn[NFUNCS], calls_phase[NPHASES];
static atomic_long cb_total, cb_inner_err, ids_returned;
static atomic_long fn_us[NFUNCS], fn_max_us[NFUNCS]; /* time spent in each function */
static atomic_int bad_logins; /* wrong enterprise credentials sent so far */
static int poll_fd0 = -2;

/* The last call of each thread, printed if the process dies. */
static const char *volatile last_op[NTHREADS + 1];
static volatile long last_n[NTHREADS + 1];

static char scratch[512], small_file[600], empty_file[600], fifo[600], pem_junk[600], loop_link[600];
static char peer_id[128], my_id[128];

/* Big read-only inputs, shared by every thread (the library copies arguments). */
#define BIG_LEN (4u << 20)
static char *big_bytes;  /* random non-zero bytes, mostly invalid UTF-8 */
static char *big_b64;    /* valid padded base64, 3 MiB */
static char *big_utf8;   /* valid UTF-8, multibyte, 2 MiB */
static char *big_path;   /* 1 MiB path under the scratch directory, no '/' or '.' */

/* A pool of IDs the library returned or passed to callbacks (taskIDs, callIDs,
 * inviteIDs) and meeting IDs it reported, to feed back in. */
#define POOL 64
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static char *pool[POOL];
static unsigned pool_n;
static int meet_ids[16];
static unsigned meet_n;

static void pool_add(const char *s)
{
    if (s == NULL || *s == 0 || strlen(s) > 256)
        return;
    char *c = strdup(s);
    pthread_mutex_lock(&pool_mu);
    free(pool[pool_n % POOL]);
    pool[pool_n++ % POOL] = c;
    pthread_mutex_unlock(&pool_mu);
}

static char *pool_pick(rng_t *r) /* malloc'd copy or NULL */
{
    char *c = NULL;
    pthread_mutex_lock(&pool_mu);
    if (pool_n) {
        unsigned n = pool_n < POOL ? pool_n : POOL;
        const char *p = pool[below(r, n)];
        c = p ? strdup(p) : NULL;
    }
    pthread_mutex_unlock(&pool_mu);
    return c;
}

static int meet_pick(rng_t *r)
{
    int v = 0;
    pthread_mutex_lock(&pool_mu);
    if (meet_n)
        v = meet_ids[below(r, meet_n < 16 ? meet_n : 16)];
    pthread_mutex_unlock(&pool_mu);
    return v ? v : rand_int(r);
}

/* IDs returned by the library, freed later by whichever thread comes next. */
static pthread_mutex_t free_mu = PTHREAD_MUTEX_INITIALIZER;
static char *to_free[128];
static int to_free_n;

static long h_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000L + ts.tv_nsec / 1000L;
}

/* ---- random strings ------------------------------------------------------------- */

/* arg_t is one string argument: p is what is passed, own is freed after the call. */
typedef struct {
    const char *p;
    char *own;
} arg_t;

static void arg_free(arg_t *a) { free(a->own); }

static arg_t own(char *s) { arg_t a = {s, s}; return a; }
static arg_t lit(const char *s) { arg_t a = {s, NULL}; return a; }

static char *rand_bytes(rng_t *r, size_t n, int lo)
{
    char *s = malloc(n + 1);
    for (size_t k = 0; k < n; k++)
        s[k] = (char)(lo + below(r, 256 - lo));
    s[n] = 0;
    return s;
}

/* invalid_utf8 builds a string of broken sequences between ASCII letters. */
static char *invalid_utf8(rng_t *r)
{
    static const char *bad[] = {"\x80", "\xbf", "\xc0\x80", "\xc1\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
                                "\xf4\x90\x80\x80", "\xf5", "\xff", "\xfe", "\xe2\x82", "\xf0\x9f\x98",
                                "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbb\xbf", "a", "%", "\\", "\"", "\x01"};
    size_t parts = 1 + below(r, 24), len = 0;
    char *s = malloc(parts * 5 + 1);
    for (size_t k = 0; k < parts; k++) {
        const char *b = bad[below(r, sizeof bad / sizeof bad[0])];
        size_t bl = strlen(b);
        memcpy(s + len, b, bl);
        len += bl;
    }
    s[len] = 0;
    return s;
}

static char *b64_of(rng_t *r, size_t decoded)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 4 * ((decoded + 2) / 3);
    char *s = malloc(n + 1);
    for (size_t k = 0; k < n; k++)
        s[k] = tab[below(r, 64)];
    if (decoded % 3 == 1) {
        s[n - 2] = '=';
        s[n - 1] = '=';
        s[n - 3] = tab[below(r, 4) * 16]; /* canonical padding bits */
    } else if (decoded % 3 == 2) {
        s[n - 1] = '=';
        s[n - 2] = tab[below(r, 16) * 4];
    }
    s[n] = 0;
    return s;
}

/* rand_str: any string argument. */
static arg_t rand_str(rng_t *r)
{
    static const size_t edges[] = {49, 50, 51, 127, 128, 129, 1023, 1024, 1025, 8191, 8192, 8193, 51200, 51201, 65536};
    uint32_t k = below(r, 1000);
    if (k < 90)
        return lit(NULL);
    if (k < 140)
        return lit("");
    if (k < 400)
        return own(rand_bytes(r, 1 + below(r, 16), 1));
    if (k < 530)
        return own(rand_bytes(r, 17 + below(r, 300), 1));
    if (k < 620)
        return own(rand_bytes(r, 1 + below(r, 40), 32 + 64 * (int)below(r, 2))); /* printable-ish or high */
    if (k < 720)
        return own(invalid_utf8(r));
    if (k < 860) {
        char *p = pool_pick(r);
        if (p && chance(r, 30) && *p) /* mutate: flip, truncate or extend */
            switch (below(r, 3)) {
            case 0: p[below(r, (uint32_t)strlen(p))] ^= (char)(1 + below(r, 127)); break;
            case 1: p[below(r, (uint32_t)strlen(p))] = 0; break;
            default: { size_t l = strlen(p); p = realloc(p, l + 3); memcpy(p + l, "\xff", 2); } break;
            }
        return p ? own(p) : lit("");
    }
    if (k < 900) {
        size_t n = edges[below(r, sizeof edges / sizeof edges[0])];
        char *s = malloc(n + 1);
        memset(s, chance(r, 50) ? 'A' : 'x', n);
        s[n] = 0;
        return own(s);
    }
    if (k < 950)
        return own(b64_of(r, below(r, 2048)));
    /* big shared strings, at a random offset (a random length) */
    switch (below(r, 3)) {
    case 0: return lit(big_bytes + below(r, BIG_LEN));
    case 1: return lit(big_b64 + 4 * below(r, 4096)); /* still valid base64 */
    default: return lit(big_utf8 + 2 * below(r, 1u << 20));
    }
}

/* rand_user: a usrID argument: mostly the peer or this user. */
static arg_t rand_user(rng_t *r)
{
    switch (below(r, 10)) {
    case 0: case 1: case 2: case 3: return lit(peer_id);
    case 4: return lit(my_id);
    default: return rand_str(r);
    }
}

static arg_t rand_id(rng_t *r)
{
    if (chance(r, 55)) {
        char *p = pool_pick(r);
        if (p)
            return own(p);
    }
    return rand_str(r);
}

static arg_t rand_meetobj(rng_t *r)
{
    switch (below(r, 6)) {
    case 0: return lit("");
    case 1: return lit("{\"ID\":42,\"subject\":\"s\"}");
    case 2: return lit("{\"ID\":\"\xff\",\"subject\":[]}");
    default: return rand_str(r);
    }
}

static arg_t rand_b64(rng_t *r, size_t max)
{
    if (chance(r, 60))
        return own(b64_of(r, below(r, (uint32_t)max)));
    return rand_str(r);
}

static arg_t rand_file(rng_t *r)
{
    switch (below(r, 14)) {
    case 0: case 1: return lit(small_file);
    case 2: return lit(empty_file);
    case 3: return lit(fifo);         /* not a regular file */
    case 4: return lit("/dev/zero");  /* endless, not regular */
    case 5: return lit("/dev/null");
    case 6: return lit(scratch);      /* a directory */
    case 7: return lit(loop_link);    /* a symlink loop */
    case 8: return lit("/proc/self/status"); /* regular, size 0, has content */
    case 9: return lit(big_path);     /* too long */
    default: return rand_str(r);
    }
}

/* rand_init_dir: a directory that crvideo_init may create: random bytes, but always
 * under the scratch directory (no '.', so no "..") or one that cannot be created. */
static arg_t rand_init_dir(rng_t *r)
{
    switch (below(r, 8)) {
    case 0: return lit(NULL);
    case 1: return lit("");
    case 2: return lit("/proc/self/no/such/dir");
    case 3: return lit(small_file); /* a file, not a directory */
    case 4: return lit(big_path);
    default: {
        char *rb = rand_bytes(r, 1 + below(r, 40), 1);
        for (char *c = rb; *c; c++)
            if (*c == '.')
                *c = '_';
        char *s = NULL;
        if (asprintf(&s, "%s/init/%s", scratch, rb) < 0)
            s = NULL;
        free(rb);
        return own(s);
    }
    }
}

/* rand_addr: a server address that never sends a random name to a resolver nor
 * reaches another server of this machine. */
static arg_t rand_addr(rng_t *r)
{
    const char *real = h_addr();
    char *s = NULL;
    int n = -1;
    switch (below(r, 16)) {
    case 0: return lit(NULL);
    case 1: return lit("");
    case 2: case 3: return lit(real);
    case 4: return lit("127.0.0.1:1");
    case 5: return lit("[::1]:1;localhost:1");
    case 6: n = asprintf(&s, "ws://%s/ws", real); break;
    case 7: n = asprintf(&s, "ws://%s/\xff/no", real); break;
    case 8: n = asprintf(&s, "wss://%s", real); break; /* TLS to a plain server */
    case 9: n = asprintf(&s, "127.0.0.1:1; ;%s;;", real); break;
    case 10: return lit("127.0.0.1:99999;127.0.0.1:-1;127.0.0.1:x;:;;;ws://;wss://[");
    case 11: n = asprintf(&s, "http://%s", real); break;
    default: {
        char *rb = rand_bytes(r, 1 + below(r, 64), 1);
        rb[0] = (char)(1 + below(r, 31)); /* a control character: no URL, no lookup */
        return own(rb);
    }
    }
    return n < 0 ? lit("") : own(s);
}

/* ---- callbacks: every argument checked ----------------------------------------- */

static int markers[8];

static void chk_ud(void *ud)
{
    if (!((int *)ud >= markers && (int *)ud < markers + 8))
        h_fail(__FILE__, __LINE__, "callback got userdata %p, not one registered", ud);
}

static void chk_s(const char *cb, const char *s)
{
    if (s == NULL)
        h_fail(__FILE__, __LINE__, "%s got a NULL string", cb);
    (void)strlen(s); /* ASan: the whole string must be readable */
}

static void chk_code(const char *cb, int c)
{
    if (!is_known(c))
        h_fail(__FILE__, __LINE__, "%s got code %d, not a CRVIDEOSDK code", cb, c);
    if (c == CRVIDEOSDK_INNER_ERR)
        atomic_fetch_add(&cb_inner_err, 1);
    int ph = atomic_load(&phase);
    if ((ph == P_PRE || ph == P_POST) && c != CRVIDEOSDK_NOT_INIT)
        h_fail(__FILE__, __LINE__, "%s got code %d in phase %s: only CRVIDEOSDK_NOT_INIT can come", cb, c, phase_name[ph]);
}

static void got(void *ud) { chk_ud(ud); atomic_fetch_add(&cb_total, 1); }

static void f_loginSuccess(void *ud, const char *u, const char *c) { got(ud); chk_s("loginSuccess", u); chk_s("loginSuccess", c); ASSERT(*u != 0); }
static void f_loginFail(void *ud, int e, const char *c) { got(ud); chk_code("loginFail", e); ASSERT_NE(e, 0); chk_s("loginFail", c); }
static void f_setDNDStatusSuccess(void *ud, const char *c) { got(ud); chk_s("setDNDStatusSuccess", c); }
static void f_setDNDStatusFail(void *ud, int e, const char *c) { got(ud); chk_code("setDNDStatusFail", e); ASSERT_NE(e, 0); chk_s("setDNDStatusFail", c); }
static void f_getUserStatusSuccess(void *ud, const char *j, const char *c) { got(ud); chk_s("getUserStatusSuccess", j); ASSERT(j[0] == '['); chk_s("getUserStatusSuccess", c); }
static void f_getUserStatusFail(void *ud, int e, const char *c) { got(ud); chk_code("getUserStatusFail", e); ASSERT_NE(e, 0); chk_s("getUserStatusFail", c); }
static void f_startUserStatusNotifyRslt(void *ud, int e, const char *c) { got(ud); chk_code("startUserStatusNotifyRslt", e); chk_s("startUserStatusNotifyRslt", c); }
static void f_stopUserStatusNotifyRslt(void *ud, int e, const char *c) { got(ud); chk_code("stopUserStatusNotifyRslt", e); chk_s("stopUserStatusNotifyRslt", c); }
static void f_notifyUserStatus(void *ud, const char *j, const char *c) { got(ud); chk_s("notifyUserStatus", j); ASSERT(j[0] == '{'); chk_s("notifyUserStatus", c); }
static void f_lineOff(void *ud, int e) { got(ud); chk_code("lineOff", e); ASSERT_NE(e, 0); }
static void f_createMeetingSuccess(void *ud, const char *m, const char *c)
{
    got(ud);
    chk_s("createMeetingSuccess", m);
    chk_s("createMeetingSuccess", c);
    const char *p = strstr(m, "\"ID\":");
    ASSERT(p != NULL);
    pthread_mutex_lock(&pool_mu);
    meet_ids[meet_n++ % 16] = atoi(p + 5);
    pthread_mutex_unlock(&pool_mu);
}
static void f_createMeetingFail(void *ud, int e, const char *c) { got(ud); chk_code("createMeetingFail", e); ASSERT_NE(e, 0); chk_s("createMeetingFail", c); }
static void f_destroyMeetingRslt(void *ud, int e, const char *c) { got(ud); chk_code("destroyMeetingRslt", e); chk_s("destroyMeetingRslt", c); }
static void f_getMeetingsSuccess(void *ud, const char *j, const char *c) { got(ud); chk_s("getMeetingsSuccess", j); ASSERT(j[0] == '['); chk_s("getMeetingsSuccess", c); }
static void f_getMeetingsFail(void *ud, int e, const char *c) { got(ud); chk_code("getMeetingsFail", e); ASSERT_NE(e, 0); chk_s("getMeetingsFail", c); }
static void f_callSuccess(void *ud, const char *id, const char *c) { got(ud); chk_s("callSuccess", id); chk_s("callSuccess", c); }
static void f_callFail(void *ud, const char *id, int e, const char *c) { got(ud); chk_s("callFail", id); chk_code("callFail", e); ASSERT_NE(e, 0); chk_s("callFail", c); }
#define ID_RESULT(n)                                                                       \
    static void f_##n##Success(void *ud, const char *id, const char *c) { got(ud); chk_s(#n, id); chk_s(#n, c); } \
    static void f_##n##Fail(void *ud, const char *id, int e, const char *c) { got(ud); chk_s(#n, id); chk_code(#n, e); ASSERT_NE(e, 0); chk_s(#n, c); }
ID_RESULT(acceptCall)
ID_RESULT(rejectCall)
ID_RESULT(hungupCall)
static void f_notifyCallIn(void *ud, const char *id, const char *m, const char *from, const char *x)
{
    got(ud);
    chk_s("notifyCallIn", id); chk_s("notifyCallIn", m); chk_s("notifyCallIn", from); chk_s("notifyCallIn", x);
    pool_add(id);
}
static void f_notifyCallAccepted(void *ud, const char *id, const char *x, const char *m) { got(ud); chk_s("notifyCallAccepted", id); chk_s("notifyCallAccepted", x); chk_s("notifyCallAccepted", m); }
static void f_notifyCallRejected(void *ud, const char *id, int e, const char *x)
{
    got(ud);
    chk_s("notifyCallRejected", id);
    ASSERT(e == CRVIDEOSDK_ERR_REFUSE || e == CRVIDEOSDK_ERR_NOANSWER);
    chk_s("notifyCallRejected", x);
}
static void f_notifyCallHungup(void *ud, const char *id, const char *x) { got(ud); chk_s("notifyCallHungup", id); chk_s("notifyCallHungup", x); }
static void f_callMorePartyRslt(void *ud, const char *id, int e, const char *c) { got(ud); chk_s("callMorePartyRslt", id); chk_code("callMorePartyRslt", e); chk_s("callMorePartyRslt", c); }
static void f_cancelCallMorePartyRslt(void *ud, const char *id, int e, const char *c) { got(ud); chk_s("cancelCallMorePartyRslt", id); chk_code("cancelCallMorePartyRslt", e); chk_s("cancelCallMorePartyRslt", c); }
static void f_notifyCallMorePartyStatus(void *ud, const char *id, int st) { got(ud); chk_s("notifyCallMorePartyStatus", id); ASSERT(st >= 0 && st <= 4); }
static void f_sendCmdRlst(void *ud, const char *t, int e, const char *c) { got(ud); chk_s("sendCmdRlst", t); chk_code("sendCmdRlst", e); chk_s("sendCmdRlst", c); }
static void f_sendBufferRlst(void *ud, const char *t, int e, const char *c) { got(ud); chk_s("sendBufferRlst", t); chk_code("sendBufferRlst", e); chk_s("sendBufferRlst", c); }
static void f_sendFileRlst(void *ud, const char *t, const char *f, int e, const char *c) { got(ud); chk_s("sendFileRlst", t); chk_s("sendFileRlst", f); chk_code("sendFileRlst", e); chk_s("sendFileRlst", c); }
static void f_sendProgress(void *ud, const char *t, int sent, int total, const char *c)
{
    got(ud);
    chk_s("sendProgress", t);
    chk_s("sendProgress", c);
    if (sent < 0 || total < 0 || sent > total)
        h_fail(__FILE__, __LINE__, "sendProgress(%s, %d, %d)", t, sent, total);
}
static void f_cancelSendRlst(void *ud, const char *t, int e, const char *c) { got(ud); chk_s("cancelSendRlst", t); chk_code("cancelSendRlst", e); chk_s("cancelSendRlst", c); }
static void f_notifyCmdData(void *ud, const char *from, const char *d) { got(ud); chk_s("notifyCmdData", from); chk_s("notifyCmdData", d); }
static void f_notifyBufferData(void *ud, const char *from, const char *d) { got(ud); chk_s("notifyBufferData", from); chk_s("notifyBufferData", d); }
static void f_notifyFileData(void *ud, const char *from, const char *tmp, const char *name)
{
    got(ud);
    chk_s("notifyFileData", from);
    chk_s("notifyFileData", tmp);
    chk_s("notifyFileData", name);
    ASSERT(strchr(name, '/') == NULL);
    const char *base = strrchr(tmp, '/');
    ASSERT(base != NULL && strncmp(base + 1, "crvideo-", 8) == 0);
    ASSERT_EQ(unlink(tmp), 0); /* it is ours */
}
static void f_notifyCancelSend(void *ud, const char *t) { got(ud); chk_s("notifyCancelSend", t); }

/* The callback struct sits at the start of a larger zeroed block so that a cbsSize
 * beyond the struct (a "newer application") still names readable memory. */
static union {
    CRVideoMgrCallbacks c;
    char pad[4096];
} full, partial, zeroed;

static void fill(CRVideoMgrCallbacks *c)
{
#define SET(n) c->n = f_##n;
    CRV_EACH_CALLBACK(SET)
#undef SET
}

static void fuzz_register(void)
{
    ASSERT_EQ(crvideo_setCallbacks(&full.c, sizeof full.c, &markers[0]), CRVIDEOSDK_NOERR);
}

/* ---- one random call --------------------------------------------------------- */

/* returned_id checks an ID a crvideomgr_ function returned, in phase ph, and hands
 * it on to be freed (by this thread or another). */
static void returned_id(rng_t *r, int ph, const char *fn, char *id)
{
    if (id == NULL) { /* IDs come back not initialised too (CRVIDEOSDK_NOT_INIT) */
        if (ph != P_CHAOS)
            h_fail(__FILE__, __LINE__, "%s returned NULL while initialised", fn);
        return;
    }
    atomic_fetch_add(&ids_returned, 1);
    size_t n = strlen(id);
    if (n == 0 || n > 128)
        h_fail(__FILE__, __LINE__, "%s returned an ID of %zu bytes", fn, n);
    for (size_t k = 0; k < n; k++)
        if (id[k] <= ' ' || id[k] > '~')
            h_fail(__FILE__, __LINE__, "%s returned an ID with byte 0x%02x", fn, (unsigned char)id[k]);
    pool_add(id);
    char *mine = NULL;
    pthread_mutex_lock(&free_mu);
    if (to_free_n < (int)(sizeof to_free / sizeof to_free[0]) && chance(r, 70))
        to_free[to_free_n++] = id; /* someone frees it later, maybe another thread */
    else
        mine = id;
    pthread_mutex_unlock(&free_mu);
    crvideo_free(mine);
}

static char *take_to_free(rng_t *r)
{
    char *p = NULL;
    pthread_mutex_lock(&free_mu);
    if (to_free_n) {
        int k = (int)below(r, (uint32_t)to_free_n);
        p = to_free[k];
        to_free[k] = to_free[--to_free_n];
    }
    pthread_mutex_unlock(&free_mu);
    return p;
}

static int allowed(int ph, int fn)
{
    switch (ph) {
    case P_PRE:
    case P_POST: return fn != F_INIT;
    case P_INIT: return fn != F_INIT && fn != F_UNINIT;
    case P_LOGGED: return fn != F_INIT && fn != F_UNINIT && fn != F_LOGOUT;
    default: return 1;
    }
}

static void one_call(rng_t *r, int ph, int slot)
{
    int fn;
    do
        fn = (int)below(r, NFUNCS);
    while (!allowed(ph, fn) ||
           ((fn == F_INIT || fn == F_UNINIT || fn == F_LOGOUT) && !chance(r, 25)));
    last_op[slot] = fn_name[fn];
    last_n[slot]++;
    atomic_fetch_add(&calls_total, 1);
    atomic_fetch_add(&calls_fn[fn], 1);
    atomic_fetch_add(&calls_phase[ph], 1);
    arg_t a, b, c, d, e, f;
    int rc;
    char *id;
    long t_start = h_now_us();
    switch ((fn_t)fn) {
    case F_INIT:
        a = rand_init_dir(r);
        rc = crvideo_init(a.p);
        if (rc != CRVIDEOSDK_NOERR && rc != CRVIDEOSDK_PARAM_ERR && rc != CRVIDEOSDK_LOGINSTATE_ERROR)
            h_fail(__FILE__, __LINE__, "crvideo_init returned %d", rc);
        if (a.p == NULL || *a.p == 0)
            ASSERT(rc == CRVIDEOSDK_PARAM_ERR || (ph == P_CHAOS && rc == CRVIDEOSDK_LOGINSTATE_ERROR));
        arg_free(&a);
        break;
    case F_UNINIT:
        crvideo_uninit();
        break;
    case F_SETSERVERADDR:
        a = rand_addr(r);
        crvideo_setServerAddr(a.p);
        arg_free(&a);
        break;
    case F_SETCALLBACKS: {
        static const size_t sizes[] = {0, 1, 8, CRVIDEOMGR_CALLBACKS_V1_SIZE - 1, CRVIDEOMGR_CALLBACKS_V1_SIZE,
                                       sizeof(CRVideoMgrCallbacks), sizeof(CRVideoMgrCallbacks) + 1,
                                       sizeof(CRVideoMgrCallbacks) + 8, 4096, (size_t)INT_MAX, SIZE_MAX, SIZE_MAX / 2};
        const CRVideoMgrCallbacks *cbs;
        switch (below(r, 8)) {
        case 0: cbs = NULL; break;
        case 1: cbs = &zeroed.c; break;
        case 2: cbs = &partial.c; break;
        default: cbs = &full.c; break; /* mostly keep callbacks flowing */
        }
        size_t size = chance(r, 40) ? sizes[below(r, sizeof sizes / sizeof sizes[0])] : (size_t)rnd(r) % 8192;
        if (chance(r, 30) && cbs)
            size = sizeof(CRVideoMgrCallbacks);
        rc = crvideo_setCallbacks(cbs, size, &markers[below(r, 8)]);
        ASSERT_EQ(rc, (cbs != NULL && size < CRVIDEOMGR_CALLBACKS_V1_SIZE) ? CRVIDEOSDK_PARAM_ERR : CRVIDEOSDK_NOERR);
        break;
    }
    case F_STRERROR: {
        int code = chance(r, 50) ? known[below(r, sizeof known / sizeof known[0])] : rand_int(r);
        const char *s = crvideo_strerror(code);
        ASSERT(s != NULL && *s != 0);
        ASSERT_EQ(strcmp(s, CRV_UNKNOWN_CODE_TEXT) == 0, !is_known(code));
        break;
    }
    case F_VERSION:
        ASSERT_STR_EQ(crvideo_version(), CRVIDEOMGR_VERSION);
        break;
    case F_FREE:
        if (chance(r, 30))
            crvideo_free(NULL);
        else
            crvideo_free(take_to_free(r));
        break;
    case F_SETPOLLMODE:
        /* mostly off: in poll mode callbacks wait for a thread to poll */
        ASSERT_EQ(crvideo_setPollMode(chance(r, 30) ? rand_int(r) : 0), CRVIDEOSDK_NOERR);
        break;
    case F_POLL:
        rc = crvideo_poll(rand_int(r));
        if (ph == P_PRE || ph == P_POST) /* refusals pending in poll mode, or -11 */
            ASSERT(rc >= 0 || rc == -CRVIDEOSDK_NOT_INIT);
        else if (ph == P_CHAOS)
            ASSERT(rc >= 0 || rc == -CRVIDEOSDK_NOT_INIT);
        else
            ASSERT_GE(rc, 0);
        break;
    case F_POLLFD:
        ASSERT_EQ(crvideo_pollFd(), poll_fd0);
        break;
    case F_SETTRUSTEDCA: {
        switch (below(r, 9)) {
        case 0: a = lit(small_file); break;  /* not PEM */
        case 1: a = lit(pem_junk); break;    /* PEM armour, no certificate */
        case 2: a = lit(scratch); break;     /* a directory */
        case 3: a = lit(big_path); break;
        case 4: a = lit(fifo); break;        /* must not block */
        case 5: a = lit("/dev/zero"); break; /* must not read forever */
        default: a = rand_str(r); break;
        }
        rc = crvideo_setTrustedCA(a.p);
        if (a.p == NULL || *a.p == 0)
            ASSERT_EQ(rc, CRVIDEOSDK_NOERR); /* back to the system roots */
        else
            ASSERT_EQ(rc, CRVIDEOSDK_PARAM_ERR); /* nothing here holds a certificate */
        arg_free(&a);
        break;
    }
    case F_LOGIN: {
        /* Wrong enterprise credentials count towards the server's failed-login
         * throttle (10 a minute per address): only a few of them. */
        int bad = chance(r, 10) && atomic_fetch_add(&bad_logins, 1) < 4;
        a = bad ? rand_str(r) : lit(h_acnt());
        b = bad ? rand_str(r) : lit(h_pswd());
        c = rand_str(r);
        switch (below(r, 4)) {
        case 0: d = lit(my_id); break;
        case 1: d = lit(""); break;
        default: d = rand_str(r); break;
        }
        if (d.p && strcmp(d.p, peer_id) == 0) { /* never kick the peer */
            arg_free(&d);
            d = lit(my_id);
        }
        e = chance(r, 70) ? lit("") : rand_str(r);
        f = rand_str(r);
        crvideomgr_login(a.p, b.p, c.p, d.p, e.p, f.p);
        arg_free(&a); arg_free(&b); arg_free(&c); arg_free(&d); arg_free(&e); arg_free(&f);
        break;
    }
    case F_LOGOUT:
        crvideomgr_logout();
        break;
    case F_SETDNDSTATUS:
        a = rand_str(r);
        crvideomgr_setDNDStatus(rand_int(r), a.p);
        arg_free(&a);
        break;
    case F_GETUSERSTATUS:
        a = rand_str(r);
        crvideomgr_getUserStatus(a.p);
        arg_free(&a);
        break;
    case F_STARTUSERSTATUSNOTIFY:
        a = rand_str(r);
        crvideomgr_startUserStatusNotify(a.p);
        arg_free(&a);
        break;
    case F_STOPUSERSTATUSNOTIFY:
        a = rand_str(r);
        crvideomgr_stopUserStatusNotify(a.p);
        arg_free(&a);
        break;
    case F_CREATEMEETING:
        a = rand_str(r);
        b = rand_str(r);
        crvideomgr_createMeeting(a.p, chance(r, 50) ? (int)below(r, 2) : rand_int(r), b.p);
        arg_free(&a); arg_free(&b);
        break;
    case F_DESTROYMEETING:
        a = rand_str(r);
        crvideomgr_destroyMeeting(meet_pick(r), a.p);
        arg_free(&a);
        break;
    case F_GETMEETINGS:
        a = rand_str(r);
        crvideomgr_getMeetings(a.p);
        arg_free(&a);
        break;
    case F_CALL:
        a = rand_user(r); b = rand_meetobj(r); c = rand_str(r); d = rand_str(r);
        id = crvideomgr_call(a.p, b.p, c.p, d.p);
        returned_id(r, ph, "call", id);
        arg_free(&a); arg_free(&b); arg_free(&c); arg_free(&d);
        break;
    case F_ACCEPTCALL:
        a = rand_id(r); b = rand_meetobj(r); c = rand_str(r); d = rand_str(r);
        crvideomgr_acceptCall(a.p, b.p, c.p, d.p);
        arg_free(&a); arg_free(&b); arg_free(&c); arg_free(&d);
        break;
    case F_REJECTCALL:
        a = rand_id(r); b = rand_str(r); c = rand_str(r);
        crvideomgr_rejectCall(a.p, b.p, c.p);
        arg_free(&a); arg_free(&b); arg_free(&c);
        break;
    case F_HUNGUPCALL:
        a = rand_id(r); b = rand_str(r); c = rand_str(r);
        crvideomgr_hungupCall(a.p, b.p, c.p);
        arg_free(&a); arg_free(&b); arg_free(&c);
        break;
    case F_CALLMOREPARTY:
        a = rand_user(r); b = rand_meetobj(r); c = rand_str(r); d = rand_str(r);
        id = crvideomgr_callMoreParty(a.p, b.p, c.p, d.p);
        returned_id(r, ph, "callMoreParty", id);
        arg_free(&a); arg_free(&b); arg_free(&c); arg_free(&d);
        break;
    case F_CANCELCALLMOREPARTY:
        a = rand_id(r); b = rand_str(r); c = rand_str(r);
        crvideomgr_cancelCallMoreParty(a.p, b.p, c.p);
        arg_free(&a); arg_free(&b); arg_free(&c);
        break;
    case F_SENDCMD:
        a = rand_user(r); b = rand_b64(r, 60 * 1024);
        id = crvideomgr_sendCmd(a.p, b.p);
        returned_id(r, ph, "sendCmd", id);
        arg_free(&a); arg_free(&b);
        break;
    case F_SENDBUFFER:
        a = rand_user(r); b = rand_b64(r, 256 * 1024);
        id = crvideomgr_sendBuffer(a.p, b.p);
        returned_id(r, ph, "sendBuffer", id);
        arg_free(&a); arg_free(&b);
        break;
    case F_SENDFILE:
        a = rand_user(r); b = rand_file(r);
        id = crvideomgr_sendFile(a.p, b.p);
        returned_id(r, ph, "sendFile", id);
        arg_free(&a); arg_free(&b);
        break;
    case F_CANCELSEND:
        a = rand_id(r);
        crvideomgr_cancelSend(a.p);
        arg_free(&a);
        break;
    }
    long us = h_now_us() - t_start;
    atomic_fetch_add(&fn_us[fn], us);
    for (long m = atomic_load(&fn_max_us[fn]); us > m && !atomic_compare_exchange_weak(&fn_max_us[fn], &m, us);) {
    }
    last_op[slot] = "(between calls)";
}

typedef struct {
    int ph, slot;
    long n;
    uint64_t seed;
} job_t;

static void *worker(void *arg)
{
    job_t *j = arg;
    rng_t r = {j->seed};
    for (long k = 0; k < j->n; k++)
        one_call(&r, j->ph, j->slot);
    return NULL;
}

static uint64_t seed;

/* run_phase runs n random calls of phase ph on NTHREADS threads. */
static void run_phase(int ph, long n)
{
    pthread_t th[NTHREADS];
    job_t jobs[NTHREADS];
    long cb0 = atomic_load(&cb_total), t0 = h_now_ms();
    atomic_store(&phase, ph);
    for (int k = 0; k < NTHREADS; k++) {
        jobs[k].ph = ph;
        jobs[k].slot = k;
        jobs[k].n = n / NTHREADS + (k < n % NTHREADS);
        jobs[k].seed = seed ^ ((uint64_t)(ph * NTHREADS + k + 1) * 0xd1b54a32d192ed03ULL);
        ASSERT_EQ(pthread_create(&th[k], NULL, worker, &jobs[k]), 0);
    }
    for (int k = 0; k < NTHREADS; k++)
        pthread_join(th[k], NULL);
    long cbs = atomic_load(&cb_total) - cb0;
    h_report("phase %-32s %6ld calls on %d threads in %5ld ms, %6ld callbacks", phase_name[ph],
             atomic_load(&calls_phase[ph]), NTHREADS, h_now_ms() - t0, cbs);
    /* Before init and after uninit the callbacks are CRVIDEOSDK_NOT_INIT failures:
     * chk_code refuses any other code then, and got() any callback but a failure. */
    (void)cbs;
}

/* ---- dying with the last calls on record ---------------------------------------- */

static void print_last(void)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "    fuzz: seed %llu (CRV_FUZZ_SEED=%llu repeats it), %ld calls so far; last call per thread:",
                     (unsigned long long)seed, (unsigned long long)seed, atomic_load(&calls_total));
    for (int k = 0; k < NTHREADS; k++)
        n += snprintf(buf + n, sizeof buf - (size_t)n, " [%d] #%ld %s", k, last_n[k], last_op[k] ? last_op[k] : "-");
    buf[n++] = '\n';
    ssize_t w = write(2, buf, (size_t)n);
    (void)w;
}

static void on_alarm(int sig)
{
    (void)sig;
    print_last();
    _exit(3);
}

/* ---- the roles ------------------------------------------------------------------- */

static long log_max_line; /* the longest log line seen */

static void scan_logs(const char *dir, int depth, long *files, long *inner)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            continue;
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth < 8)
            scan_logs(p, depth + 1, files, inner);
        else if (strncmp(de->d_name, "crvideomgr.log", 14) == 0) {
            FILE *f = fopen(p, "r");
            char *line = NULL;
            size_t cap = 0;
            ssize_t len;
            (*files)++;
            while (f && (len = getline(&line, &cap, f)) > 0) {
                if (len > log_max_line)
                    log_max_line = len;
                if (strstr(line, "internal error") != NULL) {
                    if (*inner < 3)
                        fprintf(stderr, "    %s: %.300s", p, line);
                    (*inner)++;
                }
            }
            free(line);
            if (f)
                fclose(f);
        }
        free(p);
    }
    closedir(d);
}

static void make_inputs(void)
{
    rng_t r = {seed ^ 0x5eed};
    snprintf(scratch, sizeof scratch, "%s/fuzz-%d", getenv("CRV_TMP"), (int)getpid());
    ASSERT_EQ(mkdir(scratch, 0700), 0);
    ASSERT_EQ(chdir(scratch), 0); /* relative paths land here */
    snprintf(small_file, sizeof small_file, "%s/small.bin", scratch);
    snprintf(empty_file, sizeof empty_file, "%s/empty", scratch);
    snprintf(fifo, sizeof fifo, "%s/fifo", scratch);
    snprintf(pem_junk, sizeof pem_junk, "%s/junk.pem", scratch);
    snprintf(loop_link, sizeof loop_link, "%s/loop", scratch);
    FILE *f = fopen(small_file, "wb");
    ASSERT(f != NULL);
    for (int k = 0; k < 1000; k++)
        fputc((int)below(&r, 256), f);
    fclose(f);
    f = fopen(empty_file, "wb");
    ASSERT(f != NULL);
    fclose(f);
    f = fopen(pem_junk, "w");
    ASSERT(f != NULL);
    fputs("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    ASSERT_EQ(mkfifo(fifo, 0600), 0);
    ASSERT_EQ(symlink(loop_link, loop_link), 0);

    big_bytes = rand_bytes(&r, BIG_LEN, 1);
    size_t b64n = 3u << 20;
    big_b64 = b64_of(&r, b64n / 4 * 3);
    big_utf8 = malloc((2u << 20) + 1);
    for (size_t k = 0; k < (2u << 20); k += 2)
        memcpy(big_utf8 + k, "\xc3\xa9", 2); /* é */
    big_utf8[2u << 20] = 0;
    size_t pl = strlen(scratch) + 1 + (1u << 20);
    big_path = malloc(pl + 1);
    memcpy(big_path, scratch, strlen(scratch));
    big_path[strlen(scratch)] = '/';
    memset(big_path + strlen(scratch) + 1, 'p', 1u << 20);
    big_path[pl] = 0;
}

static void free_inputs(void)
{
    free(big_bytes);
    free(big_b64);
    free(big_utf8);
    free(big_path);
    for (int k = 0; k < POOL; k++) {
        free(pool[k]);
        pool[k] = NULL;
    }
    char *p;
    rng_t r = {1};
    while ((p = take_to_free(&r)) != NULL)
        crvideo_free(p);
}

/* fz_login registers the recorder and logs in as user, skipping events queued by
 * the fuzz phases (a random login may have succeeded just before). */
static void fz_login(const char *user, const char *cookie)
{
    h_register();
    crvideo_setPollMode(0);
    h_set_poll(0);
    crvideomgr_login(h_acnt(), h_pswd(), user, user, "", cookie);
    long deadline = h_now_ms() + T;
    for (;;) {
        ev_t *e = ev_wait("loginSuccess", user, 50);
        if (e && strcmp(e->s[1], cookie) == 0)
            break;
        e = ev_wait("loginFail", cookie, 0);
        if (e)
            h_fail(__FILE__, __LINE__, "loginFail(%d) for the login after the fuzz", e->i[0]);
        if (h_now_ms() > deadline)
            h_fail(__FILE__, __LINE__, "no loginSuccess(%s) within %d ms", cookie, T);
    }
    ev_reset();
}

/* still_logged_in re-registers the recorder and proves the session answers. */
static void still_logged_in(const char *cookie)
{
    h_register();
    crvideo_setPollMode(0);
    h_set_poll(0);
    crvideomgr_getUserStatus(cookie);
    long deadline = h_now_ms() + T;
    for (;;) {
        /* Events queued during the fuzz phase reach the recorder first. */
        ev_t *e = ev_wait("getUserStatusSuccess", NULL, (int)(deadline - h_now_ms()));
        ASSERT(e != NULL);
        if (strcmp(e->s[1], cookie) == 0) {
            ASSERT_CONTAINS(e->s[0], my_id);
            ASSERT_CONTAINS(e->s[0], peer_id);
            break;
        }
    }
    ASSERT_EQ(ev_count("lineOff"), 0);
    ev_reset();
}

void role_fuzz(void)
{
    const char *s = getenv("CRV_FUZZ_SEED");
    seed = (s && *s) ? strtoull(s, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    const char *c = getenv("CRV_FUZZ_CALLS");
    long total = (c && *c) ? atol(c) : 30000;
    ASSERT_GT(total, 0);
    h_report("seed %llu (CRV_FUZZ_SEED=%llu repeats the sequence of each thread), %ld calls (CRV_FUZZ_CALLS)",
             (unsigned long long)seed, (unsigned long long)seed, total);
    alarm((unsigned)(120 + total / 200)); /* ~ 5 ms a call under ASan at worst */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_ONSTACK; /* the Go runtime's rule for host handlers */
    sigaction(SIGALRM, &sa, NULL);
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_set_death_callback(print_last);
#endif
    snprintf(my_id, sizeof my_id, "%s", h_uid("me"));
    snprintf(peer_id, sizeof peer_id, "%s", h_uid("peer"));
    make_inputs();
    fill(&full.c);
    fill(&partial.c);
    rng_t pr = {seed ^ 0x9a57};
    void (**fp)(void) = (void (**)(void))&partial.c;
    for (size_t k = 0; k < sizeof partial.c / sizeof fp[0]; k++)
        if (chance(&pr, 50))
            fp[k] = NULL; /* a random half left NULL: "not interested" */
    poll_fd0 = crvideo_pollFd();
    ASSERT_GE(poll_fd0, 0);
    free(h_wait_post("peer-ready", T));

    long t0 = h_now_ms();
    /* 1. before crvideo_init */
    fuzz_register();
    run_phase(P_PRE, total * 15 / 100);

    /* 2. initialised, not logged in (random logins may get in, random logouts out) */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/sdk", scratch);
    crvideo_setPollMode(0);
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
    crvideo_setServerAddr(h_addr());
    fuzz_register();
    run_phase(P_INIT, total * 20 / 100);
    crvideomgr_logout();

    /* 3. logged in to the real server, no logout: the session must survive */
    crvideo_setServerAddr(h_addr());
    fz_login(my_id, "fuzz-login");
    fuzz_register();
    run_phase(P_LOGGED, total * 35 / 100);
    still_logged_in("fuzz-still-here");

    /* 4. everything, init/uninit/login/logout included, racing */
    fuzz_register();
    run_phase(P_CHAOS, total * 20 / 100);

    /* 5. after crvideo_uninit */
    crvideo_uninit();
    fuzz_register();
    run_phase(P_POST, total - total * 90 / 100);
    long ms = h_now_ms() - t0;

    /* Afterwards the library still works: a normal login, a command to the peer. */
    h_register();
    crvideo_setPollMode(0);
    h_set_poll(0);
    crvideo_setServerAddr(h_addr());
    ASSERT_EQ(crvideo_init(dir), CRVIDEOSDK_NOERR);
    ASSERT_EQ(crvideo_setTrustedCA(NULL), CRVIDEOSDK_NOERR);
    fz_login(my_id, "fuzz-final-login");
    char *id = crvideomgr_sendCmd(peer_id, "ZnV6ei1maW5hbA=="); /* "fuzz-final" */
    ASSERT(id != NULL);
    ev_t *e = ev_expect("sendCmdRlst", id, T);
    ASSERT_EQ(e->i[0], 0);
    crvideo_free(id);
    free(h_wait_post("peer-got-final", T));
    crvideomgr_logout();
    crvideo_uninit();
    ev_reset();

    /* Every function was called; no panic was recovered anywhere. */
    for (int k = 0; k < NFUNCS; k++)
        if (atomic_load(&calls_fn[k]) == 0)
            h_fail(__FILE__, __LINE__, "%s was never called", fn_name[k]);
    long logs = 0, inner = 0;
    scan_logs(scratch, 0, &logs, &inner);
    ASSERT_GT(logs, 0);
    ASSERT_EQ(inner, 0);
    /* Arguments of megabytes must not become log lines of megabytes. */
    ASSERT_LE(log_max_line, 16 * 1024);
    ASSERT_EQ(atomic_load(&cb_inner_err), 0);
    h_report("%ld calls to %d functions in %ld ms (%.0f calls/s), %ld IDs returned and freed, %ld callbacks checked, "
             "%d logs with no internal error (longest line %ld bytes)",
             atomic_load(&calls_total), NFUNCS, ms,
             1000.0 * (double)atomic_load(&calls_total) / (double)(ms ? ms : 1), atomic_load(&ids_returned),
             atomic_load(&cb_total), (int)logs, log_max_line);
    h_report("then init, login, sendCmd to the peer: all normal");
    /* The slowest functions (argument generation excluded is not: it is in). */
    int order[NFUNCS];
    for (int k = 0; k < NFUNCS; k++)
        order[k] = k;
    for (int x = 0; x < NFUNCS; x++)
        for (int y = x + 1; y < NFUNCS; y++)
            if (atomic_load(&fn_us[order[y]]) > atomic_load(&fn_us[order[x]])) {
                int t = order[x];
                order[x] = order[y];
                order[y] = t;
            }
    char line[600];
    int n = snprintf(line, sizeof line, "most time in:");
    for (int k = 0; k < 4; k++) {
        int f = order[k];
        long cnt = atomic_load(&calls_fn[f]);
        n += snprintf(line + n, sizeof line - (size_t)n, " %s %ld calls, %ld ms (max %ld ms);", fn_name[f], cnt,
                      atomic_load(&fn_us[f]) / 1000, atomic_load(&fn_max_us[f]) / 1000);
    }
    h_report("%s", line);
    free_inputs();
    alarm(0);
}

/* The peer stays logged in: it answers calls (accepts half, rejects a quarter, lets
 * the rest ring), takes transfers and, at the end, checks the fuzzer's final
 * command. Its own small callbacks keep no data, so long runs stay flat. */
static atomic_int peer_calls, peer_files, peer_buffers, peer_cmds, peer_lineoff, peer_final;
static int peer_ud;

static void p_check(void *ud)
{
    if (ud != &peer_ud)
        h_fail(__FILE__, __LINE__, "peer callback got userdata %p", ud);
}

static void p_notifyCallIn(void *ud, const char *id, const char *m, const char *from, const char *x)
{
    p_check(ud);
    chk_s("notifyCallIn", id); chk_s("notifyCallIn", m); chk_s("notifyCallIn", from); chk_s("notifyCallIn", x);
    unsigned h = 0;
    for (const char *p = id; *p; p++)
        h = h * 31 + (unsigned char)*p;
    atomic_fetch_add(&peer_calls, 1);
    if (h % 4 == 0)
        crvideomgr_rejectCall(id, "", "");
    else if (h % 4 != 1)
        crvideomgr_acceptCall(id, "", "", "");
}

static void p_notifyFileData(void *ud, const char *from, const char *tmp, const char *name)
{
    p_check(ud);
    chk_s("notifyFileData", from);
    chk_s("notifyFileData", name);
    ASSERT(strchr(name, '/') == NULL);
    atomic_fetch_add(&peer_files, 1);
    ASSERT_EQ(unlink(tmp), 0);
}

static void p_notifyBufferData(void *ud, const char *from, const char *d)
{
    p_check(ud);
    chk_s("notifyBufferData", from);
    chk_s("notifyBufferData", d);
    atomic_fetch_add(&peer_buffers, 1);
}

static void p_notifyCmdData(void *ud, const char *from, const char *d)
{
    p_check(ud);
    chk_s("notifyCmdData", d);
    atomic_fetch_add(&peer_cmds, 1);
    if (strcmp(from, my_id) == 0 && strcmp(d, "ZnV6ei1maW5hbA==") == 0)
        atomic_store(&peer_final, 1);
}

static void p_lineOff(void *ud, int code)
{
    p_check(ud);
    atomic_store(&peer_lineoff, code);
}

void role_fuzz_peer(void)
{
    snprintf(my_id, sizeof my_id, "%s", h_uid("me"));
    h_register();
    h_init();
    h_login(h_uid("peer"));
    CRVideoMgrCallbacks c;
    memset(&c, 0, sizeof c);
    c.notifyCallIn = p_notifyCallIn;
    c.notifyFileData = p_notifyFileData;
    c.notifyBufferData = p_notifyBufferData;
    c.notifyCmdData = p_notifyCmdData;
    c.lineOff = p_lineOff;
    ASSERT_EQ(crvideo_setCallbacks(&c, sizeof c, &peer_ud), CRVIDEOSDK_NOERR);
    ev_reset();
    h_post("peer-ready", "");
    long deadline = h_now_ms() + 900000;
    while (!atomic_load(&peer_final)) {
        ASSERT_EQ(atomic_load(&peer_lineoff), 0);
        ASSERT_LT(h_now_ms(), deadline);
        h_sleep_ms(10);
    }
    ASSERT_EQ(atomic_load(&peer_lineoff), 0);
    h_report("peer: %d calls in (about half accepted, a quarter rejected), %d commands, %d buffers and %d files received",
             atomic_load(&peer_calls), atomic_load(&peer_cmds), atomic_load(&peer_buffers), atomic_load(&peer_files));
    h_post("peer-got-final", "");
    crvideomgr_logout();
    crvideo_uninit();
}
