#!/usr/bin/env bats
# What a person reads at the size of a real project: the summary, the pull-request
# comment and the log lead with the change; status --exit-code; history.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

# A repository of 1,000 migrations, applied, then one pending that builds an index
# without CONCURRENTLY on a table with rows (a warning of index-without-concurrently).
thousand_applied_one_pending() {
  # Names as long as a real project's: the history alone would be over 64 KiB.
  for i in $(seq 1 1000); do
    printf 'CREATE TABLE "t_%04d" (id int, note_text text);\n' "$i" > "migrations/$(printf '%06d' "$i")_add_table_${i}_with_its_columns_and_indexes.sql"
  done
  run_dbm 0 apply
  sql "INSERT INTO t_0001 SELECT g, 'x' FROM generate_series(1, 1000) g"
  printf 'CREATE INDEX t_0001_note_idx ON t_0001 (note_text);\n' > migrations/001001_index_notes.sql
}

# The first N bytes of a file.
head_bytes() { head -c "$2" "$1"; }

@test "a dry-run of one new migration over 1,000 applied: summary under 64 KiB, the change first" {
  thousand_applied_one_pending
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$WORK/summary" GITHUB_OUTPUT="$WORK/output"
  run_dbm 0 dry-run --report-file "$WORK/report.json"
  size=$(stat -c %s "$WORK/summary")
  [ "$size" -lt 65536 ]
  first=$(head_bytes "$WORK/summary" 4096)
  [[ "$first" == *'### 🟡 db-migrate dry-run: takes ShareLock on `public.t_0001` · 1 pending · 1 warning'* ]]
  [[ "$first" == *'| 🕓 | `001001` | index\_notes | pending |'* ]]
  [[ "$first" == *'`CREATE INDEX t_0001_note_idx ON t_0001 (note_text)`'* ]]
  [[ "$first" == *'**index-without-concurrently** `migrations/001001_index_notes.sql:1`'* ]]
  [[ "$first" == *'**Earlier:** 1,000 migrations applied before this run; the newest is `001000` add\_table\_1000\_with\_its\_columns\_and\_indexes'* ]]
  grep -q '<details><summary>1,000 earlier migrations</summary>' "$WORK/summary"
  # The history is cut to the room left; the JSON report keeps every row.
  grep -q 'older in the JSON report' "$WORK/summary"
  [ "$(jq '.migrations | length' "$WORK/report.json")" = 1001 ]
  # Inside HTML (<summary>), no Markdown backslash escapes.
  grep -q '<summary>🕓 migrations/001001_index_notes.sql: 1 statement' "$WORK/summary"
  ! grep -q '<summary>.*\\_' "$WORK/summary"
  # The log says what ran even with a job summary.
  [[ "$output" == *"dry-run  migrations/001001_index_notes.sql (1 statement"* ]]
}

@test "an apply of one new migration over 1,000 applied: the applied row first, the history one line" {
  thousand_applied_one_pending
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 0 apply
  [ "$(stat -c %s "$WORK/summary")" -lt 65536 ]
  first=$(head_bytes "$WORK/summary" 4096)
  [[ "$first" == '### ✅ db-migrate apply: 1 applied · 1 warning'* ]]
  [[ "$first" == *'| ✅ | `001001` | index\_notes | applied | '*' ms | `CREATE INDEX t_0001_note_idx ON t_0001 (note_text)` |'* ]]
  [ "$(grep -c '^| ✅ | `' "$WORK/summary")" = 1 ]
  [[ "$output" == *"applied  migrations/001001_index_notes.sql (1 statement"* ]]
}

