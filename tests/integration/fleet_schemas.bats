#!/usr/bin/env bats
# Fleets of schemas (DESIGN section 11): a target whose schemas: query names the tenant
# schemas of one real PostgreSQL database; each schema migrated with its own history
# schema, run lock and search_path.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  # app tables named like the history's: the history lives in a schema of its own
  printf 'CREATE TABLE runs (id int);\n' > migrations/001_runs.sql
  printf 'CREATE TABLE migrations (id int);\nCREATE INDEX ON runs (id);\n' > migrations/002_migrations.sql
}

# tenants NAME...: create the schemas (names as given, quoted).
tenants() {
  local s
  for s in "$@"; do sql "CREATE SCHEMA \"${s//\"/\"\"}\""; done
}

# schemas_target NAME QUERY [more YAML lines]: a schemas: target on the test database.
schemas_target() {
  [ -f db-migrate.yml ] || echo "targets:" > db-migrate.yml
  printf '  - name: %s\n    group: tenants\n    database-url: %s\n    schemas: "%s"\n' "$1" "$DATABASE_URL" "$2" >> db-migrate.yml
  shift 2
  local l
  for l in "$@"; do printf '    %s\n' "$l" >> db-migrate.yml; done
}

# The usual query: the schemas named tenant_*, in order.
TENANTS="select nspname from pg_namespace where nspname like 'tenant%' order by 1"

# outcomes FILE: "name=outcome" per target of a JSON report, in its order.
outcomes() { jq -r '.targets[] | "\(.name)=\(.outcome)"' "$1" | paste -sd' '; }

# The tables of schema $1, comma-separated.
tables_of() { sql "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = '${1//\'/\'\'}'"; }

# The advisory lock key db-migrate uses for history schema $1 (FNV-1a, signed).
run_lock_key() {
  python3 -c '
import sys
h = 1469598103934665603
for c in b"db-migrate:" + sys.argv[1].encode():
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= (1 << 63) else h)' "$1"
}

@test "each tenant schema gets the migrations and a history of its own; a rerun is up-to-date" {
  tenants tenant_a tenant_b tenant_c
  schemas_target app "$TENANTS"
  run_dbm 0 apply --report-file r.json --parallel 2
  [[ "$output" == *"[app] the schemas: query names 3 schemas"* ]]
  [[ "$output" == *"apply on 3 targets: 3 applied (parallel 2)"* ]]
  [ "$(outcomes r.json)" = "app/tenant_a=applied app/tenant_b=applied app/tenant_c=applied" ]
  [ "$(jq -r '[.targets[].group] | unique | join(",")' r.json)" = tenants ]
  for s in tenant_a tenant_b tenant_c; do
    [ "$(tables_of $s)" = "migrations,runs" ]
    [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM ${s}_db_migrate.migrations WHERE status = 'applied'")" = "001,002" ]
    [ "$(sql "SELECT outcome FROM ${s}_db_migrate.runs")" = applied ]
  done
  # nothing in public, no shared history
  [ -z "$(tables_of public)" ]
  [ "$(sql "SELECT to_regnamespace('db_migrate') IS NULL")" = t ]
  # the query also matches the history schemas now: they are left out, not taken for tenants
  run_dbm 0 apply --report-file r.json
  [[ "$output" == *"[app] the schemas: query names 3 schemas (and history schemas, left out)"* ]]
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=up-to-date app/tenant_c=up-to-date" ]
}

@test "a schema added later gets every migration while the others are up-to-date" {
  tenants tenant_a tenant_b
  schemas_target app "$TENANTS"
  run_dbm 0 apply
  tenants tenant_new
  run_dbm 0 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=up-to-date app/tenant_new=applied" ]
  [ "$(jq -r '.targets[2].applied_count, .applied_count' r.json | paste -sd' ')" = "2 2" ]
  [ "$(tables_of tenant_new)" = "migrations,runs" ]
}

