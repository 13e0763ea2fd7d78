#!/usr/bin/env bats
# Runs that meet each other or meet trouble: concurrent deploys, killed clients,
# unreadable files, out-of-range options, connections that fail in two ways at once.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  BG_PIDS=
}

# Whatever a test started in the background ends with it.
teardown() {
  local p
  for p in $BG_PIDS; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
}

# The advisory lock key db-migrate uses for the history schema db_migrate (FNV-1a, signed).
run_lock_key() {
  python3 -c '
h = 1469598103934665603
for c in b"db-migrate:db_migrate":
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= (1 << 63) else h)'
}

@test "exit 4 names the holder in this database, not a session of another database" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  key=$(run_lock_key)
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE ${DBNAME}_other" >/dev/null
  # Sessions in another database take the same key first: a lock there is not ours.
  for i in 1 2 3; do
    psql -X -q "$PGTEST_URL_BASE/${DBNAME}_other" -c "SET application_name = 'other-db-$i'; SELECT pg_advisory_lock($key); SELECT pg_sleep(5)" >/dev/null &
  done
  sleep 0.7
  psql -X -q "$DATABASE_URL" -c "SET application_name = 'this-db-deploy'; SELECT pg_advisory_lock($key); SELECT pg_sleep(4)" >/dev/null &
  sleep 0.7
  run_dbm 4 apply --run-lock-wait 1s
  wait
  [[ "$output" == *"application 'this-db-deploy'"* ]]
  [[ "$output" != *"other-db-"* ]]
}

@test "a run waiting for the lock says every 10 s who holds it, then runs once it is free" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  key=$(run_lock_key)
  psql -X -q "$DATABASE_URL" -c "SET application_name = 'slow-deploy'; SELECT pg_advisory_lock($key); SELECT pg_sleep(7)" >/dev/null 3>&- &
  BG_PIDS="$BG_PIDS $!"
  sleep 0.7
  run_dbm 0 apply --run-lock-wait 60s
  [ "$(grep -c "waiting for the run lock of schema 'db_migrate' for [0-9]* s, held by pid .*application 'slow-deploy'" <<< "$output")" = 1 ]
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
  # Waiting left nothing waiting on the server.
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")" = 0 ]
}

@test "two overlapping deploys with CREATE INDEX CONCURRENTLY queue instead of deadlocking" {
  printf 'CREATE TABLE items (id int);\nINSERT INTO items SELECT generate_series(1, 1000);\n' > migrations/001_items.sql
  # The first run is still sleeping when the second starts waiting for the lock, so the
  # index build begins while the second run waits.
  printf -- '-- migrate:no-transaction\nSELECT pg_sleep(2);\nCREATE INDEX CONCURRENTLY items_id ON items (id);\n' > migrations/002_items_id.sql
  printf 'CREATE TABLE after_index (x int);\n' > migrations/003_after.sql
  "$DBM" apply > "$BATS_TEST_TMPDIR/first.out" 2>&1 &
  first=$!
  sleep 1
  run_dbm 0 apply --run-lock-wait 60s
  second_output=$output
  wait $first || { cat "$BATS_TEST_TMPDIR/first.out"; echo "second: $second_output"; false; }
  [[ "$second_output" == *"up to date"* ]] || { echo "$second_output"; false; }
  [ "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id'::regclass")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 3 ]
}

# wait_for_query PATTERN: until a backend of the test database runs a query LIKE PATTERN.
wait_for_query() {
  for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND query LIKE '$1'")" -gt 0 ] && return 0
    sleep 0.1
  done
  echo "no query like $1 started" >&2
  return 1
}

@test "a client killed during a non-transactional statement stops it on the server, and the rerun runs it once" {
  need_pg 14 "the server checks that the client is still there (client_connection_check_interval)"
  printf -- '-- migrate:no-transaction\nCREATE TABLE hits (x int);\nINSERT INTO hits SELECT 1 FROM pg_sleep(3);\n' > migrations/001_hits.sql
  "$DBM" apply > "$BATS_TEST_TMPDIR/killed.out" 2>&1 &
  pid=$!
  wait_for_query 'INSERT INTO hits%'
  kill -9 $pid
  wait $pid || true
  # Past the statement's own end: a server that did not notice would have inserted by now.
  sleep 4
  [ "$(sql "SELECT count(*) FROM hits")" = 0 ]
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM hits")" = 1 ]
}

