#!/usr/bin/env bats
# db-migrate as a Lambda custom runtime, against a local Runtime API
# (fixtures/lambda_runtime.py) that starts the real binary with
# AWS_LAMBDA_RUNTIME_API set, feeds it events with a short deadline, checks each
# response against the documented shapes and invokes again while it says
# "continue", as the Action does. The migrations run against a real PostgreSQL.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  unset AWS_LAMBDA_LOG_FORMAT
  new_db
  new_workdir
  LAMBDA="$WORK/lambda"
  mkdir -p "$LAMBDA"
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# event NAME JSON: an event file.
event() { printf '%s' "$2" > "$LAMBDA/$1.json"; }

# invoke DEADLINE_MS MAX EVENT...: serve the events to the binary; the fixture's status in $status.
invoke() {
  local deadline=$1 max=$2
  shift 2
  local files=()
  for e in "$@"; do files+=("$LAMBDA/$e.json"); done
  run python3 "$BATS_TEST_DIRNAME/fixtures/lambda_runtime.py" "$LAMBDA" "$deadline" "$max" \
    "${files[@]}" -- "$DBM" ignored-arguments
  if [ "$status" -ne 0 ]; then
    cat "$LAMBDA/violations" "$LAMBDA/stderr" "$LAMBDA/stdout" >&2 2>/dev/null || true
    return 1
  fi
}

# answer N JQ: jq over the body of the N-th answer (1-based).
answer() { sed -n "${1}p" "$LAMBDA/invocations.jsonl" | jq -r "$2"; }
answers() { wc -l < "$LAMBDA/invocations.jsonl"; }

@test "lambda: apply runs end to end through the runtime and records the audit fields" {
  write migrations/001_accounts.sql <<'SQL'
CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);
SQL
  write migrations/002_orders.sql <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts);
SQL
  event apply "{\"command\": \"apply\", \"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\", \"lock-timeout\": \"3s\"}, \"audit\": {\"git-sha\": \"0123456789abcdef0123456789abcdef01234567\", \"actor\": \"octocat\", \"event\": \"push\", \"run-url\": \"https://github.com/acme/app/actions/runs/42\"}}"
  invoke 30000 5 apply
  [ "$(answers)" -eq 1 ]
  [ "$(answer 1 .kind)" = response ]
  [ "$(answer 1 '.body."exit-code"')" = 0 ]
  [ "$(answer 1 .body.status)" = applied ]
  [ "$(answer 1 .body.continue)" = false ]
  [ "$(answer 1 '.body.report.applied_count // .body.report.migrations | length')" != "" ]
  [ "$(answer 1 '[.body.report.migrations[] | select(.status == "applied")] | length')" = 2 ]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002 ]
  [ "$(sql "SELECT git_sha || ' ' || actor || ' ' || event || ' ' || run_url || ' ' || outcome FROM db_migrate.runs")" = \
    "0123456789abcdef0123456789abcdef01234567 octocat push https://github.com/acme/app/actions/runs/42 applied" ]
  # The arguments of the image's command are not what runs: the event is.
  [ "$(sql "SELECT count(*) FROM accounts")" = 0 ]
}

# A migration that sleeps `s` seconds, creating table `t` in the same transaction.
slow() { printf 'CREATE TABLE %s (id int);\nSELECT pg_sleep(%s);\n' "$2" "$3" > "migrations/$1"; }

@test "lambda: a series longer than one invocation continues over three invocations" {
  for i in 1 2 3 4 5; do slow "00${i}_t$i.sql" "t$i" 0.6; done
  event apply "{\"command\": \"apply\", \"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\"}}"
  invoke 1800 8 apply
  n=$(answers)
  [ "$n" -ge 3 ]
  for i in $(seq 1 $((n - 1))); do
    [ "$(answer "$i" .body.continue)" = true ]
    [ "$(answer "$i" '.body."exit-code"')" = 0 ]
    [ "$(answer "$i" .before_deadline)" = true ]
    [ "$(answer "$i" '[.body.report.migrations[] | select(.status == "pending")] | length')" -gt 0 ]
  done
  [ "$(answer "$n" .body.continue)" = false ]
  [ "$(answer "$n" .body.status)" = applied ]
  [ "$(answer "$n" '.body.report.pending_count // 0')" = 0 ]
  # Every migration applied once, none failed, one run per invocation.
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 5 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs")" = "$n" ]
  [ "$(sql "SELECT count(*) FROM db_migrate.runs WHERE outcome = 'failed'")" = 0 ]
}

