#!/usr/bin/env bats
# rollback --target-version with formats whose down migration lives in another
# file: golang-migrate's <v>_<name>.down.sql and diesel's <dir>/down.sql.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

versions() { sql "SELECT coalesce(string_agg(version, ',' ORDER BY version), '') FROM db_migrate.migrations"; }

golang_set() {
  for v in 1 2 3; do
    printf 'CREATE TABLE t%s (id int);\nINSERT INTO t%s VALUES (%s);\n' "$v" "$v" "$v" > "migrations/00${v}_t$v.up.sql"
    printf 'DROP TABLE t%s;\n' "$v" > "migrations/00${v}_t$v.down.sql"
  done
}

@test "golang-migrate: rollback runs the .down.sql files newer than the target, newest first" {
  golang_set
  run_dbm 0 apply --format golang-migrate
  [ "$(versions)" = "001,002,003" ]
  # Version 1 names 001 (golang-migrate versions compare as numbers).
  run_dbm 0 rollback --target-version 1
  [ "$(echo "$output" | grep -o 'rolled back migrations/00[0-9]_t[0-9].up.sql' | tr '\n' ' ')" = \
    "rolled back migrations/003_t3.up.sql rolled back migrations/002_t2.up.sql " ]
  [ "$(versions)" = "001" ]
  [ "$(sql "SELECT to_regclass('t1') IS NOT NULL AND to_regclass('t2') IS NULL AND to_regclass('t3') IS NULL")" = t ]
  [ "$(sql "SELECT command, outcome FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = "rollback|applied" ]
  # The rolled-back migrations are pending again and apply as before.
  run_dbm 0 apply
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT count(*) FROM t3")" = 1 ]
}

@test "golang-migrate: a migration without a .down.sql stops the rollback before anything runs" {
  golang_set
  run_dbm 0 apply
  rm migrations/002_t2.down.sql
  run_dbm 1 rollback --target-version 1
  [[ "$output" == *"'migrations/002_t2.up.sql' has no down section; nothing was rolled back"* ]]
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT to_regclass('t3') IS NOT NULL")" = t ]
}

@test "golang-migrate: a failing down file rolls back its own transaction and keeps its history row" {
  golang_set
  run_dbm 0 apply
  printf 'DROP TABLE t3;\nDROP TABLE no_such_table;\n' > migrations/003_t3.down.sql
  run_dbm 1 rollback --target-version 1
  [[ "$output" == *'table "no_such_table" does not exist'* ]]
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT to_regclass('t3') IS NOT NULL AND to_regclass('t2') IS NOT NULL")" = t ]
}

@test "diesel: rollback runs down.sql, and run_in_transaction = false runs it outside a transaction" {
  mkdir -p "migrations/2024-01-01-000000_accounts" "migrations/2024-02-01-000000_accounts_email_idx" \
    "migrations/2024-03-01-000000_notes"
  printf 'CREATE TABLE accounts (id int, email text);\n' > migrations/2024-01-01-000000_accounts/up.sql
  printf 'DROP TABLE accounts;\n' > migrations/2024-01-01-000000_accounts/down.sql
  printf 'CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n' > migrations/2024-02-01-000000_accounts_email_idx/up.sql
  printf 'DROP INDEX CONCURRENTLY accounts_email_idx;\n' > migrations/2024-02-01-000000_accounts_email_idx/down.sql
  printf 'run_in_transaction = false\n' > migrations/2024-02-01-000000_accounts_email_idx/metadata.toml
  printf 'CREATE TABLE notes (id int);\n' > migrations/2024-03-01-000000_notes/up.sql
  printf 'DROP TABLE notes;\n' > migrations/2024-03-01-000000_notes/down.sql
  run_dbm 0 apply
  [ "$(versions)" = "20240101000000,20240201000000,20240301000000" ]
  run_dbm 0 rollback --target-version 20240101000000
  [ "$(versions)" = "20240101000000" ]
  [ "$(sql "SELECT to_regclass('notes') IS NULL AND to_regclass('accounts_email_idx') IS NULL AND to_regclass('accounts') IS NOT NULL")" = t ]
  run_dbm 0 apply
  [ "$(versions)" = "20240101000000,20240201000000,20240301000000" ]
}

@test "crates.io: rolling back its last five migrations and applying them again gives the reference schema" {
  need_corpus rust-lang-crates.io
  need_pg 14 "crates.io's migrations use CREATE OR REPLACE TRIGGER"
  dir="$CORPORA/rust-lang-crates.io"
  [ -d "$dir" ]
  run_dbm 0 apply --migrations-dir "$dir"
  # The newest (2026-07-30-140000-0000_add_users_username_index) runs outside a
  # transaction; its down.sql is a DROP INDEX CONCURRENTLY.
  run_dbm 0 rollback --migrations-dir "$dir" --target-version 202606261009020000
  [ "$(echo "$output" | grep -c '^rolled back ')" = 5 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 280 ]
  [ "$(sql "SELECT to_regclass('index_users_canon_username') IS NULL")" = t ]
  run_dbm 0 apply --migrations-dir "$dir"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 285 ]
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" | schema_diff "$dir/expected-schema.sql" /dev/stdin
}
