#!/usr/bin/env bats
# plan, status, dry-run and verify on a fleet (DESIGN section 11): each target
# reads its own history on a real PostgreSQL, and the reports tell the drift
# between the targets: which is behind, which has an edited migration.

load helpers

TOKEN=ghs_0123456789abcdefTESTTOKEN

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_workdir
  printf 'CREATE TABLE t1 (id int);\n' > migrations/001_t1.sql
  PFX="d${BATS_TEST_NUMBER}_$RANDOM"
}

teardown() {
  if [ -n "${FIXTURE_PID:-}" ]; then kill "$FIXTURE_PID" 2>/dev/null || true; wait "$FIXTURE_PID" 2>/dev/null || true; fi
}

# db NAME QUERY: a query on the fleet's database NAME.
db() { psql -X -q -At "$PGTEST_URL_BASE/${PFX}_$1" -c "$2"; }

# The three-target fleet: every target has 001; clean and edited have 002 and 003 too,
# behind has them pending; edited's history holds another checksum for 002.
three_targets() {
  target behind "" "$(mkdb behind)"
  target clean "" "$(mkdb clean)"
  target edited "" "$(mkdb edited)"
  run_dbm 0 apply
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_t2.sql
  printf 'CREATE TABLE t3 (id int);\n' > migrations/003_t3.sql
  run_dbm 0 apply --targets clean,edited
  db edited "UPDATE db_migrate.migrations SET checksum = 'sha256:edited' WHERE version = '002'"
}

# drift FILE: "name=state" per target of the report's drift, in its order.
drift() { jq -r '.drift.targets[] | "\(.name)=\(.state)"' "$1" | paste -sd' '; }

@test "status and plan show the drift between targets: the one behind and the edited one" {
  three_targets
  run_dbm 1 status --report-file status.json
  [[ "$output" == *"Drift between targets: 1 edited, 1 behind, 1 clean (3 of 3 targets compared)"* ]]
  [[ "$output" == *"  edited        003  edited   edited after it was applied: 002"* ]]
  [[ "$output" == *"  behind        001  behind   behind by 2: 002, 003"* ]]
  [[ "$output" == *"  clean         003  clean"* ]]
  [ "$(drift status.json)" = "edited=edited behind=behind clean=clean" ]
  [ "$(jq -c '.drift | [.same, .newest, .compared, .counts.behind, .counts.edited]' status.json)" = '[false,"003",3,1,1]' ]
  [ "$(jq -c '.drift.targets[] | select(.name == "behind") | [.newest_applied, .applied_count, .behind]' status.json)" = '["001",1,["002","003"]]' ]
  [ "$(jq -c '.drift.targets[] | select(.name == "edited") | .edited' status.json)" = '["002"]' ]
  # the table tells how many each history holds (a status applies none), and the
  # blocked target's own error is listed under its line, with its hint
  [[ "$output" == *"  blocked     edited        3        0"* ]]
  [[ "$output" == *"  up-to-date  clean         3        0"* ]]
  [[ "$output" == *"  pending     behind        1        2"* ]]
  [[ "$output" == *"edited: status found 1 blocking problem"$'\n'"  edited-applied  migrations/002_t2.sql:1: "*"    hint: "* ]]
  [[ "$output" != *"nothing was applied"* ]]

  run_dbm 1 plan --report-file plan.json
  [[ "$output" == *"Drift between targets: 1 edited, 1 behind, 1 clean"* ]]
  [ "$(drift plan.json)" = "edited=edited behind=behind clean=clean" ]

  # once the edit is accepted and the one behind caught up, one line says so
  run_dbm 0 repair --accept-edit 002 --targets edited
  run_dbm 0 status --targets clean,behind
  [[ "$output" == *"behind by 2: 002, 003"* ]]
  run_dbm 0 apply --targets behind
  run_dbm 0 status --report-file status.json
  [[ "$output" == *"Drift between targets: none; all 3 targets at 003, clean"* ]]
  [ "$(jq -c '.drift.same' status.json)" = true ]
}

@test "verify on a fleet exits 1 naming the edited target; a target behind is told, not failed" {
  three_targets
  run_dbm 1 verify --report-file verify.json
  [[ "$output" == *"error: 1 of 3 targets did not succeed: edited (blocked)"* ]]
  [ "$(jq -r '.targets[] | "\(.name)=\(.outcome)"' verify.json | paste -sd' ')" = "edited=blocked behind=pending clean=up-to-date" ]
  [ "$(jq -r '.targets[0].report.findings[] | select(.rule == "edited-applied") | .file' verify.json)" = "migrations/002_t2.sql" ]
  [ "$(drift verify.json)" = "edited=edited behind=behind clean=clean" ]
  run_dbm 0 verify --targets 'behind,clean'
  [[ "$output" == *"Drift between targets: 1 behind, 1 clean"* ]]
}

