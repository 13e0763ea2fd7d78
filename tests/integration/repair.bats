#!/usr/bin/env bats
# repair --accept-edit: an applied migration whose file was changed on purpose
# gets its current checksum recorded, audited in runs with both checksums.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

checksum() { printf '%s' "$1" | sha256sum | cut -c1-64; }

@test "repair --accept-edit records the edited file's checksum and audits both" {
  printf 'CREATE TABLE users (id int);\n' > migrations/001_users.sql
  printf 'CREATE TABLE orders (id int);\n' > migrations/002_orders.sql
  run_dbm 0 apply
  old="sha256:$(checksum 'CREATE TABLE users (id int);
')"
  [ "$(sql "SELECT checksum FROM db_migrate.migrations WHERE version = '001'")" = "$old" ]
  # A comment fixed on purpose: verify and apply now refuse, as they should.
  printf -- '-- the users of the application\nCREATE TABLE users (id int);\n' > migrations/001_users.sql
  new="sha256:$(checksum '-- the users of the application
CREATE TABLE users (id int);
')"
  run_dbm 1 verify
  run_dbm 1 apply
  run_dbm 0 repair --accept-edit 001
  [[ "$output" == *"accepted the edit of 001: recorded checksum $new (was $old)"* ]]
  [ "$(sql "SELECT checksum FROM db_migrate.migrations WHERE version = '001'")" = "$new" ]
  [ "$(sql "SELECT command, outcome, detail ->> 'accepted_edit' FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = \
    "repair|applied|{\"version\": \"001\", \"new_checksum\": \"$new\", \"old_checksum\": \"$old\"}" ]
  run_dbm 0 verify
  run_dbm 0 apply
  # Nothing more to accept.
  run_dbm 0 repair --accept-edit 001
  [[ "$output" == *"nothing to accept: the file of 001 has its recorded checksum"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE command = 'repair'")" = 1 ]
}

@test "repair --accept-edit refuses what is not an applied migration with a file, touching nothing" {
  printf 'CREATE TABLE users (id int);\n' > migrations/001_users.sql
  run_dbm 0 apply
  printf 'CREATE TABLE later (id int);\n' > migrations/002_later.sql
  before=$(sql "SELECT checksum FROM db_migrate.migrations")
  run_dbm 2 repair --accept-edit 002
  [ "${lines[0]}" = "error: version 002 is not applied: there is no edit to accept" ]
  [[ "${lines[1]}" == "hint: "* ]]
  run_dbm 2 repair --accept-edit 009
  [ "${lines[0]}" = "error: version 009 is not applied: there is no edit to accept" ]
  run_dbm 2 repair --accept-edit 001 --target-version 002
  [ "${lines[0]}" = "error: repair got two versions: --target-version 002 and --accept-edit 001" ]
  mv migrations/001_users.sql "$WORK/"
  run_dbm 2 repair --accept-edit 001
  [ "${lines[0]}" = "error: version 001 is applied but has no file in 'migrations'" ]
  # repair --target-version on an applied version points at --accept-edit.
  mv "$WORK/001_users.sql" migrations/
  run_dbm 2 repair --target-version 001
  [ "${lines[1]}" = "hint: it is applied; to record its edited file, use repair --accept-edit 001" ]
  [ "$(sql "SELECT checksum FROM db_migrate.migrations")" = "$before" ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE command = 'repair'")" = 0 ]
  run_dbm 2 repair
  [ "${lines[0]}" = "error: 'repair' needs --target-version" ]
}

@test "after an accepted edit the git checks no longer block the deploy" {
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  git init -q -b main .
  printf 'CREATE TABLE users (id int);\n' > migrations/001_users.sql
  git add -A && git commit -q -m deployed
  run_dbm 0 apply
  printf -- '-- fixed comment\nCREATE TABLE users (id int);\n' > migrations/001_users.sql
  git add -A && git commit -q -m comment
  run_dbm 1 plan
  [[ "$output" == *"edited-deployed"* ]]
  run_dbm 0 repair --accept-edit 001
  run_dbm 0 plan
  [[ "$output" != *"edited"* ]]
  run_dbm 0 apply
  run_dbm 0 plan
  [[ "$output" != *"edited"* ]]
}
