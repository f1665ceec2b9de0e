#!/usr/bin/env bash
# Runs every Go fuzz target for FUZZTIME each (default 30s) and prints one
# line per target: its executions, new corpus entries and result. Inputs
# that crash are saved by go test under the package's testdata/fuzz, where
# `make test` replays them from then on.
set -uo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-30s}
# Minimizing each new interesting input defaults to 60 s in go test; the
# server targets log two or three users in per execution, so a short run spent
# nearly all its time minimizing (20 executions in 20 s). 5 s each still
# shrinks a crasher enough to read.
FUZZMINTIME=${FUZZMINTIME:-5s}
targets=(
  "./protocol FuzzParseHeader"
  "./protocol FuzzDecode"
  "./protocol FuzzCodecDiff"
  "./core FuzzB64"
  "./core FuzzServerFrames"
  "./server FuzzServerInput"
  "./server FuzzServerOps"
)
fail=0
for t in "${targets[@]}"; do
  set -- $t
  log=$(mktemp)
  if go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINTIME" "$1" >"$log" 2>&1; then res=ok; else res=FAIL; fail=1; fi
  last=$(grep -E '^fuzz: elapsed' "$log" | tail -1)
  printf '%-5s %-10s %-18s %s\n' "$res" "$1" "$2" "${last#fuzz: }"
  [ "$res" = ok ] || tail -30 "$log"
  rm -f "$log"
done
exit $fail
