#!/usr/bin/env bash
# run.sh - unit tests, the fuzz corpus replay (FUZZ_REPLAY_BINS), then the integration suites;
# the last line is the total.
set -u
cd "$(dirname "$0")/.."
export DBM_COUNTS_FILE=$(mktemp)
trap 'rm -f "$DBM_COUNTS_FILE"' EXIT
status=0
tests/run-unit.sh "$@" || status=1
if [ -n "${FUZZ_REPLAY_BINS:-}" ]; then
  # shellcheck disable=SC2086 # a list of paths without spaces
  tests/run-fuzz-replay.sh $FUZZ_REPLAY_BINS || status=1
fi
DBM_BIN=${DBM_BIN:-$PWD/build/asan/db-migrate} tests/run-integration.sh || status=1
read -r p f s < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$DBM_COUNTS_FILE")
echo "total: $p passed, $f failed, $s skipped"
exit $status
