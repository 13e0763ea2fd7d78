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
  run_dbm 0 rollback --target-version 1 --yes
  [ "$(echo "$output" | grep -o 'rolled back migrations/00[0-9]_t[0-9].up.sql' | tr '\n' ' ')" = \
    "rolled back migrations/003_t3.up.sql rolled back migrations/002_t2.up.sql " ]
  [ "$(versions)" = "001" ]
  [ "$(sql "SELECT to_regclass('t1') IS NOT NULL AND to_regclass('t2') IS NULL AND to_regclass('t3') IS NULL")" = t ]
  [ "$(sql "SELECT command, outcome FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = "rollback|rolled-back" ]
  # The rolled-back migrations are pending again and apply as before.
  run_dbm 0 apply
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT count(*) FROM t3")" = 1 ]
}

@test "golang-migrate: a migration without a .down.sql stops the rollback before anything runs" {
  golang_set
  run_dbm 0 apply
  rm migrations/002_t2.down.sql
  run_dbm 1 rollback --target-version 1 --yes
  [[ "$output" == *"'migrations/002_t2.up.sql' has no down section; nothing was rolled back"* ]]
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT to_regclass('t3') IS NOT NULL")" = t ]
}

@test "golang-migrate: a failing down file rolls back its own transaction and keeps its history row" {
  golang_set
  run_dbm 0 apply
  printf 'DROP TABLE t3;\nDROP TABLE no_such_table;\n' > migrations/003_t3.down.sql
  run_dbm 1 rollback --target-version 1 --yes
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
  run_dbm 0 rollback --target-version 20240101000000 --yes
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
  run_dbm 0 rollback --migrations-dir "$dir" --target-version 202606261009020000 --yes
  [ "$(echo "$output" | grep -c '^rolled back ')" = 5 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 280 ]
  [ "$(sql "SELECT to_regclass('index_users_canon_username') IS NULL")" = t ]
  run_dbm 0 apply --migrations-dir "$dir"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 285 ]
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" | schema_diff "$dir/expected-schema.sql" /dev/stdin
}

# Two native migrations: users with 50,000 rows, then orders and a column on users.
native_set() {
  cat > migrations/20251204212540_users.sql <<'SQL'
-- migrate:up
CREATE TABLE users (id int PRIMARY KEY, email text);
INSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 50000) g;

-- migrate:down
DROP TABLE users;
SQL
  cat > migrations/20251205093000_orders.sql <<'SQL'
-- migrate:up
CREATE TABLE orders (id int, note text);
INSERT INTO orders VALUES (1, 'keep me');
ALTER TABLE users ADD COLUMN nickname text;

-- migrate:down
-- DROP TABLE in a comment is not a statement
ALTER TABLE users DROP COLUMN nickname;
DELETE FROM orders WHERE id > 100;
DROP TABLE orders;
SQL
}

# Every table and row of native_set, and the history, as they were after apply.
untouched() {
  [ "$(versions)" = "20251204212540,20251205093000" ]
  [ "$(sql "SELECT count(*) FROM users")" = 50000 ]
  [ "$(sql "SELECT note FROM orders")" = "keep me" ]
  [ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'nickname'")" = 1 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE command = 'rollback'")" = 0 ]
}

@test "a fat-fingered target is exit 2 naming the nearest applied versions, and every table and row stays" {
  native_set
  run_dbm 0 apply
  # A typo of 20251204212540 (2026 for 2025): newer than every applied version, so it undoes
  # nothing, and no version is offered (the one it looks like would undo more).
  run_dbm 2 rollback --target-version 20261204212540 --yes
  [ "${lines[0]}" = "error: target-version 20261204212540 is newer than every applied version (the newest is 20251205093000): there is nothing to roll back; nothing was rolled back" ]
  [ "${lines[1]}" = "hint: rollback undoes the migrations newer than --target-version; run 'db-migrate status' to see which are applied" ]
  untouched
  run_dbm 2 rollback --target-version 20251204999999 --yes
  [[ "$output" == *"the applied versions nearest to it are 20251204212540 and 20251205093000"* ]]
  run_dbm 2 rollback --target-version abc --yes
  [[ "$output" == *"target-version abc is not an applied version"* ]]
  [[ "$output" == *"the newest applied versions are 20251205093000, 20251204212540"* ]]
  run_dbm 2 rollback --target-version 99999999999999 --yes
  [[ "$output" == *"newer than every applied version"* ]]
  untouched
}

