# helpers.bash - shared set-up for the integration suites.
#
# Each suite starts its own PostgreSQL in a temporary directory in setup_file
# (pg_start) and stops it in teardown_file (pg_stop); each test gets a fresh
# database (new_db). Nothing listens beyond 127.0.0.1 and nothing is left
# running.
#
# PG names the major version under test: 15 (the default) is the host's
# postgresql-15; 13, 17 and 18 run from Debian roots that scripts/pg-root.sh
# builds once and caches, chrooted, with the data directory under /tmp (the
# same path inside the root and out). Clients (libpq, psql, db-migrate) are the
# host's and reach the server over TCP on 127.0.0.1; pg_dump_schema picks a
# pg_dump that can dump the server.

PG=${PG:-15}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DBM=${DBM_BIN:-$BATS_TEST_DIRNAME/../../build/asan/db-migrate}
REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PG_ROOT_SH=$REPO_ROOT/scripts/pg-root.sh
CORPORA=${DBM_CORPORA:-$REPO_ROOT/../shared/corpora}
# Beside a worktree under wt/, the corpora sit one level further up.
[ -d "$CORPORA" ] || [ -n "${DBM_CORPORA:-}" ] || CORPORA=$REPO_ROOT/../../shared/corpora

# need_corpus NAME: skip the test, saying how to get them, when the shared corpora are absent.
need_corpus() {
  [ -d "$CORPORA/$1" ] && return 0
  skip "corpus $1 not found: set DBM_CORPORA to a checkout of the shared corpora"
}

# need_pg MAJOR WHY: skip the test, saying why, on a PostgreSQL older than MAJOR.
need_pg() {
  [ "$PG" -ge "$1" ] && return 0
  skip "needs PostgreSQL $1 or later ($2); this run is on $PG"
}

# schema_diff EXPECTED ACTUAL: diff -u of two pg_dump outputs, without the lines that name
# the server and pg_dump versions (a patch release changes them, not the schema).
# EXPECTED is a corpus's expected-schema.sql, which PostgreSQL 15 wrote. On another major,
# the reference is built again on the server under test (schema_reference) and EXPECTED
# only names its corpus, since other majors keep or print the same migrations differently,
# none of it db-migrate's doing: 13's public schema has another owner and ACL, and 13
# prints AT TIME ZONE as timezone(); from 16 a view over one table names its columns without
# the table; pg_dump 17 writes ALTER SEQUENCE or ALTER VIEW for an owner and adds SET
# transaction_timeout; 18 keeps NOT NULL constraints with names, and prints those a rename
# left with a name not the default.
schema_diff() {
  local expected=$1
  [ "$PG" = 15 ] || expected=$(schema_reference "$1") || return 1
  diff -u <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$expected") \
    <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$2")
}

