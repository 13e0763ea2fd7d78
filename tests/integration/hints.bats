#!/usr/bin/env bats
# Every failure ends with a hint that fits what the run was given (docs/network.md): a
# connection that --wait already retried, and a migration stopped by a constraint.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

@test "an unreachable database's hint suggests --wait only longer than the one given" {
  printf 'CREATE TABLE a (x int);\n' >migrations/001_a.sql
  port=$(free_port)
  url="postgresql://postgres@127.0.0.1:$port/x"
  run_dbm 3 apply --database-url "$url"
  [[ "${lines[1]}" == "hint: "*"--wait 30s when it is still starting"* ]]
  run_dbm 3 apply --database-url "$url" --wait 1s
  [[ "${lines[1]}" == hint:* ]]
  [[ "${lines[1]}" != *"--wait 30s"* ]]
  [[ "${lines[1]}" == *"it was retried for --wait 1s; if it is still starting, give it longer (--wait 2s)" ]]
  run_dbm 3 apply --database-url "$url" --wait 1500ms
  [[ "${lines[1]}" == *"retried for --wait 1500ms; "*"(--wait 3s)"* ]]
}

@test "a migration stopped by a constraint gets a hint naming the constraint's kind" {
  sql "CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE, team int NOT NULL DEFAULT 0,
       age int CHECK (age >= 0))"
  sql "INSERT INTO users VALUES (1, 'a@example.com', 0, 1), (2, 'b@example.com', 0, 2)"
  check() { # FILE SQL STATE HINT...
    rm -f migrations/*.sql
    printf '%s\n' "$2" >"migrations/$1"
    run_dbm 1 apply
    [[ "$output" == *"$3"* ]] || { echo "no '$3' in: $output"; return 1; }
    grep -q "^hint: $4" <<<"$output" || { echo "no 'hint: $4' in: $output"; return 1; }
  }
  check 002_dup.sql "INSERT INTO users VALUES (3, 'a@example.com', 0, 3);" \
    'duplicate key value violates unique constraint "users_email_key"' \
    "the key in the detail is there twice: skip or merge the row"
  check 003_nn.sql "ALTER TABLE users ADD COLUMN region text NOT NULL;" \
    'column "region" of relation "users" contains null values' \
    "a row has no value for a NOT NULL column"
  check 004_check.sql "ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18);" \
    'check constraint "adult" of relation "users" is violated by some row' \
    "rows break the CHECK constraint: fix them first, or add it NOT VALID"
  check 005_fk.sql "CREATE TABLE teams (id int PRIMARY KEY); ALTER TABLE users ADD FOREIGN KEY (team) REFERENCES teams (id);" \
    'violates foreign key constraint' \
    "rows reference keys that are not there"
  # nothing was applied, and the history holds only failures to retry
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 0 ]
  [ "$(sql "SELECT count(*) FROM users")" = 2 ]
}
