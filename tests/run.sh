#!/usr/bin/env bash
# run.sh - unit then integration suites; the last line is the total.
set -u
cd "$(dirname "$0")/.."
export DBM_COUNTS_FILE=$(mktemp)
trap 'rm -f "$DBM_COUNTS_FILE"' EXIT
status=0
tests/run-unit.sh "$@" || status=1
DBM_BIN=${DBM_BIN:-$PWD/build/asan/db-migrate} tests/run-integration.sh || status=1
read -r p f s < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$DBM_COUNTS_FILE")
echo "total: $p passed, $f failed, $s skipped"
exit $status