@test "one tenant's failed migration fails only it: the others are applied, exit 1, its row first" {
  tenants tenant_a tenant_b tenant_c
  sql "CREATE TABLE tenant_b.migrations (id int)" # 002 fails there
  schemas_target app "$TENANTS"
  run_dbm 1 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_b=failed app/tenant_a=applied app/tenant_c=applied" ]
  [[ "$output" == *"error: 1 of 3 targets did not succeed: app/tenant_b (failed)"* ]]
  [[ "$output" == *"[app/tenant_b] "*'relation "migrations" already exists'* ]]
  [ "$(sql "SELECT string_agg(version || '=' || status, ',' ORDER BY version) FROM tenant_b_db_migrate.migrations")" = "001=applied" ]
  [ "$(sql "SELECT count(*) FROM tenant_c_db_migrate.migrations WHERE status = 'applied'")" = 2 ]
}

@test "one tenant's run lock held by another run makes only that tenant locked" {
  tenants tenant_a tenant_b tenant_c
  schemas_target app "$TENANTS"
  key=$(run_lock_key tenant_b_db_migrate)
  psql -X -q "$DATABASE_URL" -c "SELECT pg_advisory_lock($key); SELECT pg_sleep(4)" >/dev/null &
  holder=$!
  sleep 0.7
  run_dbm 4 apply --report-file r.json --run-lock-wait 1s --parallel 3
  wait $holder
  [ "$(outcomes r.json)" = "app/tenant_b=locked app/tenant_a=applied app/tenant_c=applied" ]
  [[ "$output" == *"[app/tenant_b] locked: another run holds the migration lock"* ]]
  [ "$(sql "SELECT to_regclass('tenant_b.runs') IS NULL")" = t ]
  # once it is free, the tenant catches up
  run_dbm 0 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=applied app/tenant_c=up-to-date" ]
}

@test "a bad schemas: query is exit 2 with a hint; the other targets go on" {
  tenants tenant_a
  export OTHER_URL="$DATABASE_URL"
  cat > db-migrate.yml <<EOF
targets:
  - name: db
    database-url: \${OTHER_URL}
EOF
  schemas_target app "select nspname, 1 from pg_namespace"
  run_dbm 2 apply --report-file r.json
  [ "$(outcomes r.json)" = "app=error db=applied" ]
  [[ "$output" == *"[app] error: the schemas: query returns 2 columns, not one"* ]]
  [[ "$output" == *"[app] hint: the query must return one text column of schema names"* ]]
  [ "$(sql "SELECT to_regclass('public.runs') IS NOT NULL")" = t ]
  check_query() { # QUERY EXPECTED-ERROR
    sed -i "s|^    schemas: .*|    schemas: \"$1\"|" db-migrate.yml
    run_dbm 2 apply --targets app --report-file r.json
    [ "$(jq -r '.targets[0].error' r.json)" = "$2" ]
  }
  check_query "select null::text" "row 1 of the schemas: query is NULL"
  check_query "select ''" "row 1 of the schemas: query is empty"
  check_query "select oid from pg_namespace" "the schemas: query returns a column of type oid, not text"
  check_query "select 1" "the schemas: query returns a column of type integer, not text"
  check_query "select from pg_namespace" "the schemas: query returns 0 columns, not one"
  check_query "selec 1" 'the schemas: query failed: syntax error at or near "selec"'
  check_query "select 'tenant_a' union all select 'tenant_a'" "the schemas: query returns 'tenant_a' more than once"
  # one statement, read only: nothing it holds is written
  check_query "select 'tenant_a'; drop schema tenant_a cascade" "the schemas: query failed: cannot insert multiple commands into a prepared statement"
  check_query "create table public.pwned (id int)" "the schemas: query failed: cannot execute CREATE TABLE in a read-only transaction"
  [ "$(sql "SELECT to_regclass('public.pwned') IS NULL AND to_regnamespace('tenant_a') IS NOT NULL")" = t ]
  # unreachable: exit 3
  sed -i "s|^    database-url: postgresql.*|    database-url: postgresql://postgres@127.0.0.1:1/none|" db-migrate.yml
  sed -i "s|^    schemas: .*|    schemas: \"select 'x'\"|" db-migrate.yml
  run_dbm 3 apply --report-file r.json
  [ "$(outcomes r.json)" = "app=unreachable db=up-to-date" ]
}

