#!/usr/bin/env bash
# check-hosts.sh [MODE...] - the suites that reach a server as `localhost`, under each
# /etc/hosts a machine may have (scripts/with-hosts.sh): debian (::1 then 127.0.0.1, Debian's
# default), ipv4 (127.0.0.1 only) and ipv6 (::1 only), all three by default.
#
# They are the TLS and SSH bastion tests (network.bats and the unit test test_tunnel, whose
# server certificate names localhost) and hosts.bats. Ends with one line per mode:
# "hosts MODE: P passed, F failed, S skipped (Ns)". PG and DBM_BIN as for
# tests/run-integration.sh; DBM_COUNTS_FILE, when set, gets each mode's "P F S".
# `make check HOSTS=MODE` runs every suite under one mode instead.
set -u
cd "$(dirname "$0")/.." || exit 2

modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(debian ipv4 ipv6)
export DBM_BIN=${DBM_BIN:-$PWD/build/asan/db-migrate}
unit=build/asan/tests/net/test_tunnel
for f in "$DBM_BIN" "$unit"; do
  [ -x "$f" ] || { echo "check-hosts.sh: no $f (make $unit build/asan/db-migrate)" >&2; exit 2; }
done
outer=${DBM_COUNTS_FILE:-}
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
status=0
summary=()

for m in "${modes[@]}"; do
  echo "== /etc/hosts: $m"
  t0=$(date +%s)
  : >"$counts"
  DBM_COUNTS_FILE=$counts scripts/with-hosts.sh "$m" sh -c \
    'tests/run-unit.sh "$1" && rc=0 || rc=1
     tests/run-integration.sh network.bats hosts.bats || rc=1
     exit $rc' sh "$unit" || status=1
  read -r p f s < <(awk '{p+=$1; f+=$2; s+=$3} END {print p+0, f+0, s+0}' "$counts")
  [ "$p$f$s" = 000 ] && f=1 # with-hosts.sh itself failed
  summary+=("hosts $m: $p passed, $f failed, $s skipped ($(($(date +%s) - t0))s)")
  [ -n "$outer" ] && echo "$p $f $s" >>"$outer"
done

printf '%s\n' "${summary[@]}"
exit $status