@test "without a target, rollback lists the destructive statements and row counts and needs --yes off a terminal" {
  native_set
  run_dbm 0 apply
  run_dbm 2 rollback < /dev/null
  [[ "$output" == *"rollback will undo 1 migration, newest first:"* ]]
  [[ "$output" == *"20251205093000  migrations/20251205093000_orders.sql"* ]]
  [[ "$output" == *"line 8: DROP COLUMN users.nickname"* ]]
  [[ "$output" == *"line 9: DELETE orders (the rows its WHERE matches)"* ]]
  [[ "$output" == *"line 10: DROP TABLE orders (1 row, counted)"* ]]
  [[ "$output" != *"DROP TABLE users"* ]]
  [[ "$output" == *"error: rollback needs a confirmation; nothing was rolled back"* ]]
  [[ "$output" == *"hint: check the list above, then run it again with --yes"* ]]
  untouched
  # --yes undoes the newest one only.
  run_dbm 0 rollback --yes
  [ "$(versions)" = "20251204212540" ]
  [ "$(sql "SELECT to_regclass('orders') IS NULL")" = t ]
  [ "$(sql "SELECT count(*) FROM users")" = 50000 ]
  [ "$(sql "SELECT detail FROM db_migrate.runs WHERE command = 'rollback'")" = '{"rolled_back": ["20251205093000"]}' ]
}

@test "target 0 rolls back everything, and the list counts the rows of the tables it drops" {
  native_set
  run_dbm 0 apply
  run_dbm 0 rollback --target-version 0 --yes
  [[ "$output" == *"rollback will undo 2 migrations, newest first:"* ]]
  [[ "$output" == *"line 6: DROP TABLE users (50000 rows, counted)"* ]]
  [ "$(versions)" = "" ]
  [ "$(sql "SELECT to_regclass('users') IS NULL AND to_regclass('orders') IS NULL")" = t ]
  # Nothing left: a second rollback has nothing to do.
  run_dbm 0 rollback --yes
  [[ "$output" == *"nothing to roll back: no migration is applied"* ]]
}

@test "a large table's rows are the planner's estimate, said so" {
  cat > migrations/001_big.sql <<'SQL'
-- migrate:up
CREATE TABLE big (id bigint, pad text);
INSERT INTO big SELECT g, repeat('x', 200) FROM generate_series(1, 400000) g;
ANALYZE big;

-- migrate:down
TRUNCATE big;
DROP TABLE big;
SQL
  run_dbm 0 apply
  run_dbm 2 rollback
  [[ "$output" == *"line 7: TRUNCATE big (about "*" rows, estimated from pg_class.reltuples)"* ]]
  [ "$(sql "SELECT count(*) FROM big")" = 400000 ]
}

@test "on a terminal rollback asks, and anything but y leaves the database alone" {
  native_set
  run_dbm 0 apply
  # script(1) gives the binary a pseudo-terminal on stdin and stdout.
  run bash -c "printf 'n\n' | script -qefc '$DBM rollback' /dev/null"
  [ "$status" -eq 1 ]
  [[ "$output" == *"roll back this migration? [y/N]"* ]]
  [[ "$output" == *"rollback not confirmed; nothing was rolled back"* ]]
  untouched
  run bash -c "printf 'y\n' | script -qefc '$DBM rollback' /dev/null"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rolled back migrations/20251205093000_orders.sql"* ]]
  [ "$(versions)" = "20251204212540" ]
}

@test "in the Action, command: rollback is the confirmation" {
  native_set
  run_dbm 0 apply
  export GITHUB_WORKSPACE=$WORK
  GITHUB_ACTIONS=true INPUT_COMMAND=rollback run_dbm 0 < /dev/null
  [ "$(versions)" = "20251204212540" ]
  # A run: step calling the binary by hand still needs --yes.
  GITHUB_ACTIONS=true run_dbm 2 rollback < /dev/null
  [ "$(versions)" = "20251204212540" ]
}

