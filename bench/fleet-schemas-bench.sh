#!/usr/bin/env bash
# fleet-schemas-bench.sh BIN - a schema per tenant: 1,000 tenant schemas in one database,
# 5 migrations each, applied by db-migrate from a schemas: target (each schema with its own
# history schema, run lock and search_path) at parallel 1 and 8, then a no-op rerun of each.
# The reference, measured in the same run, is what teams run today: a shell loop with one
# psql per schema, search_path set, one transaction per file (xargs -P 8 for parallel 8),
# and for the rerun the least such a loop costs, one psql connection and query per schema.
# The server is durable (fsync and synchronous_commit on, its files on disk): the first
# apply is mostly commits. Prints medians, ratios and peak memory; exits 1 when a target
# is missed.
set -euo pipefail
BIN=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${BENCH_SCHEMAS:-1000}
REPS=${BENCH_REPS:-1}
PG_BIN=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

TMP=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/dbm-fleet-schemas.XXXXXX"); chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
cleanup() { as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 >/dev/null
# 2,000 schemas of small tables: the catalog's locks need room (max_locks_per_transaction).
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c autovacuum=off -c max_connections=40" start >/dev/null
BASE="postgresql://postgres@127.0.0.1:$PORT"

# Five migrations in the native format: tables, an index, a foreign key, a column, a view.
mkdir -p "$TMP/m"
cat > "$TMP/m/001_accounts.sql" <<'SQL'
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now());
SQL
cat > "$TMP/m/002_projects.sql" <<'SQL'
CREATE TABLE projects (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id), name text NOT NULL);
CREATE INDEX projects_account_id ON projects (account_id);
SQL
cat > "$TMP/m/003_account_name.sql" <<'SQL'
ALTER TABLE accounts ADD COLUMN name text;
COMMENT ON COLUMN accounts.name IS 'shown in the app';
SQL
cat > "$TMP/m/004_events.sql" <<'SQL'
CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id bigint NOT NULL REFERENCES projects (id), kind text NOT NULL, at timestamptz NOT NULL);
CREATE INDEX events_project_at ON events (project_id, at);
SQL
cat > "$TMP/m/005_project_view.sql" <<'SQL'
CREATE VIEW project_counts AS SELECT p.id, p.name, count(e.id) AS events
  FROM projects p LEFT JOIN events e ON e.project_id = p.id GROUP BY p.id, p.name;
SQL

