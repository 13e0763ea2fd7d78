#!/usr/bin/env bats
# The run lock through PgBouncer in transaction pooling mode, where a session advisory lock
# is shared or leaked by pooled server connections: the lease in the history schema
# serializes runs, statements of non-transactional migrations are claimed before they run,
# concurrent first runs create the history once, and nothing stays locked after a run.

load helpers

setup_file() {
  pg_start
  pgb_start 3
}
teardown_file() {
  pgb_stop
  pg_stop
}

setup() {
  unset_github_env
  new_db
  new_workdir
  BG_PIDS=
  PGB_DB=$(pgb_url)
}

teardown() {
  local p
  for p in $BG_PIDS; do pkill -P "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
}

# run_pooled OUT ARGS...: db-migrate through PgBouncer in the background, output in OUT.
run_pooled() {
  local out=$1
  shift
  "$DBM" --database-url "$PGB_DB?sslmode=disable" "$@" > "$out" 2>&1 3>&- &
  BG_PIDS="$BG_PIDS $!"
}

# The advisory locks held on the server, by any session, in the test database.
advisory_locks() {
  sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
}

@test "four runners through PgBouncer: one applies, each statement runs once, the others find nothing to do" {
  printf 'CREATE TABLE hits (x int);\n' > migrations/001_hits.sql
  printf -- '-- migrate:no-transaction\nINSERT INTO hits VALUES (1);\nSELECT pg_sleep(1.5);\nCREATE INDEX CONCURRENTLY hits_x ON hits (x);\nINSERT INTO hits VALUES (2);\n' > migrations/002_index.sql
  printf 'CREATE TABLE after_index (x int);\n' > migrations/003_after.sql
  pids=
  for i in 1 2 3 4; do
    "$DBM" --database-url "$PGB_DB?sslmode=disable" apply --run-lock-wait 60s > "$WORK/run$i.out" 2>&1 3>&- &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || { cat "$WORK"/run*.out; false; }; done
  [ "$(sql "SELECT string_agg(x::text, ',' ORDER BY x) FROM hits")" = "1,2" ]
  [ "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'hits_x'::regclass")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 3 ]
  [ "$(sql "SELECT string_agg(outcome, ',' ORDER BY outcome) FROM db_migrate.runs")" = "applied,up-to-date,up-to-date,up-to-date" ]
  [ "$(cat "$WORK"/run*.out | grep -c 'up to date: nothing to apply')" = 3 ]
  # Each statement of the non-transactional migration was claimed once and is done.
  [ "$(sql "SELECT count(*), count(*) FILTER (WHERE outcome = 'done') FROM db_migrate.statements WHERE version = '002'")" = "4|4" ]
  [ "$(advisory_locks)" = 0 ]
}

@test "through PgBouncer a run waiting past --run-lock-wait exits 4 naming the lease's run, actor, host and start" {
  printf 'SELECT pg_sleep(6);\n' > migrations/001_slow.sql
  # A 2 s lease: the heartbeat keeps it past that while the run is alive.
  USER=alice-deploy DB_MIGRATE_LEASE_TTL=2 run_pooled "$WORK/first.out" apply
  first=$!
  for _ in $(seq 50); do [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(6)%' AND pid <> pg_backend_pid()")" -gt 0 ] && break; sleep 0.1; done
  sleep 2.5
  run "$DBM" --database-url "$PGB_DB?sslmode=disable" apply --run-lock-wait 1s
  [ "$status" -eq 4 ] || { echo "$output"; false; }
  line=$(printf '%s\n' "$output" | grep '^error: ')
  [[ "$line" == "error: another run holds the migration lock for schema 'db_migrate' (run 1: apply by alice-deploy on $(hostname), since 20"*" UTC"* ]] || { echo "$output"; false; }
  [[ "$output" == *"hint: "*"its lease expires"* ]] || { echo "$output"; false; }
  wait "$first" || { cat "$WORK/first.out"; false; }
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
}

@test "concurrent first runs through PgBouncer create the history once, without an error" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  pids=
  for i in 1 2 3 4 5 6; do
    "$DBM" --database-url "$PGB_DB?sslmode=disable" apply --run-lock-wait 60s > "$WORK/run$i.out" 2>&1 3>&- &
    pids="$pids $!"
  done
  for p in $pids; do wait "$p" || { cat "$WORK"/run*.out; false; }; done
  ! grep -h 'duplicate key' "$WORK"/run*.out
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs")" = 6 ]
}

