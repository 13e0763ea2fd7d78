#!/usr/bin/env bats
# Git-aware plan and apply end to end: a real repository, a real PostgreSQL,
# the binary as a workflow runs it.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  git init -q -b main .
}

commit() { git add -A && git commit -q -m "$1" && git rev-parse HEAD; }

@test "apply records the head commit; an edit to an applied migration then blocks plan and apply" {
  echo "CREATE TABLE users (id int);" > migrations/20240101000000_users.sql
  a=$(commit deployed)
  run_dbm 0 apply
  [ "$(sql "SELECT git_sha FROM db_migrate.runs WHERE outcome = 'applied'")" = "$a" ]

  echo "CREATE TABLE users (id bigint);" > migrations/20240101000000_users.sql
  echo "CREATE TABLE orders (id int);" > migrations/20240102000000_orders.sql
  b=$(commit edit)
  export GITHUB_STEP_SUMMARY=$WORK/summary.md
  run_dbm 1 plan
  [[ "$output" == *"migrations/20240101000000_users.sql"* ]]
  [[ "$output" == *"edited"* ]]
  run_dbm 1 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
  [ "$(sql "SELECT to_regclass('orders') IS NULL")" = t ]
}

@test "offline plan on a pull request finds a version collision with the base branch" {
  echo "CREATE TABLE a (id int);" > migrations/20240101000000_a.sql
  commit base0 >/dev/null
  git checkout -q -b feature
  echo "CREATE TABLE feat (id int);" > migrations/20240105000000_feat.sql
  commit feature >/dev/null
  git checkout -q main
  echo "CREATE TABLE m (id int);" > migrations/20240105000000_main.sql
  base=$(commit main)
  git checkout -q feature
  printf '{"pull_request":{"base":{"sha":"%s"}}}' "$base" > "$WORK/event.json"
  unset DATABASE_URL
  GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH=$WORK/event.json run_dbm 1 plan --offline \
    --report-file "$WORK/report.json"
  [[ "$output" == *"version-collision"* || "$output" == *"also the version of"* ]]
  python3 - "$WORK/report.json" "$base" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["git"]["base"] == sys.argv[2], r["git"]
rules = [f["rule"] for f in r["findings"]]
assert "version-collision" in rules, rules
PY
}

@test "expect-deployed refuses to apply when another deploy ran in between" {
  echo "CREATE TABLE a (id int);" > migrations/20240101000000_a.sql
  a=$(commit one)
  run_dbm 0 apply
  echo "CREATE TABLE b (id int);" > migrations/20240102000000_b.sql
  b=$(commit two)
  run_dbm 1 apply --expect-deployed "$b"
  [[ "$output" == *"expect-deployed"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
  run_dbm 0 apply --expect-deployed "${a:0:10}"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
  run_dbm 2 apply --expect-deployed no-such-branch
}

@test "a shallow clone warns with the fetch-depth fix and still applies" {
  echo "CREATE TABLE a (id int);" > migrations/20240101000000_a.sql
  commit one >/dev/null
  run_dbm 0 apply
  echo "CREATE TABLE b (id int);" > migrations/20240102000000_b.sql
  commit two >/dev/null
  git clone -q --depth 1 "file://$WORK" "$WORK/clone"
  cd "$WORK/clone"
  run_dbm 0 apply
  [[ "$output" == *"fetch-depth: 0"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "offline plan against the deployed commit checks the changed files only, from any directory" {
  mkdir -p db/migrations
  echo "CREATE INDEX old_idx ON accounts (email);" > db/migrations/001_old.sql
  deployed=$(commit deployed)
  echo "CREATE INDEX new_idx ON accounts (name);" > db/migrations/002_new.sql
  commit next >/dev/null
  unset DATABASE_URL
  check_report() { # report.json -> the files named by index findings
    jq -r '[.findings[] | select(.rule == "index-without-concurrently") | .file] | join(",")' "$1"
  }
  run_dbm 0 plan --offline --migrations-dir db/migrations --deployed-ref "$deployed" \
    --report-file "$WORK/root.json"
  [ "$(check_report "$WORK/root.json")" = db/migrations/002_new.sql ]
  # from a subdirectory the files are shown relative to it, and still matched to git's paths
  cd db
  run_dbm 0 plan --offline --migrations-dir migrations --deployed-ref "$deployed" \
    --report-file "$WORK/sub.json"
  [ "$(check_report "$WORK/sub.json")" = migrations/002_new.sql ]
  # without a deployed commit every file is checked
  run_dbm 0 plan --offline --migrations-dir migrations --report-file "$WORK/all.json"
  [ "$(check_report "$WORK/all.json")" = migrations/001_old.sql,migrations/002_new.sql ]
}
