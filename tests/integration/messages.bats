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
