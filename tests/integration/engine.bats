#!/usr/bin/env bats
# The migration engine against a real PostgreSQL 15: apply, reruns, concurrency,
# failures, lock timeouts, resumable non-transactional migrations, drift.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# The advisory lock key db-migrate uses for the history schema db_migrate (FNV-1a, signed).
run_lock_key() {
  python3 -c '
h = 1469598103934665603
for c in b"db-migrate:db_migrate":
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= (1 << 63) else h)'
}

@test "apply runs the example set, records history, and a rerun applies nothing" {
  cp "$REPO_ROOT"/migrations-example/*.sql migrations/
  export GITHUB_SHA=0123456789abcdef0123456789abcdef01234567 GITHUB_ACTOR=octocat \
    GITHUB_EVENT_NAME=push GITHUB_SERVER_URL=https://github.example GITHUB_REPOSITORY=acme/app \
    GITHUB_RUN_ID=42
  run_dbm 0 apply
  [[ "$output" == *"applied  migrations/20240105090000_create_accounts.sql (3 statements"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 5 ]
  [ "$(sql "SELECT count(*) FROM deployments")" = 0 ]
  [ "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'deployments_running_idx'::regclass")" = t ]
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE version = '20240220083000'")" = f ]
  run sql "SELECT command, outcome, git_sha, actor, event, run_url, tool_version <> '' FROM db_migrate.runs"
  [ "$output" = "apply|applied|0123456789abcdef0123456789abcdef01234567|octocat|push|https://github.example/acme/app/actions/runs/42|t" ]
  run sql "SELECT checksum FROM db_migrate.migrations WHERE version = '20240105090000'"
  [ "$output" = "sha256:$(awk '/^-- migrate:up/{f=1;next} /^-- migrate:down/{f=0} f' migrations/20240105090000_create_accounts.sql | sha256sum | cut -c1-64)" ]

  # applied_at is reported in UTC whatever the session's TimeZone and DateStyle
  PGTZ=America/New_York PGDATESTYLE='SQL, DMY' run_dbm 0 apply --report-file report.json
  [[ "$output" == *"up to date: nothing to apply"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 5 ]
  want=$(sql "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM db_migrate.migrations WHERE version = '20240105090000'")
  [[ "$want" == 20[0-9][0-9]-*T*Z ]]
  grep -q "\"applied before, $want\"" report.json
  [ "$(sql "SELECT outcome, finished_at >= started_at FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = "up-to-date|t" ]
}

@test "eight concurrent applies apply each migration exactly once" {
  for i in $(seq 1 12); do
    printf 'CREATE TABLE t%02d (id int PRIMARY KEY);\nINSERT INTO counter VALUES (%d);\n' "$i" "$i" > "migrations/$(printf '%03d' "$i")_t$i.sql"
  done
  printf 'CREATE TABLE counter (n int);\n' > migrations/000_counter.sql
  pids=()
  for i in $(seq 1 8); do
    "$DBM" apply > "$WORK/out.$i" 2>&1 & pids+=($!)
  done
  rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  if [ $rc -ne 0 ]; then cat "$WORK"/out.*; fi
  [ $rc -eq 0 ]
  [ "$(sql "SELECT count(*) FROM counter")" = 12 ]
  [ "$(sql "SELECT count(DISTINCT n) FROM counter")" = 12 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 13 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE outcome = 'applied'")" = 1 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE outcome = 'up-to-date'")" = 7 ]
}

@test "a run that waited for the lock sees what the holder applied, under any default isolation" {
  # The lock and the history reads share one query: under repeatable read its snapshot
  # would date from before the wait, and the waiting run would apply the same files again.
  sql "ALTER DATABASE $DBNAME SET default_transaction_isolation = 'repeatable read'"
  printf -- '-- migrate:no-transaction\nSELECT pg_sleep(2);\nCREATE TABLE t1 (id int);\n' > migrations/001_slow.sql
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_next.sql
  "$DBM" apply > "$WORK/out.a" 2>&1 & a=$!
  sleep 0.7
  "$DBM" apply > "$WORK/out.b" 2>&1 & b=$!
  rc=0
  wait "$a" || rc=1
  wait "$b" || rc=2
  if [ $rc -ne 0 ]; then cat "$WORK"/out.a "$WORK"/out.b; fi
  [ $rc -eq 0 ]
  grep -q "up to date" "$WORK/out.b"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
}

@test "a failing migration leaves no history row and no partial schema, and is annotated at its line and column" {
  write migrations/001_ok.sql <<'SQL'
CREATE TABLE ok (id int);
SQL
  write migrations/002_broken.sql <<'SQL'
-- a comment line
CREATE TABLE half (id int);

INSERT INTO half
  SELECT id FROM no_such_table;
SQL
  write migrations/003_later.sql <<'SQL'
CREATE TABLE later (id int);
SQL
  export GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/output" GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 1 apply --report-file "$WORK/report.json"
  [[ "$output" == *'::error file=migrations/002_broken.sql,line=5,col=18,title=Migration failed::relation "no_such_table" does not exist'* ]]
  [ "$(sql "SELECT version FROM db_migrate.migrations ORDER BY 1")" = 001 ]
  [ "$(sql "SELECT to_regclass('half') IS NULL AND to_regclass('later') IS NULL")" = t ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs")" = failed ]
  grep -qx 'status=failed' "$WORK/output"
  grep -qx 'applied-count=1' "$WORK/output"
  grep -qx 'applied-versions=001' "$WORK/output"
  grep -qx 'pending-count=2' "$WORK/output"
  grep -q 'no_such_table' "$WORK/summary"
  grep -q '&gt;    5 |   SELECT id FROM no_such_table;' "$WORK/summary"
  python3 - "$WORK/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "failed", r["status"]
m = {x["version"]: x for x in r["migrations"]}
assert m["001"]["status"] == "applied"
e = m["002"]["error"]
assert m["002"]["status"] == "failed" and e["sqlstate"] == "42P01" and e["line"] == 5 and e["column"] == 18, e
assert m["003"]["status"] == "skipped"
PY
  # Once the cause is gone, the rerun applies the rest.
  sql "CREATE TABLE no_such_table (id int)"
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 3 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE outcome = 'failed'")" = 1 ]
}

@test "consecutive migrations run back to back in one message, each in its own transaction with its own times" {
  # The server logs each message it receives: the files arrive as one.
  sql "ALTER DATABASE $DBNAME SET log_statement = 'all'"
  for i in 1 2 4 5; do printf 'CREATE TABLE b%s (id int);\n' "$i" > "migrations/00${i}_table.sql"; done
  write migrations/003_slow.sql <<'SQL'
CREATE TABLE b3 (id int);
SELECT pg_sleep(0.4) -- no semicolon, and a comment last
SQL
  run_dbm 0 apply
  [[ "$output" == *"applied  migrations/003_slow.sql (2 statements"* ]]
  python3 - "$PGTEST_DIR/log" <<'PY'
import re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
entries = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d )", log)
mine = [e for e in entries if "CREATE TABLE b1" in e and "statement:" in e]
assert len(mine) == 1, mine
assert all("CREATE TABLE b%d" % i in mine[0] for i in range(2, 6)), mine[0]
assert mine[0].count("COMMIT;") == 5, mine[0]
# five migrations share one prepared history statement and one for their settings
assert mine[0].count("PREPARE db_migrate_record_") == 1 and mine[0].count("EXECUTE db_migrate_record_") == 5, mine[0]
assert mine[0].count("PREPARE db_migrate_start_") == 1 and mine[0].count("EXECUTE db_migrate_start_") == 5, mine[0]
PY
  # Each row has its own start and duration: not the time the message arrived.
  [ "$(sql "SELECT duration_ms >= 400 FROM db_migrate.migrations WHERE version = '003'")" = t ]
  [ "$(sql "SELECT bool_and(duration_ms < 400) FROM db_migrate.migrations WHERE version <> '003'")" = t ]
  [ "$(sql "SELECT (SELECT applied_at FROM db_migrate.migrations WHERE version = '004') -
                   (SELECT applied_at FROM db_migrate.migrations WHERE version = '003') >= interval '400 ms'")" = t ]
  [ "$(sql "SELECT count(DISTINCT xmin::text) FROM db_migrate.migrations")" = 5 ]
}

@test "a failure inside a batch keeps the earlier migrations, and its position maps through the message" {
  write migrations/001_one.sql <<'SQL'
-- déjà vu: text before the failure holds multi-byte characters
CREATE TABLE b1 (id int, note text DEFAULT 'héllo 🎉');
SQL
  printf 'CREATE TABLE b2 (id int);\n' > migrations/002_two.sql
  printf 'CREATE TABLE b3 (id int);\n' > migrations/003_three.sql
  write migrations/004_four.sql <<'SQL'
CREATE TABLE b4 (t text);
COMMENT ON TABLE b4 IS 'ünïcode';  SELECT 'é', nosuchcol FROM b4;
SQL
  printf 'CREATE TABLE b5 (id int);\n' > migrations/005_five.sql
  export GITHUB_ACTIONS=true
  run_dbm 1 apply
  [[ "$output" == *'::error file=migrations/004_four.sql,line=2,col=48,title=Migration failed::column "nosuchcol" does not exist'* ]]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002,003 ]
  [ "$(sql "SELECT to_regclass('b3') IS NOT NULL AND to_regclass('b4') IS NULL AND to_regclass('b5') IS NULL")" = t ]
  # Once fixed, the rerun applies the rest: the failed message's prepared statement is no obstacle.
  printf 'CREATE TABLE b4 (t text);\n' > migrations/004_four.sql
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 5 ]
}

@test "a connection lost in a batch: after its last COMMIT everything counts as applied; before, the rest is said to be uncertain" {
  for i in 1 2 3 4; do printf 'CREATE TABLE c%s (id int);\n' "$i" > "migrations/00${i}_c.sql"; done
  port=$(free_port)
  python3 "$BATS_TEST_DIRNAME/fixtures/cutproxy.py" "$port" "$PGTEST_PORT" DEALLOCATE > "$WORK/proxy.out" 2>&1 &
  for _ in $(seq 50); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  # Cut after the batch's last statement: all four committed, and the run says so.
  run "$DBM" apply --database-url "postgresql://postgres@127.0.0.1:$port/$DBNAME?sslmode=disable" --report-file "$WORK/r.json"
  echo "$output"
  [[ "$output" != *Sanitizer* && "$output" != *"runtime error"* ]]
  [ "$(grep -c '^applied  migrations/00[1-4]_c.sql' <<< "$output")" = 4 ]
  grep -q '"applied_count": 4' "$WORK/r.json"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 4 ]

  # Cut after the first COMMIT of the next batch: the second is reported failed, with the doubt said.
  for i in 5 6 7 8; do printf 'CREATE TABLE c%s (id int);\nSELECT pg_sleep(0.1);\n' "$i" > "migrations/00${i}_c.sql"; done
  python3 "$BATS_TEST_DIRNAME/fixtures/cutproxy.py" "$port" "$PGTEST_PORT" COMMIT 1 > "$WORK/proxy.out" 2>&1 &
  for _ in $(seq 50); do grep -q ready "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  run "$DBM" apply --database-url "postgresql://postgres@127.0.0.1:$port/$DBNAME?sslmode=disable"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *Sanitizer* && "$output" != *"runtime error"* ]]
  [[ "$output" == *"applied  migrations/005_c.sql"* ]]
  [[ "$output" == *"FAILED   migrations/006_c.sql"* ]]
  [[ "$output" == *"may have committed before the server noticed"* ]]
  # Whatever the server did, each migration is recorded exactly when it exists.
  sleep 1.5
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = "$(sql "SELECT count(*) FROM pg_tables WHERE tablename ~ '^c[0-9]$'")" ]
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 8 ]
}

@test "a job cancelled in the middle of a batch stops the server within about a second" {
  need_pg 14 "the server checks that the client is still there (client_connection_check_interval)"
  for i in 1 2 3 4 5 6; do printf 'CREATE TABLE k%s (id int);\nSELECT pg_sleep(0.5);\n' "$i" > "migrations/00${i}_k.sql"; done
  "$DBM" apply > "$WORK/out" 2>&1 &
  pid=$!
  sleep 0.8
  kill -9 "$pid"
  wait "$pid" || true
  # The six would take 3 s; the server notices the client is gone and stops.
  sleep 3
  n=$(sql "SELECT count(*) FROM db_migrate.migrations")
  [ "$n" -le 3 ]
  [ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename ~ '^k[0-9]$'")" = "$n" ]
}

@test "batches stay under their size, and a failed migration's time is its own" {
  sql "ALTER DATABASE $DBNAME SET log_statement = 'all'"
  big=$(python3 -c 'print("x" * 60000)')
  for i in $(seq 10 29); do printf "CREATE TABLE z%s (id int);\nCOMMENT ON TABLE z%s IS '%s';\n" "$i" "$i" "$big" > "migrations/0${i}_z.sql"; done
  run_dbm 0 apply
  python3 - "$PGTEST_DIR/log" <<'PY'
import re, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read()
entries = [e for e in re.split(r"(?m)^(?=\d{4}-\d\d-\d\d )", log) if "CREATE TABLE z" in e]
assert len(entries) >= 5, len(entries)
assert max(len(e) for e in entries) < 300000, max(len(e) for e in entries)
PY
  printf 'SELECT pg_sleep(0.5);\n' > migrations/030_wait.sql
  printf 'SELECT pg_sleep(0.7);\nSELECT 1/0;\n' > migrations/031_fail.sql
  run_dbm 1 apply --report-file "$WORK/r.json"
  python3 - "$WORK/r.json" <<'PY'
import json, sys
m = {x["version"]: x for x in json.load(open(sys.argv[1]))["migrations"]}
assert m["030"]["status"] == "applied" and 450 <= m["030"]["duration_ms"] < 700, m["030"]
assert m["031"]["status"] == "failed" and 600 <= m["031"]["duration_ms"] < 1100, m["031"]
PY
}

@test "with standard_conforming_strings off, files go a statement at a time and fail where the server stops" {
  # The files are split as PostgreSQL reads them by default; a server that reads
  # backslashes in strings as escapes must not see one file's text run into the next.
  sql "ALTER DATABASE $DBNAME SET standard_conforming_strings = off"
  printf 'CREATE TABLE s1 (id int);\n' > migrations/001_one.sql
  # Run together, this text would parse with the server's reading and insert one odd row.
  write migrations/002_two.sql <<'SQL'
CREATE TABLE s2 (t text);
INSERT INTO s2 VALUES ('a\');
INSERT INTO s2 VALUES ('); SELECT 1; --');
SQL
  printf 'CREATE TABLE s3 (id int);\n' > migrations/003_three.sql
  export GITHUB_ACTIONS=true
  run_dbm 1 apply
  [[ "$output" == *'::error file=migrations/002_two.sql,line=2,col=24,title=Migration failed::unterminated quoted string'* ]]
  [ "$(sql "SELECT string_agg(version, ',') FROM db_migrate.migrations")" = 001 ]
  [ "$(sql "SELECT to_regclass('s2') IS NULL AND to_regclass('s3') IS NULL")" = t ]
}

@test "a Flyway repeatable migration runs again when it changes, replacing its row" {
  printf 'CREATE TABLE r (id int);\n' > migrations/V1__table.sql
  printf 'CREATE OR REPLACE VIEW rv AS SELECT 1 AS x;\n' > migrations/R__view.sql
  run_dbm 0 apply --format flyway
  before=$(sql "SELECT checksum FROM db_migrate.migrations WHERE version = 'R__view'")
  printf 'CREATE OR REPLACE VIEW rv AS SELECT 1 AS x, 2 AS y;\n' > migrations/R__view.sql
  run_dbm 0 apply --format flyway
  [[ "$output" == *"applied  migrations/R__view.sql"* ]]
  [ "$(sql "SELECT y FROM rv")" = 2 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = 'R__view' AND checksum <> '$before'")" = 1 ]
  run_dbm 0 apply --format flyway
  [[ "$output" == *"up to date: nothing to apply"* ]]
}

@test "a lock timeout is retried while another session holds the lock, and succeeds once it is released" {
  sql "CREATE TABLE busy (id int)"
  # Three files of one batch: the retry resends from the one that timed out, not from the first.
  write migrations/000_first.sql <<'SQL'
CREATE TABLE first (id int);
SQL
  write migrations/001_alter.sql <<'SQL'
ALTER TABLE busy ADD COLUMN note text;
SQL
  write migrations/002_after.sql <<'SQL'
CREATE TABLE after (id int);
SQL
  # Hold an ACCESS SHARE lock for 2.5 s: the ALTER needs ACCESS EXCLUSIVE.
  psql -X -q "$DATABASE_URL" -c "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(2.5); COMMIT;" >/dev/null &
  holder=$!
  sleep 0.5
  run_dbm 0 apply --lock-timeout 300ms --lock-retries 8
  wait $holder
  [[ "$output" == *"lock timeout in 'migrations/001_alter.sql' (attempt 1 of 9); retrying"* ]]
  [ "$(grep -c 'applied  migrations/000_first.sql' <<< "$output")" = 1 ]
  [ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy' AND column_name = 'note'")" = 1 ]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 000,001,002 ]
}

@test "a lock timeout with no retries left fails with SQLSTATE 55P03 and records nothing" {
  sql "CREATE TABLE busy (id int)"
  printf 'ALTER TABLE busy ADD COLUMN note text;\n' > migrations/001_alter.sql
  psql -X -q "$DATABASE_URL" -c "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(2); COMMIT;" >/dev/null &
  holder=$!
  sleep 0.5
  run_dbm 1 apply --lock-timeout 100ms --lock-retries 0 --report-file "$WORK/r.json"
  wait $holder
  [[ "$output" == *"canceling statement due to lock timeout"* ]]
  grep -q '"sqlstate": "55P03"' "$WORK/r.json"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "a non-transactional migration that fails at its second statement resumes there" {
  sql "CREATE TABLE a (x int)"
  write migrations/001_indexes.sql <<'SQL'
-- migrate:no-transaction
CREATE INDEX CONCURRENTLY a_x_idx ON a (x);
CREATE INDEX CONCURRENTLY b_y_idx ON b (y);
SQL
  run_dbm 1 apply
  [[ "$output" == *'relation "b" does not exist'* ]]
  [ "$(sql "SELECT status, failed_statement FROM db_migrate.migrations")" = "failed|2" ]
  run_dbm 0 status
  [[ "$output" == *"failed before at statement 2"* ]]
  sql "CREATE TABLE b (y int)"
  # Statement 1 would fail with "already exists" if it ran again.
  run_dbm 0 apply
  [[ "$output" == *"resumed at statement 2 of 2"* ]]
  [ "$(sql "SELECT status, failed_statement IS NULL FROM db_migrate.migrations")" = "applied|t" ]
  [ "$(sql "SELECT count(*) FROM pg_indexes WHERE indexname IN ('a_x_idx', 'b_y_idx')")" = 2 ]
}

@test "a non-transactional migration runs a DO block that commits and a procedure, each bare" {
  sql "CREATE TABLE batches (n int); CREATE PROCEDURE note_batch() LANGUAGE plpgsql AS \$\$ BEGIN INSERT INTO batches VALUES (-1); COMMIT; END \$\$"
  write migrations/001_backfill.sql <<'SQL'
-- migrate:no-transaction
CREATE TABLE filled (id int);
DO $$
BEGIN
  FOR i IN 1..3 LOOP
    INSERT INTO batches VALUES (i);
    COMMIT;
  END LOOP;
END $$;
CALL note_batch();
SQL
  run_dbm 0 apply
  [ "$(sql "SELECT string_agg(n::text, ',' ORDER BY n) FROM batches")" = "-1,1,2,3" ]
  [ "$(sql "SELECT status FROM db_migrate.migrations")" = applied ]
  [ "$(sql "SELECT count(*) FROM db_migrate.statements WHERE outcome = 'done'")" = 3 ]
}

@test "a non-transactional migration's DO block and procedure may COMMIT inside, as outside a transaction" {
  write migrations/001_batches.sql <<'SQL'
-- migrate:no-transaction
CREATE TABLE t (x int);
DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; INSERT INTO t VALUES (2); END $$;
CREATE PROCEDURE fill() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO t VALUES (3); COMMIT; END $$;
CALL fill();
SQL
  run_dbm 0 apply
  [ "$(sql "SELECT string_agg(x::text, ',' ORDER BY x) FROM t")" = 1,2,3 ]
  [ "$(sql "SELECT status FROM db_migrate.migrations")" = applied ]
}

@test "a failed CREATE INDEX CONCURRENTLY names the invalid index and the command that drops it" {
  sql "CREATE TABLE dup (x int); INSERT INTO dup VALUES (1), (1)"
  write migrations/001_unique.sql <<'SQL'
-- migrate:no-transaction
CREATE UNIQUE INDEX CONCURRENTLY dup_x_key ON dup (x);
SQL
  run_dbm 1 apply
  [[ "$output" == *"DROP INDEX CONCURRENTLY public.dup_x_key;"* ]]
}

@test "a statement that cannot run in a transaction, in a file without the directive, is reported before anything runs" {
  sql "CREATE TABLE a (x int)"
  printf 'CREATE TABLE first (id int);\n' > migrations/001_first.sql
  write migrations/002_idx.sql <<'SQL'
/* builds an index; CONCURRENTLY in a comment does not count */
CREATE TABLE c (x int);
CREATE INDEX CONCURRENTLY a_idx ON a (x);
SQL
  run_dbm 1 apply
  [[ "$output" == *"needs-no-transaction  migrations/002_idx.sql:3: CREATE INDEX cannot run inside a transaction block"* ]]
  [[ "$output" == *"-- migrate:no-transaction"* ]]
  [ "$(sql "SELECT to_regclass('first') IS NULL")" = t ]
}

