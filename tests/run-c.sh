#!/usr/bin/env bash
# run-c.sh: starts a real crvideosrv (port 0, 1 s ring timeout, 8 MiB transfer
# limits) with a test enterprise
# and runs a C/C++ test program against it: tests/run-c.sh build/tests/crvtest [args].
# The program gets CRV_ADDR, CRV_ACNT, CRV_PSWD (md5 hex) and CRV_TMP (scratch), and
# TMPDIR inside the scratch directory (received files, a killed test's leftovers).
# CRV_SERVER_ARGS adds server flags (e.g. a short -ping-timeout and -resume-grace).
# For tests that kill and restart the server: CRV_SRV_PID is its pid and
# $CRV_TMP/server.cmd its command line (NUL-separated); servers they start are
# listed in $CRV_TMP/server.pids and stopped here on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
prog=$1; shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crvtest.XXXXXX")
srv_pid=
cleanup() {
  if [ -n "$srv_pid" ]; then
    kill "$srv_pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.05; done
  fi
  if [ -s "$tmp/server.pids" ]; then
    while read -r p; do
      if [ -r "/proc/$p/cmdline" ] && tr '\0' ' ' <"/proc/$p/cmdline" | grep -q crvideosrv; then kill "$p" 2>/dev/null || true; fi
    done <"$tmp/server.pids"
  fi
  if [ "${KEEP_TMP:-}" = "" ]; then rm -rf "$tmp"; else echo "kept $tmp"; fi
}
trap cleanup EXIT
"$BUILD/crvideosrv" account add -data "$tmp/data" test "s3cret pass" >/dev/null
# 8 MiB transfer limits so that the tests reach CRVIDEOSDK_SENDBUFFER_LARGE and
# CRVIDEOSDK_FILE_SIZE_UNSUPPORT without moving 100 MiB.
# shellcheck disable=SC2206 # CRV_SERVER_ARGS is split into words on purpose
srv_cmd=("$BUILD/crvideosrv" -listen 127.0.0.1:0 -addr-file "$tmp/addr" -data "$tmp/data" -ring-timeout 1s
  -max-buffer 8388608 -max-file 8388608 ${CRV_SERVER_ARGS:-})
"${srv_cmd[@]}" 2>"$tmp/server.log" &
srv_pid=$!
disown "$srv_pid" # a test may kill it: no "Killed" line from bash; cleanup polls instead of wait
printf '%s\0' "${srv_cmd[@]}" >"$tmp/server.cmd"
for _ in $(seq 1 200); do [ -s "$tmp/addr" ] && break; sleep 0.05; done
[ -s "$tmp/addr" ] || { echo "crvideosrv did not start:"; cat "$tmp/server.log"; exit 1; }
export CRV_ADDR=$(cat "$tmp/addr") CRV_ACNT=test CRV_TMP=$tmp
export CRV_PSWD=$(printf %s "s3cret pass" | md5sum | cut -d' ' -f1)
export CRV_SRV_PID=$srv_pid CRV_SERVER_ARGS=${CRV_SERVER_ARGS:-}
mkdir "$tmp/tmpdir"
export TMPDIR=$tmp/tmpdir
# LeakSanitizer (in ASan builds): report leaks, fail the process on one.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:allow_user_segv_handler=1:handle_segv=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/c/lsan.supp:print_suppressions=0}
set +e
"$prog" "$@"
rc=$?
set -e
if [ $rc -ne 0 ] && [ -s "$tmp/server.log" ]; then
  echo "--- server log (last 30 lines) ---"; tail -30 "$tmp/server.log"
  if [ -s "$tmp/server2.log" ]; then echo "--- restarted server's log (last 30 lines) ---"; tail -30 "$tmp/server2.log"; fi
fi
exit $rc
