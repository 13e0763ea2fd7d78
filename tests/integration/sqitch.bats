#!/usr/bin/env bats
# A Sqitch project read with Sqitch's rules: deploy scripts in plan order, the
# verify script after each deploy (a failing one is a failed migration, undone
# by the revert script), rollback through revert/.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  M="$WORK/migrations"
  cat > "$M/sqitch.plan" <<'PLAN'
%syntax-version=1.0.0
%project=shop

items 2024-01-01T00:00:00Z Ann <ann@example.com> # items table
prices [items] 2024-01-02T00:00:00Z Ann <ann@example.com> # prices
@v1 2024-01-03T00:00:00Z Ann <ann@example.com> # release
PLAN
  mkdir -p "$M/deploy" "$M/revert" "$M/verify"
  printf 'BEGIN;\nCREATE TABLE items (id int PRIMARY KEY);\nCOMMIT;\n' > "$M/deploy/items.sql"
  printf 'BEGIN;\nDROP TABLE items;\nCOMMIT;\n' > "$M/revert/items.sql"
  printf 'BEGIN;\nSELECT id FROM items WHERE false;\nROLLBACK;\n' > "$M/verify/items.sql"
  # no BEGIN/COMMIT of its own, and a psql variable as sqitch passes it
  printf 'CREATE TABLE prices (item int REFERENCES items, cents int);\nCOMMENT ON TABLE prices IS :%sregistry%s;\n' "'" "'" > "$M/deploy/prices.sql"
  printf 'DROP TABLE prices;\n' > "$M/revert/prices.sql"
  printf 'SELECT item, cents FROM prices WHERE false;\n' > "$M/verify/prices.sql"
}

@test "sqitch: deploy scripts run in plan order, psql variables substituted, verify run after each" {
  run_dbm 0 apply --migrations-dir "$M" --report-file "$WORK/report.json"
  [ "$(jq -r .format "$WORK/report.json")" = sqitch ]
  [ "$(sql "SELECT string_agg(version || ':' || name, ' ' ORDER BY version) FROM db_migrate.migrations WHERE status = 'applied'")" = "1:items 2:prices" ]
  [ "$(sql "SELECT obj_description('prices'::regclass)")" = sqitch ]
  run_dbm 0 apply --migrations-dir "$M"
  [[ "$output" == *"up to date"* ]]
}

@test "sqitch: a failing verify script fails the migration and its revert script undoes the deploy" {
  printf 'SELECT item, euros FROM prices WHERE false;\n' > "$M/verify/prices.sql"
  run_dbm 1 apply --migrations-dir "$M"
  [[ "$output" == *"verify script failed"* ]]
  [[ "$output" == *"euros"* ]]
  [[ "$output" == *"verify/prices.sql"* ]]
  [[ "$output" == *"the deploy was reverted"* ]]
  [ "$(sql "SELECT to_regclass('prices') IS NULL")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = '2'")" = 0 ]
  [ "$(sql "SELECT status FROM db_migrate.migrations WHERE version = '1'")" = applied ]

  # fixed: the next run deploys the change again
  printf 'SELECT item, cents FROM prices WHERE false;\n' > "$M/verify/prices.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [ "$(sql "SELECT status FROM db_migrate.migrations WHERE version = '2'")" = applied ]
}

@test "sqitch: rollback runs the revert scripts, their own BEGIN/COMMIT as written" {
  run_dbm 0 apply --migrations-dir "$M"
  run_dbm 0 rollback --migrations-dir "$M" --target-version 0 --yes
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  [ "$(sql "SELECT to_regclass('items') IS NULL AND to_regclass('prices') IS NULL")" = t ]
}

@test "sqitch: a change without its deploy script is a one-line error naming it" {
  rm "$M/deploy/prices.sql"
  run_dbm 2 plan --offline --migrations-dir "$M"
  [[ "$output" == *"deploy/prices.sql' does not exist (change 'prices' of sqitch.plan line 5)"* ]]
  [[ "$output" == *"hint:"* ]]
}