@test "a failed record and a history row without a file are drift too" {
  three_targets
  db clean "UPDATE db_migrate.migrations SET status = 'failed', failed_statement = 1, error = 'boom' WHERE version = '003'"
  db clean "DROP TABLE t3"
  run_dbm 0 repair --accept-edit 002 --targets edited
  db edited "INSERT INTO db_migrate.migrations (version, name, checksum, duration_ms, transactional, status) VALUES ('004', 'gone', 'sha256:x', 1, true, 'applied')"
  run_dbm 1 verify --report-file verify.json
  [ "$(drift verify.json)" = "clean=failed edited=missing behind=behind" ]
  [[ "$output" == *"  failed        002  clean    failed before, not finished: 003"* ]]
  [[ "$output" == *"  missing       004  edited   applied, file missing: 004"* ]]
  run_dbm 0 dry-run --targets 'clean,behind' --report-file dry.json
  [ "$(drift dry.json)" = "behind=behind clean=failed" ]
}

@test "dry-run runs each target's own pending migrations and rolls every one back" {
  target fresh "" "$(mkdb fresh)"
  target behind "" "$(mkdb behind)"
  run_dbm 0 apply --targets behind
  printf 'CREATE TABLE t2 (id int);\nALTER TABLE t1 ADD COLUMN n int NOT NULL DEFAULT 0;\n' > migrations/002_t2.sql
  run_dbm 0 dry-run --report-file dry.json --parallel 2
  [[ "$output" == *"dry-run on 2 targets: 2 pending (parallel 2)"* ]]
  [ "$(jq -r '.targets[] | "\(.name)=\(.pending_count)"' dry.json | paste -sd' ')" = "fresh=2 behind=1" ]
  # each its own: fresh runs 001 and 002, behind only 002, with the locks each statement took
  [ "$(jq -r '.targets[] | select(.name == "fresh") | [.report.migrations[] | select(.statements | length > 0) | .version] | join(",")' dry.json)" = "001,002" ]
  [ "$(jq -r '.targets[] | select(.name == "behind") | [.report.migrations[] | select(.statements | length > 0) | .version] | join(",")' dry.json)" = "002" ]
  [ "$(jq -r '.targets[] | select(.name == "behind") | .report.migrations[1].statements[1].locks[] | select(.relation == "public.t1") | .mode' dry.json)" = AccessExclusiveLock ]
  [ "$(drift dry.json)" = "fresh=behind behind=clean" ]
  # nothing persisted
  [ "$(db fresh "SELECT to_regclass('t1') IS NULL AND to_regclass('t2') IS NULL AND to_regclass('db_migrate.migrations') IS NULL")" = t ]
  [ "$(db behind "SELECT to_regclass('t2') IS NULL")" = t ]
  [ "$(db behind "SELECT count(*) FROM information_schema.columns WHERE table_name = 't1' AND column_name = 'n'")" = 0 ]
  [ "$(db behind "SELECT string_agg(version, ',') FROM db_migrate.migrations")" = 001 ]
}

@test "fail-on applies to every target of a fleet's dry-run" {
  target a "" "$(mkdb a)"
  target b "" "$(mkdb b)"
  printf 'CREATE INDEX t1_id ON t1 (id);\n' > migrations/002_index.sql
  run_dbm 0 dry-run
  run_dbm 1 dry-run --fail-on warning --report-file dry.json
  [ "$(jq -r '.targets[] | "\(.name)=\(.outcome)"' dry.json | paste -sd' ')" = "a=blocked b=blocked" ]
  [[ "$output" == *"error: 2 of 2 targets did not succeed: a (blocked), b (blocked)"* ]]
}

# start_fixture SCENARIO: the stand-in GitHub API (fixtures/github_api.py); exports GITHUB_API_URL.
start_fixture() {
  GH="$WORK/gh"; mkdir -p "$GH"
  python3 "$BATS_TEST_DIRNAME/fixtures/github_api.py" "$GH" "$1" "$TOKEN" &
  FIXTURE_PID=$!
  for _ in $(seq 1 100); do [ -f "$GH/port" ] && break; sleep 0.05; done
  export GITHUB_API_URL="http://127.0.0.1:$(cat "$GH/port")"
}