@test "a query that names no schema reports no-schemas and succeeds" {
  schemas_target app "$TENANTS"
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORK/summary.md GITHUB_OUTPUT=$WORK/out.txt
  run_dbm 0 apply --report-file r.json
  [ "$(outcomes r.json)" = "app=no-schemas" ]
  [[ "$output" == *"apply on 1 target: 1 no-schemas (parallel 4)"* ]]
  [ "$(jq -r '.status, .counts["no-schemas"]' r.json | paste -sd' ')" = "up-to-date 1" ]
  grep -q '^targets-no-schemas=1$' out.txt
  grep -q '| no-schemas | `app` |' summary.md
}

@test "a schema the query names that does not exist fails that item only, naming it" {
  tenants tenant_a
  schemas_target app "select unnest(array['tenant_a', 'tenant_gone'])"
  run_dbm 2 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_gone=error app/tenant_a=applied" ]
  [[ "$output" == *"[app/tenant_gone] error: schema 'tenant_gone' does not exist"* ]]
  [[ "$output" == *"hint: create the tenant's schema first (db-migrate does not)"* ]]
  # not created, and nothing went to public instead
  [ "$(sql "SELECT to_regnamespace('tenant_gone') IS NULL AND to_regnamespace('tenant_gone_db_migrate') IS NULL")" = t ]
  [ -z "$(tables_of public)" ]
}

