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
dump_schema() { pg_dump_schema --no-owner --restrict-key=dbmigratetest "$DATABASE_URL"; }
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
  grep -q '<details><summary>🕓 migrations/003_bigint.sql: 1 statement' "$WORK/summary"
  grep -q '| 2 | `CREATE INDEX [^`]*` | [0-9.]* ms | `public.events` ShareLock |  | ⚠️ index-without-concurrently (confirmed) |' "$WORK/summary"
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

@test "dry-run reports each migration's locks as it takes them alone, not hidden by an earlier one" {
  sql "CREATE TABLE t (id int PRIMARY KEY, n int); CREATE TABLE p (id int PRIMARY KEY);"
  write migrations/002_type.sql <<'SQL'
ALTER TABLE t ALTER COLUMN n TYPE bigint;
SQL
  write migrations/003_index.sql <<'SQL'
CREATE INDEX t_n_idx ON t (n);
CREATE INDEX t_n2_idx ON public.t (n, id);
ALTER TABLE t ADD CONSTRAINT t_p_fk FOREIGN KEY (n) REFERENCES p (id) NOT VALID;
SQL
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  # 002's rewrite took SHARE and ACCESS EXCLUSIVE on t; 003 takes SHARE again when it runs alone.
  [ "$(stmt 002 0 '[.locks[] | select(.relation == "public.t") | .mode] | sort')" = '["AccessExclusiveLock","ShareLock"]' ]
  [ "$(stmt 003 0 .locks)" = '[{"relation":"public.t","mode":"ShareLock","held_by_earlier_migration":true}]' ]
  [ "$(finding_status index-without-concurrently migrations/003_index.sql | head -1)" = confirmed ]
  # Within one migration the second index build finds SHARE held, as in production.
  [ "$(stmt 003 1 .locks)" = '[]' ]
  # The foreign key's SHARE ROW EXCLUSIVE is new on both tables: measured, not inferred.
  [ "$(stmt 003 2 '[.locks[] | select(.held_by_earlier_migration) ] | length')" = 0 ]
  [ "$(stmt 003 2 '[.locks[] | select(.relation == "public.t") | .mode]')" = '["AccessShareLock","ShareRowExclusiveLock"]' ]
  [[ "$output" == *"lock: public.t ShareLock (held already by an earlier migration in this dry-run)"* ]]
  grep -q '`public.t` ShareLock (held already by an earlier migration in this dry-run)' "$WORK/summary"
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

# One file per rule: the statement on the "trigger" line fires it, the others
# (the safe form of the same change) do not. plan runs offline, from the files.
write_rule_files() {
  write migrations/001_index.sql <<'SQL'
CREATE INDEX a_x_idx ON a (x);
CREATE TABLE n (x int);
CREATE INDEX n_x_idx ON n (x);
SQL
  write migrations/002_not_null.sql <<'SQL'
ALTER TABLE a ADD COLUMN c int NOT NULL;
ALTER TABLE a ADD COLUMN d int NOT NULL DEFAULT 0;
SQL
  write migrations/003_volatile.sql <<'SQL'
ALTER TABLE a ADD COLUMN f timestamptz DEFAULT now();
ALTER TABLE a ADD COLUMN e timestamptz DEFAULT clock_timestamp();
SQL
  write migrations/004_set_not_null.sql <<'SQL'
ALTER TABLE b ADD CONSTRAINT b_x_nn CHECK (x IS NOT NULL) NOT VALID;
ALTER TABLE b VALIDATE CONSTRAINT b_x_nn;
ALTER TABLE b ALTER COLUMN x SET NOT NULL;
ALTER TABLE a ALTER COLUMN x SET NOT NULL;
SQL
  write migrations/005_check.sql <<'SQL'
ALTER TABLE a ADD CONSTRAINT a_pos2 CHECK (x > 0) NOT VALID;
ALTER TABLE a ADD CONSTRAINT a_pos CHECK (x > 0);
SQL
  write migrations/006_unique.sql <<'SQL'
ALTER TABLE a ADD CONSTRAINT a_y_key UNIQUE USING INDEX a_y_idx;
ALTER TABLE a ADD CONSTRAINT a_x_key UNIQUE (x);
SQL
  write migrations/007_type.sql <<'SQL'
ALTER TABLE a ADD COLUMN x2 bigint;
ALTER TABLE a ALTER COLUMN x TYPE bigint;
SQL
  write migrations/008_drop_column.sql <<'SQL'
CREATE TABLE n8 (x int, old int);
ALTER TABLE n8 DROP COLUMN old;
ALTER TABLE a DROP COLUMN old;
SQL
  write migrations/009_drop_table.sql <<'SQL'
CREATE TABLE n9 (x int);
DROP TABLE n9;
DROP TABLE legacy;
SQL
  write migrations/010_rename_column.sql <<'SQL'
CREATE TABLE n10 (x int);
ALTER TABLE n10 RENAME COLUMN x TO y;
ALTER TABLE a RENAME COLUMN x TO y;
SQL
  write migrations/011_rename_table.sql <<'SQL'
CREATE TABLE n11 (x int);
ALTER TABLE n11 RENAME TO n11b;
ALTER TABLE a RENAME TO a2;
SQL
  write migrations/012_enum.sql <<'SQL'
ALTER TYPE mood ADD VALUE 'meh';
ALTER TYPE mood RENAME VALUE 'sad' TO 'unhappy';
SQL
  write migrations/013_vacuum.sql <<'SQL'
-- migrate:no-transaction
VACUUM a;
VACUUM FULL a;
SQL
  write migrations/014_cluster.sql <<'SQL'
ALTER TABLE a CLUSTER ON a_pkey;
CLUSTER a USING a_pkey;
SQL
  write migrations/015_lock.sql <<'SQL'
SELECT pg_advisory_xact_lock(42);
LOCK TABLE a IN ACCESS EXCLUSIVE MODE;
SQL
}

# file:line:rule of every ::warning annotation in $output, sorted.
warnings() {
  printf '%s\n' "$output" | sed -n 's/^::warning file=\([^,]*\),line=\([0-9]*\),col=[0-9]*,title=db-migrate%3A \([a-z-]*\)::.*/\1:\2:\3/p' | sort
}

@test "plan reports each rule as a warning annotation at its file and line, and not the safe forms" {
  write_rule_files
  unset DATABASE_URL
  export GITHUB_ACTIONS=true
  run_dbm 0 plan --report-file "$WORK/report.json"
  expected="migrations/001_index.sql:1:index-without-concurrently
migrations/002_not_null.sql:1:not-null-column-without-default
migrations/003_volatile.sql:2:volatile-default
migrations/004_set_not_null.sql:4:set-not-null
migrations/005_check.sql:2:constraint-without-not-valid
migrations/006_unique.sql:2:unique-without-using-index
migrations/007_type.sql:2:alter-column-type
migrations/008_drop_column.sql:3:drop-column
migrations/009_drop_table.sql:3:drop-table
migrations/010_rename_column.sql:3:rename-column
migrations/011_rename_table.sql:3:rename-table
migrations/012_enum.sql:2:enum-value-change
migrations/013_vacuum.sql:3:vacuum-full
migrations/014_cluster.sql:2:cluster
migrations/015_lock.sql:2:lock-table"
  diff <(warnings) <(printf '%s\n' "$expected")
  # Each carries the safe alternative as its hint, and the report has them as findings.
  [[ "$output" == *'::warning file=migrations/003_volatile.sql,line=2,col=1,title=db-migrate%3A volatile-default::column "e" added to "a" with clock_timestamp(): the table is rewritten%0Ahint: add the column without a default'* ]]
  [ "$(jq '[.findings[] | select(.severity == "warning")] | length' "$WORK/report.json")" = 15 ]
  [ "$(jq -r .status "$WORK/report.json")" = pending ]
}

@test "plan reads what PostgreSQL 16 to 18 accept: no syntax error, no rule the safe form deserves" {
  write migrations/001_newer.sql <<'SQL'
SELECT * FROM (SELECT 1 AS x);
MERGE INTO a USING (SELECT 1 AS x) s ON a.x = s.x
  WHEN NOT MATCHED BY SOURCE THEN DELETE RETURNING merge_action(), a.*;
SELECT * FROM JSON_TABLE('[1,2]'::jsonb, '$[*]' COLUMNS (v int PATH '$'));
SELECT JSON_OBJECT('a': 1), JSON_ARRAY(1, 2), '{}' IS JSON OBJECT;
ALTER TABLE a ADD COLUMN g int GENERATED ALWAYS AS (x * 2) VIRTUAL;
ALTER TABLE a ADD CONSTRAINT a_x_nn NOT NULL x NOT VALID;
SQL
  unset DATABASE_URL
  export GITHUB_ACTIONS=true
  run_dbm 0 plan --report-file "$WORK/report.json"
  [ -z "$(warnings)" ]
  [[ "$output" != *'::error'* ]]
  [ "$(jq -r .status "$WORK/report.json")" = pending ]
  [ "$(jq '[.findings[] | select(.severity != "notice")] | length' "$WORK/report.json")" = 0 ]
}

@test "missing-lock-timeout fires only when neither the option nor the file sets a lock_timeout" {
  write migrations/001_alter.sql <<'SQL'
CREATE TABLE n (x int);
ALTER TABLE n ADD COLUMN y int;
ALTER TABLE a ADD COLUMN y int;
SQL
  write migrations/002_with_timeout.sql <<'SQL'
SET lock_timeout = '2s';
ALTER TABLE b ADD COLUMN y int;
SQL
  unset DATABASE_URL
  export GITHUB_ACTIONS=true
  run_dbm 0 plan --lock-timeout 0
  [ "$(warnings)" = "migrations/001_alter.sql:3:missing-lock-timeout" ]
  run_dbm 0 plan
  [ -z "$(warnings)" ]
}

@test "an ignore comment silences its rule for one statement; the same text in a string does not" {
  write migrations/001_ignored.sql <<'SQL'
-- db-migrate:ignore index-without-concurrently
CREATE INDEX a_z_idx ON a (z);
CREATE INDEX a_w_idx ON a (w); -- db-migrate:ignore drop-table
SELECT '-- db-migrate:ignore index-without-concurrently';
CREATE INDEX a_v_idx ON a (v);
CREATE INDEX a_u_idx ON a (u); -- db-migrate:ignore index-without-concurrently,drop-table
SQL
  unset DATABASE_URL
  export GITHUB_ACTIONS=true
  run_dbm 0 plan
  diff <(warnings) <(printf '%s\n' migrations/001_ignored.sql:3:index-without-concurrently migrations/001_ignored.sql:5:index-without-concurrently)
}

@test "dry-run confirms missing-lock-timeout and unique-without-using-index from the locks it sees" {
  seed_tables
  write migrations/001_unique.sql <<'SQL'
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
SQL
  run_dbm 0 dry-run --lock-timeout 0 --report-file "$WORK/report.json"
  [ "$(finding_status unique-without-using-index migrations/001_unique.sql)" = confirmed ]
  [ "$(finding_status missing-lock-timeout migrations/001_unique.sql)" = confirmed ]
  # ALTER TABLE takes ACCESS EXCLUSIVE, and the index build inside it a SHARE lock too.
  [ "$(stmt 001 0 '[.locks[] | select(.relation == "public.accounts")] | map(.mode)')" = '["AccessExclusiveLock","ShareLock"]' ]
  [ "$(sql "SELECT to_regclass('accounts_email_key') IS NULL")" = t ]
}
