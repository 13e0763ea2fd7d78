#!/usr/bin/env bats
# A migration's transaction against a real PostgreSQL 15: transaction control inside a
# transactional file, and session settings that must not outlive the migration that made them.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

@test "a COMMIT inside a transactional file is a blocking finding at its line: nothing runs" {
  printf 'create table e(i int);\nCOMMIT;\nselect 1/0;\n' > migrations/1_stray.sql
  for cmd in plan apply dry-run; do
    run_dbm 1 "$cmd"
    [[ "$output" == *"transaction-control  migrations/1_stray.sql:2: COMMIT would end the transaction db-migrate runs the file in, with its history row: the statements before it would commit without the file's history row"* ]]
    [[ "$output" == *"hint: remove it"*"-- migrate:no-transaction"* ]]
  done
  [ "$(sql "SELECT to_regclass('e') IS NULL")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]

  # a second transaction after a closed one: the COMMIT that ends the first one is named
  printf 'BEGIN;\ncreate table a(i int);\nCOMMIT;\ncreate table b(i int);\nselect 1/0;\n' > migrations/1_stray.sql
  run_dbm 1 apply
  [[ "$output" == *"transaction-control  migrations/1_stray.sql:3: COMMIT would end"* ]]
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]

  # the directive of the format is the way out: the file then commits statement by statement
  printf -- '-- migrate:no-transaction\ncreate table e(i int);\nCOMMIT;\n' > migrations/1_stray.sql
  run_dbm 0 apply
  [ "$(sql "SELECT status FROM db_migrate.migrations")" = applied ]
}

@test "a ROLLBACK, a BEGIN inside, or a BEGIN never closed, is a blocking finding" {
  printf 'create table r(i int);\nROLLBACK;\n' > migrations/1_rb.sql
  run_dbm 1 apply
  [[ "$output" == *"transaction-control  migrations/1_rb.sql:2: ROLLBACK would end the transaction db-migrate runs the file in, with its history row: it undoes the statements before it, and the file would still be recorded"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]

  printf 'create table r(i int);\n  abort;\n' > migrations/1_rb.sql
  run_dbm 1 plan
  [[ "$output" == *"migrations/1_rb.sql:2: ROLLBACK would end"* ]]
  printf 'create table r(i int);\nBEGIN;\ncreate table s(i int);\nCOMMIT;\n' > migrations/1_rb.sql
  run_dbm 1 plan
  [[ "$output" == *"migrations/1_rb.sql:2: BEGIN would end"* ]]
  printf 'BEGIN;\ncreate table r(i int);\n' > migrations/1_rb.sql
  run_dbm 1 plan
  [[ "$output" == *"migrations/1_rb.sql:1: BEGIN would end"* ]]
  printf 'BEGIN;\ncreate table r(i int);\nPREPARE TRANSACTION $$x$$;\nCOMMIT;\n' > migrations/1_rb.sql
  run_dbm 1 plan
  [[ "$output" == *"migrations/1_rb.sql:3: PREPARE TRANSACTION would end"* ]]
}

@test "a file wrapped in BEGIN and COMMIT, with savepoints inside, still applies and is recorded" {
  cat > migrations/1_wrapped.sql <<'SQL'
BEGIN;
CREATE TABLE w (i int);
SAVEPOINT before_rows;
INSERT INTO w VALUES (1);
ROLLBACK TO SAVEPOINT before_rows;
INSERT INTO w VALUES (2);
RELEASE SAVEPOINT before_rows;
END;
SQL
  printf 'START TRANSACTION;\nCREATE TABLE w2 (i int);\nCOMMIT;\n' > migrations/2_wrapped.sql
  run_dbm 0 plan
  [[ "$output" != *"transaction-control"* ]]
  run_dbm 0 apply
  [ "$(sql "SELECT string_agg(i::text, ',') FROM w")" = 2 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]

  # a wrapped file that fails names the statement that failed, and leaves nothing behind
  printf 'BEGIN;\nCREATE TABLE w3 (i int);\nSELECT 1/0;\nCREATE TABLE w4 (i int);\nCOMMIT;\n' > migrations/3_fails.sql
  run_dbm 1 apply
  [[ "$output" == *"failed: migrations/3_fails.sql:3:1"*"division by zero"* ]]
  [ "$(sql "SELECT to_regclass('w3') IS NULL")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "a session SET lasts until the end of its migration, in one run as in two" {
  sql "CREATE SCHEMA other; CREATE ROLE pwuser; GRANT CREATE ON SCHEMA public TO pwuser"
  printf 'set search_path to other;\ncreate table s1 (i int);\n' > migrations/1_sp.sql
  printf 'create table s2 (i int);\n' > migrations/2_s2.sql
  printf 'set role pwuser;\ncreate table owned3 (i int);\n' > migrations/3_role.sql
  printf 'create table owned4 (i int);\n' > migrations/4_owned.sql
  printf "SELECT pg_catalog.set_config('search_path', 'other', false);\ncreate table s5 (i int);\n" > migrations/5_dump.sql
  printf "set work_mem = '7MB';\ncreate table s6 (i int);\n" > migrations/6_mem.sql
  printf "create table s7 as select current_setting('work_mem') as v;\n" > migrations/7_mem.sql
  # a file that runs its own BEGIN/COMMIT (sent as written) is put back the same way
  printf 'BEGIN;\nset search_path to other;\ncreate table s8 (i int);\nCOMMIT;\n' > migrations/8_wrapped.sql
  printf 'create table s9 (i int);\n' > migrations/9_s9.sql
  run_dbm 0 apply
  [ "$(sql "SELECT to_regclass('other.s1') IS NOT NULL, to_regclass('public.s2') IS NOT NULL")" = "t|t" ]
  [ "$(sql "SELECT tableowner FROM pg_tables WHERE tablename = 'owned3'")" = pwuser ]
  [ "$(sql "SELECT tableowner = current_user FROM pg_tables WHERE tablename = 'owned4'")" = t ]
  [ "$(sql "SELECT to_regclass('other.s5') IS NOT NULL, to_regclass('public.s7') IS NOT NULL")" = "t|t" ]
  [ "$(sql "SELECT v <> '7MB' FROM s7")" = t ]
  [ "$(sql "SELECT to_regclass('other.s8') IS NOT NULL, to_regclass('public.s9') IS NOT NULL")" = "t|t" ]
  # the history was written by db-migrate's own user, not the migration's role
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 9 ]
}

@test "a session SET in a large file (sent a statement at a time) does not reach the next one" {
  sql "CREATE SCHEMA other"
  { printf 'set search_path to other;\ncreate table big (i int);\n'
    for i in $(seq 1 2500); do printf 'insert into big values (%d); -- padding padding\n' "$i"; done
  } > migrations/1_big.sql
  [ "$(stat -c %s migrations/1_big.sql)" -gt 70000 ]
  printf 'create table after_big (i int);\n' > migrations/2_after.sql
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM other.big")" = 2500 ]
  [ "$(sql "SELECT to_regclass('public.after_big') IS NOT NULL")" = t ]
}

