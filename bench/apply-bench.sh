#!/usr/bin/env bash
# apply-bench.sh BIN - 1,000 generated migrations (each a CREATE TABLE with a primary
# key, an index and a comment) applied by db-migrate, by psql (the reference: one
# script over one connection, one transaction per migration) and by dbmate 2.x from
# npm, each into a fresh database; then a no-op rerun of db-migrate and dbmate.
# The throwaway server runs without autovacuum: on two cores, vacuuming the thousands of
# tables the previous runs created would land on whichever tool runs next.
# Prints medians, peak memory and ratios; exits 1 when a target is missed.
# BENCH_COMPARE_BIN=OTHER also runs another build of db-migrate (say, the commit before a
# change) interleaved with BIN, and prints BIN's times over OTHER's: before and after,
# measured in the same run.
set -euo pipefail
BIN=$1
OTHER=${BENCH_COMPARE_BIN:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_MIGRATIONS:-1000}
REPS=${BENCH_REPS:-3}
PG_BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The server's files live in memory (/dev/shm) when it can: creating and dropping thousands of
# tables on a disk made the apply figures of every tool swing by a factor of three between runs.
# A container's default /dev/shm (64 MB) is too small for the three databases: 1 GiB free or /tmp.
shm_ok() { [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -ge 1048576 ]; }
TMPBASE=${BENCH_TMPDIR:-$(shm_ok && echo /dev/shm || echo /tmp)}
TMP=$(mktemp -d "$TMPBASE/dbm-bench.XXXXXX"); chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
cleanup() { as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust --nosync -U postgres -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c autovacuum=off" start >/dev/null
BASE="postgresql://postgres@127.0.0.1:$PORT"

# BENCH_RTT_MS=N: every tool reaches the server through bench/rttproxy.c, which adds N ms
# to each round trip, as a database in another network would (not part of `make bench`:
# the targets are defined on loopback).
RTT_MS=${BENCH_RTT_MS:-0}
if [ "$RTT_MS" != 0 ]; then
  PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cc -O2 -o "$TMP/rttproxy" "$ROOT/bench/rttproxy.c"
  "$TMP/rttproxy" "$PPORT" "$PORT" "$RTT_MS" > "$TMP/proxy.out" 2>&1 &
  PROXY=$!
  trap 'kill "$PROXY" 2>/dev/null || true; cleanup' EXIT
  for _ in $(seq 50); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
  BASE="postgresql://postgres@127.0.0.1:$PPORT"
  echo "apply-bench: every tool through a proxy adding $RTT_MS ms per round trip"
fi

# dbmate from npm, pinned in package-lock.json (make bench installs it).
[ -x "$ROOT/node_modules/.bin/dbmate" ] || (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
DBMATE="$ROOT/node_modules/.bin/dbmate"

mkdir -p "$TMP/m"
python3 "$ROOT/scripts/gen-migrations.py" "$TMP/m" "$N" "$TMP/reference.sql"

fresh() { echo "psql -X -q '$BASE/postgres' -c 'DROP DATABASE IF EXISTS $1' -c 'CREATE DATABASE $1'"; }
m() { python3 "$ROOT/bench/measure.py" "$@"; }

# The throwaway server has no TLS: every tool is told so (sslmode=disable), as dbmate must be.
# Interleaved: each repetition runs the reference, db-migrate and dbmate in turn, so a
# background load falls on all three alike; the medians are compared.
: > "$TMP/ref" ; : > "$TMP/dbm" ; : > "$TMP/mate"; : > "$TMP/noop"; : > "$TMP/matenoop"
: > "$TMP/other"; : > "$TMP/othernoop"
for _ in $(seq "$REPS"); do
  m 1 --setup "$(fresh ref)" -- psql -X -q -v ON_ERROR_STOP=1 -d "$BASE/ref?sslmode=disable" -f "$TMP/reference.sql" >> "$TMP/ref"
  m 1 --setup "$(fresh dbm)" -- "$BIN" apply --migrations-dir "$TMP/m" --database-url "$BASE/dbm?sslmode=disable" >> "$TMP/dbm"
  m 1 --setup "$(fresh mate)" -- "$DBMATE" --url "$BASE/mate?sslmode=disable" --migrations-dir "$TMP/m" --no-dump-schema up >> "$TMP/mate"
  [ -z "$OTHER" ] || m 1 --setup "$(fresh dbo)" -- "$OTHER" apply --migrations-dir "$TMP/m" --database-url "$BASE/dbo?sslmode=disable" >> "$TMP/other"
done
for _ in $(seq 9); do
  m 1 -- "$BIN" apply --migrations-dir "$TMP/m" --database-url "$BASE/dbm?sslmode=disable" >> "$TMP/noop"
  m 1 -- "$DBMATE" --url "$BASE/mate?sslmode=disable" --migrations-dir "$TMP/m" --no-dump-schema up >> "$TMP/matenoop"
  [ -z "$OTHER" ] || m 1 -- "$OTHER" apply --migrations-dir "$TMP/m" --database-url "$BASE/dbo?sslmode=disable" >> "$TMP/othernoop"
done
if [ -n "$OTHER" ]; then
  med_of() { sort -n -k1,1 "$TMP/$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  python3 - "$(med_of dbm)" "$(med_of other)" "$(med_of noop)" "$(med_of othernoop)" \
    "$(sort -n -k2,2 "$TMP/dbm" | tail -1 | cut -d' ' -f2)" "$(sort -n -k2,2 "$TMP/other" | tail -1 | cut -d' ' -f2)" <<'PY'
import sys
dbm, other, noop, othernoop, rss, orss = map(float, sys.argv[1:])
print("%-44s %12s   %s" % ("apply: BENCH_COMPARE_BIN", "%.0f ms" % other, "this build/other = %.2fx" % (dbm / other)))
print("%-44s %12s   %s" % ("no-op rerun: BENCH_COMPARE_BIN", "%.1f ms" % othernoop, "this build/other = %.2fx" % (noop / othernoop)))
print("%-44s %12s   %s" % ("peak memory of apply: BENCH_COMPARE_BIN", "%.1f MiB" % (orss / 1024), "this build/other = %.2fx" % (rss / orss)))
PY
fi
med() { sort -n -k1,1 "$TMP/$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxrss() { sort -n -k2,2 "$TMP/$1" | tail -1 | cut -d' ' -f2; }
ref_ms=$(med ref); dbm_ms=$(med dbm); mate_ms=$(med mate); noop_ms=$(med noop); matenoop_ms=$(med matenoop)
dbm_rss=$(maxrss dbm); noop_rss=$(maxrss noop)

python3 - "$N" "$ref_ms" "$dbm_ms" "$mate_ms" "$noop_ms" "$matenoop_ms" "$dbm_rss" "$noop_rss" <<'PY'
import sys
n, ref, dbm, mate, noop, matenoop, rss, noop_rss = sys.argv[1:]
ref, dbm, mate, noop, matenoop = map(float, (ref, dbm, mate, noop, matenoop))
peak = max(int(rss), int(noop_rss)) / 1024.0
rows = [
    ("apply %s migrations: db-migrate" % n, "%.0f ms" % dbm, ""),
    ("  psql reference (1 connection, 1 tx each)", "%.0f ms" % ref, "db-migrate/psql = %.2fx (target <= 1.15x)" % (dbm / ref)),
    ("  dbmate 2.x", "%.0f ms" % mate, "dbmate/db-migrate = %.1fx (target >= 2x)" % (mate / dbm)),
    ("no-op rerun: db-migrate", "%.1f ms" % noop, "target < 20 ms"),
    ("  dbmate 2.x", "%.1f ms" % matenoop, "dbmate/db-migrate = %.1fx (target >= 4x)" % (matenoop / noop)),
    ("peak memory: db-migrate", "%.1f MiB" % peak, "target < 16 MiB"),
]
for a, b, c in rows:
    print("%-44s %12s   %s" % (a, b, c))
ok = dbm / ref <= 1.15 and mate / dbm >= 2 and noop < 20 and matenoop / noop >= 4 and peak < 16
print("apply-bench: %s" % ("all targets met" if ok else "TARGET MISSED"))
sys.exit(0 if ok else 1)
PY