@test "an apply of 1,003 migrations whose last fails: the failed row and every warning stay, applied rows give way" {
  for i in $(seq 1 1002); do
    printf 'CREATE TABLE "t_%04d" (id int, note_text text);\n' "$i" > "migrations/$(printf '%06d' "$i")_add_table_${i}_with_its_columns_and_indexes.sql"
  done
  # two warnings (an index built without CONCURRENTLY), and a last migration that fails
  printf 'CREATE INDEX t_0009_idx ON t_0009 (id);\n' >> migrations/000010_add_table_10_with_its_columns_and_indexes.sql
  printf 'CREATE INDEX t_0899_idx ON t_0899 (id);\n' >> migrations/000900_add_table_900_with_its_columns_and_indexes.sql
  printf 'CREATE TABLE t_0001 (id int);\n' > migrations/001003_add_a_table_that_exists.sql
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 1 apply --report-file "$WORK/report.json"
  [ "$(stat -c %s "$WORK/summary")" -lt 65536 ]
  [ "$(jq '[.migrations[] | select(.status == "applied")] | length' "$WORK/report.json")" = 1002 ]
  grep -q '^| ❌ | `001003` | add\\_a\\_table\\_that\\_exists | failed |' "$WORK/summary"
  grep -q 'relation &quot;t\\_0001&quot; already exists' "$WORK/summary"
  grep -q '^#### ⚠️ Warnings (2)' "$WORK/summary"
  grep -q 'migrations/000010_add_table_10_with_its_columns_and_indexes.sql:2' "$WORK/summary"
  grep -q 'migrations/000900_add_table_900_with_its_columns_and_indexes.sql:2' "$WORK/summary"
  ! grep -q '^- … ' "$WORK/summary"
  # the applied rows that do not fit are one line, before the failed row; every row is counted
  cut=$(grep '^| | … | [0-9]* more applied in the JSON report: `0' "$WORK/summary")
  n=$(sed -E 's/^\| \| … \| ([0-9]+) more.*/\1/' <<< "$cut")
  [ $(( $(grep -c '^| ✅ | `' "$WORK/summary") + n )) = 1002 ]
  [ "$(grep -n '^| | … |' "$WORK/summary" | cut -d: -f1)" -lt "$(grep -n '^| ❌ |' "$WORK/summary" | cut -d: -f1)" ]
}

@test "the pull-request comment of a plan over 1,000 applied shows the pending migration in its first 4 KB" {
  thousand_applied_one_pending
  GH="$WORK/gh"; mkdir -p "$GH"
  python3 "$BATS_TEST_DIRNAME/fixtures/github_api.py" "$GH" create tok &
  FIXTURE_PID=$!
  for _ in $(seq 1 100); do [ -f "$GH/port" ] && break; sleep 0.05; done
  printf '{"number":7,"pull_request":{"number":7}}\n' > "$WORK/event.json"
  export GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$WORK/event.json" \
    GITHUB_REPOSITORY=acme/app GITHUB_TOKEN=tok GITHUB_API_URL="http://127.0.0.1:$(cat "$GH/port")" \
    GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 0 plan --comment-on-pr true
  kill "$FIXTURE_PID"; wait "$FIXTURE_PID" 2>/dev/null || true
  jq -rs '.[1].body.body' "$GH/requests.jsonl" > "$WORK/comment"
  [ "$(stat -c %s "$WORK/comment")" -lt 60000 ]
  first=$(head_bytes "$WORK/comment" 4096)
  [[ "$first" == *'### 🟡 db-migrate plan: 1 pending · 1 warning'* ]]
  [[ "$first" == *'| 🕓 | `001001` | index\_notes | pending |'* ]]
  [[ "$first" == *'**index-without-concurrently** `migrations/001001_index_notes.sql:1`'* ]]
  # With a job summary, the log still has the plan, as plain text.
  [[ "$output" == *"db-migrate plan: 1 pending · 1 warning"* ]]
  [[ "$output" == *"  pending  001001   index_notes"* ]]
}

@test "the terminal gets plain text: no HTML or Markdown escapes, no colour off a terminal" {
  write_sql() { printf '%s\n' "$2" > "migrations/$1"; }
  write_sql 001_add_users.sql 'CREATE TABLE "users" (id int, note_text text);'
  run_dbm 0 apply
  write_sql 002_add_users_index.sql 'CREATE INDEX users_note_idx ON "users" (note_text); SELECT `x`;'
  write_sql 002_add_users_index.sql 'CREATE INDEX "users_note_idx" ON "users" (note_text);'
  run_dbm 0 plan
  [[ "$output" == *'CREATE INDEX "users_note_idx" ON "users" (note_text)'* ]]
  [[ "$output" == *"add_users_index"* ]]
  for bad in '&quot;' '&#96;' '<pre>' '<details>' '\_' '<br>' '###' $'\033['; do
    [[ "$output" != *"$bad"* ]] || { echo "found $bad in: $output"; false; }
  done
  # A failure on the terminal: the position and the SQL around it, as text.
  write_sql 003_bad.sql 'SELECT nosuch_column FROM "users";'
  run_dbm 1 dry-run
  for bad in '&quot;' '&#96;' '<pre>' '<details>' '\_' '<br>'; do
    [[ "$output" != *"$bad"* ]] || { echo "found $bad in: $output"; false; }
  done
  [[ "$output" == *'failed: migrations/003_bad.sql:1:8'* ]]
  [[ "$output" == *'column "nosuch_column" does not exist (SQLSTATE 42703)'* ]]
}