@test "lambda: a migration longer than the function may run rolls back with the advice to use ecs" {
  slow 001_long.sql long_table 30
  event apply "{\"command\": \"apply\", \"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\"}}"
  invoke 2500 3 apply
  [ "$(answers)" -eq 1 ]
  [ "$(answer 1 '.body."exit-code"')" = 1 ]
  [ "$(answer 1 .body.status)" = failed ]
  [ "$(answer 1 .body.continue)" = false ]
  [ "$(answer 1 .before_deadline)" = true ]
  answer 1 '.body.report.migrations[0].error.message' | grep -q 'did not finish in the [0-9]* ms this Lambda invocation had'
  answer 1 '.body.report.migrations[0].error.hint' | grep -q 'run-in: ecs'
  # Rolled back, nothing recorded of it; the run is recorded as failed.
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  [ "$(sql "SELECT to_regclass('long_table') IS NULL")" = t ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs")" = failed ]
}

@test "lambda: a stale image is refused when its migrations are not the expected ones" {
  write migrations/001_accounts.sql <<<'CREATE TABLE accounts (id int);'
  write migrations/002_orders.sql <<<'CREATE TABLE orders (id int);'
  # The digest of the files the Action saw: this set plus a newer migration.
  mkdir -p "$WORK/action/migrations"
  cp migrations/*.sql "$WORK/action/migrations/"
  echo 'CREATE TABLE invoices (id int);' > "$WORK/action/migrations/003_invoices.sql"
  run_dbm 0 plan --offline --migrations-dir "$WORK/action/migrations" --report-file "$WORK/plan.json"
  digest=$(jq -r .migrations_digest "$WORK/plan.json")
  [[ "$digest" == sha256:*:3:003 ]]
  event apply "{\"command\": \"apply\", \"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\"}, \"expect-migrations\": \"$digest\"}"
  invoke 30000 3 apply
  [ "$(answer 1 '.body."exit-code"')" = 1 ]
  [ "$(answer 1 .body.status)" = blocked ]
  answer 1 .body.report.error | grep -q "2 migrations up to 002 here, 3 migrations up to 003 expected"
  [ "$(answer 1 '.body.report.findings[0].rule')" = expect-migrations ]
  # Nothing ran: no history at all.
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL AND to_regclass('accounts') IS NULL")" = t ]
  # The same digest as the files here is accepted.
  digest=$(jq -r .migrations_digest <("$DBM" plan --offline --migrations-dir "$WORK/migrations" --report-file -))
  event apply2 "{\"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\"}, \"expect-migrations\": \"$digest\"}"
  rm "$LAMBDA/invocations.jsonl"
  invoke 30000 3 apply2
  [ "$(answer 1 .body.status)" = applied ]
}

@test "lambda: an event with an unknown input gets an error response naming it" {
  write migrations/001_accounts.sql <<<'CREATE TABLE accounts (id int);'
  event bad '{"command": "apply", "inputs": {"migration-dir": "migrations"}}'
  event notjson 'apply please'
  event badkey '{"command": "apply", "input": {}}'
  event badvalue '{"command": "apply", "inputs": {"lock-timeout": "soon"}}'
  event badcmd '{"command": "aply"}'
  event badtype '{"command": "apply", "inputs": {"lock-timeout": ["5s"]}}'
  invoke 30000 8 bad notjson badkey badvalue badcmd badtype
  [ "$(answers)" -eq 6 ]
  for i in 1 2 3 4 5 6; do
    [ "$(answer "$i" .kind)" = error ]
    [ "$(answer "$i" .type)" = DbMigrate.InvalidEvent ]
  done
  [ "$(answer 1 .body.errorMessage)" = "unknown input 'migration-dir' in the event
hint: did you mean 'migrations-dir'?" ]
  answer 2 .body.errorMessage | grep -q 'the event is not a JSON object'
  answer 3 .body.errorMessage | grep -q "unknown key 'input' in the event"
  answer 4 .body.errorMessage | grep -q "lock-timeout"
  answer 5 .body.errorMessage | grep -q "did you mean 'apply'?"
  answer 6 .body.errorMessage | grep -q "input 'lock-timeout' must be a string, a number or a boolean"
  # Nothing reached the database.
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
  # The runtime keeps serving after a bad event: all four were answered by one process.
  [ ! -e "$LAMBDA/violations" ]
}

@test "lambda: logs are JSON lines when AWS_LAMBDA_LOG_FORMAT is JSON" {
  write migrations/001_accounts.sql <<<'CREATE TABLE accounts (id int);'
  event apply "{\"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\"}}"
  event bad '{"inputs": {"nope": 1}}'
  export AWS_LAMBDA_LOG_FORMAT=JSON
  invoke 30000 3 apply bad
  [ "$(answer 1 .body.status)" = applied ]
  # Every line either stream holds is a JSON object with a level.
  cat "$LAMBDA/stdout" "$LAMBDA/stderr" > "$WORK/all.log"
  [ -s "$WORK/all.log" ]
  jq -e -s 'all(.[]; type == "object" and (.level | type == "string"))' "$WORK/all.log"
  jq -e -s 'any(.[]; .message | test("applied +migrations/001_accounts.sql|001_accounts"))' "$WORK/all.log"
  jq -e -s "any(.[]; .level == \"error\" and (.message | test(\"unknown input 'nope'\")))" "$WORK/all.log"
}

@test "expect-migrations: a run here refuses other files than the digest names, before connecting" {
  write migrations/001_accounts.sql <<<'CREATE TABLE accounts (id int);'
  digest=$(jq -r .migrations_digest <("$DBM" plan --offline --report-file -))
  write migrations/002_orders.sql <<<'CREATE TABLE orders (id int);'
  run_dbm 1 apply --expect-migrations "$digest" --report-file "$WORK/report.json"
  [[ "$output" == *"these migrations are not the ones expected: 2 migrations up to 002 here, 1 migration up to 001 expected"* ]]
  [[ "$output" == *"hint: this image or directory holds other migration files than the commit"* ]]
  [ "$(jq -r .status "$WORK/report.json")" = blocked ]
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL AND to_regclass('accounts') IS NULL")" = t ]
  # Not a digest at all: a configuration error.
  run_dbm 2 apply --expect-migrations yesterday
  [[ "$output" == *"invalid value for expect-migrations: not a migrations digest"* ]]
  # The digest of these files: applied.
  digest=$(jq -r .migrations_digest <("$DBM" plan --offline --report-file -))
  run_dbm 0 apply --expect-migrations "$digest"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "lambda: a migration whose last run outlasts the invocation is not started, with the ecs advice" {
  # Flyway's repeatable migrations run again when they change: their last duration is known.
  write migrations/V1__accounts.sql <<<'CREATE TABLE accounts (id int);'
  printf 'CREATE OR REPLACE VIEW slow_view AS SELECT 1 AS one;\nSELECT pg_sleep(2.5);\n' > migrations/R__slow_view.sql
  run_dbm 0 apply --format flyway
  [ "$(sql "SELECT duration_ms >= 2500 FROM db_migrate.migrations WHERE version = 'R__slow_view'")" = t ]
  sed -i 's/SELECT 1 AS one/SELECT 2 AS two/' migrations/R__slow_view.sql
  event apply "{\"inputs\": {\"database-url\": \"$DATABASE_URL\", \"migrations-dir\": \"$WORK/migrations\", \"format\": \"flyway\"}}"
  invoke 2000 3 apply
  [ "$(answers)" -eq 1 ]
  [ "$(answer 1 '.body."exit-code"')" = 1 ]
  [ "$(answer 1 .body.continue)" = false ]
  answer 1 .body.report.error | grep -Eq "/R__slow_view.sql' took [0-9]+ ms when last applied, more than the [0-9]+ ms a Lambda invocation leaves it"
  # It was not started: the view is the old one, its row unchanged.
  [ "$(sql "SELECT * FROM slow_view")" = 1 ]
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(2.5)%' AND pid <> pg_backend_pid()")" = 0 ]
  [ "$(sql "SELECT string_agg(outcome, ',' ORDER BY id) FROM db_migrate.runs")" = applied,failed ]
}