@test "a dangling symlink, a symlink loop or a FIFO named like a migration is an error naming it" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  printf 'CREATE TABLE c (x int);\n' > migrations/003_c.sql
  ln -s /nonexistent/002_b.sql migrations/002_b.sql
  run_dbm 2 apply
  [[ "$output" == *"unable to read 'migrations/002_b.sql': a symbolic link to nothing"* ]]
  [[ "$output" == *"hint: repair or remove it"* ]]
  rm migrations/002_b.sql
  ln -s 002_b.sql migrations/002_b.sql
  run_dbm 2 apply
  [[ "$output" == *"unable to read 'migrations/002_b.sql': Too many levels of symbolic links"* ]]
  rm migrations/002_b.sql
  mkfifo migrations/002_b.sql
  run_dbm 2 plan
  [[ "$output" == *"unable to read 'migrations/002_b.sql': a FIFO, not a file"* ]]
  [ "$(sql "SELECT to_regclass('a') IS NULL AND to_regclass('c') IS NULL")" = t ]
  # Other names that are no files stay none of its business.
  rm migrations/002_b.sql
  ln -s /nonexistent migrations/README.md
  run_dbm 0 apply
}

@test "timeouts longer than PostgreSQL accepts are refused before connecting, naming the option" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run_dbm 2 apply --lock-timeout 999h
  [[ "$output" == *"lock-timeout '999h' is longer than PostgreSQL accepts"* ]]
  [[ "$output" == *"hint: give at most 596h"* ]]
  run_dbm 2 apply --run-lock-wait 999h
  [[ "$output" == *"run-lock-wait '999h' is longer than PostgreSQL accepts"* ]]
  run_dbm 2 apply --statement-timeout 25000000s
  [[ "$output" == *"statement-timeout '25000000s' is longer than PostgreSQL accepts"* ]]
  [ "$(sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'db_migrate'")" = 0 ]
  # The largest that is accepted works on the server too.
  run_dbm 0 apply --lock-timeout 596h --statement-timeout 596h --run-lock-wait 596h
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
}

@test "--wait makes a last attempt at its deadline" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  port=$(free_port)
  # The database "starts" 2.2 s from now: a relay to it begins listening then.
  (sleep 2.2; exec python3 "$BATS_TEST_DIRNAME/fixtures/cutproxy.py" "$port" "$PGTEST_PORT" NEVER) > "$WORK/proxy.out" 2>&1 3>&- &
  BG_PIDS="$BG_PIDS $!"
  run_dbm 0 apply --wait 3s --database-url "postgresql://postgres@127.0.0.1:$port/$DBNAME?sslmode=disable"
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
}

@test "of libpq's attempts at several addresses, the one where a server answered is reported" {
  # ::1 refuses (the server listens on 127.0.0.1 only), then 127.0.0.1 answers: no such database.
  run_dbm 3 status --database-url "host=::1,127.0.0.1 port=$PGTEST_PORT dbname=nope_$DBNAME user=postgres sslmode=disable"
  [[ "$output" == *"database \"nope_$DBNAME\" does not exist"* ]]
  [[ "$output" != *"Connection refused"* ]]
  [[ "$output" == *"hint: create the database first"* ]]
  # When nothing answers anywhere, the last refusal is the message.
  port=$(free_port)
  run_dbm 3 status --database-url "host=::1,127.0.0.1 port=$port dbname=x user=postgres"
  [[ "$output" == *"Connection refused"* ]]
  [[ "$output" == *"hint: check the host and port"* ]]
}

# terminate_query PATTERN: end the backend of the test database running a query LIKE PATTERN.
terminate_query() {
  wait_for_query "$1"
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '$1' AND pid <> pg_backend_pid()" >/dev/null
}

# terminate_sleeper: end the backend of the test database that sleeps in pg_sleep (a batch's
# text, as pg_stat_activity shows it, may be cut before the statement that sleeps).
terminate_sleeper() {
  for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND application_name = 'db-migrate'")" -gt 0 ] && break
    sleep 0.1
  done
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND application_name = 'db-migrate'" >/dev/null
}

