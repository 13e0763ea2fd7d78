#!/usr/bin/env bats
# dry-run against a real PostgreSQL 15: per-statement locks and rewrites measured
# from pg_locks and relfilenode, everything rolled back; and the safety rules of
# rules.c end to end through plan.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# stmt VERSION INDEX JQ: a jq expression over statement INDEX of migration VERSION
stmt() { jq -c --arg v "$1" ".migrations[] | select(.version == \$v) | .statements[$2] | $3" "$WORK/report.json"; }
finding_status() { jq -r --arg r "$1" --arg f "$2" '.findings[] | select(.rule == $r and .file == $f) | .dry_run' "$WORK/report.json"; }

seed_tables() {
  sql "CREATE TABLE accounts (id int PRIMARY KEY, email text);
       INSERT INTO accounts SELECT g, 'u' || g || '@example.com' FROM generate_series(1, 20000) g;
       CREATE TABLE events (id int PRIMARY KEY, kind text, n int);
       INSERT INTO events SELECT g, 'k' || (g % 10), g FROM generate_series(1, 20000) g;
       CREATE TABLE users (id int PRIMARY KEY, name varchar(100));
       INSERT INTO users SELECT g, 'name ' || g FROM generate_series(1, 5000) g;"
}

# A fixed \restrict key, so two dumps of one schema are byte-identical.
dump_schema() { pg_dump --schema-only --no-owner --restrict-key=dbmigratetest "$DATABASE_URL"; }
data_digest() {
  sql "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM (
         SELECT a::text AS t FROM accounts a UNION ALL SELECT e::text FROM events e
         UNION ALL SELECT u::text FROM users u) s"
}

@test "dry-run measures locks and rewrites per statement and leaves nothing behind" {
  seed_tables
  # Apply one migration for real so the history exists and must stay as it is.
  write migrations/000_base.sql <<'SQL'
CREATE TABLE settings (k text PRIMARY KEY, v text);
SQL
  run_dbm 0 apply
  write migrations/001_status.sql <<'SQL'
ALTER TABLE accounts ADD COLUMN status text NOT NULL DEFAULT 'active';
SQL
  write migrations/002_index.sql <<'SQL'
-- speeds up the event list
CREATE INDEX events_kind_idx ON events (kind);
SQL
  write migrations/003_bigint.sql <<'SQL'
ALTER TABLE events ALTER COLUMN n TYPE bigint;
SQL
  write migrations/004_note.sql <<'SQL'
ALTER TABLE users ADD COLUMN note text;
ALTER TABLE users ALTER COLUMN name TYPE varchar(200);
SQL
  events_before=$(sql "SELECT pg_total_relation_size('events')")
  schema_before=$(dump_schema)
  data_before=$(data_digest)
  hist_before=$(sql "SELECT * FROM db_migrate.migrations ORDER BY version")
  runs_before=$(sql "SELECT * FROM db_migrate.runs ORDER BY id")

  export GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/output" GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  grep -qx 'status=pending' "$WORK/output"
  grep -qx 'pending-count=4' "$WORK/output"
  [ "$(jq -r .status "$WORK/report.json")" = pending ]

  # A constant default on PostgreSQL 11+ is stored in the catalog: no rewrite, but the
  # ALTER TABLE takes an ACCESS EXCLUSIVE lock.
  [ "$(stmt 001 0 .rewrites)" = '[]' ]
  [ "$(stmt 001 0 .locks)" = '[{"relation":"public.accounts","mode":"AccessExclusiveLock"}]' ]
  # An index build without CONCURRENTLY holds a SHARE lock on its table; the rule is confirmed.
  [ "$(stmt 002 0 .line)" = 2 ]
  [ "$(stmt 002 0 .tag)" = '"CREATE INDEX"' ]
  [ "$(stmt 002 0 .locks)" = '[{"relation":"public.events","mode":"ShareLock"}]' ]
  [ "$(finding_status index-without-concurrently migrations/002_index.sql)" = confirmed ]
  # int -> bigint rewrites the table; the size is the rewritten table with its indexes.
  [ "$(stmt 003 0 '.rewrites | length')" = 1 ]
  [ "$(stmt 003 0 '.rewrites[0].relation')" = '"public.events"' ]
  bytes=$(stmt 003 0 '.rewrites[0].bytes')
  [ "$bytes" -gt "$events_before" ]
  [ "$(stmt 003 0 '[.locks[] | select(.relation == "public.events")] | map(.mode)')" = '["AccessExclusiveLock"]' ]
  [ "$(finding_status alter-column-type migrations/003_bigint.sql)" = confirmed ]
  # A nullable column: catalog only, a brief ACCESS EXCLUSIVE lock, no rewrite.
  [ "$(stmt 004 0 .rewrites)" = '[]' ]
  [ "$(stmt 004 0 .locks)" = '[{"relation":"public.users","mode":"AccessExclusiveLock"}]' ]
  # Widening a varchar is binary-compatible: the rule's guess is refuted.
  [ "$(stmt 004 1 .rewrites)" = '[]' ]
  [ "$(finding_status alter-column-type migrations/004_note.sql)" = refuted ]
  [ "$(stmt 003 0 '.duration_ms > 0')" = true ]

  # The summary has a statement table per migration.
  grep -q '<details><summary>🕓 migrations/003\\_bigint.sql: 1 statement' "$WORK/summary"
  grep -q '| 2 | CREATE INDEX | [0-9.]* ms | `public.events` ShareLock |  | ⚠️ index-without-concurrently (confirmed) |' "$WORK/summary"
  grep -q '`public.events` [0-9.]* [kM]B | ⚠️ alter-column-type (confirmed)' "$WORK/summary"

  # Nothing survived: schema, data and history are as they were.
  [ "$(dump_schema)" = "$schema_before" ]
  [ "$(data_digest)" = "$data_before" ]
  [ "$(sql "SELECT * FROM db_migrate.migrations ORDER BY version")" = "$hist_before" ]
  [ "$(sql "SELECT * FROM db_migrate.runs ORDER BY id")" = "$runs_before" ]
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")" = 0 ]
}

