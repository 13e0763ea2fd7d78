#!/usr/bin/env bats
# What a new user meets first: bad names and settings stop at load with a message that
# says what to change, errors carry a hint, and the terminal output fits the terminal.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

@test "a migration file name that is not UTF-8 stops every command at load, shown escaped" {
  printf 'CREATE TABLE a (x int);\n' >migrations/1_caf$'\xe9'.sql
  for cmd in plan apply; do
    run_dbm 2 "$cmd"
    [[ "${lines[0]}" == "error: migration name '1_caf\\xe9.sql' in 'migrations' is not valid UTF-8" ]]
    [[ "${lines[1]}" == "hint: rename it in UTF-8"* ]]
  done
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]
}

@test "migrations-dir in db-migrate.yml is relative to the file's folder, from any subdirectory" {
  git init -q .
  mkdir -p db/migrations app/src
  printf 'CREATE TABLE a (x int);\n' >db/migrations/001_a.sql
  printf 'migrations-dir: db/migrations\n' >db-migrate.yml
  cd app/src
  run_dbm 0 apply
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
  # a flag stays relative to the working directory
  run_dbm 2 plan --migrations-dir db/migrations
  [[ "$output" == *"migrations directory 'db/migrations' does not exist"* ]]
  # and so does --config FILE's folder for the value inside it
  cd "$WORK"
  mkdir conf && printf 'migrations-dir: ../db/migrations\n' >conf/ci.yml
  run_dbm 0 status --config conf/ci.yml
  [[ "$output" == *"001"*"a"* ]]
}