@test "after a run through PgBouncer nothing stays locked: a direct run right after is not blocked" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run "$DBM" --database-url "$PGB_DB?sslmode=disable" apply
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  # PgBouncer keeps its server connections open: none of them may hold the run lock.
  [ "$(advisory_locks)" = 0 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.lease")" = 0 ]
  printf 'CREATE TABLE b (x int);\n' > migrations/002_b.sql
  run_dbm 0 apply --run-lock-wait 0s
  [ "$(sql "SELECT to_regclass('b') IS NOT NULL")" = t ]
}

@test "a killed run's lease through PgBouncer is taken over once it expires, and its run closed as abandoned" {
  printf 'SELECT pg_sleep(20);\n' > migrations/001_slow.sql
  DB_MIGRATE_LEASE_TTL=3 run_pooled "$WORK/killed.out" apply
  killed=$!
  for _ in $(seq 50); do [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()")" -gt 0 ] && break; sleep 0.1; done
  kill -9 "$killed"
  printf 'SELECT 1;\n' > migrations/001_slow.sql
  started=$(date +%s)
  run "$DBM" --database-url "$PGB_DB?sslmode=disable" apply --run-lock-wait 30s
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ "$output" == *"notice: took over the run lease of run 1 (apply by "*") after it expired"* ]] || { echo "$output"; false; }
  [[ "$output" == *"notice: closed run 1 (started "*") as abandoned"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT string_agg(outcome, ',' ORDER BY id) FROM db_migrate.runs")" = "abandoned,applied" ]
  # Not before the lease's 3 s were over, and not much later.
  [ $(($(date +%s) - started)) -le 15 ]
}

@test "a killed direct run's lease is taken over at once: its session is gone" {
  need_pg 14 "the server ends the session of a killed client (client_connection_check_interval)"
  printf 'SELECT pg_sleep(20);\n' > migrations/001_slow.sql
  "$DBM" apply > "$WORK/killed.out" 2>&1 3>&- &
  killed=$!
  BG_PIDS="$BG_PIDS $killed"
  for _ in $(seq 50); do [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()")" -gt 0 ] && break; sleep 0.1; done
  kill -9 "$killed"
  printf 'SELECT 1;\n' > migrations/001_slow.sql
  # The server notices the dead client within a second (client_connection_check_interval).
  run_dbm 0 apply --run-lock-wait 10s
  [[ "$output" == *"notice: took over the run lease of run 1 (apply by "*"), whose session ended"* ]] || { echo "$output"; false; }
}

