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
  [[ "$output" == *"blocked by 7 errors · 7 pending"* ]]
  [ "$(echo "$output" | grep -c '^  unwritten-migration ')" = 7 ]
}
