#!/usr/bin/env bats
# `new` on a laptop: the directory is created when missing, and names stay
# unique however fast `new` runs.

load helpers

setup() {
  unset_github_env
  unset DATABASE_URL
  new_workdir
}

@test "new creates a missing migrations directory, as dbmate does" {
  rmdir migrations
  run_dbm 0 new add_users
  [[ "$output" == *"created directory migrations"* ]]
  [ "$(ls migrations | grep -cE '^[0-9]{14}_add_users\.sql$')" = 1 ]
  run_dbm 0 new --migrations-dir db/migrate/sql add_orders
  [ "$(ls db/migrate/sql | grep -cE '^[0-9]{14}_add_orders\.sql$')" = 1 ]
  touch not-a-dir
  run_dbm 2 new --migrations-dir not-a-dir x
  [ "${lines[0]}" = "error: migrations directory 'not-a-dir' is not a directory" ]
}

@test "new in the same second, even at once, gives distinct versions" {
  run_dbm 0 new a
  run_dbm 0 new b
  run_dbm 0 new c
  # Four more started together.
  for n in d e f g; do "$DBM" new "$n" >/dev/null & done
  wait
  [ "$(ls migrations | wc -l)" = 7 ]
  [ "$(ls migrations | cut -c1-14 | sort -u | wc -l)" = 7 ]
  # The set loads (no two versions alike); its only errors are the templates, not yet written.
  run_dbm 1 plan --offline
  [[ "$output" == *"blocked by 7 problems · 7 pending"* ]]
  [ "$(echo "$output" | grep -c '^  unwritten-migration ')" = 7 ]
}

@test "new writes the layout of the directory's format, with the next number of a sequence" {
  # golang-migrate numbered in sequence: an up/down pair, the next number as wide
  printf 'CREATE TABLE a (x int);\n' >migrations/000001_a.up.sql
  printf 'DROP TABLE a;\n' >migrations/000001_a.down.sql
  printf 'CREATE TABLE b (x int);\n' >migrations/000002_b.up.sql
  run_dbm 0 new "Add users"
  [ -f migrations/000003_add_users.up.sql ] && [ -f migrations/000003_add_users.down.sql ]
  [[ "$output" == *"created migrations/000003_add_users.up.sql and migrations/000003_add_users.down.sql"* ]]
  run_dbm 0 plan --offline
  [[ "$output" == *"3"*"add_users"* ]]
  # golang-migrate with timestamps: a timestamp
  rm migrations/*
  printf 'CREATE TABLE a (x int);\n' >migrations/20240101000000_a.up.sql
  run_dbm 0 new b
  [ "$(ls migrations | grep -cE '^[0-9]{14}_b\.(up|down)\.sql$')" = 2 ]
  # Flyway: V<next>__name.sql, dotted versions bump their last part
  rm migrations/*
  printf 'CREATE TABLE a (x int);\n' >migrations/V1__init.sql
  printf 'CREATE TABLE b (x int);\n' >migrations/V1.9__b.sql
  printf 'CREATE VIEW v AS SELECT 1;\n' >migrations/R__v.sql
  run_dbm 0 new c
  [ -f migrations/V1.10__c.sql ]
  run_dbm 0 plan --offline
  # goose numbered in sequence: goose's annotations
  rm migrations/*
  printf -- '-- +goose Up\nCREATE TABLE a (x int);\n' >migrations/00001_a.sql
  run_dbm 0 new b
  grep -q '^-- +goose Up$' migrations/00002_b.sql
  grep -q '^-- +goose Down$' migrations/00002_b.sql
  run_dbm 0 plan --offline
  # a format new does not write: the tool's own command
  rm migrations/*
  mkdir migrations/2024-01-01-000000_a && printf 'CREATE TABLE a (x int);\n' >migrations/2024-01-01-000000_a/up.sql
  run_dbm 2 new b
  [ "${lines[0]}" = "error: new does not write diesel migrations ('migrations' is read as diesel)" ]
  [ "${lines[1]}" = "hint: create it with the tool's own command: diesel migration generate NAME" ]
  [ "$(ls migrations)" = 2024-01-01-000000_a ]
}