@test "--report-file - writes the JSON report to standard output and the log to standard error" {
  printf 'CREATE TABLE a (id int);\n' > migrations/001_a.sql
  "$DBM" status --report-file - > "$WORK/stdout" 2> "$WORK/stderr"
  [ "$(jq -r .command "$WORK/stdout")" = status ]
  [ "$(jq -r '.migrations[0].status' "$WORK/stdout")" = pending ]
  [ ! -e ./- ]
  grep -q 'db-migrate status: 1 pending' "$WORK/stderr"
}

@test "status --exit-code exits 1 with pending or failed migrations, 0 when up to date" {
  printf 'CREATE TABLE a (id int);\n' > migrations/001_a.sql
  run_dbm 0 status
  run_dbm 1 status --exit-code
  [[ "$output" == *"error: 1 migration pending"* ]]
  [[ "$output" == *"hint: run 'db-migrate apply'"* ]]
  run_dbm 0 apply
  run_dbm 0 status --exit-code
  printf -- '-- migrate:no-transaction\nCREATE TABLE b (id int);\nSELECT nosuch;\n' > migrations/002_b.sql
  run_dbm 1 apply
  run_dbm 1 status --exit-code
  [[ "$output" == *"error: 1 migration pending, 1 of them failed before"* ]]
  # Unknown flags are still refused; --exit-code does not turn a connection failure into 1.
  DATABASE_URL="postgresql://nobody@127.0.0.1:1/x" run_dbm 3 status --exit-code
}

@test "history lists the runs newest first with who, commit, event, outcome and what each applied" {
  run_dbm 0 history
  [ "$output" = "no runs recorded" ]
  printf 'CREATE TABLE a (id int);\n' > migrations/001_a.sql
  printf 'CREATE TABLE b (id int);\n' > migrations/002_b.sql
  GITHUB_SHA=0123456789abcdef0123456789abcdef01234567 GITHUB_ACTOR=octocat GITHUB_EVENT_NAME=push \
    GITHUB_SERVER_URL=https://github.example GITHUB_REPOSITORY=acme/app GITHUB_RUN_ID=42 run_dbm 0 apply
  run_dbm 0 apply
  run_dbm 0 history --report-file "$WORK/runs.json"
  [ "${lines[0]}" = "$(printf '%s' "${lines[0]}" | grep '^ID  STARTED  *COMMAND  OUTCOME  *COMMIT  *ACTOR  *EVENT  *APPLIED  *RUN$')" ]
  [[ "${lines[1]}" == "2  "*"  apply    up-to-date"*"  0" ]]
  [[ "${lines[2]}" == "1  "*"  apply    applied     0123456789ab  octocat  push   2: 001,002  https://github.example/acme/app/actions/runs/42" ]]
  [ "$(jq -c '.runs[1] | [.id, .command, .outcome, .actor, .event, .applied_count, .applied_first]' "$WORK/runs.json")" = '[1,"apply","applied","octocat","push",2,["001","002"]]' ]
  [ "$(jq -r '.runs[0].outcome' "$WORK/runs.json")" = up-to-date ]
  run_dbm 2 history extra
}