@test "a fleet's dry-run posts one pull request comment: failures first, each target collapsed" {
  three_targets
  printf '{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"sha":"abc"}}}\n' > "$WORK/event.json"
  export GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$WORK/event.json" \
    GITHUB_REPOSITORY=acme/app GITHUB_TOKEN=$TOKEN
  start_fixture create
  run_dbm 1 dry-run --comment-on-pr true
  diff <(jq -r '"\(.method) \(.path)"' "$GH/requests.jsonl") - <<'OUT'
GET /repos/acme/app/issues/7/comments
POST /repos/acme/app/issues/7/comments
OUT
  [ "$(jq -s 'map(select(.unexpected)) | length' "$GH/requests.jsonl")" = 0 ]
  body=$(jq -rs '.[1].body.body' "$GH/requests.jsonl")
  [ "$(printf '%s\n' "$body" | head -1)" = "<!-- db-migrate:comment command=dry-run schema=db_migrate dir=migrations -->" ]
  [[ "$body" == *"## db-migrate: dry-run on 3 targets: 1 blocked, 1 pending, 1 up-to-date (parallel 4)"* ]]
  # the blocked target and its blocking finding come before the drift, the table and the details
  printf '%s\n' "$body" > body.md
  [ "$(grep -n '^### Did not succeed' body.md | cut -d: -f1)" -lt "$(grep -n '^### Drift between targets' body.md | cut -d: -f1)" ]
  [ "$(grep -n '^### Drift between targets' body.md | cut -d: -f1)" -lt "$(grep -n '^| outcome | target |' body.md | cut -d: -f1)" ]
  grep -q '^- `edited` \*\*blocked\*\*: ' body.md
  grep -q '^  - \*\*edited-applied\*\* `migrations/002_t2.sql`: ' body.md
  grep -q '^| behind | `001` | `behind` | behind by 2: 002, 003 |$' body.md
  [ "$(grep -c '^<details><summary>' body.md)" = 3 ]
  [ "${#body}" -lt 60000 ]
}

@test "in Actions each target that did not succeed is an error annotation, drift a warning" {
  three_targets
  target down "" "postgresql://postgres@127.0.0.1:1/nothing"
  export GITHUB_ACTIONS=true
  run_dbm 1 verify
  [ "$(printf '%s\n' "$output" | grep -c '^::error title=db-migrate%3A ')" = 2 ]
  [[ "$output" == *"::error title=db-migrate%3A edited::blocked: verify found 1 blocking problem"* ]]
  [[ "$output" == *"::error title=db-migrate%3A down::unreachable: unable to connect to "* ]]
  [[ "$output" == *"::warning title=db-migrate%3A behind::drift: behind at 001: behind by 2: 002, 003"* ]]
  [[ "$output" == *"::warning title=db-migrate%3A edited::drift: edited at 003: edited after it was applied: 002"* ]]
  [ "$(printf '%s\n' "$output" | grep -c '^::warning title=db-migrate%3A ')" = 2 ]
  # the edited file itself, as for one database
  [ "$(printf '%s\n' "$output" | grep -c '^::error file=migrations/002_t2.sql,.*title=db-migrate%3A edited-applied::')" = 1 ]
}

@test "baseline, rollback and repair still take one target at a time" {
  target a "" "$(mkdb a)"
  target b "" "$(mkdb b)"
  for cmd in "baseline --target-version 001" "rollback" "repair --target-version 001"; do
    # shellcheck disable=SC2086
    run_dbm 2 $cmd
    [[ "$output" == *"error: '${cmd%% *}' runs on one target at a time"* ]]
    [[ "$output" == *"hint: select one target with --targets NAME (apply, plan, status, dry-run and verify take many)"* ]]
  done
  [ "$(db a "SELECT to_regclass('db_migrate.migrations') IS NULL")" = t ]
}

@test "thirty databases: identical states are one line each in the terminal" {
  for i in $(seq -w 1 30); do target "t$i" "" "$(mkdb "t$i")"; done
  run_dbm 0 apply --parallel 8
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_t2.sql
  run_dbm 0 apply --parallel 8 --targets 't0*,t1*,t2*'
  db t05 "UPDATE db_migrate.migrations SET checksum = 'sha256:edited' WHERE version = '001'"
  run_dbm 1 status --parallel 8
  [[ "$output" == *"Drift between targets: 1 edited, 1 behind, 28 clean (30 of 30 targets compared)"* ]]
  [[ "$output" == *"  clean         002  28 targets"* ]]
  [[ "$output" == *"  edited        002  t05         edited after it was applied: 001"* ]]
  [[ "$output" == *"  behind        001  t30         behind by 1: 002"* ]]
  # the drift section is the heading, a blank line, the column names and a line per group
  [ "$(printf '%s\n' "$output" | sed -n '/^Drift between targets/,$p' | grep -c '^  ')" = 4 ]
}
