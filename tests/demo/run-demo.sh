#!/usr/bin/env bash
# run-demo.sh: runs alice and bob (tests/demo/demo.c) against the server that
# tests/run-c.sh started: `make demo`.
set -euo pipefail
demo=$1
echo "server $CRV_ADDR, enterprise account \"$CRV_ACNT\" (authPswd = md5 of its password = $CRV_PSWD)"
echo "------------------------------------------------------------------------------------------"
"$demo" bob "$CRV_ADDR" "$CRV_ACNT" "$CRV_PSWD" "$CRV_TMP" &
bob=$!
"$demo" alice "$CRV_ADDR" "$CRV_ACNT" "$CRV_PSWD" "$CRV_TMP"
wait "$bob"
echo "------------------------------------------------------------------------------------------"
echo "demo done: both processes logged out and uninitialised cleanly"
