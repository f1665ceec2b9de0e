/*
 * harness.h: a small test harness for libcrvideomgr that sees only include/ and the
 * built library. libuv-style ASSERT macros that print the expression and both
 * values; a recorder that registers every callback and queues what it receives;
 * waits that drive crvideo_poll in poll mode; file barriers between the processes
 * of one scenario (the library is a process singleton: one user per process).
 */
#ifndef CRV_TEST_HARNESS_H
#define CRV_TEST_HARNESS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crvideomgr.h"
#include "zz_api_surface.h" /* CRV_EACH_CALLBACK, CRV_EACH_CODE, CRV_EACH_FUNCTION */

/* ---- assertions -------------------------------------------------------------- */

void h_fail(const char *file, int line, const char *fmt, ...) __attribute__((noreturn, format(printf, 3, 4)));

#define ASSERT(expr)                                                                     \
    do {                                                                                 \
        if (!(expr))                                                                     \
            h_fail(__FILE__, __LINE__, "assertion failed: %s", #expr);                   \
    } while (0)

#define ASSERT_INT_OP(a, op, b)                                                          \
    do {                                                                                 \
        long long a_ = (long long)(a), b_ = (long long)(b);                              \
        if (!(a_ op b_))                                                                 \
            h_fail(__FILE__, __LINE__, "assertion failed: %s %s %s (%lld %s %lld)", #a, \
                   #op, #b, a_, #op, b_);                                                \
    } while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_OP(a, !=, b)
#define ASSERT_GE(a, b) ASSERT_INT_OP(a, >=, b)
#define ASSERT_LE(a, b) ASSERT_INT_OP(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_OP(a, >, b)
#define ASSERT_LT(a, b) ASSERT_INT_OP(a, <, b)

#define ASSERT_STR_EQ(a, b)                                                              \
    do {                                                                                 \
        const char *a_ = (a), *b_ = (b);                                                 \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                             \
            h_fail(__FILE__, __LINE__, "assertion failed: %s == %s (\"%.200s\" vs \"%.200s\")", \
                   #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                                     \
    do {                                                                                 \
        const char *h_ = (hay), *n_ = (needle);                                          \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                        \
            h_fail(__FILE__, __LINE__, "assertion failed: %s contains %s (\"%.300s\" lacks \"%s\")", \
                   #hay, #needle, h_ ? h_ : "(null)", n_);                               \
    } while (0)

/* ---- recorded callbacks ------------------------------------------------------ */

/* ev_t is one callback invocation: its name, its string arguments in order (s) and
 * its int arguments in order (i), the thread it ran on and a sequence number. */
typedef struct ev {
    const char *name;
    char *s[4];
    int i[2];
    unsigned long thread;
    int seq;
    int consumed;
    struct ev *next;
} ev_t;

/* ev_hook, when set, runs inside every callback after it is recorded (on the
 * callback's thread): the re-entrancy tests call the library from it. */
extern void (*ev_hook)(const ev_t *ev);

/* h_register registers the recorder for every callback. */
void h_register(void);
/* ev_wait waits up to ms for the first unconsumed event called name whose first
 * string argument is s0 (any when s0 is NULL), consumes and returns it; NULL on
 * timeout. In poll mode it drives crvideo_poll from the calling thread. */
ev_t *ev_wait(const char *name, const char *s0, int ms);
/* ev_expect is ev_wait that fails the test on timeout. */
#define ev_expect(name, s0, ms) h_expect(__FILE__, __LINE__, name, s0, ms)
ev_t *h_expect(const char *file, int line, const char *name, const char *s0, int ms);
/* ev_none asserts that no event called name arrives within ms. */
#define ev_none(name, ms) h_none(__FILE__, __LINE__, name, ms)
void h_none(const char *file, int line, const char *name, int ms);
/* ev_count returns how many events called name were recorded (consumed or not). */
int ev_count(const char *name);
/* ev_total returns how many events were recorded. */
int ev_total(void);
/* ev_reset forgets every recorded event. */
void ev_reset(void);
/* ev_threads returns how many distinct threads ran callbacks, *first the first. */
int ev_threads(unsigned long *first);
/* ev_dump_counts appends a "name firstIntArg" line per recorded event to path. */
void ev_dump_counts(const char *path);
/* h_set_poll tells ev_wait whether to drive crvideo_poll itself. */
void h_set_poll(int on);

/* ---- environment and processes --------------------------------------------- */

/* The server and account, from the environment set by tests/run-c.sh. */
const char *h_addr(void);
const char *h_acnt(void);
const char *h_pswd(void);
/* h_init calls crvideo_init in a fresh directory under $CRV_TMP and sets the server. */
void h_init(void);
/* h_login logs in as user and waits for loginSuccess; returns the usrID (static). */
const char *h_login(const char *user);
/* barriers between the processes of a scenario (files in $CRV_SYNC). */
void h_post(const char *name, const char *value);
char *h_wait_post(const char *name, int ms); /* returns the value (malloc'd) */
/* h_uid builds a user ID unique to this scenario: "<scenario>-<role>". */
const char *h_uid(const char *role);
long h_now_ms(void);
void h_sleep_ms(int ms);
/* process resources from /proc/self/status */
long h_threads(void);
long h_rss_kb(void);
int h_open_fds(void);

extern const char *h_scenario;

#endif
