/* cbench: what the C boundary of libcrvideomgr costs.
 *
 *   cbench [N]     (default N = 200000)
 *
 * Measures, with no server (nothing here is logged in):
 *   - an exported call that does not cross into the engine's state:
 *     crvideo_strerror;
 *   - an exported call that does: crvideomgr_sendCmd while not logged in, which
 *     returns a task ID (freed with crvideo_free) and fails at once with
 *     sendCmdRlst(CRVIDEOSDK_NOT_LOGIN);
 *   - the rate at which those callbacks reach a C function through the
 *     library's dispatch thread (thread mode) while this thread makes the
 *     calls, and through crvideo_poll (poll mode) once they are queued;
 *   - the dispatch thread draining the same queue: N callbacks queued in
 *     poll mode, then thread mode switched on, timed until the last has run
 *     (the same work as the poll-mode figure, on the library's thread; the
 *     first thread-mode figure is bounded by the calls' own cost).
 * Prints a table and, on the last line, the same figures as one JSON object.
 */
#define _GNU_SOURCE
#include <crvideomgr.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_long rslts;
static atomic_long badUserdata;
static int marker;

static void on_sendCmdRlst(void *ud, const char *taskID, int sdkErr, const char *cookie)
{
    (void)taskID;
    (void)sdkErr;
    (void)cookie;
    if (ud != &marker)
        atomic_fetch_add(&badUserdata, 1);
    atomic_fetch_add_explicit(&rslts, 1, memory_order_relaxed);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wait_rslts(long want, double timeout)
{
    double end = now_s() + timeout;
    while (atomic_load(&rslts) < want && now_s() < end)
        usleep(50);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (n <= 0)
        n = 200000;
    char dir[] = "/tmp/crvbench.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    CRVideoMgrCallbacks cbs;
    memset(&cbs, 0, sizeof cbs);
    cbs.sendCmdRlst = on_sendCmdRlst;
    if (crvideo_setCallbacks(&cbs, sizeof cbs, &marker) != 0 || crvideo_init(dir) != 0) {
        fprintf(stderr, "cbench: init failed\n");
        return 1;
    }

    /* 1. crvideo_strerror. */
    long ns = n * 10;
    volatile size_t sink = 0;
    double t0 = now_s();
    for (long i = 0; i < ns; i++)
        sink += strlen(crvideo_strerror((int)(i & 7)));
    double strerrorNs = (now_s() - t0) / (double)ns * 1e9;

    /* 2. sendCmd (fails at once) + crvideo_free, thread mode: the call's
     * cost, then the rate at which its callbacks arrive. */
    atomic_store(&rslts, 0);
    t0 = now_s();
    for (long i = 0; i < n; i++)
        crvideo_free(crvideomgr_sendCmd("nobody", "aGVsbG8="));
    double t1 = now_s();
    wait_rslts(n, 60);
    double t2 = now_s();
    long gotThread = atomic_load(&rslts);
    double callNs = (t1 - t0) / (double)n * 1e9;
    double cbThread = (double)gotThread / (t2 - t0);

    /* 3. Poll mode: the same callbacks run inside crvideo_poll on this thread. */
    crvideo_setPollMode(1);
    atomic_store(&rslts, 0);
    t0 = now_s();
    for (long i = 0; i < n; i++)
        crvideo_free(crvideomgr_sendCmd("nobody", "aGVsbG8="));
    double tq = now_s();
    long ran = 0;
    while (ran < n && now_s() < tq + 60) {
        int k = crvideo_poll(0);
        if (k < 0)
            break;
        ran += k;
    }
    double tp = now_s();
    long gotPoll = atomic_load(&rslts);
    double cbPoll = (double)gotPoll / (tp - tq);

    /* 4. The dispatch thread draining a queue of N callbacks. */
    atomic_store(&rslts, 0);
    for (long i = 0; i < n; i++)
        crvideo_free(crvideomgr_sendCmd("nobody", "aGVsbG8="));
    double td = now_s();
    crvideo_setPollMode(0);
    wait_rslts(n, 60);
    double te = now_s();
    long gotDrain = atomic_load(&rslts);
    double cbDrain = (double)gotDrain / (te - td);
    crvideo_uninit();

    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cbench: could not remove %s\n", dir);

    printf("cbench (%s), N = %ld\n", crvideo_version(), n);
    printf("  crvideo_strerror                         %10.1f ns/call\n", strerrorNs);
    printf("  crvideomgr_sendCmd + crvideo_free        %10.1f ns/call (not logged in: fails at once)\n", callNs);
    printf("  callbacks via the dispatch thread        %10.0f /s  (%ld of %ld)\n", cbThread, gotThread, n);
    printf("  callbacks via crvideo_poll (poll mode)   %10.0f /s  (%ld of %ld)\n", cbPoll, gotPoll, n);
    printf("  the dispatch thread draining N queued    %10.0f /s  (%ld of %ld)\n", cbDrain, gotDrain, n);
    printf("{\"n\":%ld,\"strerror_ns\":%.1f,\"sendcmd_call_ns\":%.1f,\"callbacks_thread_per_s\":%.0f,\"callbacks_poll_per_s\":%.0f,"
           "\"callbacks_thread_drain_per_s\":%.0f,\"got_thread\":%ld,\"got_poll\":%ld,\"got_drain\":%ld,\"bad_userdata\":%ld}\n",
           n, strerrorNs, callNs, cbThread, cbPoll, cbDrain, gotThread, gotPoll, gotDrain, atomic_load(&badUserdata));
    (void)sink;
    return (gotThread == n && gotPoll == n && gotDrain == n && atomic_load(&badUserdata) == 0) ? 0 : 1;
}
