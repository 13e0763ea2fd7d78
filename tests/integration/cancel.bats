#!/usr/bin/env bats
# SIGTERM and SIGINT during apply (ECS StopTask, a cancelled job, Ctrl-C) against a
# real PostgreSQL: a transactional migration is cancelled and rolls back, one outside
# a transaction finishes its statement, the run is recorded as cancelled, the exit
# status is 128 + the signal, and a rerun resumes.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# wait_for_query TEXT: until a session of the test database runs a query holding TEXT, or
# db-migrate's session sleeps in pg_sleep (a batch's text can pass the 1 KB of it the server
# keeps for display, and TEXT is then out of sight; each test's only sleep is TEXT's).
wait_for_query() {
  for _ in $(seq 1 200); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND (query LIKE '%$1%' OR (wait_event = 'PgSleep' AND application_name = 'db-migrate')) AND pid <> pg_backend_pid()")" != 0 ] && return 0
    sleep 0.05
  done
  echo "no query with '$1' started" >&2
  return 1
}

# apply_then SIGNAL TEXT: start apply, send SIGNAL once a query holding TEXT runs; $status, $output.
# A background job of this shell starts with SIGINT ignored (and keeps ignoring it): apply
# starts with SIGINT at its default, as from a terminal.
apply_then() {
  env --default-signal=INT "$DBM" apply --report-file "$WORK/report.json" > "$WORK/out" 2>&1 &
  local pid=$!
  wait_for_query "$2"
  kill -s "$1" "$pid"
  status=0
  wait "$pid" || status=$?
  output=$(cat "$WORK/out")
}

@test "cancel: SIGTERM rolls back the running transactional migration and records the run as cancelled" {
  write migrations/001_accounts.sql <<<'CREATE TABLE accounts (id int);'
  write migrations/002_slow.sql <<'SQL'
CREATE TABLE slow (id int);
SELECT pg_sleep(60) AS slow_migration;
SQL
  write migrations/003_after.sql <<<'CREATE TABLE after_slow (id int);'
  apply_then TERM slow_migration
  echo "$output"
  [ "$status" -eq 143 ]
  [[ "$output" == *"cancelled by SIGTERM: 1 migration applied, 2 not"* ]]
  [[ "$output" == *"hint: run apply again"* ]]
  # 001 stays applied; 002 rolled back (its table is gone), 003 never ran.
  [ "$(sql "SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM db_migrate.migrations")" = 001:applied ]
  [ "$(sql "SELECT to_regclass('slow') IS NULL AND to_regclass('after_slow') IS NULL")" = t ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs")" = cancelled ]
  [ "$(sql "SELECT finished_at IS NOT NULL FROM db_migrate.runs")" = t ]
  [ "$(jq -r .status "$WORK/report.json")" = cancelled ]
  [ "$(jq -r '.migrations[] | select(.version == "002") | .status' "$WORK/report.json")" = pending ]
  [ "$(jq -r '.migrations[] | select(.version == "003") | .status' "$WORK/report.json")" = skipped ]
  # No session of the run is left behind.
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")" = 0 ]
  # A rerun resumes with 002.
  sed -i 's/pg_sleep(60)/pg_sleep(0)/' migrations/002_slow.sql
  run_dbm 0 apply
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations WHERE status = 'applied'")" = 001,002,003 ]
  [ "$(sql "SELECT string_agg(outcome, ',' ORDER BY id) FROM db_migrate.runs")" = cancelled,applied ]
}

@test "cancel: SIGINT exits 130 and leaves nothing of the cancelled migration" {
  write migrations/001_slow.sql <<'SQL'
CREATE TABLE slow (id int);
SELECT pg_sleep(60) AS slow_migration;
SQL
  apply_then INT slow_migration
  [ "$status" -eq 130 ]
  [[ "$output" == *"cancelled by SIGINT"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs")" = cancelled ]
}

@test "cancel: SIGTERM lets a statement outside a transaction finish and a rerun resumes after it" {
  write migrations/001_concurrent.sql <<'SQL'
-- migrate:no-transaction
CREATE TABLE first_part (id int);
SELECT pg_sleep(1.5) AS nontx_statement;
CREATE TABLE second_part (id int);
SQL
  apply_then TERM nontx_statement
  [ "$status" -eq 143 ]
  # The running statement finished; the next one did not start.
  [ "$(sql "SELECT to_regclass('first_part') IS NOT NULL AND to_regclass('second_part') IS NULL")" = t ]
  [ "$(sql "SELECT status || ' ' || failed_statement FROM db_migrate.migrations")" = "failed 3" ]
  sql "SELECT error FROM db_migrate.migrations" | grep -q 'cancelled by SIGTERM before statement 3 of 3'
  [ "$(sql "SELECT outcome FROM db_migrate.runs")" = cancelled ]
  run_dbm 0 apply
  [[ "$output" == *"resumed at statement 3 of 3"* ]]
  [ "$(sql "SELECT status FROM db_migrate.migrations")" = applied ]
  [ "$(sql "SELECT to_regclass('second_part') IS NOT NULL")" = t ]
}