@test "a killed backend is reported as the cause, and the next run closes the dead run as abandoned" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  printf 'SELECT pg_sleep(5);\n' > migrations/002_sleep.sql
  terminate_sleeper 3>&- &
  BG_PIDS="$BG_PIDS $!"
  run_dbm 1 apply
  [[ "$output" == *"terminating connection due to administrator command"* ]]
  [[ "$output" != *"unable to record the end of the run"* ]]
  [ "$(printf '%s\n' "$output" | grep '^error: ' | tail -1)" = "error: unable to apply 'migrations/002_sleep.sql': terminating connection due to administrator command" ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE finished_at IS NULL")" = 1 ]
  # The same outside a transaction, where the failure is written to the history.
  printf -- '-- migrate:no-transaction\nSELECT pg_sleep(5);\n' > migrations/002_sleep.sql
  terminate_query '%pg_sleep(5)%' 3>&- &
  BG_PIDS="$BG_PIDS $!"
  run_dbm 1 apply
  [[ "$output" == *"terminating connection due to administrator command"* ]]
  [[ "$output" != *"unable to record"* ]]
  [[ "$output" != *"(null)"* ]]
  [[ "$output" == *"notice: closed run 1 (started "*") as abandoned"* ]]
  [ "$(sql "SELECT id, outcome FROM db_migrate.runs WHERE finished_at IS NOT NULL ORDER BY id")" = "1|abandoned" ]
  printf -- '-- migrate:no-transaction\nSELECT 1;\n' > migrations/002_sleep.sql
  run_dbm 0 apply
  [[ "$output" == *"notice: closed run 2 (started "*") as abandoned"* ]]
  run sql "SELECT id, outcome FROM db_migrate.runs ORDER BY id"
  [ "$output" = "1|abandoned
2|abandoned
3|applied" ]
}

@test "a killed backend during a file that runs its own BEGIN/COMMIT is reported without libpq's severity prefix" {
  printf 'BEGIN;\nCREATE TABLE a (x int);\nSELECT pg_sleep(5);\nCOMMIT;\n' > migrations/001_own_tx.sql
  terminate_query '%pg_sleep(5)%' 3>&- &
  BG_PIDS="$BG_PIDS $!"
  run_dbm 1 apply
  [ "$(printf '%s\n' "$output" | grep '^error: ' | tail -1)" = "error: unable to apply 'migrations/001_own_tx.sql': terminating connection due to administrator command" ] || { echo "$output"; false; }
  [[ "$output" != *"FATAL:"* ]]
  [ "$(sql "SELECT count(*) FROM pg_class WHERE relname = 'a'")" = 0 ]
  run_dbm 0 apply
  [ "$(sql "SELECT status FROM db_migrate.migrations")" = applied ]
}