@test "an interrupted statement that cannot run in a transaction is reported on the rerun, not run again blindly" {
  need_pg 14 "the server stops the statement of a killed client (client_connection_check_interval)"
  printf 'CREATE TABLE items (id int);\n' > migrations/001_items.sql
  run_dbm 0 apply
  printf -- '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY items_id ON items (id);\nCREATE TABLE after_index (x int);\n' > migrations/002_index.sql
  # A transaction holding a lock on items keeps the index build waiting while the client dies.
  psql -X -q "$DATABASE_URL" -c "BEGIN; LOCK items IN SHARE UPDATE EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT" >/dev/null 3>&- &
  BG_PIDS="$BG_PIDS $!"
  sleep 0.5
  "$DBM" apply --lock-timeout 30s > "$WORK/killed.out" 2>&1 3>&- &
  killed=$!
  for _ in $(seq 50); do [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()")" -gt 0 ] && break; sleep 0.1; done
  kill -9 "$killed"
  wait
  run_dbm 1 apply
  [[ "$output" == *"error: unable to apply 'migrations/002_index.sql': statement 1 was interrupted: run 2 at "*" UTC claimed it and ended without its outcome"* ]] || { echo "$output"; false; }
  [[ "$output" == *"hint: "*"repair --target-version 002"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT to_regclass('after_index') IS NULL")" = t ]
  # The person checks (nothing took effect here), clears the claim, and the rerun resumes there.
  run_dbm 0 repair --target-version 002
  run_dbm 0 apply
  [ "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id'::regclass")" = t ]
  [ "$(sql "SELECT to_regclass('after_index') IS NOT NULL")" = t ]
}

# The history tables as the release before the lease created them (dbm_history_ensure's SQL).
old_history() {
  sql "CREATE SCHEMA db_migrate;
CREATE TABLE db_migrate.runs (id bigserial PRIMARY KEY, command text NOT NULL, started_at timestamptz NOT NULL,
  finished_at timestamptz, outcome text, git_sha text, deployed_sha text, actor text, event text, run_url text,
  db_user text NOT NULL DEFAULT current_user, tool_version text NOT NULL, detail jsonb);
CREATE TABLE db_migrate.migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL, run_id bigint REFERENCES db_migrate.runs(id),
  git_sha text, transactional boolean NOT NULL, status text NOT NULL CHECK (status IN ('applied', 'failed')),
  failed_statement int, error text);" >/dev/null
}

@test "a history from the release before the lease keeps working, through PgBouncer and directly" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  printf -- '-- migrate:no-transaction\nCREATE TABLE b (x int);\nCREATE TABLE c (x int);\n' > migrations/002_bc.sql
  old_history
  # Run 1 applied 001, then died in 002 at statement 2 (recorded as interrupted, as that release did).
  sql "CREATE TABLE a (x int); CREATE TABLE b (x int);
INSERT INTO db_migrate.runs (command, started_at, tool_version) VALUES ('apply', now(), '0.9.0');
INSERT INTO db_migrate.migrations (version, name, checksum, duration_ms, run_id, transactional, status)
  VALUES ('001', 'a', 'sha256:$(sha256sum migrations/001_a.sql | cut -d' ' -f1)', 1, 1, true, 'applied');
INSERT INTO db_migrate.migrations (version, name, checksum, duration_ms, run_id, transactional, status, failed_statement, error)
  VALUES ('002', 'bc', 'sha256:$(sha256sum migrations/002_bc.sql | cut -d' ' -f1)', 1, 1, false, 'failed', 2,
  'interrupted: the run stopped during this statement')" >/dev/null
  run "$DBM" --database-url "$PGB_DB?sslmode=disable" apply
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ "$output" == *"notice: closed run 1 ("*") as abandoned"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT to_regclass('c') IS NOT NULL")" = t ]
  [ "$(sql "SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM db_migrate.migrations")" = "001:applied,002:applied" ]
  printf 'CREATE TABLE d (x int);\n' > migrations/003_d.sql
  run_dbm 0 apply
  run_dbm 0 status
  [ "$(advisory_locks)" = 0 ]
}

@test "a run of the release before the lease, holding the advisory lock, still keeps a direct run waiting" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  key=$(python3 -c '
h = 1469598103934665603
for c in b"db-migrate:db_migrate":
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= (1 << 63) else h)')
  psql -X -q "$DATABASE_URL" -c "SET application_name = 'older-release'; SELECT pg_advisory_lock($key); SELECT pg_sleep(3)" >/dev/null 3>&- &
  BG_PIDS="$BG_PIDS $!"
  sleep 0.5
  run_dbm 4 apply --run-lock-wait 1s
  [[ "$output" == *"application 'older-release'"* ]] || { echo "$output"; false; }
  run_dbm 0 apply --run-lock-wait 20s
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
}