@test "a pull request's plan without a database counts only the migrations new to the base as pending" {
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  git init -q -b main .
  for i in $(seq 1 9); do printf 'CREATE TABLE t%d (id int);\n' "$i" > "migrations/00${i}_t$i.sql"; done
  git add -A && git commit -q -m base
  base=$(git rev-parse HEAD)
  git checkout -q -b feature
  printf 'CREATE TABLE t10 (id int);\n' > migrations/010_t10.sql
  git add -A && git commit -q -m feature
  printf '{"pull_request":{"number":3,"base":{"sha":"%s"}}}' "$base" > "$WORK/event.json"
  unset DATABASE_URL
  export GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$WORK/event.json" \
    GITHUB_OUTPUT="$WORK/output" GITHUB_STEP_SUMMARY="$WORK/summary"
  run_dbm 0 plan --report-file "$WORK/report.json"
  grep -qx 'pending-count=1' "$WORK/output"
  grep -qx 'status=pending' "$WORK/output"
  head -1 "$WORK/summary" | grep -qx '### 🟡 db-migrate plan: 1 pending'
  grep -q '^| 🕓 | `010` | t10 | pending |  | `CREATE TABLE t10 (id int)` |$' "$WORK/summary"
  grep -q '^\*\*Earlier:\*\* 9 migrations unchanged since the base; the newest is `009`' "$WORK/summary"
  [ "$(jq -r '[.migrations[] | select(.status == "pending") | .version] | join(",")' "$WORK/report.json")" = 010 ]
  [ "$(jq -r '[.migrations[] | select(.status == "skipped")] | length' "$WORK/report.json")" = 9 ]
  [[ "$output" == *"db-migrate plan: 1 pending"* ]]
}

@test "fail-on warning makes rule warnings fail plan and dry-run; a refuted one stays a note" {
  sql "CREATE TABLE accounts (id int, email varchar(100)); INSERT INTO accounts SELECT g, 'a' FROM generate_series(1, 100) g"
  printf 'CREATE INDEX accounts_email_idx ON accounts (email);\n' > migrations/001_index.sql
  run_dbm 0 plan
  run_dbm 0 plan --fail-on never
  run_dbm 1 plan --fail-on warning
  [[ "$output" == *"index-without-concurrently  migrations/001_index.sql:1: index \"accounts_email_idx\" on existing table"* ]]
  [[ "$output" == *"error: plan found 1 blocking problem"* ]]
  [[ "$output" != *"nothing was applied"* ]] # a plan applies nothing, so it does not say so
  run_dbm 1 dry-run --fail-on warning
  [[ "$output" == *"dry-run found 1 blocking problem"* ]]
  [ "$(sql "SELECT to_regclass('accounts_email_idx') IS NULL")" = t ]
  run_dbm 2 plan --fail-on sometimes
  [[ "$output" == *"fail-on"* ]]

  # Widening a varchar is binary-compatible: the dry-run refutes alter-column-type, which
  # then neither fails the run nor becomes a warning annotation.
  printf 'ALTER TABLE accounts ALTER COLUMN email TYPE varchar(200);\n' > migrations/001_index.sql
  # The action input too (the runner passes INPUT_FAIL-ON).
  run env 'INPUT_FAIL-ON=warning' "$DBM" plan
  [ "$status" -eq 1 ]
  GITHUB_ACTIONS=true run_dbm 0 dry-run --fail-on warning
  [[ "$output" == *"::notice file=migrations/001_index.sql,line=1,col=1,title=db-migrate%3A alter-column-type::"* ]]
  [[ "$output" != *"::warning file=migrations/001_index.sql"* ]]
}

@test "db-migrate.yml sets a rule's level: error fails plan, off silences it" {
  sql "CREATE TABLE accounts (id int, email text); INSERT INTO accounts SELECT g, 'a' FROM generate_series(1, 100) g"
  printf 'CREATE INDEX accounts_email_idx ON accounts (email);\n' > migrations/001_index.sql
  run_dbm 0 plan
  [[ "$output" == *"warnings (1):"* ]]
  printf 'rules:\n  index-without-concurrently: error\n' > db-migrate.yml
  run_dbm 1 plan
  [[ "$output" == *"index-without-concurrently  migrations/001_index.sql:1: index \"accounts_email_idx\" on existing table"* ]]
  [[ "$output" == *"error: plan found 1 blocking problem"* ]]
  # fail-on, as a flag, still decides what fails the run.
  run_dbm 0 plan --fail-on never
  printf 'rules:\n  index-without-concurrently: "off"\nfail-on: warning\n' > db-migrate.yml
  run_dbm 0 plan
  [[ "$output" != *"index-without-concurrently"* ]]
  [[ "$output" == *"db-migrate plan: 1 pending"* ]]
  # A hit that a dry-run refutes (a binary-compatible type change) fails nothing, even at error.
  printf 'ALTER TABLE accounts ALTER COLUMN email TYPE text;\n' > migrations/001_index.sql
  printf 'rules:\n  alter-column-type: error\n' > db-migrate.yml
  run_dbm 1 plan
  run_dbm 0 dry-run
  [[ "$output" == *"alter-column-type"* ]]
  # A file elsewhere, named with --config; a typo in it is a usage error naming the line.
  printf 'fail-on: warning\nrules:\n  index-without-concurency: off\n' > "$WORK/other.yml"
  run_dbm 2 plan --config "$WORK/other.yml"
  [ "${lines[0]}" = "error: config file '$WORK/other.yml' line 3: unknown key 'index-without-concurency' in rules (no such rule)" ]
  [ "${lines[1]}" = "hint: did you mean 'index-without-concurrently'?" ]
  run_dbm 2 plan --config "$WORK/missing.yml"
  [[ "${lines[0]}" == "error: cannot read config file '$WORK/missing.yml': no such file" ]]
}

