#!/usr/bin/env bash
# check-pg.sh [MAJOR...] - the integration suites against each PostgreSQL major in turn.
#
#   scripts/check-pg.sh             13, 17 and 18
#   scripts/check-pg.sh 18          one of them (15 is the host's: `make check` runs it)
#
# For each major it makes sure its root exists (scripts/pg-root.sh prepare: about a minute
# the first time, nothing after), runs tests/run-integration.sh with PG set, and ends with
# one line per major: "PostgreSQL N: P passed, F failed, S skipped (root Xs, suites Ys)".
# DBM_BIN names the binary under test (default build/asan/db-migrate). When DBM_COUNTS_FILE
# is set, each major's counts are appended to it as "P F S", as run-integration.sh does.
# Exit status 1 when a suite failed or a root could not be made.
set -u
cd "$(dirname "$0")/.." || exit 2

majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(13 17 18)
export DBM_BIN=${DBM_BIN:-$PWD/build/asan/db-migrate}
[ -x "$DBM_BIN" ] || { echo "check-pg.sh: no binary at $DBM_BIN (make build/asan/db-migrate)" >&2; exit 2; }
outer=${DBM_COUNTS_FILE:-}
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
status=0
summary=()

for n in "${majors[@]}"; do
  echo "== PostgreSQL $n"
  t0=$(date +%s)
  if ! scripts/pg-root.sh prepare "$n"; then
    summary+=("PostgreSQL $n: 0 passed, 1 failed, 0 skipped (no root: see above)")
    [ -n "$outer" ] && echo "0 1 0" >>"$outer"
    status=1
    continue
  fi
  t1=$(date +%s)
  : >"$counts"
  PG=$n DBM_COUNTS_FILE=$counts tests/run-integration.sh || status=1
  t2=$(date +%s)
  read -r p f s < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$counts")
  summary+=("PostgreSQL $n: $p passed, $f failed, $s skipped (root $((t1 - t0))s, suites $((t2 - t1))s)")
  [ -n "$outer" ] && echo "$p $f $s" >>"$outer"
done

printf '%s\n' "${summary[@]}"
exit $status
