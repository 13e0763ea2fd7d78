#!/usr/bin/env bats
# versions.bats - what differs between the PostgreSQL majors teams run (13, 15, 17, 18), each
# checked on the major under test (`make check PG=N`): the settings db-migrate gives its
# session, migrations using features of 14, 15, 17 and 18, dry-run's locks and rewrites, and
# the schema dumps the comparisons read. Where a major lacks a feature, the test asserts
# PostgreSQL's own error, reported at the file, line and column, with nothing recorded;
# db-migrate's checks (PostgreSQL 18's grammar) refuse none of it on any major.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  BG_PIDS=
}

teardown() {
  local p
  for p in $BG_PIDS; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
}

write() { mkdir -p "$(dirname "$1")"; cat >"$1"; }

applied() { sql "SELECT coalesce(string_agg(version, ',' ORDER BY version), '') FROM db_migrate.migrations"; }

# assert_server_error FILE LINE COL MESSAGE: one failed migration, reported as PostgreSQL said.
assert_server_error() {
  if [[ "$output" != *"$1:$2:$3"*"$4"* ]]; then
    echo "want $1:$2:$3 ... $4, got:" >&2
    echo "$output" >&2
    return 1
  fi
}

@test "session: each setting db-migrate gives its session exists on the server, and none is set where it does not" {
  write migrations/001_settings.sql <<'SQL'
CREATE TABLE seen AS
  SELECT name, setting FROM pg_settings
  WHERE name IN ('client_connection_check_interval', 'idle_session_timeout', 'transaction_timeout');
SQL
  # A database whose sessions would otherwise get other values.
  if [ "$PG" -ge 14 ]; then
    sql "ALTER DATABASE $DBNAME SET idle_session_timeout = '1h'"
  fi
  run_dbm 0 apply
  [[ "$output" != *"unrecognized configuration parameter"* ]]
  got=$(sql "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM seen")
  case "$PG" in
    13) [ "$got" = "" ] ;;
    14 | 15 | 16) [ "$got" = "client_connection_check_interval=1000 idle_session_timeout=0" ] ;;
    *) [ "$got" = "client_connection_check_interval=1000 idle_session_timeout=0 transaction_timeout=0" ] ;;
  esac
}

@test "session: a database's idle_session_timeout (14+) does not end a run that waits between lock retries" {
  if [ "$PG" -lt 14 ]; then
    run sql "ALTER DATABASE $DBNAME SET idle_session_timeout = '300ms'"
    [ "$status" -ne 0 ]
    [[ "$output" == *'unrecognized configuration parameter "idle_session_timeout"'* ]]
    skip "idle_session_timeout is PostgreSQL 14's; this run is on $PG (the server's error checked)"
  fi
  sql "CREATE TABLE busy (id int)"
  sql "ALTER DATABASE $DBNAME SET idle_session_timeout = '300ms'"
  printf 'ALTER TABLE busy ADD COLUMN note text;\n' >migrations/001_alter.sql
  # The backoff between attempts (0.25 s, then 0.5 s or more) idles longer than 300 ms.
  psql -X -q "$DATABASE_URL" -c "BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE; SELECT pg_sleep(2.5); COMMIT;" >/dev/null &
  BG_PIDS=$!
  sleep 0.5
  run_dbm 0 apply --lock-timeout 200ms --lock-retries 10
  [[ "$output" == *"lock timeout in 'migrations/001_alter.sql' (attempt 2 of 11); retrying"* ]]
  [ "$(applied)" = 001 ]
  [ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'busy' AND column_name = 'note'")" = 1 ]
}

@test "session: a database's transaction_timeout (17+) does not cut a migration short; statement-timeout does" {
  if [ "$PG" -lt 17 ]; then
    run sql "ALTER DATABASE $DBNAME SET transaction_timeout = '500ms'"
    [ "$status" -ne 0 ]
    [[ "$output" == *'unrecognized configuration parameter "transaction_timeout"'* ]]
    skip "transaction_timeout is PostgreSQL 17's; this run is on $PG (the server's error checked)"
  fi
  sql "ALTER DATABASE $DBNAME SET transaction_timeout = '500ms'"
  printf 'CREATE TABLE slow AS SELECT 1 AS x FROM pg_sleep(1);\n' >migrations/001_slow.sql
  run_dbm 0 apply
  [ "$(applied)" = 001 ]
  # db-migrate's own limit still holds.
  printf 'CREATE TABLE slower AS SELECT 1 AS x FROM pg_sleep(1);\n' >migrations/002_slower.sql
  run_dbm 1 apply --statement-timeout 300ms
  [[ "$output" == *"canceling statement due to statement timeout"* ]]
  [ "$(applied)" = 001 ]
}

