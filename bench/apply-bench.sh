#!/usr/bin/env bash
# apply-bench.sh BIN - 1,000 generated migrations (each a CREATE TABLE with a primary
# key, an index and a comment) applied by db-migrate, by psql (the reference: one
# script over one connection, one transaction per migration) and by dbmate 2.x from
# npm, each into a fresh database; then a no-op rerun of db-migrate and dbmate.
# The server is durable (fsync and synchronous_commit on, its files on disk), as a
# deploy's database is: every tool pays a WAL flush per commit. The throwaway server runs
# without autovacuum: on two cores, vacuuming the thousands of tables the previous runs
# created would land on whichever tool runs next.
# Prints medians, peak memory and ratios; exits 1 when a target is missed.
# BENCH_COMPARE_BIN=OTHER also runs another build of db-migrate (say, the commit before a
# change) interleaved with BIN, and prints BIN's times over OTHER's: before and after,
# measured in the same run.
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
OTHER=${BENCH_COMPARE_BIN:-}
[ -z "$OTHER" ] || OTHER=$(cd "$(dirname "$OTHER")" && pwd)/$(basename "$OTHER")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_MIGRATIONS:-1000}
REPS=${BENCH_REPS:-5}
NOOP_REPS=${BENCH_NOOP_REPS:-11}
PG_BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# On disk, a run's creating and dropping of thousands of tables made every tool's figures
# swing by a factor of three from one run to the next, when the server was left to itself:
# the previous run's dirty pages and deleted files were written out, and checkpoints
# started, while the next tool ran. So nothing of the kind is left to land in a timed run:
# - no checkpoint starts on its own (checkpoint_timeout of an hour; max_wal_size far above
#   the WAL of one apply), and the WAL segments a run needs are made once, by an untimed
#   warm-up apply, then recycled (min_wal_size keeps them);
# - before each timed run (untimed): the previous database of that tool dropped, a fresh
#   one created, a CHECKPOINT, then the file system synced (the server's data written and
#   the dropped files' blocks freed before the clock starts);
# - the tools take turns in each repetition, in an order rotated from one repetition to the
#   next, so that a background load or a slow spell of the disk falls on all alike; medians
#   of BENCH_REPS (5) are compared.
TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/dbm-bench.XXXXXX"); chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
cleanup() { as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c autovacuum=off -c checkpoint_timeout=1h -c max_wal_size=8GB -c min_wal_size=2GB -c log_checkpoints=on" start >/dev/null
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

m() { python3 "$ROOT/bench/measure.py" "$@"; }
# The setups below run in measure.py's shell (sh), untimed.
PSQL="PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 '$BASE/postgres'"
# QUIET: the server's dirty buffers written (CHECKPOINT) and the file system synced, so
# that none of the previous runs' writes lands in the next timed one.
QUIET="$PSQL -c CHECKPOINT >/dev/null && sync -f '$TMP/data'"
# fresh DB: the tool's database from the previous repetition dropped, a new one, quiet.
fresh() { echo "$PSQL -c 'DROP DATABASE IF EXISTS $1' -c 'CREATE DATABASE $1' >/dev/null && $QUIET"; }

# A tool's command, into CMD (measure.py runs it itself: no shell's start-up in the time).
# The throwaway server has no TLS: every tool is told so (sslmode=disable), as dbmate must be.
url() { echo "$BASE/$1?sslmode=disable"; }
cmd() {
  case $1 in
    ref) CMD=(psql -X -q -v ON_ERROR_STOP=1 -d "$(url ref)" -f "$TMP/reference.sql") ;;
    dbm) CMD=("$BIN" apply --migrations-dir "$TMP/m" --database-url "$(url dbm)") ;;
    mate) CMD=("$DBMATE" --url "$(url mate)" --migrations-dir "$TMP/m" --no-dump-schema up) ;;
    other) CMD=("$OTHER" apply --migrations-dir "$TMP/m" --database-url "$(url other)") ;;
  esac
}
TOOLS=(ref dbm mate)
[ -z "$OTHER" ] || TOOLS+=(other)
# Untimed warm-up: the server's WAL segments made (later runs recycle them), the files and
# binaries in the page cache.
sh -c "$(fresh warm)"
psql -X -q -v ON_ERROR_STOP=1 -d "$(url warm)" -f "$TMP/reference.sql" >/dev/null
psql -X -q "$BASE/postgres" -c 'DROP DATABASE warm'

# Interleaved: each repetition runs every tool once, starting one further along the list
# than the repetition before; the medians are compared.
for f in "${TOOLS[@]}"; do : > "$TMP/$f"; : > "$TMP/${f}noop"; done
cd "$TMP"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 0 $((REPS - 1))); do
  for i in $(seq 0 $((${#TOOLS[@]} - 1))); do
    t=${TOOLS[$(((r + i) % ${#TOOLS[@]}))]}
    cmd "$t"
    m 1 --setup "$(fresh "$t")" -- "${CMD[@]}" >> "$TMP/$t"
  done
done
# The no-op reruns, on each tool's database of the last repetition, each after a CHECKPOINT.
# (The reference has none: psql would run the script again.) A no-op is not read-only:
# db-migrate records the run (a runs row, its lease taken and dropped) and commits it.
for r in $(seq 0 $((NOOP_REPS - 1))); do
  for i in $(seq 0 $((${#TOOLS[@]} - 1))); do
    t=${TOOLS[$(((r + i) % ${#TOOLS[@]}))]}
    [ "$t" != ref ] || continue
    cmd "$t"
    m 1 --setup "$QUIET" -- "${CMD[@]}" >> "$TMP/${t}noop"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
checkpoints=$(grep -c 'checkpoint starting: time\|checkpoint starting: wal' "$TMP/log" || true)
# A durable commit's latency on this server (one session, an INSERT each): what every tool
# pays per transaction, and db-migrate's no-op once.
psql -X -q "$BASE/postgres" -c 'CREATE TABLE probe (x int)'
commit_ms=$("$PG_BIN/pgbench" -n -t 300 -f /dev/stdin "$(url postgres)" <<<'INSERT INTO probe VALUES (1);' 2>/dev/null |
  awk -F'= ' '/latency average/ { print $2 + 0 }')
echo "apply-bench: load average $load_before before, $load_after after; a durable commit took $commit_ms ms;" \
  "checkpoints the server started by itself: $checkpoints"
for f in "${TOOLS[@]}" "${TOOLS[@]/%/noop}"; do
  if [ -s "$TMP/$f" ]; then echo "  $f, every run (ms): $(cut -d' ' -f1 "$TMP/$f" | sort -n | tr '\n' ' ')"; fi
done
if [ -n "$OTHER" ]; then
  med_of() { sort -n -k1,1 "$TMP/$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  python3 - "$(med_of dbm)" "$(med_of other)" "$(med_of dbmnoop)" "$(med_of othernoop)" \
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
ref_ms=$(med ref); dbm_ms=$(med dbm); mate_ms=$(med mate); noop_ms=$(med dbmnoop); matenoop_ms=$(med matenoop)
dbm_rss=$(maxrss dbm); noop_rss=$(maxrss dbmnoop)

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