@test "a cut network is reported as the cause, and the rerun resumes after the dead run" {
  # Cut once statement 1 ran and statement 2 is claimed and recorded as in progress (the second
  # INSERT: the progress rows), before it runs: the rerun takes its claim again and runs it.
  printf -- '-- migrate:no-transaction\nCREATE SEQUENCE s1;\nCREATE SEQUENCE s2;\n' > migrations/001_seqs.sql
  port=$(free_port)
  python3 "$BATS_TEST_DIRNAME/fixtures/cutproxy.py" "$port" "$PGTEST_PORT" INSERT 2 > "$WORK/proxy.out" 2>&1 3>&- &
  BG_PIDS="$BG_PIDS $!"
  for _ in $(seq 50); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  run "$DBM" apply --database-url "postgresql://postgres@127.0.0.1:$port/$DBNAME?sslmode=disable"
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  [[ "$output" != *"record the end of the run"* ]]
  [[ "$(printf '%s\n' "$output" | grep '^error: ' | tail -1)" == *"server closed the connection unexpectedly"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT string_agg(statement || ':' || coalesce(outcome, 'claimed'), ',' ORDER BY statement) FROM db_migrate.statements")" = "1:done,2:claimed" ]
  run_dbm 0 apply
  [[ "$output" == *"notice: closed run 1 ("*") as abandoned"* ]]
  [ "$(sql "SELECT count(*) FROM pg_class WHERE relname IN ('s1', 's2')")" = 2 ]
  [ "$(sql "SELECT string_agg(outcome, ',' ORDER BY id) FROM db_migrate.runs")" = "abandoned,applied" ]
}

@test "a connection lost right after a file's own COMMIT does not run the file again" {
  printf 'BEGIN;\nCREATE TABLE IF NOT EXISTS hits (x int);\nCREATE SEQUENCE IF NOT EXISTS hits_seq;\nINSERT INTO hits VALUES (1);\nCOMMIT;\n' > migrations/001_own_tx.sql
  port=$(free_port)
  # Cut at the file's COMMIT: the first one after its CREATE SEQUENCE.
  python3 "$BATS_TEST_DIRNAME/fixtures/cutproxy.py" "$port" "$PGTEST_PORT" COMMIT 1 "CREATE SEQUENCE" > "$WORK/proxy.out" 2>&1 3>&- &
  BG_PIDS="$BG_PIDS $!"
  for _ in $(seq 50); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  run "$DBM" apply --database-url "postgresql://postgres@127.0.0.1:$port/$DBNAME?sslmode=disable"
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  # The row was recorded in the file's own transaction, which committed.
  [ "$(sql "SELECT count(*) FROM hits")" = 1 ]
  [ "$(sql "SELECT status, transactional FROM db_migrate.migrations")" = "applied|t" ]
  run_dbm 0 apply
  [[ "$output" == *"up to date: nothing to apply"* ]]
  [ "$(sql "SELECT count(*) FROM hits")" = 1 ]
  # A failing statement rolls the row back with the file's work.
  printf 'BEGIN;\nINSERT INTO hits VALUES (2);\nSELECT 1/0;\nCOMMIT;\n' > migrations/002_fails.sql
  run_dbm 1 apply
  [[ "$output" == *"error: unable to apply 'migrations/002_fails.sql': division by zero"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT count(*) FROM hits")" = 1 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
}

# one_clean_line TEXT: the error line of a run's output, with no libpq severity, no blank line
# after it (libpq's trailing newline) and no doubled space.
one_clean_line() {
  local line
  line=$(printf '%s\n' "$1" | grep '^error: ' | tail -1)
  [[ "$line" != *"FATAL:"* && "$line" != *"ERROR:"* && "$line" != *"  "* ]] || { echo "not clean: $line"; return 1; }
  [ "$(printf '%s\n' "$1" | grep -A1 '^error: ' | tail -1 | grep -c '^$')" = 0 ] || { echo "blank line after: $1"; return 1; }
}

@test "a permission error reading another tool's history is one clean line, without libpq's severity" {
  user=app_$RANDOM
  sql "CREATE ROLE $user LOGIN; GRANT CREATE ON DATABASE $DBNAME TO $user;
       CREATE SCHEMA graphile_migrate; CREATE TABLE graphile_migrate.migrations (filename text, hash text)"
  mkdir -p migrations/committed
  hash="sha1:$(printf '\nSELECT 1;' | python3 -c 'import sys,hashlib; print(hashlib.sha1((sys.stdin.read().strip()+"\n").encode()).hexdigest())')"
  printf -- '--! Previous: -\n--! Hash: %s\n\nSELECT 1;\n' "$hash" > migrations/committed/000001.sql
  run "$DBM" baseline --adopt-from graphile-migrate --migrations-dir migrations \
    --database-url "postgresql://$user@127.0.0.1:$PGTEST_PORT/$DBNAME"
  sql "DROP OWNED BY $user; DROP ROLE $user" >/dev/null
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  [ "$(printf '%s\n' "$output" | grep '^error: ')" = "error: unable to read graphile_migrate.migrations: permission denied for schema graphile_migrate" ] || { echo "$output"; false; }
  one_clean_line "$output"
}

@test "a permission error on the history schema is one clean line" {
  user=app_$RANDOM
  run_dbm 0 apply
  sql "CREATE ROLE $user LOGIN" >/dev/null
  run "$DBM" apply --database-url "postgresql://$user@127.0.0.1:$PGTEST_PORT/$DBNAME"
  sql "DROP OWNED BY $user; DROP ROLE $user" >/dev/null
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  [[ "$(printf '%s\n' "$output" | grep '^error: ')" == *"permission denied for schema db_migrate"* ]] || { echo "$output"; false; }
  one_clean_line "$output"
}