# The reference's script per schema: search_path, then each file in its own transaction.
mkdir -p "$TMP/ref"
for f in "$TMP"/m/*.sql; do printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"; done > "$TMP/ref/files.sql"

# fresh DB: a new database holding the N tenant schemas.
seq -f "CREATE SCHEMA tenant_%04g;" 1 "$N" > "$TMP/schemas.sql"
fresh() {
  echo "psql -X -q '$BASE/postgres' -c 'DROP DATABASE IF EXISTS $1' -c 'CREATE DATABASE $1' &&" \
    "psql -X -q -1 -f '$TMP/schemas.sql' '$BASE/$1'"
}
cat > "$TMP/db-migrate.yml.in" <<EOF
targets:
  - name: app
    database-url: $BASE/DB?sslmode=disable
    schemas: "select schema_name::text from information_schema.schemata where schema_name like 'tenant\\\\_%' and schema_name not like '%\\\\_db\\\\_migrate' order by 1"
EOF
# config DB: the fleet's file for database DB.
config() { sed "s|/DB?|/$1?|" "$TMP/db-migrate.yml.in" > "$TMP/$1.yml"; echo "$TMP/$1.yml"; }

# The shell loop teams run: one psql per schema, P at once.
cat > "$TMP/loop.sh" <<EOF
#!/usr/bin/env bash
# loop.sh DB P MODE: MODE apply runs the files in each schema; MODE check one query per schema.
db=\$1 p=\$2 mode=\$3
psql -X -At '$BASE/'"\$db" -c "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\\\_%' AND nspname NOT LIKE '%\\\\_db\\\\_migrate' ORDER BY 1" |
  xargs -P "\$p" -I{} sh -c 'if [ "\$2" = apply ]; then
      psql -X -q -v ON_ERROR_STOP=1 -d "\$1" -c "SET search_path TO \\"{}\\", public" -f "$TMP/ref/files.sql" >/dev/null
    else psql -X -q -At -d "\$1" -c "SELECT 1 FROM pg_namespace WHERE nspname = '"'"'{}'"'"'" >/dev/null; fi' _ "$BASE/\$db?sslmode=disable" "\$mode"
EOF
chmod +x "$TMP/loop.sh"

m() { python3 "$ROOT/bench/measure.py" "$@"; }
for f in ref1 ref8 dbm1 dbm8 noop1 noop8 refnoop1 refnoop8; do : > "$TMP/$f"; done
cd "$TMP/m/.."   # not a git repository: no deployed-commit diff, as in a plain checkout copy
for _ in $(seq "$REPS"); do
  m 1 --setup "$(fresh r1)" -- "$TMP/loop.sh" r1 1 apply >> "$TMP/ref1"
  m 1 --setup "$(fresh d1)" -- "$BIN" apply --config "$(config d1)" --migrations-dir "$TMP/m" --parallel 1 >> "$TMP/dbm1"
  m 1 --setup "$(fresh r8)" -- "$TMP/loop.sh" r8 8 apply >> "$TMP/ref8"
  m 1 --setup "$(fresh d8)" -- "$BIN" apply --config "$(config d8)" --migrations-dir "$TMP/m" --parallel 8 >> "$TMP/dbm8"
done
# Every schema got the five tables and view, and its own history.
tables=$(psql -X -At "$BASE/d8" -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE nspname LIKE 'tenant\\_%' AND nspname NOT LIKE '%\\_db\\_migrate' AND relname IN ('accounts','projects','events','project_counts')")
hist=$(psql -X -At "$BASE/d8" -c "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%\\_db\\_migrate'")
[ "$tables" = $((4 * N)) ] && [ "$hist" = "$N" ] || { echo "fleet-schemas-bench: the apply left $tables tables and $hist histories, not $((4 * N)) and $N" >&2; exit 1; }
for _ in $(seq 3); do
  m 1 -- "$BIN" apply --config "$(config d1)" --migrations-dir "$TMP/m" --parallel 1 >> "$TMP/noop1"
  m 1 -- "$BIN" apply --config "$(config d8)" --migrations-dir "$TMP/m" --parallel 8 >> "$TMP/noop8"
  m 1 -- "$TMP/loop.sh" r1 1 check >> "$TMP/refnoop1"
  m 1 -- "$TMP/loop.sh" r8 8 check >> "$TMP/refnoop8"
done

med() { sort -n -k1,1 "$TMP/$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
maxrss() { sort -n -k2,2 "$TMP/$1" | tail -1 | cut -d' ' -f2; }
python3 - "$N" "$(med ref1)" "$(med ref8)" "$(med dbm1)" "$(med dbm8)" "$(med noop1)" "$(med noop8)" \
  "$(med refnoop1)" "$(med refnoop8)" "$(maxrss dbm1)" "$(maxrss dbm8)" "$(maxrss noop8)" <<'PY'
import sys
n = int(sys.argv[1])
ref1, ref8, dbm1, dbm8, noop1, noop8, rnoop1, rnoop8 = map(float, sys.argv[2:10])
rss1, rss8, rssnoop = (int(x) / 1024.0 for x in sys.argv[10:13])
rows = [
    ("first apply, %d schemas x 5: parallel 1" % n, "%.1f s" % (dbm1 / 1000), "%.1f ms a schema" % (dbm1 / n)),
    ("  psql loop, 1 at a time", "%.1f s" % (ref1 / 1000), "db-migrate/loop = %.2fx (target <= 2.5x)" % (dbm1 / ref1)),
    ("first apply: parallel 8", "%.1f s" % (dbm8 / 1000), "parallel 1/parallel 8 = %.2fx" % (dbm1 / dbm8)),
    ("  psql loop, 8 at a time (xargs -P 8)", "%.1f s" % (ref8 / 1000), "db-migrate/loop = %.2fx (target <= 1.5x)" % (dbm8 / ref8)),
    ("no-op rerun: parallel 1", "%.1f s" % (noop1 / 1000), "%.1f ms a schema" % (noop1 / n)),
    ("  psql loop, 1 query a schema", "%.1f s" % (rnoop1 / 1000), "db-migrate/loop = %.2fx (target <= 1x)" % (noop1 / rnoop1)),
    ("no-op rerun: parallel 8", "%.1f s" % (noop8 / 1000), "%.1f ms a schema" % (noop8 / n)),
    ("  psql loop, 8 at a time", "%.1f s" % (rnoop8 / 1000), "db-migrate/loop = %.2fx (target <= 1x)" % (noop8 / rnoop8)),
    ("peak memory: parallel 1, 8, rerun 8", "%.1f MiB" % max(rss1, rss8, rssnoop), "%.1f, %.1f, %.1f MiB (target < 64 MiB)" % (rss1, rss8, rssnoop)),
]
for a, b, c in rows:
    print("%-44s %12s   %s" % (a, b, c))
# A tenant's first run also creates and writes its history: about twice the loop's commits,
# which 8 at once share. The loop's rerun is the least a loop can do: db-migrate does more.
ok = (dbm1 / ref1 <= 2.5 and dbm8 / ref8 <= 1.5 and max(noop1 / rnoop1, noop8 / rnoop8) <= 1
      and max(rss1, rss8, rssnoop) < 64)
print("fleet-schemas-bench: %s" % ("all targets met" if ok else "TARGET MISSED"))
sys.exit(0 if ok else 1)
PY
