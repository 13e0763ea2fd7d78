#!/usr/bin/env bash
# fleet-bench.sh BIN - a fleet: 50 databases x 20 migrations each, every connection through
# bench/rttproxy.c adding a 5 ms round trip (databases in another network than the job).
#
# Measured, each on 50 fresh databases (created from a template with a 1,000-row table and
# connected to once, as a database in service has been; untimed): db-migrate apply over the
# 50 targets of db-migrate.yml with parallel 1, 8 and 16, and a shell loop running dbmate 2.x
# (npm) on each of the 50 in turn, what teams do without a fleet; the same files serve both
# (dbmate's format). The server is durable (fsync and synchronous_commit on, its files on
# disk). Runs are interleaved, so a background load falls on all alike; medians of
# BENCH_REPS (3) are compared.
# Targets: parallel 8 at least 5x faster than parallel 1 and at least 20x faster than the
# dbmate loop; peak memory grows by less than 2 MiB per connection in flight (parallel 1
# to 16). Also printed: db-migrate's CPU time at parallel 8 against its wall time, and the
# server's (on the same cores: a fleet's databases are on servers of their own, so whatever
# the server's CPU costs parallel 8 here is this machine's, not db-migrate's); the mean time
# of a target at parallel 1 and 8; and a rerun with nothing to do at parallel 1 and 8, which
# leaves the server nearly idle. Exits 1 when a target is missed.
# Before measuring, the proxy is checked: 16 clients at once and 200 connections in a row
# must each see the round trip it adds, not more (else the figures would be the proxy's).
set -euo pipefail
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
NDB=${BENCH_FLEET_DBS:-50}
NMIG=${BENCH_FLEET_MIGRATIONS:-20}
REPS=${BENCH_REPS:-3}
RTT_MS=${BENCH_FLEET_RTT_MS:-5}
PG_BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Durable: the server's files on disk (not /dev/shm), fsync on. Without autovacuum, as in
# apply-bench.sh: its workers visiting the 50 databases would land on whichever run is next.
TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/dbm-fleet-bench.XXXXXX"); chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
PROXY=
cleanup() {
  [ -z "$PROXY" ] || kill "$PROXY" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
PORT=$(free_port)
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200 -c autovacuum=off" \
  start >/dev/null
DIRECT="postgresql://postgres@127.0.0.1:$PORT"
PPORT=$(free_port)
cc -O2 -o "$TMP/rttproxy" "$ROOT/bench/rttproxy.c"
"$TMP/rttproxy" "$PPORT" "$PORT" "$RTT_MS" > "$TMP/proxy.out" 2>&1 &
PROXY=$!
for _ in $(seq 50); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
VIA="postgresql://postgres@127.0.0.1:$PPORT"

# dbmate from npm, pinned in package-lock.json (make bench installs it).
[ -x "$ROOT/node_modules/.bin/dbmate" ] || (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
DBMATE="$ROOT/node_modules/.bin/dbmate"

# The proxy must add the round trip and nothing more, for one client, for 16 at once and for
# connections in a row: pgbench's mean latency of SELECT 1 (a round trip each), and of a
# connection each (-C: startup, authentication, query and close).
psql -X -q "$DIRECT/postgres" -c 'CREATE DATABASE probe' >/dev/null
probe() { "$PG_BIN/pgbench" -n -f /dev/stdin "$@" "$VIA/probe?sslmode=disable" <<<'SELECT 1;' 2>/dev/null |
  awk -F'= ' '/latency average/ { print $2 + 0 }'; }
lat1=$(probe -c 1 -t 200); lat16=$(probe -c 16 -j 2 -t 100); latc=$(probe -C -c 1 -t 200)
python3 - "$RTT_MS" "$lat1" "$lat16" "$latc" <<'PY'
import sys
rtt, one, many, conn = map(float, sys.argv[1:])
print("proxy: %.0f ms round trip; SELECT 1 takes %.2f ms alone, %.2f ms with 16 clients; "
      "a connection each: %.2f ms" % (rtt, one, many, conn))
# A query is one round trip; 16 clients at once must not queue in the proxy.
# (A loaded machine adds its scheduling delays to every round trip, for every tool alike.)
if one > rtt * 1.2 + 1 or many > rtt * 1.2 + 1:
    sys.exit("fleet-bench: the proxy adds more than the round trip: its figures would be wrong")
PY

# The project: a git repository with the migrations (a job's checkout), the targets in its
# db-migrate.yml. The databases' template holds a table with 1,000 rows, as a tenant's would.
# The 20 migrations, 4 kinds 5 times over: a table (identity key, foreign key to accounts),
# an index on it, a column added to accounts, and a small data update (the new column set
# on a few accounts).
P=$TMP/project
mkdir -p "$P/db/migrations"
python3 - "$P/db/migrations" "$NMIG" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(1, n + 1):
    k, kind = (i - 1) // 4 + 1, (i - 1) % 4
    if kind == 0:
        up = (f"CREATE TABLE item_{k} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n"
              f"    account_id bigint NOT NULL REFERENCES accounts (id),\n    name text NOT NULL,\n"
              f"    created_at timestamptz NOT NULL DEFAULT now()\n);\n")
        down, name = f"DROP TABLE item_{k};\n", f"create_item_{k}"
    elif kind == 1:
        up = f"CREATE INDEX item_{k}_account_idx ON item_{k} (account_id, created_at);\n"
        down, name = f"DROP INDEX item_{k}_account_idx;\n", f"index_item_{k}"
    elif kind == 2:
        up = f"ALTER TABLE accounts ADD COLUMN feature_{k} boolean;\n"
        down, name = f"ALTER TABLE accounts DROP COLUMN feature_{k};\n", f"add_feature_{k}"
    else:
        up = f"UPDATE accounts SET feature_{k} = true WHERE id <= 25 AND plan = 'pro';\n"
        down, name = f"UPDATE accounts SET feature_{k} = NULL;\n", f"enable_feature_{k}"
    with open(f"{d}/{20250101000000 + i}_{name}.sql", "w") as f:
        f.write("-- migrate:up\n" + up + "\n-- migrate:down\n" + down)
PY
{
  echo "migrations-dir: db/migrations"
  echo "targets:"
  for i in $(seq -w 1 "$NDB"); do
    printf '  - name: tenant-%s\n    database-url: %s/fleet_%s?sslmode=disable\n' "$i" "$VIA" "$i"
  done
} > "$P/db-migrate.yml"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
git -C "$P" init -q -b main
git -C "$P" add -A
git -C "$P" -c user.name=bench -c user.email=bench@example.com commit -q -m migrations
for i in $(seq -w 1 "$NDB"); do echo "$VIA/fleet_$i?sslmode=disable"; done > "$TMP/urls"

psql -X -q -v ON_ERROR_STOP=1 "$DIRECT/postgres" >/dev/null <<'SQL'
CREATE DATABASE fleet_template;
\c fleet_template
CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, plan text NOT NULL,
                       created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO accounts (id, name, plan)
SELECT g, 'account ' || g, (ARRAY['free', 'team', 'pro'])[g % 3 + 1] FROM generate_series(1, 1000) g;
VACUUM ANALYZE accounts;
SQL
# fresh: the 50 databases dropped and created again from the template (untimed).
for i in $(seq -w 1 "$NDB"); do
  echo "DROP DATABASE IF EXISTS fleet_$i;"
  echo "CREATE DATABASE fleet_$i TEMPLATE fleet_template;"
done > "$TMP/fresh.sql"
echo "CHECKPOINT;" >> "$TMP/fresh.sql"
# Then one connection to each, as a fleet's long-lived databases have had. The first backend
# of a database copied a moment ago builds its relation cache init file
# (base/OID/pg_internal.init), which every later connection reads: measured here, the
# server's CPU for an apply on such a database was 6 ms more (46 ms against 40) than on one
# connected to once. A database in service has the file; without this, whichever tool ran
# first would pay for it on each of the 50.
for i in $(seq -w 1 "$NDB"); do echo "\\c fleet_$i"; done >> "$TMP/fresh.sql"
# fresh: untimed, and the server quiet after it: the copies checkpointed (their WAL would
# start a checkpoint in the measured run), warmed, and the sessions that did it gone (their
# CPU time would be counted in the run's).
fresh() {
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 "$DIRECT/postgres" -f "$TMP/fresh.sql" >/dev/null
  for _ in $(seq 50); do
    [ "$(psql -X -At "$DIRECT/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")" = 0 ] && break
    sleep 0.1
  done
  sleep 0.2
}
# The server's CPU time so far (ms): its ended backends' is in the postmaster's children's.
PM=$(head -1 "$TMP/data/postmaster.pid")
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ print ($16 + $17) * 1000 / hz }' "/proc/$PM/stat"; }
# run NAME CMD...: CMD on 50 fresh databases; appends "ms max_rss_kib cpu_ms server_cpu_ms".
# again NAME CMD...: the same on the databases as they are (a rerun with nothing to do).
again() {
  local name=$1 before out
  shift
  before=$(server_cpu)
  out=$(python3 "$ROOT/bench/measure.py" 1 -- "$@")
  echo "$out $(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN { print b - a }')" >> "$TMP/$name"
}
run() {
  local name=$1 before out
  shift
  fresh
  before=$(server_cpu)
  out=$(python3 "$ROOT/bench/measure.py" 1 -- "$@")
  echo "$out $(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN { print b - a }')" >> "$TMP/$name"
}

# The shell loop teams run today: dbmate on each database in turn.
cat > "$TMP/loop.sh" <<EOF
#!/usr/bin/env bash
set -e
while read -r url; do
  "$DBMATE" --url "\$url" --migrations-dir "$P/db/migrations" --no-dump-schema up
done < "$TMP/urls"
EOF
chmod +x "$TMP/loop.sh"

# Whether every database got every migration (a run that did less would be faster).
check() {
  local want=$1 q=$2 bad=0
  for i in $(seq -w 1 "$NDB"); do
    [ "$(psql -X -At "$DIRECT/fleet_$i" -c "$q")" = "$want" ] || bad=$((bad + 1))
  done
  [ "$bad" -eq 0 ] || { echo "fleet-bench: $bad databases lack migrations after $3" >&2; exit 1; }
}
DBM_Q="SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'"
MATE_Q="SELECT count(*) FROM schema_migrations"

: > "$TMP/p1"; : > "$TMP/p8"; : > "$TMP/p16"; : > "$TMP/mate"; : > "$TMP/n1"; : > "$TMP/n8"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Each fresh run of db-migrate writes its JSON report (a target's mean time comes from it),
# all three alike, so that their peaks of memory compare.
cd "$P"
for _ in $(seq "$REPS"); do
  run p1 "$BIN" apply --parallel 1 --report-file "$TMP/p1.json"; check "$NMIG" "$DBM_Q" "parallel 1"
  run p8 "$BIN" apply --parallel 8 --report-file "$TMP/p8.json"; check "$NMIG" "$DBM_Q" "parallel 8"
  run p16 "$BIN" apply --parallel 16 --report-file "$TMP/p16.json"; check "$NMIG" "$DBM_Q" "parallel 16"
  again n1 "$BIN" apply --parallel 1; again n8 "$BIN" apply --parallel 8
  run mate "$TMP/loop.sh"; check "$NMIG" "$MATE_Q" "the dbmate loop"
done
cd "$ROOT"

med() { sort -n -k"${2:-1}","${2:-1}" "$TMP/$1" | awk -v f="${2:-1}" '{a[NR]=$f} END {print a[int((NR+1)/2)]}'; }
maxrss() { sort -n -k2,2 "$TMP/$1" | tail -1 | cut -d' ' -f2; }
# The mean time a target took in the last run NAME (its report): the server's share grows with
# the targets at once when it has the machine's cores to share.
mean_target() { jq '[.targets[].duration_ms] | add / length' "$TMP/$1.json"; }
echo "fleet-bench: $(nproc) cores; load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
python3 - "$NDB" "$NMIG" "$RTT_MS" "$(med p1)" "$(med p8)" "$(med p16)" "$(med mate)" \
  "$(maxrss p1)" "$(maxrss p8)" "$(maxrss p16)" "$(med p8 3)" "$(med p8 4)" "$(med p1 4)" "$(nproc)" \
  "$(med n1)" "$(med n8)" "$(mean_target p1)" "$(mean_target p8)" <<'PY'
import sys
ndb, nmig, rtt = sys.argv[1:4]
p1, p8, p16, mate = (float(x) / 1000 for x in sys.argv[4:8])
rss1, rss8, rss16 = (int(x) / 1024.0 for x in sys.argv[8:11])
cpu8, srv8, srv1 = (float(x) / 1000 for x in sys.argv[11:14])
cores = int(sys.argv[14])
n1, n8 = (float(x) / 1000 for x in sys.argv[15:17])
t1, t8 = (float(x) for x in sys.argv[17:19])
# MiB per connection in flight beyond the first (never more connections than databases)
per = max((rss8 - rss1) / max(1, min(8, int(ndb)) - 1), (rss16 - rss1) / max(1, min(16, int(ndb)) - 1))
rows = [
    ("apply, %s databases x %s migrations, %s ms RTT" % (ndb, nmig, rtt), "", ""),
    ("  db-migrate parallel 1", "%.2f s" % p1, "peak %.1f MiB" % rss1),
    ("  db-migrate parallel 8", "%.2f s" % p8,
     "parallel 1/parallel 8 = %.1fx (target >= 5x)" % (p1 / p8)),
    ("  db-migrate parallel 16", "%.2f s" % p16, "parallel 1/parallel 16 = %.1fx" % (p1 / p16)),
    ("  shell loop of dbmate 2.x", "%.2f s" % mate,
     "dbmate loop/parallel 8 = %.1fx (target >= 20x)" % (mate / p8)),
    ("memory per connection in flight", "%.2f MiB" % per,
     "peak %.1f MiB at parallel 1, %.1f at 8, %.1f at 16 (target < 2 MiB)" % (rss1, rss8, rss16)),
    ("CPU at parallel 8: db-migrate", "%.2f s" % cpu8,
     "%.0f%% of one core over the run's %.2f s (%d cores)" % (100 * cpu8 / p8, p8, cores)),
    ("  PostgreSQL (same machine)", "%.2f s" % srv8,
     "%.0f ms a database (%.0f ms at parallel 1)" % (1000 * srv8 / int(ndb), 1000 * srv1 / int(ndb))),
    ("a target's time: parallel 1 / parallel 8", "%.0f ms" % t1, "%.0f ms at parallel 8" % t8),
    ("rerun, nothing to do: parallel 1", "%.2f s" % n1, ""),
    ("  parallel 8", "%.2f s" % n8, "parallel 1/parallel 8 = %.1fx (the server nearly idle)" % (n1 / n8)),
]
for a, b, c in rows:
    print("%-44s %10s   %s" % (a, b, c))
ok = p1 / p8 >= 5 and mate / p8 >= 20 and per < 2
print("fleet-bench: %s" % ("all targets met" if ok else "TARGET MISSED"))
sys.exit(0 if ok else 1)
PY