@test "odd schema names (uppercase, a space, quotes, SQL, a newline) are quoted, never run" {
  tenants 'Tenant_Upper' 'tenant with space' 'tenant"quote' "tenant'; DROP TABLE public.keep; --" 'tenant\back' $'tenant\n::error::line'
  sql "CREATE TABLE public.keep (id int)"
  schemas_target app "select nspname from pg_namespace where nspname ilike 'tenant%' order by 1"
  printf 'CREATE TABLE t3 AS SELECT current_schema() AS s;\n' > migrations/003_where.sql
  run_dbm 0 apply --report-file r.json --parallel 3
  [ "$(jq -r '[.targets[] | select(.outcome == "applied")] | length' r.json)" = 6 ]
  # a newline in a name never starts a log line of its own (an Actions workflow command)
  [[ "$output" == *"[app/tenant?::error::line] applied"* ]]
  ! grep -q '^::error::' <<< "$output"
  for s in 'Tenant_Upper' 'tenant with space' 'tenant"quote' "tenant'; DROP TABLE public.keep; --" 'tenant\back' $'tenant\n::error::line'; do
    [ "$(tables_of "$s")" = "migrations,runs,t3" ]
    q=${s//\"/\"\"}
    [ "$(sql "SELECT s FROM \"$q\".t3")" = "$s" ]
    [ "$(sql "SELECT count(*) FROM \"${q}_db_migrate\".migrations")" = 3 ]
  done
  [ "$(sql "SELECT to_regclass('public.keep') IS NOT NULL")" = t ]
  [ "$(jq -r '.targets[].name' r.json | grep -c '^app/')" = 6 ]
  run_dbm 0 status --targets 'app/Tenant_*' --report-file r.json
  [ "$(outcomes r.json)" = "app/Tenant_Upper=up-to-date" ]
}

@test "status and plan tell each schema's pending migrations" {
  tenants tenant_a tenant_b
  schemas_target app "$TENANTS"
  run_dbm 0 apply --targets app/tenant_a
  run_dbm 0 status --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=pending" ]
  [ "$(jq -r '.targets[1].pending_count, .pending_count' r.json | paste -sd' ')" = "2 2" ]
  run_dbm 0 plan --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=pending" ]
  [ "$(jq -r '.targets[1].report.migrations[0].status' r.json)" = pending ]
  # reading touched nothing
  [ "$(sql "SELECT to_regnamespace('tenant_b_db_migrate') IS NULL")" = t ]
}

@test "targets selects schemas by TARGET/GLOB, or all of them by the target or group" {
  tenants tenant_001 tenant_002 tenant_010 tenant_100
  schemas_target app "$TENANTS"
  run_dbm 0 status --targets 'app/tenant_00*' --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_001=pending app/tenant_002=pending" ]
  run_dbm 0 status --targets 'app/tenant_100,app/tenant_010' --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_010=pending app/tenant_100=pending" ]
  run_dbm 0 status --targets app --report-file r.json
  [ "$(jq '.targets | length' r.json)" = 4 ]
  run_dbm 0 status --targets 'tenant*' --report-file r.json # the group
  [ "$(jq '.targets | length' r.json)" = 4 ]
  # a target part that matches nothing is exit 2 before anything runs
  run_dbm 2 status --targets 'ap/tenant_001'
  [[ "$output" == *"error: targets 'ap/tenant_001' matches no target name or group"* ]]
  # a schema part that matches nothing is exit 2 too, naming a few
  run_dbm 2 status --targets 'app/tenant_9*'
  [[ "$output" == *"error: targets 'app/tenant_9*' matches no schema of app"* ]]
  [[ "$output" == *"hint: the schemas of app: tenant_001, tenant_002, tenant_010, tenant_100"* ]]
}

@test "shards cover every schema exactly once, hashed by target/schema" {
  for i in $(seq -w 1 24); do tenants "tenant_$i"; done
  schemas_target app "$TENANTS"
  : > all
  for i in 1 2 3; do
    run_dbm 0 status --shard "$i/3" --report-file "s$i.json"
    jq -r '.targets[].name' "s$i.json" > "shard.$i"
    [ "$(wc -l < "shard.$i")" -ge 3 ]
    cat "shard.$i" >> all
  done
  [ "$(sort all | paste -sd' ')" = "$(seq -w 1 24 | sed 's|^|app/tenant_|' | paste -sd' ')" ]
  # each shard applies its share; together, every tenant once
  for i in 1 2 3; do run_dbm 0 apply --shard "$i/3"; done
  [ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'runs' AND schemaname LIKE 'tenant\_%' AND schemaname NOT LIKE '%db_migrate'")" = 24 ]
  for i in $(seq -w 1 24); do [ "$(sql "SELECT count(*) FROM tenant_${i}_db_migrate.runs")" = 1 ]; done
}

@test "history-schema and search-path templates; a too long history name is an error" {
  tenants tenant_a shared
  sql "CREATE TABLE shared.lookup (id int)"
  rm migrations/*
  printf 'CREATE TABLE items (id int);\n' > migrations/001_items.sql
  printf 'CREATE VIEW v AS SELECT * FROM lookup;\n' > migrations/002_view.sql
  schemas_target app "select 'tenant_a'" 'history-schema: "{schema}"' 'search-path: "{schema}, shared"'
  run_dbm 0 apply --report-file r.json
  # Flyway's way: the history in the tenant's own schema, beside its tables
  [ "$(tables_of tenant_a)" = "items,lease,migrations,runs,statements" ]
  [ "$(sql "SELECT count(*) FROM tenant_a.migrations WHERE status = 'applied'")" = 2 ]
  [ "$(sql "SELECT to_regclass('tenant_a.v') IS NOT NULL AND to_regnamespace('tenant_a_db_migrate') IS NULL")" = t ]
  # a name past PostgreSQL's 63 bytes
  long=$(printf 'tenant_%056d' 0)
  tenants "$long"
  sed -i "s|^    schemas: .*|    schemas: \"select '$long'\"|; /history-schema/d; /search-path/d" db-migrate.yml
  run_dbm 2 apply --report-file r.json
  [[ "$(jq -r '.targets[0].error' r.json)" == "the history schema '${long}_db_migrate' is longer than PostgreSQL's 63 bytes" ]]
  [[ "$output" == *'hint: set the target'"'"'s history-schema: to a shorter template, such as "{schema}"'* ]]
}

@test "history-schema and search-path need schemas: and {schema}: exit 2 naming the line" {
  printf 'targets:\n  - name: a\n    database-url: %s\n    history-schema: "{schema}_h"\n' "$DATABASE_URL" > db-migrate.yml
  run_dbm 2 status
  [[ "$output" == *"line 2: target 'a' has history-schema: but no schemas:"* ]]
  printf 'targets:\n  - name: a\n    database-url: %s\n    schemas: "select 1"\n    search-path: "tenant, public"\n' "$DATABASE_URL" > db-migrate.yml
  run_dbm 2 status
  [[ "$output" == *"target 'a': search-path 'tenant, public' does not hold {schema}"* ]]
  [[ "$output" == *'hint: each schema needs its own: write {schema} where its name goes, e.g. "{schema}, public"'* ]]
}

@test "through PgBouncer's transaction pooling each migration runs in its tenant's schema" {
  pgb_start 1
  tenants tenant_a tenant_b tenant_c
  printf 'CREATE TABLE t3 AS SELECT current_schema() AS s;\n' > migrations/003_where.sql
  printf 'targets:\n  - name: app\n    database-url: %s\n    schemas: "%s"\n' "$(pgb_url)" "$TENANTS" > db-migrate.yml
  run_dbm 0 apply --report-file r.json --parallel 3
  status=0
  for s in tenant_a tenant_b tenant_c; do
    [ "$(sql "SELECT s FROM $s.t3")" = "$s" ] || status=1
    [ "$(tables_of $s)" = "migrations,runs,t3" ] || status=1
  done
  # the pooled server connection keeps no tenant's search_path
  [ "$(psql -X -At "$(pgb_url)" -c 'SHOW search_path')" = '"$user", public' ] || status=1
  pgb_stop
  [ "$status" = 0 ]
}

@test "files outside a transaction, sqitch's verify and revert scripts, dry-run and rollback use the tenant's search_path" {
  tenants tenant_a tenant_b
  printf -- '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY runs_id ON runs (id);\n' > migrations/003_concurrently.sql
  printf 'BEGIN;\nCREATE TABLE own_tx AS SELECT current_schema() AS s;\nCOMMIT;\n' > migrations/004_own_tx.sql
  schemas_target app "$TENANTS"
  run_dbm 0 apply --report-file r.json
  for s in tenant_a tenant_b; do
    [ "$(sql "SELECT to_regclass('$s.runs_id') IS NOT NULL")" = t ]
    [ "$(sql "SELECT s FROM $s.own_tx")" = "$s" ]
  done
  printf 'CREATE TABLE dry (id int);\nSELECT 1 FROM runs;\n' > migrations/005_dry.sql
  run_dbm 0 dry-run --targets app/tenant_a --report-file r.json
  [ "$(jq -r '.targets[0].outcome' r.json)" = pending ]
  [ "$(sql "SELECT to_regclass('tenant_a.dry') IS NULL")" = t ]
  rm migrations/005_dry.sql

  # sqitch: deploy scripts with their own transaction, verify after each, revert on rollback
  rm -rf migrations && mkdir -p migrations/deploy migrations/verify migrations/revert
  printf '%%syntax-version=1.0.0\n%%project=shop\n\nitems 2024-01-01T00:00:00Z Ann <ann@example.com> # items\n' > migrations/sqitch.plan
  printf 'BEGIN;\nCREATE TABLE items (id int PRIMARY KEY);\nCOMMIT;\n' > migrations/deploy/items.sql
  printf 'BEGIN;\nSELECT id FROM items WHERE false;\nROLLBACK;\n' > migrations/verify/items.sql
  printf 'DROP TABLE items;\n' > migrations/revert/items.sql
  # a fresh history for them, {schema}_h; the old one's schemas are no tenants
  sed -i 's|^targets:|history-schema: h\ntargets:|' db-migrate.yml
  sed -i "s|^    schemas: .*|    schemas: \"select unnest(array['tenant_a', 'tenant_b'])\"|" db-migrate.yml
  run_dbm 0 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=applied app/tenant_b=applied" ]
  [ "$(sql "SELECT count(*) FROM pg_tables WHERE tablename = 'items' AND schemaname IN ('tenant_a', 'tenant_b')")" = 2 ]
  [ "$(sql "SELECT count(*) FROM tenant_b_h.migrations WHERE status = 'applied'")" = 1 ]
  run_dbm 0 rollback --targets app/tenant_b --target-version 0 --yes --report-file r.json
  [ "$(sql "SELECT to_regclass('tenant_b.items') IS NULL AND to_regclass('tenant_a.items') IS NOT NULL")" = t ]
}

@test "another tool's history in a tenant's schema is found there: plan tells it, apply refuses it, baseline adopts it" {
  tenants tenant_a tenant_b tenant_c
  # dbmate migrated tenant_b (its schema_migrations: version varchar, no dirty column);
  # flyway migrated tenant_c. Neither table is on the session's own search_path.
  sql "CREATE TABLE tenant_b.runs (id int); CREATE TABLE tenant_b.migrations (id int);
       CREATE INDEX ON tenant_b.runs (id);
       CREATE TABLE tenant_b.schema_migrations (version varchar(128) PRIMARY KEY);
       INSERT INTO tenant_b.schema_migrations VALUES ('001'), ('002')"
  sql "CREATE TABLE tenant_c.flyway_schema_history (installed_rank int PRIMARY KEY,
         version varchar(50), description varchar(200) NOT NULL, type varchar(20) NOT NULL,
         script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
         installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL,
         success boolean NOT NULL);
       INSERT INTO tenant_c.flyway_schema_history VALUES
         (1, '001', 'runs', 'SQL', 'V001__runs.sql', 0, 'me', now(), 1, true)"
  schemas_target app "$TENANTS"

  # plan: a notice on the tenant whose schema holds the table, none on the others
  run_dbm 0 plan --report-file r.json
  found() { jq -r --arg t "$1" '.targets[] | select(.name == $t) | .report.findings[]? | select(.rule | startswith("adopt")) | "\(.rule) \(.severity): \(.message)"' r.json; }
  [ -z "$(found app/tenant_a)" ]
  [ "$(found app/tenant_b)" = "adopt-available notice: found dbmate's history table tenant_b.schema_migrations listing 2 applied versions; 'db-migrate baseline --adopt-from dbmate' imports it" ]
  [ "$(found app/tenant_c)" = "adopt-available notice: found flyway's history table tenant_c.flyway_schema_history listing 1 applied version; 'db-migrate baseline --adopt-from flyway' imports it" ]

  # apply refuses those two, as it refuses a single database another tool migrated
  run_dbm 1 apply --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_b=blocked app/tenant_c=blocked app/tenant_a=applied" ]
  [ "$(sql "SELECT count(*) FROM tenant_b_db_migrate.migrations")" = 0 ]
  [ "$(sql "SELECT to_regclass('tenant_c.runs') IS NULL")" = t ]

  # baseline --adopt-from reads the tenant's own table
  run_dbm 0 baseline --adopt-from dbmate --targets app/tenant_b
  [[ "$output" == *"adopted 2 migrations from tenant_b.schema_migrations (2 listed there); nothing was run"* ]]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM tenant_b_db_migrate.migrations WHERE status = 'applied'")" = "001,002" ]
  run_dbm 0 apply --targets 'app/tenant_[ab]' --report-file r.json
  [ "$(outcomes r.json)" = "app/tenant_a=up-to-date app/tenant_b=up-to-date" ]
  # the session's search_path is the server's again: nothing was created in the tenant's
  # schemas by the scan, and the history lives where it did
  [ "$(tables_of tenant_b)" = "migrations,runs,schema_migrations" ]
}

@test "as root in a checkout owned by another uid, parallel 8 tenants all run their git checks" {
  [ "$(id -u)" -eq 0 ] || skip "the Action's container case: root on the runner's checkout"
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  tenants $(seq -f 'tenant_%02g' 1 24)
  schemas_target app "$TENANTS"
  git init -q -b main . && git add -A && git commit -q -m migrations
  head=$(git rev-parse HEAD)
  chown -R 1234:1234 "$WORK"
  for round in 1 2 3; do
    run_dbm 0 plan --parallel 8 --report-file "$BATS_TEST_TMPDIR/r.json"
    # every tenant read the repository: its head, and no ownership error or skipped check
    [ "$(jq -r '[.targets[] | select(.outcome == "pending" and .report.git.head == "'"$head"'")] | length' "$BATS_TEST_TMPDIR/r.json")" = 24 ]
    [ "$(jq -r '[.targets[].report.findings[]? | select(.rule == "not-a-git-repo")] | length' "$BATS_TEST_TMPDIR/r.json")" = 0 ]
  done
}
