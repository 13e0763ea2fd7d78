# helpers.bash - shared set-up for the integration suites.
#
# Each suite starts its own PostgreSQL 15 in a temporary directory in
# setup_file (pg_start) and stops it in teardown_file (pg_stop); each test
# gets a fresh database (new_db). Nothing listens beyond 127.0.0.1 and nothing
# is left running.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DBM=${DBM_BIN:-$BATS_TEST_DIRNAME/../../build/asan/db-migrate}
REPO_ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CORPORA=${DBM_CORPORA:-$REPO_ROOT/../shared/corpora}
# Beside a worktree under wt/, the corpora sit one level further up.
[ -d "$CORPORA" ] || [ -n "${DBM_CORPORA:-}" ] || CORPORA=$REPO_ROOT/../../shared/corpora

# need_corpus NAME: skip the test, saying how to get them, when the shared corpora are absent.
need_corpus() {
  [ -d "$CORPORA/$1" ] && return 0
  skip "corpus $1 not found: set DBM_CORPORA to a checkout of the shared corpora"
}

# schema_diff EXPECTED ACTUAL: diff -u of two pg_dump outputs, without the lines that name
# the server and pg_dump versions (a patch release changes them, not the schema).
schema_diff() {
  diff -u <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$1") \
    <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$2")
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

# pg_start [extra postgres -c options...]: exports PGTEST_DIR, PGTEST_PORT, PGTEST_URL_BASE.
pg_start() {
  PGTEST_DIR=$(mktemp -d /tmp/dbm-pg.XXXXXX)
  chmod 755 "$PGTEST_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PGTEST_DIR"
  PGTEST_PORT=$(free_port)
  as_pg "$PG_BIN/initdb" -D "$PGTEST_DIR/data" -A trust --nosync -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
  local opts="-p $PGTEST_PORT -k $PGTEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
  for o in "$@"; do opts="$opts -c $o"; done
  as_pg "$PG_BIN/pg_ctl" -D "$PGTEST_DIR/data" -o "$opts" -l "$PGTEST_DIR/log" -w start >/dev/null
  export PGTEST_DIR PGTEST_PORT
  export PGTEST_URL_BASE="postgresql://postgres@127.0.0.1:$PGTEST_PORT"
}

pg_stop() {
  [ -n "${PGTEST_DIR:-}" ] || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$PGTEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGTEST_DIR"
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