@test "an applied migration whose file was edited blocks apply and verify, naming the file" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run_dbm 0 apply
  printf 'CREATE TABLE a (x bigint);\n' > migrations/001_a.sql
  printf 'CREATE TABLE b (x int);\n' > migrations/002_b.sql
  run_dbm 1 apply
  [[ "$output" == *"'migrations/001_a.sql' was edited after it was applied"* ]]
  [[ "$output" == *"apply found 1 blocking problem; nothing was applied"* ]]
  [ "$(sql "SELECT to_regclass('b') IS NULL")" = t ]
  run_dbm 1 verify
  [[ "$output" == *"edited-applied"* ]]
  # Line endings and a BOM are not edits.
  printf '\xef\xbb\xbfCREATE TABLE a (x int);\r\n' > migrations/001_a.sql
  rm migrations/002_b.sql
  run_dbm 0 verify
}

@test "another run holding the lock makes apply exit 4 and name the holder" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  key=$(run_lock_key)
  psql -X -q "$DATABASE_URL" -c "SET application_name = 'other-deploy'; SELECT pg_advisory_lock($key); SELECT pg_sleep(4)" >/dev/null &
  holder=$!
  sleep 0.7
  run_dbm 4 apply --run-lock-wait 1s
  wait $holder
  [[ "$output" == *"another run holds the migration lock for schema 'db_migrate' (pid "*"application 'other-deploy'"* ]]
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]
}