# schema_reference EXPECTED: the path of the reference schema of EXPECTED's corpus on the
# server under test: the corpus applied with plain psql (the corpora's apply-with-psql.sh,
# which made EXPECTED on 15) to a scratch database, dumped with pg_dump_schema and EXPECTED's
# restrict key. Made once per suite and corpus folder; fails, saying why, when the corpus
# does not apply.
schema_reference() {
  local dir key ref db log
  dir=$(cd "$(dirname "$1")" && pwd)
  ref="$PGTEST_DIR/reference.$(printf '%s' "$dir" | md5sum | cut -c1-16).sql"
  if [ ! -s "$ref" ]; then
    [ -f "$dir/SOURCE.txt" ] && [ -x "$CORPORA/apply-with-psql.sh" ] || {
      echo "schema_diff: $1 is not beside a corpus that $CORPORA/apply-with-psql.sh can apply" >&2
      return 1
    }
    key=$(sed -n 's/^\\restrict //p' "$1" | head -1)
    db="ref_$RANDOM$RANDOM"
    log=$ref.log
    psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE $db" >/dev/null || return 1
    if ! "$CORPORA/apply-with-psql.sh" "$dir" "$PGTEST_URL_BASE/$db" >"$log" 2>&1; then
      echo "schema_diff: the reference (apply-with-psql.sh) fails on PostgreSQL $PG:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    pg_dump_schema ${key:+"--restrict-key=$key"} "$PGTEST_URL_BASE/$db" >"$ref.part" &&
      mv "$ref.part" "$ref" || return 1
    psql -X -q "$PGTEST_URL_BASE/postgres" -c "DROP DATABASE $db" >/dev/null
  fi
  echo "$ref"
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Run a command as the postgres user when we are root (initdb refuses root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_tool NAME ARGS...: the PostgreSQL server program NAME (initdb, pg_ctl, pg_dump...) of
# the major under test, run as the postgres user: the host's for 15, else in its root.
pg_tool() {
  local name=$1
  shift
  if [ "$PG" = 15 ]; then
    as_pg "$PG_BIN/$name" "$@"
  else
    "$PG_ROOT_SH" exec "$PG" "$name" "$@"
  fi
}

# pg_start [extra postgres -c options...]: exports PGTEST_DIR, PGTEST_PORT, PGTEST_URL_BASE.
# Files named in the options must be under /tmp when PG is not 15 (the root sees only that).
pg_start() {
  case "$PG" in
    15) ;;
    13 | 17 | 18) "$PG_ROOT_SH" prepare "$PG" || return 1 ;;
    *) echo "PG=$PG: the suites run against PostgreSQL 13, 15, 17 or 18" >&2; return 1 ;;
  esac
  PGTEST_DIR=$(mktemp -d /tmp/dbm-pg.XXXXXX)
  chmod 755 "$PGTEST_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PGTEST_DIR"
  PGTEST_PORT=$(free_port)
  pg_tool initdb -D "$PGTEST_DIR/data" -A trust --nosync -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  local opts="-p $PGTEST_PORT -k $PGTEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
  for o in "$@"; do opts="$opts -c $o"; done
  pg_tool pg_ctl -D "$PGTEST_DIR/data" -o "$opts" -l "$PGTEST_DIR/log" -w start >/dev/null || {
    tail -20 "$PGTEST_DIR/log" >&2
    return 1
  }
  export PGTEST_DIR PGTEST_PORT
  export PGTEST_URL_BASE="postgresql://postgres@127.0.0.1:$PGTEST_PORT"
}

pg_stop() {
  [ -n "${PGTEST_DIR:-}" ] || return 0
  pg_tool pg_ctl -D "$PGTEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGTEST_DIR"
}

# pgb_start [pool_size]: PgBouncer in transaction pooling mode in front of the test
# PostgreSQL (pg_start first), in a temporary directory, as the postgres user. Exports
# PGB_DIR, PGB_PORT and PGB_URL_BASE (PGTEST_URL_BASE's equivalent through the pooler).
# Every database of the server is reachable by its name; each has pool_size server
# connections (default 2), so the clients share them as a busy pooler's do.
pgb_start() {
  PGB_DIR=$(mktemp -d /tmp/dbm-pgb.XXXXXX)
  PGB_PORT=$(free_port)
  cat > "$PGB_DIR/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$PGTEST_PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $PGB_DIR
pidfile = $PGB_DIR/pgbouncer.pid
logfile = $PGB_DIR/pgbouncer.log
auth_type = trust
auth_file = $PGB_DIR/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = ${1:-2}
max_client_conn = 200
server_reset_query =
ignore_startup_parameters = extra_float_digits
INI
  printf '"postgres" ""\n' > "$PGB_DIR/users.txt"
  chmod 755 "$PGB_DIR"
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$PGB_DIR"
  as_pg /usr/sbin/pgbouncer -d -q "$PGB_DIR/pgbouncer.ini" || {
    cat "$PGB_DIR/pgbouncer.log" >&2
    return 1
  }
  for _ in $(seq 50); do
    psql -X -q -At "postgresql://postgres@127.0.0.1:$PGB_PORT/postgres" -c 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  export PGB_DIR PGB_PORT PGB_URL_BASE="postgresql://postgres@127.0.0.1:$PGB_PORT"
}

pgb_stop() {
  [ -n "${PGB_DIR:-}" ] || return 0
  [ -f "$PGB_DIR/pgbouncer.pid" ] && kill "$(cat "$PGB_DIR/pgbouncer.pid")" 2>/dev/null
  for _ in $(seq 50); do [ -f "$PGB_DIR/pgbouncer.pid" ] || break; sleep 0.1; done
  rm -rf "$PGB_DIR"
}

# pgb_url: the test database (new_db) through PgBouncer.
pgb_url() {
  printf '%s/%s\n' "$PGB_URL_BASE" "$DBNAME"
}