@test "log-format json: every line of the log is one JSON object" {
  printf 'CREATE TABLE a (id int, note text);\n' > migrations/001_a.sql
  printf 'CREATE INDEX a_note_idx ON a (note);\n' > migrations/002_index.sql
  "$DBM" apply --log-format json > "$WORK/out" 2> "$WORK/err"
  jq -e . "$WORK/out" "$WORK/err" > /dev/null
  [ "$(jq -r 'select(.message | startswith("applied  migrations/001_a.sql")) | .level' "$WORK/out")" = INFO ]
  # Each line has the timestamp Lambda's log-level filter needs beside the level.
  jq -e -s 'length > 0 and all(.[]; .timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{3}Z$"))' "$WORK/out" > /dev/null
  printf 'CREATE INDEX a_id_idx ON a (id);\n' > migrations/003_index.sql
  # The default where Lambda's log format is JSON; the run's end is one object with the report.
  AWS_LAMBDA_LOG_FORMAT=JSON "$DBM" plan > "$WORK/out" 2> "$WORK/err"
  jq -e . "$WORK/out" "$WORK/err" > /dev/null
  [ "$(tail -1 "$WORK/out" | jq -r .message)" = "db-migrate plan: 1 pending · 1 warning" ]
  [ "$(tail -1 "$WORK/out" | jq -r '.report.migrations[2].status')" = pending ]
  [ "$(jq -r 'select(.level == "WARN") | [.file, .line] | join(":")' "$WORK/err")" = migrations/003_index.sql:1 ]
  # Errors too, with their hint.
  DATABASE_URL="postgresql://nobody@127.0.0.1:1/x" "$DBM" status --log-format json > "$WORK/out" 2> "$WORK/err" || true
  [ "$(jq -r 'select(.level == "ERROR") | .hint != null' "$WORK/err")" = true ]
  # log-format text wins over the Lambda default; a bad value names the option.
  run env AWS_LAMBDA_LOG_FORMAT=JSON "$DBM" plan --log-format text
  [[ "$output" == *"db-migrate plan: 1 pending · 1 warning"* ]]
  [[ "$output" != *'"level"'* ]]
  run_dbm 2 plan --log-format yaml
  [[ "$output" == *"error: invalid value 'yaml' for log-format"* ]]
}

@test "one edit to a deployed file is one blocking problem, however many checks find it" {
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
  git init -q -b main .
  echo "CREATE TABLE users (id int);" > migrations/20240101000000_users.sql
  echo "CREATE TABLE teams (id int);" > migrations/20240102000000_teams.sql
  git add -A && git commit -q -m deployed
  run_dbm 0 apply
  echo "CREATE TABLE users (id bigint);" > migrations/20240101000000_users.sql
  git commit -qam edit
  run_dbm 1 plan
  # The history's checksum and git's diff both find it.
  [[ "$output" == *"edited-applied  migrations/20240101000000_users.sql:1"* ]]
  [[ "$output" == *"edited-deployed  migrations/20240101000000_users.sql"* ]]
  [[ "$output" == *"error: plan found 1 blocking problem"* ]]
  [[ "$output" == *"plan: blocked by 1 problem"* ]]
  echo "CREATE TABLE teams (id bigint);" > migrations/20240102000000_teams.sql
  git commit -qam edit2
  run_dbm 1 plan
  [[ "$output" == *"error: plan found 2 blocking problems"* ]]
  # the headline counts what the last line counts
  [[ "$output" == *"plan: blocked by 2 problems"* ]]
}