@test "a direct run leaves no lease, no advisory lock and no warning in the server's log" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  warnings() { grep -c 'there is no transaction in progress' "$PGTEST_DIR/log" || true; }
  before=$(warnings)
  run_dbm 0 apply
  run_dbm 0 apply
  [[ "$output" == *"up to date"* ]]
  [ "$(warnings)" = "$before" ]
  [ "$(sql "SELECT count(*) FROM db_migrate.lease")" = 0 ]
  [ "$(sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" = 0 ]
}

@test "a bad file stops apply at once while another run holds the lock, leaving no backend waiting" {
  # The files are checked before the lock is asked for: a bad file must not wait for it.
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  printf 'SELECT 1;\nSELECT \xff;\n' > migrations/002_latin1.sql
  key=$(run_lock_key)
  psql -X -q "$DATABASE_URL" -c "SELECT pg_advisory_lock($key); SELECT pg_sleep(6)" >/dev/null &
  holder=$!
  sleep 0.7
  start=$(date +%s%N)
  run_dbm 2 apply --run-lock-wait 60s
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [[ "$output" == *"002_latin1.sql' is not valid UTF-8 at line 2"* ]]
  [ "$elapsed_ms" -lt 5000 ]
  # the cancelled query is not left waiting for the lock on the server
  sleep 0.5
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")" = 0 ]
  wait $holder
}