@test "session: a migration that sets idle_session_timeout or transaction_timeout applies where they exist, else fails as the server says" {
  write migrations/001_idle.sql <<'SQL'
SET LOCAL idle_session_timeout = '10min';
CREATE TABLE after_idle (id int);
SQL
  write migrations/002_tx.sql <<'SQL'
SET LOCAL transaction_timeout = '10min';
CREATE TABLE after_tx (id int);
SQL
  if [ "$PG" -lt 14 ]; then
    run_dbm 1 apply
    assert_server_error migrations/001_idle.sql 1 1 'unrecognized configuration parameter "idle_session_timeout"'
    [ "$(sql "SELECT to_regclass('after_idle') IS NULL")" = t ]
    [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  elif [ "$PG" -lt 17 ]; then
    run_dbm 1 apply
    assert_server_error migrations/002_tx.sql 1 1 'unrecognized configuration parameter "transaction_timeout"'
    [ "$(applied)" = 001 ]
    [ "$(sql "SELECT to_regclass('after_tx') IS NULL")" = t ]
  else
    run_dbm 0 apply
    [ "$(applied)" = 001,002 ]
  fi
}

@test "merge: MERGE (15+) and MERGE ... RETURNING in WITH (17+) apply where the server has them" {
  write migrations/001_stock.sql <<'SQL'
CREATE TABLE stock (sku text PRIMARY KEY, qty int NOT NULL);
INSERT INTO stock VALUES ('a', 1), ('b', 2);
CREATE TABLE merge_log (action text, sku text);
SQL
  write migrations/002_merge.sql <<'SQL'
-- restock
MERGE INTO stock s USING (VALUES ('a', 5), ('c', 7)) AS v (sku, qty) ON s.sku = v.sku
  WHEN MATCHED THEN UPDATE SET qty = s.qty + v.qty
  WHEN NOT MATCHED THEN INSERT VALUES (v.sku, v.qty);
SQL
  write migrations/003_merge_returning.sql <<'SQL'
WITH m AS (
  MERGE INTO stock s USING (VALUES ('b', 1), ('d', 4)) AS v (sku, qty) ON s.sku = v.sku
    WHEN MATCHED THEN UPDATE SET qty = s.qty + v.qty
    WHEN NOT MATCHED THEN INSERT VALUES (v.sku, v.qty)
    RETURNING merge_action() AS action, s.sku
)
INSERT INTO merge_log SELECT action, sku FROM m;
SQL
  # The checks read all three on every major.
  run_dbm 0 plan --offline
  [[ "$output" != *"syntax error"* ]]
  stock() { sql "SELECT string_agg(sku || '=' || qty, ' ' ORDER BY sku) FROM stock"; }
  case "$PG" in
    13)
      run_dbm 1 apply
      assert_server_error migrations/002_merge.sql 2 1 'syntax error at or near "MERGE"'
      [ "$(applied)" = 001 ]
      [ "$(stock)" = "a=1 b=2" ]
      ;;
    15 | 16)
      run_dbm 1 apply
      assert_server_error migrations/003_merge_returning.sql 5 5 'syntax error at or near "RETURNING"'
      [ "$(applied)" = 001,002 ]
      [ "$(stock)" = "a=6 b=2 c=7" ]
      [ "$(sql "SELECT count(*) FROM merge_log")" = 0 ]
      ;;
    *)
      run_dbm 0 apply
      [ "$(applied)" = 001,002,003 ]
      [ "$(stock)" = "a=6 b=3 c=7 d=4" ]
      [ "$(sql "SELECT string_agg(action || ' ' || sku, ', ' ORDER BY sku) FROM merge_log")" = "UPDATE b, INSERT d" ]
      ;;
  esac
}

@test "merge: dry-run measures MERGE's lock (15+): ROW EXCLUSIVE on its target, no rewrite" {
  need_pg 15 "MERGE"
  sql "CREATE TABLE stock (sku text PRIMARY KEY, qty int NOT NULL); INSERT INTO stock VALUES ('a', 1)"
  write migrations/001_merge.sql <<'SQL'
MERGE INTO stock s USING (VALUES ('a', 5)) AS v (sku, qty) ON s.sku = v.sku
  WHEN MATCHED THEN UPDATE SET qty = v.qty;
SQL
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  [ "$(jq -c '[.migrations[0].statements[0].locks[] | "\(.relation) \(.mode)"]' "$WORK/report.json")" = '["public.stock RowExclusiveLock","public.stock_pkey RowExclusiveLock"]' ]
  [ "$(jq -c '.migrations[0].statements[0].rewrites' "$WORK/report.json")" = '[]' ]
  [ "$(sql "SELECT qty FROM stock")" = 1 ]
}

