/* minimal.c: the smallest useful libcrvideomgr program: log in, print the result,
 * log out. Build it against an installed library with
 *
 *     cc minimal.c $(pkg-config --cflags --libs crvideomgr) -lpthread -o minimal
 *     ./minimal 127.0.0.1:2727 demo fe01ce2a7fbac8fafaed7c982a04e229 alice
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <crvideomgr.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int result = -1; /* set by the callbacks, which run on the library's thread */

static void finish(int code)
{
    pthread_mutex_lock(&mu);
    result = code;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void on_login_success(void *userdata, const char *usrID, const char *cookie)
{
    (void)userdata;
    (void)cookie;
    printf("logged in as %s\n", usrID); /* usrID is valid only during the callback */
    finish(CRVIDEOSDK_NOERR);
}

static void on_login_fail(void *userdata, int sdkErr, const char *cookie)
{
    (void)userdata;
    (void)cookie;
    printf("login failed: %d (%s)\n", sdkErr, crvideo_strerror(sdkErr));
    finish(sdkErr);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s SERVER ACCOUNT MD5PASSWORD USER\n", argv[0]);
        return 2;
    }
    CRVideoMgrCallbacks cbs;
    memset(&cbs, 0, sizeof cbs); /* NULL: not interested */
    cbs.loginSuccess = on_login_success;
    cbs.loginFail = on_login_fail;
    crvideo_setCallbacks(&cbs, sizeof cbs, NULL);

    int err = crvideo_init("/tmp/minimal-crvideo"); /* the log goes there */
    if (err != CRVIDEOSDK_NOERR) {
        fprintf(stderr, "crvideo_init: %s\n", crvideo_strerror(err));
        return 1;
    }
    printf("libcrvideomgr %s\n", crvideo_version());
    crvideo_setServerAddr(argv[1]);
    crvideomgr_login(argv[2], argv[3], argv[4], argv[4], "", "");

    pthread_mutex_lock(&mu);
    while (result < 0)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    crvideomgr_logout();
    crvideo_uninit();
    return result == CRVIDEOSDK_NOERR ? 0 : 1;
}
