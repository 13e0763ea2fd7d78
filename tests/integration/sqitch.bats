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

# The chef-server corpus, deployed part-way by the real sqitch (Debian's package).
sqitch_deploy_chef() {
  need_corpus chef-chef-server
  command -v sqitch >/dev/null || { echo "sqitch is not installed: scripts/deps.sh test installs it" >&2; return 1; }
  cp -r "$CORPORA/chef-chef-server" "$WORK/chef"
  chmod -R u+w "$WORK/chef"
  C="$WORK/chef"
  (cd "$C" && HOME="$WORK" SQITCH_FULLNAME=Test SQITCH_EMAIL=test@example.com \
    sqitch deploy --verify --to-change "$1" "db:pg:${DATABASE_URL#postgresql:}" >/dev/null)
}

@test "sqitch: baseline --adopt-from sqitch imports the changes the real sqitch deployed, reworked ones too" {
  sqitch_deploy_chef update_acl@HEAD^
  # 12 of 13: the second update_acl (a reworked change) is the last deployed
  [ "$(sql "SELECT count(*) FROM sqitch.changes")" = 12 ]

  run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$C"
  [[ "$output" == *"adopted 12 migrations from sqitch.changes (12 listed there); nothing was run"* ]]
  [[ "$output" != *"adopt-edited"* ]] # sqitch's script hashes match the files'
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version::int) FROM db_migrate.migrations")" = 1,2,3,4,5,6,7,8,9,10,11,12 ]

  run_dbm 0 apply --migrations-dir "$C"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 13 ]
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate --exclude-schema=sqitch \
    "$DATABASE_URL" | schema_diff "$C/expected-schema.sql" /dev/stdin
}

