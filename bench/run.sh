#!/usr/bin/env bash
# run.sh - make bench: every benchmark, each printing its figures and ratios
# against a reference measured in the same run, on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${DBM_BIN:-$ROOT/db-migrate}
[ -x "$BIN" ] || { echo "bench: build ./db-migrate first (make)" >&2; exit 2; }
for b in bench/apply-bench.sh bench/git-bench.sh bench/formats-bench.sh bench/action-bench.sh; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b" "$BIN"
  echo
done
