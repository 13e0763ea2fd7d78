#!/usr/bin/env bash
# run.sh - make bench: every benchmark, each printing its figures and ratios
# against a reference measured in the same run, on this machine. Every
# benchmark runs even when an earlier one misses a target; the exit status
# says whether all targets were met.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${DBM_BIN:-$ROOT/db-migrate}
[ -x "$BIN" ] || { echo "bench: build ./db-migrate first (make)" >&2; exit 2; }
missed=()
for b in bench/apply-bench.sh bench/git-bench.sh bench/formats-bench.sh bench/action-bench.sh \
  bench/fleet-schemas-bench.sh bench/fleet-bench.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b" "$BIN" || missed+=("$b")
  echo
done
if [ ${#missed[@]} -gt 0 ]; then
  echo "bench: targets missed in: ${missed[*]}"
  exit 1
fi
echo "bench: all targets met"
