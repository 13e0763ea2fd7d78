#!/usr/bin/env bats
# Progress of long work against a real PostgreSQL: lines at 5 s and every 10 s after, with
# the elapsed time and PostgreSQL's progress views; the session holding a lock a migration
# waits for, named by pid and application; a lock timeout that names it.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# stamp: each line of standard input prefixed with the time it arrived (seconds, decimal).
stamp() {
  local line
  while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done
}

# The pid of the session whose application_name is $1, once it is there (up to 10 s).
pid_of_app() {
  local pid="" i
  for i in $(seq 1 100); do
    pid=$(sql "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'")
    [ -n "$pid" ] && break
    sleep 0.1
  done
  echo "$pid"
}

@test "a 30 s index build logs its progress at 5 s and every 10 s after, in a batch that stays current" {
  # 3,000 rows through a function that sleeps 10 ms: the index build runs about 30 s.
  write migrations/001_table.sql <<'SQL'
CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 3000) g;
CREATE FUNCTION slow_id(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS $$BEGIN PERFORM pg_sleep(0.01); RETURN $1; END$$;
SQL
  write migrations/002_index.sql <<'SQL'
CREATE INDEX big_slow_idx ON big (slow_id(id));
SQL
  "$DBM" apply --log-format json 2> "$WORK/err" | stamp > "$WORK/out"
  cat "$WORK/out" >&2
  # Both files go in one batch: 001's line comes as 002 starts, not after it.
  first_progress=$(grep -n '"progress"' "$WORK/out" | head -1 | cut -d: -f1)
  applied_001=$(grep -n 'applied  migrations/001_table.sql' "$WORK/out" | cut -d: -f1)
  [ -n "$first_progress" ] && [ -n "$applied_001" ]
  [ "$applied_001" -lt "$first_progress" ]
  grep -q 'applied  migrations/002_index.sql' "$WORK/out"
  # Three lines, at 5, 15 and 25 s of the migration, each naming it and its elapsed time.
  grep '"progress"' "$WORK/out" | cut -d' ' -f2- > "$WORK/progress"
  [ "$(wc -l < "$WORK/progress")" = 3 ]
  run jq -r '.progress.elapsed_s' "$WORK/progress"
  [ "${lines[0]}" -ge 5 ] && [ "${lines[0]}" -le 6 ]
  [ "${lines[1]}" -ge 15 ] && [ "${lines[1]}" -le 16 ]
  [ "${lines[2]}" -ge 25 ] && [ "${lines[2]}" -le 26 ]
  run jq -r '.progress.migration' "$WORK/progress"
  [ "$output" = "$(printf 'migrations/002_index.sql\n%.0s' 1 2 3)" ]
  # PostgreSQL's progress view of the build: its command, phase and blocks.
  run jq -r 'select(.progress.command != null) | "\(.progress.command)|\(.progress.phase)|\(.progress.blocks_total)"' "$WORK/progress"
  [[ "${lines[0]}" == "CREATE INDEX|building index: scanning table|"[1-9]* ]]
  run jq -r '.message' "$WORK/progress"
  [[ "${lines[1]}" == "  'migrations/002_index.sql' running for 1"[56]" s: CREATE INDEX, building index: scanning table, "*" of "*" blocks ("*"%)"* ]]
  # The lines arrived 10 s apart (by the clock of this test, not the lines' own).
  grep '"progress"' "$WORK/out" | cut -d' ' -f1 > "$WORK/times"
  run python3 -c '
import sys
t = [float(x) for x in open(sys.argv[1])]
gaps = [b - a for a, b in zip(t, t[1:])]
print(" ".join("%.1f" % g for g in gaps))
sys.exit(0 if all(9.0 <= g <= 11.0 for g in gaps) else 1)' "$WORK/times"
  echo "gaps: $output" >&2
  [ "$status" -eq 0 ]
}

@test "a migration waiting for a lock logs the holder's pid, application and query" {
  sql "CREATE TABLE busy (id int)"
  printf 'ALTER TABLE busy ADD COLUMN note text;\n' > migrations/001_alter.sql
  PGAPPNAME=nightly-report psql -X -q "$DATABASE_URL" \
    -c "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(7.5); COMMIT;" >/dev/null &
  holder=$!
  pid=$(pid_of_app nightly-report)
  [ -n "$pid" ]
  run_dbm 0 apply --lock-timeout 30s
  wait $holder
  echo "$output" >&2
  [[ "$output" == *"'migrations/001_alter.sql' running for 5 s, waiting for a lock held by pid $pid (application 'nightly-report', active for "*" s): BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(7.5); COMMIT;"* ]]
  [[ "$output" == *"applied  migrations/001_alter.sql"* ]]
}

@test "a lock timeout names the session that held the lock, in the error, summary and report" {
  sql "CREATE TABLE busy (id int)"
  printf 'ALTER TABLE busy ADD COLUMN note text;\n' > migrations/001_alter.sql
  PGAPPNAME=lock-keeper psql -X -q "$DATABASE_URL" \
    -c "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(4); COMMIT;" >/dev/null &
  holder=$!
  pid=$(pid_of_app lock-keeper)
  [ -n "$pid" ]
  export GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 1 apply --lock-timeout 500ms --lock-retries 1 --report-file "$WORK/r.json"
  wait $holder
  echo "$output" >&2
  [[ "$output" == *"error: unable to apply 'migrations/001_alter.sql': canceling statement due to lock timeout; the lock was held by pid $pid (application 'lock-keeper', active for "* ]]
  [[ "$output" == *"hint: pid $pid (application 'lock-keeper') held the lock past lock-timeout on every try"*"pg_terminate_backend($pid)"* ]]
  run jq -r '.migrations[0].error | "\(.sqlstate)|\(.blocker.pid)|\(.blocker.application)|\(.blocker.state)|\(.blocker.age_s >= 0)|\(.blocker.query)"' "$WORK/r.json"
  [ "$output" = "55P03|$pid|lock-keeper|active|true|BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(4); COMMIT;" ]
  grep -q "the lock was held by pid $pid (application 'lock-keeper'" "$WORK/summary"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "without PL/pgSQL, whose notice keeps a batch's log current, migrations still apply" {
  sql "DROP EXTENSION plpgsql"
  for i in 1 2 3 4 5; do printf 'CREATE TABLE t%d (id int);\n' "$i" > "migrations/00${i}_t$i.sql"; done
  run_dbm 0 apply
  [ "$(grep -c '^applied  ' <<< "$output")" = 5 ]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002,003,004,005 ]
  printf 'CREATE TABLE t6 (id int);\n' > migrations/006_t6.sql
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 6 ]
}