@test "an out-of-order pending migration is an error unless out-of-order is allow" {
  printf 'CREATE TABLE b (x int);\n' > migrations/002_b.sql
  run_dbm 0 apply
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run_dbm 1 apply
  [[ "$output" == *"'migrations/001_a.sql' is pending but older than the newest applied version 002"* ]]
  run_dbm 0 apply --out-of-order allow
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
}

@test "bad files get clear errors or are handled, never a crash" {
  printf '' > migrations/001_empty.sql
  printf -- '-- only a comment\n/* and another */\n' > migrations/002_comments.sql
  printf 'CREATE TABLE "with space" (id int);\n' > "migrations/003_name with spaces.sql"
  printf 'CREATE TABLE pct (id int);\n' > "migrations/004_100%_sure.sql"
  run_dbm 0 apply
  [[ "$output" == *"applied  migrations/001_empty.sql (0 statements"* ]]
  [[ "$output" == *"applied  migrations/004_100%_sure.sql"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 4 ]

  printf 'CREATE TABLE x (id int);\n' > migrations/005_a.sql
  printf 'CREATE TABLE y (id int);\n' > migrations/0005_b.sql
  run_dbm 2 apply
  [[ "$output" == *"005_a.sql"*"0005_b.sql"* || "$output" == *"0005_b.sql"*"005_a.sql"* ]]
  rm migrations/0005_b.sql

  printf 'CREATE TABLE caf\xe9 (id int);\n' > migrations/006_latin1.sql
  run_dbm 2 apply
  [[ "$output" == *"006_latin1.sql"*"UTF-8"* ]]
  rm migrations/006_latin1.sql

  printf 'CREATE TABEL nope (id int);\n' > migrations/007_typo.sql
  run_dbm 1 apply
  [[ "$output" == *'migrations/007_typo.sql:1:'*'syntax error at or near "TABEL"'* ]]
  rm migrations/007_typo.sql

  # A large file: 40,000 statements, about 2 MB.
  python3 -c '
print("CREATE TABLE big (id int, s text);")
for i in range(40000): print("INSERT INTO big VALUES (%d, %s);" % (i, repr("x" * 20)))' > migrations/008_big.sql
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM big")" = 40000 ]
}