# pgb_show WHAT: PgBouncer's admin console SHOW WHAT (pools, servers, clients...).
pgb_show() {
  psql -X -q -At "$PGB_URL_BASE/pgbouncer" -c "SHOW $1"
}

# pg_reload: the server rereads its configuration files (pg_hba.conf, postgresql.conf).
pg_reload() {
  pg_tool pg_ctl -D "$PGTEST_DIR/data" reload >/dev/null
}

# pg_dump_schema ARGS...: pg_dump --schema-only ARGS with a pg_dump that can dump the server
# under test: the host's 15 for 13 and 15 (so the output is in 15's form, as the corpora's
# expected schemas are), the root's own for newer servers, which 15's refuses to dump.
pg_dump_schema() {
  case "$PG" in
    13 | 15) "$PG_BIN/pg_dump" --schema-only "$@" ;;
    *) "$PG_ROOT_SH" exec "$PG" pg_dump --schema-only "$@" ;;
  esac
}

# new_db: create a fresh database; exports DATABASE_URL and DBNAME.
new_db() {
  DBNAME="t_${BATS_TEST_NUMBER:-0}_$RANDOM$RANDOM"
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE $DBNAME" >/dev/null
  export DBNAME DATABASE_URL="$PGTEST_URL_BASE/$DBNAME"
}

# sql "QUERY": run a query on the test database, unaligned, tuples only.
sql() {
  psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$1"
}

# A fresh working directory with an empty migrations/ folder; cd into it.
new_workdir() {
  WORK=$(mktemp -d "${BATS_TEST_TMPDIR:-/tmp}/work.XXXXXX")
  mkdir -p "$WORK/migrations"
  cd "$WORK"
}

# Clear GitHub variables so a test starts as a laptop run.
unset_github_env() {
  local v
  for v in $(env | sed -n 's/^\(GITHUB_[A-Z_]*\|INPUT_[^=]*\|RUNNER_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
}

# Fail with the command's output when it does not exit as expected.
# usage: run_dbm EXPECTED_STATUS args...
run_dbm() {
  local want=$1; shift
  run "$DBM" "$@"
  if [ "$status" -ne "$want" ]; then
    echo "expected exit $want, got $status from: db-migrate $*" >&2
    echo "$output" >&2
    return 1
  fi
}

# Fleets (db-migrate.yml's targets:): databases named "${PFX}_NAME", PFX set by the suite.
# mkdb NAME: a fresh database; prints its URL.
mkdb() {
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE ${PFX}_$1" >/dev/null
  echo "$PGTEST_URL_BASE/${PFX}_$1"
}

# target NAME GROUP URL: one entry of targets: (no group when GROUP is ""), appended to
# db-migrate.yml.
target() {
  [ -f db-migrate.yml ] || echo "targets:" > db-migrate.yml
  printf '  - name: %s\n' "$1" >> db-migrate.yml
  [ -z "$2" ] || printf '    group: %s\n' "$2" >> db-migrate.yml
  printf '    database-url: %s\n' "$3" >> db-migrate.yml
}

# remote_fixture_start: tests/fixtures/remote_fixture.py (STS, ECS, Logs, Lambda) serving
# $WORK/fixture.json, its requests logged to $WORK/requests.jsonl; AWS_ENDPOINT_URL points at
# it. It runs until fixture_check closes its input.
remote_fixture_start() {
  : > "$WORK/requests.jsonl"
  rm -f "$WORK/fixture.in" "$WORK/fixture.port"
  mkfifo "$WORK/fixture.in"
  python3 "$REPO_ROOT/tests/fixtures/remote_fixture.py" "$WORK/fixture.json" \
    < "$WORK/fixture.in" > "$WORK/fixture.port" 2> "$WORK/fixture.err" &
  FIXTURE_PID=$!
  exec {FIXTURE_FD}> "$WORK/fixture.in"
  for _ in $(seq 100); do [ -s "$WORK/fixture.port" ] && break; sleep 0.1; done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$(cat "$WORK/fixture.port")"
}

# fixture_check: stop the fixture; fail when any request was not as the API wants it.
fixture_check() {
  exec {FIXTURE_FD}>&-
  local rc=0
  wait "$FIXTURE_PID" || rc=$?
  FIXTURE_PID=
  [ "$rc" = 0 ] || { cat "$WORK/fixture.err" >&2; return 1; }
}

