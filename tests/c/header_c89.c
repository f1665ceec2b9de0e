/* header_c89.c: include/crvideomgr.h must compile as strict C89, C99, C11 and C++
 * with every warning on (compiled by make test-c; nothing to run). */
#include <string.h>

#include "crvideomgr.h"

int crv_header_check(void);
int crv_header_check(void)
{
    CRVideoMgrCallbacks c;
    memset(&c, 0, sizeof c);
    return CRVIDEOSDK_NOERR + (int)sizeof c - (int)CRVIDEOMGR_CALLBACKS_V1_SIZE;
}