@test "a file name holding a newline is handled" {
  printf 'CREATE TABLE nl (id int);\n' > "migrations/009_new"$'\n'"line.sql"
  run_dbm 2 apply
  [[ "${lines[0]}" == "error: "*"009_new?line.sql"* ]]
  [[ "$output" != *"AddressSanitizer"* && "$output" != *"runtime error"* ]]
}

@test "configuration errors exit 2 with a one-line error and a hint" {
  run_dbm 2 apply --lock-timeout 5x
  [ "${lines[0]}" = "error: invalid duration '5x' for lock-timeout" ]
  [[ "${lines[1]}" == hint:* ]]
  run_dbm 2 frobnicate
  [ "${lines[0]}" = "error: unknown command 'frobnicate'" ]
  run_dbm 2 plan --format nope
  [[ "${lines[0]}" == "error: "*"nope"* ]]
  run_dbm 2 apply --migrations-dir does-not-exist
  [[ "${lines[0]}" == "error: "*"does-not-exist"* ]]
  run_dbm 2 rollback --target-version abc --yes
  [ "${lines[0]}" = "error: target-version abc is not an applied version: none is applied; nothing was rolled back" ]
  run env 'INPUT_LOCK-TIMEOUT=bad' "$DBM" apply
  [ "$status" -eq 2 ]
  [[ "$output" == *"invalid duration 'bad' for lock-timeout"* ]]
}

