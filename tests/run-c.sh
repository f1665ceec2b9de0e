#!/usr/bin/env bash
# run-c.sh: starts a real crvideosrv (port 0, 1 s ring timeout, 8 MiB transfer
# limits) with a test enterprise
# and runs a C/C++ test program against it: tests/run-c.sh build/tests/crvtest [args].
# The program gets CRV_ADDR, CRV_ACNT, CRV_PSWD (md5 hex) and CRV_TMP (scratch).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
prog=$1; shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crvtest.XXXXXX")
srv_pid=
cleanup() {
  if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null || true; wait "$srv_pid" 2>/dev/null || true; fi
  if [ "${KEEP_TMP:-}" = "" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
"$BUILD/crvideosrv" account add -data "$tmp/data" test "s3cret pass" >/dev/null
# 8 MiB transfer limits so that the tests reach CRVIDEOSDK_SENDBUFFER_LARGE and
# CRVIDEOSDK_FILE_SIZE_UNSUPPORT without moving 100 MiB.
"$BUILD/crvideosrv" -listen 127.0.0.1:0 -addr-file "$tmp/addr" -data "$tmp/data" -ring-timeout 1s \
  -max-buffer 8388608 -max-file 8388608 \
  2>"$tmp/server.log" &
srv_pid=$!
for _ in $(seq 1 200); do [ -s "$tmp/addr" ] && break; sleep 0.05; done
[ -s "$tmp/addr" ] || { echo "crvideosrv did not start:"; cat "$tmp/server.log"; exit 1; }
export CRV_ADDR=$(cat "$tmp/addr") CRV_ACNT=test CRV_TMP=$tmp
export CRV_PSWD=$(printf %s "s3cret pass" | md5sum | cut -d' ' -f1)
# LeakSanitizer (in ASan builds): report leaks, fail the process on one.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allow_user_segv_handler=1:handle_segv=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/c/lsan.supp:print_suppressions=0}
set +e
"$prog" "$@"
rc=$?
set -e
if [ $rc -ne 0 ] && [ -s "$tmp/server.log" ]; then
  echo "--- server log (last 30 lines) ---"; tail -30 "$tmp/server.log"
fi
exit $rc