@test "a statement that a killed run ran to its end is not run again by the rerun" {
  printf 'CREATE TABLE hits (x int);\n' > migrations/001_hits.sql
  run_dbm 0 apply
  printf -- '-- migrate:no-transaction\nINSERT INTO hits VALUES (1);\nINSERT INTO hits VALUES (2);\n' > migrations/002_hits.sql
  # Run 2 claimed statement 1, ran it and ended its claim, then died before recording more:
  # its progress row still says statement 1.
  sql "CREATE TABLE IF NOT EXISTS db_migrate.statements (version text NOT NULL, statement int NOT NULL, run_id bigint,
  claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(), finished_at timestamptz, outcome text, PRIMARY KEY (version, statement));
INSERT INTO db_migrate.runs (command, started_at, tool_version) VALUES ('apply', now(), 'test');
INSERT INTO hits VALUES (1);
INSERT INTO db_migrate.statements (version, statement, run_id, finished_at, outcome) VALUES ('002', 1, 2, now(), 'done');
INSERT INTO db_migrate.migrations (version, name, checksum, duration_ms, run_id, transactional, status, failed_statement, error)
  VALUES ('002', 'hits', 'sha256:$(sha256sum migrations/002_hits.sql | cut -d' ' -f1)', 0, 2, false, 'failed', 1,
  'interrupted: the run stopped during this statement')" >/dev/null
  run "$DBM" --database-url "$PGB_DB?sslmode=disable" apply
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ "$output" == *"'migrations/002_hits.sql' statement 1 was run to its end by run 2 at "*": not run again"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT string_agg(x::text, ',' ORDER BY x) FROM hits")" = "1,2" ]
}

@test "a migration's session SET through PgBouncer reaches neither the next migration nor another client" {
  sql "CREATE ROLE pooled_role; GRANT CREATE ON SCHEMA public TO pooled_role"
  printf 'SET search_path TO nope_schema;\nCREATE TABLE public.p1 (x int);\n' > migrations/001_p1.sql
  printf 'CREATE TABLE p2 (x int);\n' > migrations/002_p2.sql
  printf 'SET ROLE pooled_role;\nCREATE TABLE public.p3 (x int);\n' > migrations/003_p3.sql
  printf 'CREATE TABLE p4 (x int);\n' > migrations/004_p4.sql
  run_dbm 0 plan --database-url "$PGB_DB?sslmode=disable"
  [[ "$output" != *"session-setting"* ]]
  run_dbm 0 apply --database-url "$PGB_DB?sslmode=disable"
  [ "$(sql "SELECT to_regclass('public.p2') IS NOT NULL, to_regclass('public.p4') IS NOT NULL")" = "t|t" ]
  [ "$(sql "SELECT tableowner FROM pg_tables WHERE tablename = 'p4'")" = postgres ]
  # Every server connection of the pool, held at once by three clients, is as it was.
  for i in 1 2 3; do
    psql -X -q -At "$PGB_DB" -c "BEGIN" -c "SELECT pg_sleep(0.5)" \
      -c "SELECT current_setting('search_path') || '|' || current_user" -c "COMMIT" > "$WORK/client$i.out" 2>&1 &
    BG_PIDS="$BG_PIDS $!"
  done
  wait
  cat "$WORK"/client*.out
  [ "$(grep -c '^"$user", public|postgres$' "$WORK"/client*.out | awk -F: '{s += $2} END {print s}')" = 3 ]

  # Outside a transaction, each statement may take another server connection: a warning.
  printf -- '-- migrate:no-transaction\nSET search_path TO nope_schema;\nCREATE TABLE public.p5 (x int);\n' > migrations/005_p5.sql
  run_dbm 0 plan --database-url "$PGB_DB?sslmode=disable"
  [[ "$output" == *"session-setting  migrations/005_p5.sql:2: SET lasts for the session, and this file runs outside a transaction: through a transaction pooler"* ]]
}