@test "a duration in a form only C's strtod reads (0x10s, 1e3ms, +5s) is exit 2 naming the option" {
  run_dbm 2 plan --offline --lock-timeout 0x10s
  [ "${lines[0]}" = "error: invalid duration '0x10s' for lock-timeout" ]
  [ "${lines[1]}" = "hint: write digits, an optional decimal fraction, then a unit (ms, s, m or h): 500ms, 1.5s, 10m, 1h; 0 for none" ]
  [ "${#lines[@]}" -eq 2 ]
  run_dbm 2 plan --offline --run-lock-wait 1e3ms
  [ "${lines[0]}" = "error: invalid duration '1e3ms' for run-lock-wait" ]
  run_dbm 2 plan --offline --statement-timeout=+5s
  [ "${lines[0]}" = "error: invalid duration '+5s' for statement-timeout" ]
  run_dbm 2 plan --offline --wait .5s
  [ "${lines[0]}" = "error: invalid duration '.5s' for wait" ]
  DB_MIGRATE_LEASE_TTL=1e3 run_dbm 2 plan --offline
  [ "${lines[0]}" = "error: invalid DB_MIGRATE_LEASE_TTL '1e3': not whole seconds from 1 to 86400" ]
  # every documented form still works
  run_dbm 0 plan --offline --lock-timeout 500ms --statement-timeout 1.5s --run-lock-wait 10m --wait 0
  DB_MIGRATE_LEASE_TTL=45 run_dbm 0 plan --offline --lock-timeout 1h
}

@test "action inputs with hyphens are read from INPUT_ variables" {
  mkdir -p db/sql
  printf 'CREATE TABLE from_input (id int);\n' > db/sql/001_a.sql
  run env "INPUT_COMMAND=apply" "INPUT_MIGRATIONS-DIR=db/sql" "INPUT_HISTORY-SCHEMA=audit" "$DBM"
  [ "$status" -eq 0 ]
  [ "$(sql "SELECT count(*) FROM audit.migrations")" = 1 ]
}

@test "connection failures exit 3 with one line, and the password never appears" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  port=$(free_port)
  run_dbm 3 apply --database-url "postgresql://postgres:s3cretpw@127.0.0.1:$port/x"
  [[ "${lines[0]}" == "error: unable to connect to 'postgres@127.0.0.1:$port/x': "* ]]
  [[ "$output" != *s3cretpw* ]]
  run_dbm 3 apply --database-url "$PGTEST_URL_BASE/no_such_db"
  [[ "$output" == *'database "no_such_db" does not exist'* ]]
  start=$(date +%s)
  run_dbm 3 apply --database-url "postgresql://postgres@127.0.0.1:$port/x" --wait 2s
  [ $(( $(date +%s) - start )) -ge 1 ]
}

@test "a value libpq refuses in database-url, or a URL without its option, is exit 2 without the password" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  start=$(date +%s)
  run_dbm 2 apply --wait 30s --database-url "postgresql://postgres:s3cretpw@127.0.0.1:$PGTEST_PORT/$DBNAME?sslmode=bogus"
  [ $(( $(date +%s) - start )) -lt 5 ]
  [ "${lines[0]}" = "error: unable to connect to 'postgres@127.0.0.1:$PGTEST_PORT/$DBNAME': invalid sslmode value: \"bogus\"" ]
  [[ "${lines[1]}" == "hint: fix that parameter in database-url; "* ]]
  [ "${#lines[@]}" -eq 2 ]
  run_dbm 2 apply --database-url "postgresql://postgres:s3cretpw@127.0.0.1:$PGTEST_PORT/$DBNAME?keepalives_idle=1e3"
  [ "${lines[0]}" = "error: unable to connect to 'postgres@127.0.0.1:$PGTEST_PORT/$DBNAME': invalid integer value \"1e3\" for connection option \"keepalives_idle\"" ]
  run_dbm 2 apply --database-url "postgresql://postgres:s3cretpw@127.0.0.1:99999/$DBNAME"
  [[ "${lines[0]}" == *'invalid port number: "99999"' ]]
  # A connection string without its option is named without its password.
  run_dbm 2 apply "postgresql://postgres:s3cretpw@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [ "${lines[0]}" = "error: unexpected argument 'postgresql://postgres:***@127.0.0.1:$PGTEST_PORT/$DBNAME'" ]
  [ "${lines[1]}" = "hint: a connection string goes in --database-url (or DATABASE_URL, database-url in the Action)" ]
  run_dbm 2 apply "host=127.0.0.1 password=s3cretpw dbname=x"
  [ "${lines[0]}" = "error: unexpected argument 'host=127.0.0.1 password=*** dbname=x'" ]
  # A mistyped option is named without its value, which may be the URL.
  run_dbm 2 apply --databse-url="postgresql://postgres:s3cretpw@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [ "${lines[0]}" = "error: unknown option '--databse-url'" ]
  [[ "$output" != *s3cretpw* ]]
}

@test "--verbose shows a server notice as one line, without libpq's doubled space" {
  printf 'DROP TABLE IF EXISTS nope;\nDO $$ BEGIN RAISE WARNING E%s; END $$;\n' "'two\\nlines'" > migrations/001_notices.sql
  run_dbm 0 apply --verbose
  [[ "$output" == *'  notice: table "nope" does not exist, skipping'* ]] || { echo "$output"; false; }
  [[ "$output" == *"  warning: two"* ]] || { echo "$output"; false; }
  [[ "$output" != *"NOTICE:"* && "$output" != *"WARNING:"* ]] || { echo "$output"; false; }
}

@test "a password in database-url is masked for the runner, and printed nowhere else" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  export GITHUB_ACTIONS=true
  # The server trusts local connections, so the password is sent but not checked.
  run_dbm 0 apply --database-url "postgresql://postgres:S%40cret%2Fpw@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [[ "$output" == *"::add-mask::S@cret/pw"* ]]
  [ "$(grep -c -e 'S@cret/pw' -e 'S%40cret' <<< "$output")" = 1 ]
  run_dbm 0 apply --database-url "host=127.0.0.1 port=$PGTEST_PORT dbname=$DBNAME user=postgres password='kv secret'"
  [[ "$output" == *"::add-mask::kv secret"* ]]
  [ "$(grep -c 'kv secret' <<< "$output")" = 1 ]
}