@test "dry-run creates no history schema and reports up-to-date with nothing pending" {
  write migrations/001_t.sql <<'SQL'
CREATE TABLE t (id int);
SQL
  before=$(dump_schema)
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  [[ "$output" == *"dry-run  migrations/001_t.sql (1 statement, "* ]]
  [ "$(sql "SELECT to_regnamespace('db_migrate') IS NULL AND to_regclass('t') IS NULL")" = t ]
  [ "$(dump_schema)" = "$before" ]
  # A new table is not a rewrite, and locks on it are not reported: nobody else sees it.
  [ "$(stmt 001 0 .rewrites)" = '[]' ]
  [ "$(stmt 001 0 .locks)" = '[]' ]

  run_dbm 0 apply
  export GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/output"
  run_dbm 0 dry-run
  grep -qx 'status=up-to-date' "$WORK/output"
  [[ "$output" == *"up to date: nothing to dry-run"* ]]
}

@test "dry-run stops at a failing statement with its file line and column, exit 1, nothing kept" {
  seed_tables
  write migrations/001_ok.sql <<'SQL'
CREATE TABLE audit (id int);
SQL
  write migrations/002_broken.sql <<'SQL'
ALTER TABLE accounts ADD COLUMN flag boolean;

UPDATE accounts
   SET flag = nosuch_column;
SQL
  write migrations/003_later.sql <<'SQL'
CREATE TABLE later (id int);
SQL
  before=$(dump_schema)
  export GITHUB_ACTIONS=true GITHUB_OUTPUT="$WORK/output" GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 1 dry-run --report-file "$WORK/report.json"
  [[ "$output" == *'::error file=migrations/002_broken.sql,line=4,col=15,title=Migration failed::column "nosuch_column" does not exist'* ]]
  grep -qx 'status=failed' "$WORK/output"
  [ "$(jq -r '.migrations[] | select(.version == "002") | .status' "$WORK/report.json")" = failed ]
  [ "$(jq -r '.migrations[] | select(.version == "003") | .status' "$WORK/report.json")" = skipped ]
  [ "$(jq -r '.migrations[] | select(.version == "002") | .error.sqlstate' "$WORK/report.json")" = 42703 ]
  grep -q '#### ❌ migrations/002\\_broken.sql:4:15' "$WORK/summary"
  [ "$(dump_schema)" = "$before" ]
  [ "$(sql "SELECT to_regnamespace('db_migrate') IS NULL")" = t ]
}

@test "dry-run lists a non-transactional migration as not executed and runs the next one" {
  seed_tables
  write migrations/001_concurrently.sql <<'SQL'
-- migrate:no-transaction
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);
SQL
  write migrations/002_table.sql <<'SQL'
CREATE TABLE audit (id int);
CREATE INDEX audit_id_idx ON audit (id);
SQL
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  [[ "$output" == *"not run  migrations/001_concurrently.sql: not executed: runs outside a transaction"* ]]
  [ "$(jq -r '.migrations[0].note' "$WORK/report.json")" = "not executed: runs outside a transaction, so a dry-run could not roll it back" ]
  [ "$(stmt 001 0 .note)" = '"not executed: runs outside a transaction, so a dry-run could not roll it back"' ]
  [ "$(stmt 001 0 .line)" = 2 ]
  [ "$(stmt 002 1 .tag)" = '"CREATE INDEX"' ]
  [ "$(stmt 002 1 .note)" = null ]
  [ "$(jq -r .status "$WORK/report.json")" = pending ]
  [ "$(sql "SELECT to_regclass('accounts_email_idx') IS NULL AND to_regclass('audit') IS NULL")" = t ]
}