@test "sqitch: a deploy script edited since sqitch ran it is named by its script hash" {
  sqitch_deploy_chef debug_schema
  echo "-- edited" >> "$C/deploy/base.sql"
  run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$C"
  [[ "$output" == *"deploy/base.sql' differs from the file sqitch applied (checksum "* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 9 ]
}

@test "sqitch: a registry that does not follow sqitch.plan stops the import and says where" {
  sqitch_deploy_chef clear_acl
  sed -i 's/^groups_for_actor /renamed_change /' "$C/sqitch.plan"
  mv "$C/deploy/groups_for_actor.sql" "$C/deploy/renamed_change.sql"
  run_dbm 1 baseline --adopt-from sqitch --migrations-dir "$C"
  [[ "$output" == *"deployed change 4 is 'groups_for_actor' where sqitch.plan has 'renamed_change'"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "sqitch: plan and verify compare the deploy scripts with the script hashes of Sqitch's registry" {
  sqitch_deploy_chef debug_schema
  run_dbm 0 plan --migrations-dir "$C"
  [[ "$output" != *"edited-sqitch"* ]]
  echo "-- edited" >> "$C/deploy/clear_acl.sql"
  run_dbm 0 plan --migrations-dir "$C"
  [[ "$output" == *"deploy/clear_acl.sql' was edited after Sqitch deployed it (sqitch.changes script_hash "* ]]
  run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$C"
  # db-migrate's history took the file as it is now; Sqitch's registry still says otherwise
  run_dbm 1 verify --migrations-dir "$C"
  [[ "$output" == *"edited-sqitch"*"deploy/clear_acl.sql"* ]]
  [[ "$output" == *"hint: Sqitch deployed another version of this script"* ]]
}

@test "sqitch: a script without its own BEGIN holding CREATE INDEX CONCURRENTLY runs statement by statement, as psql runs it" {
  printf '  \n%s\n' "items_idx [items] 2024-01-04T00:00:00Z Ann <ann@example.com> # index" >> "$M/sqitch.plan"
  printf 'CREATE INDEX CONCURRENTLY items_id_idx ON items (id);\n' > "$M/deploy/items_idx.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE name = 'items_idx'")" = f ]
  [ "$(sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_id_idx'::regclass")" = t ]
}

# sqitch deploy DIR [TO]: the real sqitch deploys the project in DIR (all of it, or up to TO).
real_sqitch_deploy() {
  command -v sqitch >/dev/null || { echo "sqitch is not installed: scripts/deps.sh test installs it" >&2; return 1; }
  (cd "$1" && HOME="$WORK" SQITCH_FULLNAME=Test SQITCH_EMAIL=test@example.com \
    sqitch deploy ${2:+--to-change "$2"} "db:pg:${DATABASE_URL#postgresql:}" >/dev/null)
}

@test "sqitch: change ids are Sqitch's, for every change of every Sqitch corpus" {
  local n=0 plan c deployed
  for plan in "$CORPORA"/*/sqitch.plan; do
    [ -f "$plan" ] || continue
    c=$(basename "$(dirname "$plan")")
    n=$((n + 1))
    new_db
    cp -r "$CORPORA/$c" "$WORK/$c"
    chmod -R u+w "$WORK/$c"
    real_sqitch_deploy "$WORK/$c"
    deployed=$(sql "SELECT count(*) FROM sqitch.changes")
    [ "$deployed" -gt 0 ]
    # adoption matches sqitch.changes rows by change_id only: every row finds its change
    run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$WORK/$c"
    [[ "$output" == *"adopted $deployed migrations from sqitch.changes ($deployed listed there)"* ]]
    [[ "$output" != *"adopt-edited"* ]]
  done
  [ "$n" -gt 0 ] || skip "no Sqitch corpus under $CORPORA: set DBM_CORPORA to a checkout of the shared corpora"
}

# A plan with what goes into a change id: %uri, requires, conflicts, another project's prefix,
# notes with escapes, reworked changes, non-ASCII names and planners, blanks Sqitch keeps.
write_id_plan() {
  cat > "$M/sqitch.plan" <<'PLAN'
%syntax-version=1.0.0
%project=café
%uri=HTTPS://Example.COM:443

items 2024-01-01T00:00:00Z Ann Lee <ann@example.com> # items table\nsecond line \\ and a backslash
prices [items] 2024-01-02T00:00:00Z Ann <ann@example.com> # prices
@v1 2024-01-03T00:00:00Z Ann <ann@example.com> # release
crème_brûlée [café:items prices !other:legacy] 2024-01-04T00:00:00Z Zoë Ünal <zoe@example.com>
  +  tidy   2024-01-05T00:00:00Z   Bob  <bob@example.com>   #   spaced   
prices [prices@v1] 2024-01-06T00:00:00Z Ann <ann@example.com># reworked
PLAN
  cp "$M/deploy/prices.sql" "$M/deploy/prices@v1.sql"
  cp "$M/revert/prices.sql" "$M/revert/prices@v1.sql"
  printf 'CREATE TABLE "crème" (id int);\n' > "$M/deploy/crème_brûlée.sql"
  printf 'DROP TABLE "crème";\n' > "$M/revert/crème_brûlée.sql"
  printf 'SELECT 1;\n' > "$M/deploy/tidy.sql"
  printf 'SELECT 1;\n' > "$M/revert/tidy.sql"
  printf 'CREATE OR REPLACE VIEW price_list AS SELECT * FROM prices;\n' > "$M/deploy/prices.sql"
  printf 'DROP VIEW price_list;\n' > "$M/revert/prices.sql"
}

@test "sqitch: change ids with uri, requires, conflicts, notes, reworked changes and non-ASCII names are Sqitch's" {
  write_id_plan
  real_sqitch_deploy "$M"
  [ "$(sql "SELECT count(*) FROM sqitch.changes")" = 5 ]
  run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$M"
  [[ "$output" == *"adopted 5 migrations from sqitch.changes (5 listed there)"* ]]
  [ "$(sql "SELECT string_agg(version || ':' || name, ' ' ORDER BY version::int) FROM db_migrate.migrations")" = "1:items 2:prices 3:crème_brûlée 4:tidy 5:prices" ]
}

@test "sqitch: a plan line edited after Sqitch deployed it stops the import, naming both change ids" {
  write_id_plan
  real_sqitch_deploy "$M"
  id=$(sql "SELECT change_id FROM sqitch.changes WHERE change = 'crème_brûlée'")
  # same names in the same order: only the id tells the planner was changed
  sed -i 's/Zoë Ünal/Zoe Unal/' "$M/sqitch.plan"
  run_dbm 1 baseline --adopt-from sqitch --migrations-dir "$M"
  [[ "$output" == *"deployed change 3 'crème_brûlée' has change_id $id where sqitch.plan gives "* ]]
  [[ "$output" == *"was edited or reordered since Sqitch deployed it"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "sqitch: a plan rewritten above the deployed changes is caught by their ids, though names and positions match" {
  write_id_plan
  real_sqitch_deploy "$M" prices@v1
  # a rebased plan: the first line's date changed, so every id from it on did
  sed -i 's/^items 2024-01-01/items 2024-01-09/' "$M/sqitch.plan"
  run_dbm 1 baseline --adopt-from sqitch --migrations-dir "$M"
  [[ "$output" == *"deployed change 1 'items' has change_id "* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "sqitch: a CRLF deploy script is compared by the bytes Sqitch hashed, CRLF kept" {
  # Change.pm's _deploy_hash: SHA-1 of the file read '<:raw'
  printf 'BEGIN;\r\nCREATE TABLE items (id int PRIMARY KEY);\r\nCOMMIT;\r\n' > "$M/deploy/items.sql"
  printf '\xef\xbb\xbfCREATE TABLE prices (item int REFERENCES items, cents int);\r\n' > "$M/deploy/prices.sql"
  real_sqitch_deploy "$M"
  [ "$(sql "SELECT script_hash FROM sqitch.changes WHERE change = 'items'")" = "$(sha1sum < "$M/deploy/items.sql" | cut -c1-40)" ]
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" != *"edited-sqitch"* ]]
  run_dbm 0 baseline --adopt-from sqitch --migrations-dir "$M"
  [[ "$output" == *"adopted 2 migrations from sqitch.changes"* ]]
  [[ "$output" != *"adopt-edited"* ]]
  # the same script with LF endings is another script to Sqitch
  printf 'BEGIN;\nCREATE TABLE items (id int PRIMARY KEY);\nCOMMIT;\n' > "$M/deploy/items.sql"
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" == *"deploy/items.sql' was edited after Sqitch deployed it"* ]]
}