@test "without libpq, commands that connect say what to install and plan --offline still works" {
  [ "$(id -u)" -eq 0 ] || skip "hiding libpq needs a private mount namespace (root)"
  lib=$(ldconfig -p | awk '/libpq\.so\.5 .*x86-64/ { print $NF; exit }')
  [ -n "$lib" ]
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run unshare --mount sh -c "mount --bind /dev/null '$(readlink -f "$lib")' && '$DBM' apply"
  [ "$status" -eq 3 ]
  [[ "${lines[0]}" == "error: unable to load libpq: "* ]]
  [[ "$output" == *"hint: install PostgreSQL's client library"* ]]
  run unshare --mount sh -c "mount --bind /dev/null '$(readlink -f "$lib")' && '$DBM' plan --offline"
  [ "$status" -eq 0 ]
}

@test "apply refuses to run on pull_request events unless allowed" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  GITHUB_EVENT_NAME=pull_request run_dbm 2 apply
  [[ "$output" == *"apply refuses to run on 'pull_request' events"* ]]
  GITHUB_EVENT_NAME=pull_request run_dbm 0 apply --allow-apply-on-pull-request true
}

@test "rollback, repair and baseline refuse to run on pull_request events unless allowed" {
  printf -- '-- migrate:up\nCREATE TABLE a (x int);\n-- migrate:down\nDROP TABLE a;\n' > migrations/001_a.sql
  printf -- '-- migrate:up\nCREATE TABLE b (x int);\n-- migrate:down\nDROP TABLE b;\n' > migrations/002_b.sql
  run_dbm 0 apply
  # In the Action, command: rollback is the confirmation: only the event guard stands.
  GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK GITHUB_EVENT_NAME=pull_request INPUT_COMMAND=rollback run_dbm 2
  [[ "$output" == *"rollback refuses to run on 'pull_request' events"* ]]
  [[ "$output" == *"run rollback from a push or workflow_dispatch workflow, or set allow-apply-on-pull-request: true"* ]]
  [ "$(sql "SELECT to_regclass('b') IS NOT NULL")" = t ]
  GITHUB_EVENT_NAME=pull_request_target run_dbm 2 repair --target-version 002
  [[ "$output" == *"repair refuses to run on 'pull_request_target' events"* ]]
  GITHUB_EVENT_NAME=pull_request run_dbm 2 repair --accept-edit 002
  GITHUB_EVENT_NAME=pull_request run_dbm 2 baseline --target-version 002
  [[ "$output" == *"baseline refuses to run on 'pull_request' events"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs")" = 1 ]
  # Reads still run; the opt-in lets the writes run on a disposable database.
  GITHUB_EVENT_NAME=pull_request run_dbm 0 status
  GITHUB_EVENT_NAME=pull_request run_dbm 0 rollback --yes --allow-apply-on-pull-request true
  [ "$(sql "SELECT to_regclass('b') IS NULL")" = t ]
}

@test "rollback reports what it undid as rolled back, not applied" {
  for v in 1 2 3; do
    printf -- '-- migrate:up\nCREATE TABLE t%s (x int);\n-- migrate:down\nDROP TABLE t%s;\n' $v $v > migrations/00${v}_t$v.sql
  done
  run_dbm 0 apply
  GITHUB_OUTPUT=$WORK/out GITHUB_STEP_SUMMARY=$WORK/summary run_dbm 0 rollback --yes --report-file r.json
  [[ "$output" == *"rolled-back  003"* ]]
  [[ "$output" != *"applied  003"* ]]
  grep -qx 'status=rolled-back' out
  grep -qx 'applied-count=0' out
  grep -qx 'applied-versions=' out
  grep -qx 'rolled-back-count=1' out
  grep -qx 'rolled-back-versions=003' out
  # It is pending again, as status says.
  grep -qx 'pending-count=1' out
  grep -qx '### ✅ db-migrate rollback: 1 rolled back · 1 pending' summary
  grep -q '| ↩️ | `003` | t3 | rolled-back |' summary
  ! grep -q '1 applied' summary
  [ "$(jq -r '.status, .applied_count, .rolled_back_count, (.migrations[] | select(.version == "003") | .status)' r.json | paste -sd' ')" = "rolled-back 0 1 rolled-back" ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = rolled-back ]
  run_dbm 0 status
  [[ "$output" == *"pending  003"* ]]
  GITHUB_OUTPUT=$WORK/out2 run_dbm 0 rollback --target-version 1 --yes
  grep -qx 'rolled-back-versions=002' out2
  grep -qx 'pending-count=2' out2
  # A target newer than every applied version undoes nothing, and offers no older one.
  run_dbm 2 rollback --target-version 5 --yes
  [ "${lines[0]}" = "error: target-version 5 is newer than every applied version (the newest is 001): there is nothing to roll back; nothing was rolled back" ]
  [[ "$output" != *"did you mean"* ]]
  [ "$(sql "SELECT string_agg(version, ',') FROM db_migrate.migrations")" = 001 ]
}

@test "baseline says what it recorded, and that there was nothing to record" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  printf 'CREATE TABLE b (x int);\n' > migrations/002_b.sql
  run_dbm 0 baseline --target-version 2
  [[ "$output" == *"baselined 2 migrations up to 2; nothing was run"* ]]
  run_dbm 0 baseline --target-version 2
  [[ "$output" == *"nothing to baseline: every migration up to 2 is recorded already"* ]]
}