@test "a down section that does not parse stops the rollback before any down section runs" {
  native_set
  run_dbm 0 apply
  sed -i 's/^DROP TABLE users;/DROP TABLE users; -- its own down section parses/' migrations/20251204212540_users.sql
  sed -i 's/^DROP TABLE orders;/DROP TABLEE orders;/' migrations/20251205093000_orders.sql
  run_dbm 1 rollback --target-version 0 --yes
  [[ "$output" == *"the down section of 'migrations/20251205093000_orders.sql' does not parse"* ]]
  [ "$(versions)" = "20251204212540,20251205093000" ]
}

@test "an applied file edited since is not rolled back: exit 1 with a hint, until restored or accepted" {
  golang_set
  run_dbm 0 apply
  printf 'CREATE TABLE t3 (id bigint);\nINSERT INTO t3 VALUES (3);\n' > migrations/003_t3.up.sql
  run_dbm 1 rollback --yes
  [[ "$output" == *"'migrations/003_t3.up.sql' was edited after it was applied (history sha256:"*"its down section may not undo what was applied; nothing was rolled back"* ]]
  [[ "$output" == *"hint: restore the applied version of the file to roll it back; if the edit changed nothing that was applied, 'db-migrate repair --accept-edit 003' records it first"* ]]
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT to_regclass('t3') IS NOT NULL")" = t ]
  # an edit of the down file alone is a fix of the rollback, not of what was applied
  printf 'CREATE TABLE t3 (id int);\nINSERT INTO t3 VALUES (3);\n' > migrations/003_t3.up.sql
  printf -- '-- drops t3\nDROP TABLE t3;\n' > migrations/003_t3.down.sql
  run_dbm 0 rollback --yes
  [ "$(versions)" = "001,002" ]
}

@test "a down section whose COMMIT would end its transaction is refused before any runs" {
  golang_set
  run_dbm 0 apply
  printf 'DROP TABLE t3;\nCOMMIT;\nSELECT 1/0;\n' > migrations/003_t3.down.sql
  run_dbm 1 rollback --yes
  [[ "$output" == *"the down section of 'migrations/003_t3.up.sql' line 2: COMMIT would end the transaction it runs in"* ]]
  [ "$(versions)" = "001,002,003" ]
  [ "$(sql "SELECT to_regclass('t3') IS NOT NULL")" = t ]
}

@test "after a rollback, status and apply do not advise to re-record what was rolled back" {
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  git init -q -b main .
  native_set
  git add -A && git commit -q -m deployed
  run_dbm 0 apply
  run_dbm 0 rollback --yes
  run_dbm 0 status
  [[ "$output" != *"deployed-not-recorded"* ]]
  [[ "$output" != *"record it with baseline or repair"* ]]
  run_dbm 0 apply
  [[ "$output" != *"record it with baseline or repair"* ]]
  [ "$(versions)" = "20251204212540,20251205093000" ]
  # A row deleted by hand, not by rollback, is still reported, and apply says so once.
  sql "DELETE FROM db_migrate.migrations WHERE version = '20251205093000'"
  run_dbm 0 status
  [[ "$output" == *"record it with baseline or repair"* ]]
  sql "DROP TABLE orders; ALTER TABLE users DROP COLUMN nickname"
  run_dbm 0 apply
  [ "$(echo "$output" | grep -c "record it with baseline or repair")" = 1 ]
}

@test "a history from before runs.detail reads as before and gains the column on the next writing run" {
  native_set
  run_dbm 0 apply
  # The shape of runs in the first release: no detail column.
  sql "ALTER TABLE db_migrate.runs DROP COLUMN detail"
  run_dbm 0 status
  [[ "$output" == *"20251205093000"* ]]
  run_dbm 0 rollback --yes
  [ "$(sql "SELECT detail FROM db_migrate.runs WHERE command = 'rollback'")" = '{"rolled_back": ["20251205093000"]}' ]
  [ "$(versions)" = "20251204212540" ]
}