@test "a session SET in a file outside a transaction is reset after it, with a finding" {
  sql "CREATE SCHEMA other"
  printf -- '-- migrate:no-transaction\nset search_path to other;\ncreate table n1 (i int);\n' > migrations/1_notx.sql
  printf 'create table n2 (i int);\n' > migrations/2_n2.sql
  run_dbm 0 plan
  [[ "$output" == *"session-setting  migrations/1_notx.sql:2: SET lasts for the session"* ]]
  run_dbm 0 apply
  [ "$(sql "SELECT to_regclass('other.n1') IS NOT NULL, to_regclass('public.n2') IS NOT NULL")" = "t|t" ]
}

@test "COPY FROM STDIN has no data to read, in a batch or a file run as written; COPY TO STDOUT's rows are dropped" {
  printf 'create table c(i int);\n' > migrations/1_c.sql
  printf 'COPY (SELECT i FROM generate_series(1, 3) i) TO STDOUT;\ninsert into c values (1);\n' > migrations/2_out.sql
  printf 'COPY c FROM STDIN;\n' > migrations/3_in.sql
  run_dbm 1 apply
  [[ "$output" == *"migrations/3_in.sql"*"db-migrate sends no COPY data; load it with INSERT or COPY FROM a server file"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations WHERE status = 'applied'")" = "1,2" ]
  [ "$(sql "SELECT count(*) FROM c")" = 1 ]

  # the same in a file wrapped in BEGIN and COMMIT, which is sent as written
  printf 'BEGIN;\nCOPY (SELECT 1) TO STDOUT;\nCOPY c FROM STDIN;\nCOMMIT;\n' > migrations/3_in.sql
  run_dbm 1 apply
  [[ "$output" == *"db-migrate sends no COPY data"* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = '3' AND status = 'applied'")" = 0 ]
  [ "$(sql "SELECT count(*) FROM c")" = 1 ]
}