@test "baseline records without running, repair clears a failed record, rollback runs down sections newest first" {
  write migrations/001_a.sql <<'SQL'
-- migrate:up
CREATE TABLE a (x int);
-- migrate:down
DROP TABLE a;
SQL
  write migrations/002_b.sql <<'SQL'
-- migrate:up
CREATE TABLE b (x int);
-- migrate:down
DROP TABLE b;
SQL
  write migrations/003_c.sql <<'SQL'
CREATE TABLE c (x int);
SQL
  sql "CREATE TABLE a (x int)"
  run_dbm 0 baseline --target-version 1
  [ "$(sql "SELECT version FROM db_migrate.migrations")" = 001 ]
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 3 ]
  # 003 has no down section: refuse before running anything.
  run_dbm 1 rollback --target-version 1
  [[ "$output" == *"'migrations/003_c.sql' has no down section; nothing was rolled back"* ]]
  [ "$(sql "SELECT to_regclass('b') IS NOT NULL")" = t ]
  printf -- '-- migrate:up\nCREATE TABLE c (x int);\n-- migrate:down\nDROP TABLE c;\n' > migrations/003_c.sql
  sql "UPDATE db_migrate.migrations SET checksum = 'sha256:$(printf 'CREATE TABLE c (x int);\n' | sha256sum | cut -c1-64)' WHERE version = '003'"
  run_dbm 0 rollback --target-version 1 --yes
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001 ]
  [ "$(sql "SELECT to_regclass('b') IS NULL AND to_regclass('c') IS NULL")" = t ]

  write migrations/004_ix.sql <<'SQL'
-- migrate:no-transaction
CREATE INDEX CONCURRENTLY nope_idx ON nope (x);
SQL
  run_dbm 1 apply
  run_dbm 2 repair --target-version 001
  run_dbm 0 repair --target-version 004
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = '004'")" = 0 ]
}

@test "new creates a timestamped file from a template and refuses bad names" {
  run_dbm 0 new "Add Users-Table"
  f=$(ls migrations)
  [[ "$f" =~ ^[0-9]{14}_add_users_table\.sql$ ]]
  grep -q -- '-- migrate:up' "migrations/$f"
  grep -q -- '-- migrate:down' "migrations/$f"
  run_dbm 2 new "!!!"
}

@test "a file still holding new's template blocks apply; an empty file written by hand does not" {
  run_dbm 0 new add_projects_table
  f=$(ls migrations)
  run_dbm 1 plan
  [[ "$output" == *"unwritten-migration  migrations/$f:1: still the template 'db-migrate new' wrote: applying it would record a migration that runs nothing"* ]]
  [[ "$output" == *"hint: write the migration, or delete the file"* ]]
  run_dbm 1 apply
  [[ "$output" == *"unwritten-migration  migrations/$f:1: still the template"* ]]
  [[ "$output" == *"hint: write the migration, or delete the file"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  # Written, it applies; an empty file that is not the template keeps its notice.
  printf -- '-- migrate:up\nCREATE TABLE projects (id int);\n-- migrate:down\nDROP TABLE projects;\n' > "migrations/$f"
  : > migrations/99990101000000_placeholder.sql
  run_dbm 0 plan
  [[ "$output" == *"empty-migration  migrations/99990101000000_placeholder.sql:1"* ]]
  [[ "$output" != *"unwritten-migration"* ]]
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "status and plan list applied and pending migrations" {
  printf 'CREATE TABLE a (x int);\n' > migrations/001_a.sql
  run_dbm 0 apply
  printf 'CREATE TABLE b (x int);\n' > migrations/002_b.sql
  run_dbm 0 status
  [[ "$output" == *"  applied  001      a"* ]]
  [[ "$output" == *"  pending  002      b"* ]]
  GITHUB_OUTPUT="$WORK/out" run_dbm 0 plan
  grep -qx 'status=pending' "$WORK/out"
  grep -qx 'pending-count=1' "$WORK/out"
  unset DATABASE_URL
  run_dbm 0 plan
}

@test "the dbmate corpus applies and its schema matches the reference" {
  need_corpus measure-sh-measure
  dir="$CORPORA/measure-sh-measure"
  [ -d "$dir" ]
  sed -n 's/^prelude:[[:space:]]*//p' "$dir/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  run_dbm 0 apply --migrations-dir "$dir"
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" > "$WORK/schema.sql"
  schema_diff "$dir/expected-schema.sql" "$WORK/schema.sql"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 72 ]
}

@test "plan parses and checks many files on two threads; findings keep file order" {
  for i in $(seq -w 1 24); do
    echo "CREATE TABLE t$i (id int);" > migrations/0${i}_t$i.sql
  done
  echo "CREATE TABLE broken (id int" > migrations/005_t05.sql                # odd position
  echo "CREATE INDEX i08 ON accounts (id);" >> migrations/008_t08.sql        # even position
  echo "CREATE INDEX i13 ON accounts (id);" >> migrations/013_t13.sql        # odd position
  printf 'CREATE TABLE t22 (id int);\nSELEC 1;\n' > migrations/022_t22.sql   # even position
  unset DATABASE_URL
  run_dbm 1 plan --offline --report-file report.json
  run jq -r '.findings[] | select(.rule == "syntax-error" or .rule == "index-without-concurrently") | "\(.rule) \(.file) \(.line)"' report.json
  [ "$output" = "syntax-error migrations/005_t05.sql 2
index-without-concurrently migrations/008_t08.sql 2
index-without-concurrently migrations/013_t13.sql 2
syntax-error migrations/022_t22.sql 2" ]
  # statement counts come from the same parse: 2 where an index was added, 1 elsewhere
  [ "$(jq -r '[.migrations[].statement_count] | map(tostring) | join(" ")' report.json)" = \
    "1 1 1 1 0 1 1 2 1 1 1 1 2 1 1 1 1 1 1 1 1 0 1 1" ]
}