@test "unique: NULLS NOT DISTINCT (15+) applies and holds where the server has it" {
  write migrations/001_contacts.sql <<'SQL'
CREATE TABLE contacts (id int, email text, phone text,
  CONSTRAINT contacts_phone_key UNIQUE NULLS NOT DISTINCT (phone));
CREATE UNIQUE INDEX contacts_email_key ON contacts (email) NULLS NOT DISTINCT;
SQL
  run_dbm 0 plan --offline
  if [ "$PG" -lt 15 ]; then
    run_dbm 1 apply
    assert_server_error migrations/001_contacts.sql 2 40 'syntax error at or near "NULLS"'
    [ "$(sql "SELECT to_regclass('contacts') IS NULL")" = t ]
    [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
    return
  fi
  run_dbm 0 apply
  sql "INSERT INTO contacts VALUES (1, NULL, '1')"
  # A second NULL email is a duplicate; so is a second NULL phone.
  run sql "INSERT INTO contacts VALUES (2, NULL, '2')"
  [[ "$output" == *'duplicate key value violates unique constraint "contacts_email_key"'* ]]
  sql "INSERT INTO contacts VALUES (3, 'x@example.com', NULL)"
  run sql "INSERT INTO contacts VALUES (4, 'y@example.com', NULL)"
  [[ "$output" == *'duplicate key value violates unique constraint "contacts_phone_key"'* ]]
  [ "$(sql "SELECT count(*) FROM pg_index WHERE indnullsnotdistinct")" = 2 ]
}

@test "dry-run: the same locks and rewrites on every major, and 18's virtual columns and NOT NULL NOT VALID" {
  sql "CREATE TABLE acct (id int PRIMARY KEY, n int, email text);
       INSERT INTO acct SELECT g, g, 'u' || g FROM generate_series(1, 5000) g;
       CREATE TABLE ev (id int PRIMARY KEY, acct_id int);
       INSERT INTO ev SELECT g, g FROM generate_series(1, 5000) g;"
  # One statement per migration: each migration's locks are reported as it takes them alone.
  printf 'ALTER TABLE acct ADD COLUMN note text;\n' >migrations/001_column.sql
  printf 'CREATE INDEX acct_email_idx ON acct (email);\n' >migrations/002_index.sql
  printf 'ALTER TABLE ev ADD CONSTRAINT ev_acct_fk FOREIGN KEY (acct_id) REFERENCES acct (id) NOT VALID;\n' >migrations/003_fk.sql
  printf 'ALTER TABLE ev VALIDATE CONSTRAINT ev_acct_fk;\n' >migrations/004_validate.sql
  printf 'ALTER TABLE acct ADD COLUMN twice int GENERATED ALWAYS AS (n * 2) STORED;\n' >migrations/005_stored.sql
  printf 'ALTER TABLE acct SET (fillfactor = 90);\n' >migrations/006_fillfactor.sql
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  # The locks on tables (indexes set aside; "(earlier)": an earlier migration of the dry-run
  # took it first) and the rewritten tables of migration $1.
  locks() { jq -c --arg v "$1" '[.migrations[] | select(.version == $v) | .statements[0].locks[] | select(.relation | test("_(pkey|idx)$") | not) | "\(.relation) \(.mode)\(if .held_by_earlier_migration then " (earlier)" else "" end)"]' "$WORK/report.json"; }
  rewrites() { jq -c --arg v "$1" '[.migrations[] | select(.version == $v) | .statements[0].rewrites[].relation]' "$WORK/report.json"; }
  [ "$(locks 001)" = '["public.acct AccessExclusiveLock"]' ]
  [ "$(rewrites 001)" = '[]' ]
  [ "$(locks 002)" = '["public.acct ShareLock"]' ]
  [ "$(locks 003)" = '["public.acct AccessShareLock","public.acct ShareRowExclusiveLock","public.ev AccessShareLock","public.ev ShareRowExclusiveLock"]' ]
  [ "$(locks 004)" = '["public.acct RowShareLock","public.ev ShareUpdateExclusiveLock"]' ]
  [ "$(locks 005)" = '["public.acct AccessExclusiveLock (earlier)"]' ]
  [ "$(rewrites 005)" = '["public.acct"]' ]
  [ "$(locks 006)" = '["public.acct ShareUpdateExclusiveLock","public.acct AccessExclusiveLock (earlier)"]' ]
  [ "$(rewrites 006)" = '[]' ]

  rm migrations/00*.sql
  printf 'ALTER TABLE acct ADD COLUMN thrice int GENERATED ALWAYS AS (n * 3);\n' >migrations/007_virtual.sql
  printf 'ALTER TABLE acct ADD CONSTRAINT acct_n_nn NOT NULL n NOT VALID;\n' >migrations/008_not_null.sql
  printf 'ALTER TABLE acct VALIDATE CONSTRAINT acct_n_nn;\n' >migrations/009_validate.sql
  run_dbm 0 plan --offline
  [[ "$output" != *"syntax error"* ]]
  if [ "$PG" -lt 18 ]; then
    # Before 18 a generated column must be STORED, and NOT NULL is no table constraint.
    run_dbm 1 dry-run
    assert_server_error migrations/007_virtual.sql 1 67 'syntax error at end of input'
    rm migrations/007_virtual.sql
    run_dbm 1 dry-run
    assert_server_error migrations/008_not_null.sql 1 43 'syntax error at or near "NOT"'
    return
  fi
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  # 18: a virtual column is computed on read: no rewrite. A NOT NULL added NOT VALID is
  # validated under SHARE UPDATE EXCLUSIVE, not the ACCESS EXCLUSIVE of SET NOT NULL.
  [ "$(locks 007)" = '["public.acct AccessExclusiveLock"]' ]
  [ "$(rewrites 007)" = '[]' ]
  [ "$(locks 008)" = '["public.acct AccessExclusiveLock (earlier)"]' ]
  [ "$(locks 009)" = '["public.acct ShareUpdateExclusiveLock"]' ]
  [ "$(rewrites 009)" = '[]' ]
}

@test "settings: lc_collate is gone from 17; a migration reading it fails as the server says, datcollate works everywhere" {
  printf "CREATE TABLE coll AS SELECT datcollate AS c FROM pg_database WHERE datname = current_database();\n" >migrations/001_datcollate.sql
  printf "CREATE TABLE coll2 AS SELECT current_setting('lc_collate') AS c;\n" >migrations/002_lc_collate.sql
  if [ "$PG" -lt 17 ]; then
    run_dbm 0 apply
    [ "$(sql "SELECT c FROM coll")" = "$(sql "SELECT c FROM coll2")" ]
  else
    run_dbm 1 apply
    assert_server_error migrations/002_lc_collate.sql 1 1 'unrecognized configuration parameter "lc_collate"'
    [ "$(applied)" = 001 ]
  fi
  [ "$(sql "SELECT c FROM coll")" = C.UTF-8 ]
}

@test "schema dumps: db-migrate and psql build the same schema; version lines are set aside, 17's SET transaction_timeout is pg_dump's" {
  cp "$REPO_ROOT"/migrations-example/*.sql migrations/
  run_dbm 0 apply
  ref="ref_$RANDOM$RANDOM"
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE $ref" >/dev/null
  for f in migrations/*.sql; do
    # The up section of each dbmate-style file, as psql runs it.
    sed -n '/^-- migrate:up/,/^-- migrate:down/p' "$f" |
      psql -X -q -v ON_ERROR_STOP=1 "$PGTEST_URL_BASE/$ref" >/dev/null
  done
  pg_dump_schema --restrict-key=dbmtest --exclude-schema=db_migrate "$DATABASE_URL" >"$WORK/a.sql"
  pg_dump_schema --restrict-key=dbmtest "$PGTEST_URL_BASE/$ref" >"$WORK/b.sql"
  # The dumps name the server's version; the comparison sets those lines aside.
  grep -q "^-- Dumped from database version $PG\." "$WORK/a.sql"
  diff -u <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$WORK/a.sql") \
    <(grep -vE '^-- Dumped (from database|by pg_dump) version ' "$WORK/b.sql")
  # pg_dump 17 on turns transaction_timeout off for the restore; older ones know no such thing.
  if [ "$PG" -ge 17 ]; then
    grep -qx 'SET transaction_timeout = 0;' "$WORK/a.sql"
  else
    ! grep -q 'transaction_timeout' "$WORK/a.sql"
  fi
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "DROP DATABASE $ref" >/dev/null
}
