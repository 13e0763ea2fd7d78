#!/usr/bin/env bats
# action.bats - the action's image, built from the Dockerfile with buildah and run the way
# the GitHub runner runs a Docker action: the checkout (owned by another uid) mounted at
# /github/workspace, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY under /github/file_commands, the
# event payload under /github/workflow, every input of action.yml passed as INPUT_<NAME>
# with hyphens kept and its default filled in, and the image's own ENTRYPOINT. The
# database is a real PostgreSQL on the host, reached at 127.0.0.1 (chroot isolation keeps
# the host's network namespace).

load helpers

# One tag per checkout: two checkouts testing at once must not run each other's image.
IMAGE=localhost/db-migrate:e2e-$(printf %s "$REPO_ROOT" | cksum | cut -d" " -f1)
WS_UID=1001

setup_file() {
  # bats 1.8 cannot skip from setup_file: setup() skips each test instead.
  if ! command -v buildah >/dev/null || ! buildah info >/dev/null 2>&1; then
    export E2E_SKIP="buildah cannot run on this machine (install: scripts/deps.sh container)"
    return 0
  fi
  "$REPO_ROOT/scripts/base-image.sh"
  buildah bud --isolation chroot --pull=never --layers --quiet -t "$IMAGE" "$REPO_ROOT" \
    >"$BATS_FILE_TMPDIR/build.log" 2>&1 || {
    tail -30 "$BATS_FILE_TMPDIR/build.log" >&2
    return 1
  }
  # The runner starts the image's entrypoint; so do these tests.
  ENTRYPOINT=$(buildah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{.}} {{end}}' "$IMAGE")
  export ENTRYPOINT
  # What the runner passes for an input the workflow leaves out: action.yml's default.
  python3 - "$REPO_ROOT/action.yml" >"$BATS_FILE_TMPDIR/input-defaults" <<'PY'
import sys, yaml
for name, spec in yaml.safe_load(open(sys.argv[1]))["inputs"].items():
    value = str(spec.get("default", ""))
    if value == "${{ github.token }}":
        value = "ghs_e2eTokenThatMustNotBeUsed"
    print("INPUT_%s=%s" % (name.upper(), value))
PY
  pg_start
}

teardown_file() {
  [ -z "${E2E_SKIP:-}" ] || return 0
  pg_stop
}

setup() {
  [ -z "${E2E_SKIP:-}" ] || skip "$E2E_SKIP"
  new_db
  T=$BATS_TEST_TMPDIR
  WS=$T/workspace
  mkdir -p "$WS/migrations" "$T/file_commands" "$T/workflow" "$T/home" "$T/runner_temp"
  git -C "$WS" init -q -b main
  git -C "$WS" config user.email ci@example.com
  git -C "$WS" config user.name ci
  CTR=$(buildah from --pull=never "$IMAGE")
}

teardown() {
  [ -n "${CTR:-}" ] && buildah rm "$CTR" >/dev/null 2>&1 || true
}

# git on the host side of the workspace, which another uid owns.
wsgit() {
  git -c safe.directory='*' -C "$WS" "$@"
}

commit_all() {
  wsgit add -A
  wsgit commit -q -m "$1"
  chown -R "$WS_UID:$WS_UID" "$WS"
}

# event NAME [JSON]: the event this run is for, and its payload.
event() {
  EVENT_NAME=$1
  printf '%s\n' "${2:-{\}}" >"$T/workflow/event.json"
}

# run_action EXPECTED_STATUS [NAME=VALUE input overrides...]: one step of a job.
# Leaves fresh GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files in $OUT and $SUMMARY.
run_action() {
  local want=$1; shift
  local id=$RANDOM$RANDOM
  OUT=$T/file_commands/set_output_$id
  SUMMARY=$T/file_commands/step_summary_$id
  : >"$OUT"; : >"$SUMMARY"
  local -a envs=()
  local line name kv key
  while IFS= read -r line; do
    name=${line%%=*}
    for kv in "$@"; do
      key=${kv%%=*}
      [ "INPUT_${key^^}" = "$name" ] && line="$name=${kv#*=}"
    done
    envs+=(--env "$line")
  done <"$BATS_FILE_TMPDIR/input-defaults"
  local sha
  sha=$(wsgit rev-parse HEAD)
  envs+=(--env HOME=/github/home --env CI=true --env GITHUB_ACTIONS=true
    --env GITHUB_WORKSPACE=/github/workspace
    --env GITHUB_EVENT_PATH=/github/workflow/event.json --env "GITHUB_EVENT_NAME=$EVENT_NAME"
    --env "GITHUB_OUTPUT=/github/file_commands/set_output_$id"
    --env "GITHUB_STEP_SUMMARY=/github/file_commands/step_summary_$id"
    --env "GITHUB_SHA=$sha" --env GITHUB_REF=refs/heads/main --env GITHUB_REPOSITORY=acme/app
    --env GITHUB_ACTOR=octocat --env GITHUB_RUN_ID=4242 --env GITHUB_RUN_ATTEMPT=1
    --env GITHUB_SERVER_URL=https://github.com --env GITHUB_API_URL=http://127.0.0.1:9
    --env RUNNER_TEMP=/github/runner_temp --env RUNNER_OS=Linux)
  # The entrypoint's output is caught in a file inside the container: under load, buildah run
  # can end before it has copied the last of a process's output. bash, not sh: dash drops the
  # INPUT_* variables whose names hold a hyphen, which the runner passes and bash keeps.
  mkdir -p "$T/capture"
  # shellcheck disable=SC2086
  run buildah run --isolation chroot --workingdir /github/workspace \
    -v "$WS:/github/workspace" -v "$T/file_commands:/github/file_commands" \
    -v "$T/workflow:/github/workflow" -v "$T/home:/github/home" \
    -v "$T/runner_temp:/github/runner_temp" -v "$T/capture:/capture" \
    "${envs[@]}" "$CTR" -- /bin/bash -c 'exec "$@" >/capture/out 2>&1' bash $ENTRYPOINT
  output=$(cat "$T/capture/out")
  if [ "$status" -ne "$want" ]; then
    echo "expected exit $want, got $status; inputs: $*" >&2
    echo "$output" >&2
    return 1
  fi
}

# output NAME: the value the step set for output NAME (both file-command forms).
output() {
  python3 - "$OUT" "$1" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
want, values, i = sys.argv[2], {}, 0
while i < len(lines):
    line = lines[i]
    if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
        name, delim = line.split("<<", 1)
        j = lines.index(delim, i + 1)
        values[name] = "\n".join(lines[i + 1:j])
        i = j + 1
        continue
    if "=" in line:
        name, value = line.split("=", 1)
        values[name] = value
    i += 1
if want not in values:
    sys.exit("no output '%s' in %s" % (want, lines))
print(values[want])
PY
}

# two_migrations [DIR]: the first deploy's files, in DIR (default migrations).
two_migrations() {
  local dir=$WS/${1:-migrations}
  mkdir -p "$dir"
  cat >"$dir/20240101000000_create_accounts.sql" <<'EOF'
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
EOF
  cat >"$dir/20240102000000_add_accounts_created.sql" <<'EOF'
ALTER TABLE accounts ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX accounts_email ON accounts (email);
EOF
  commit_all "two migrations"
}

@test "action image: entrypoint is the binary itself, its libraries resolve" {
  [ "$ENTRYPOINT" = "/usr/local/bin/db-migrate " ]
  mkdir -p "$T/capture"
  run buildah run --isolation chroot -v "$T/capture:/capture" "$CTR" -- \
    /bin/sh -c 'exec /usr/local/bin/db-migrate --version >/capture/out 2>&1'
  [ "$status" -eq 0 ]
  output=$(cat "$T/capture/out")
  echo "db-migrate --version in the image said: $output" >&2
  [[ "$output" == *"$(cat "$REPO_ROOT/VERSION")"* ]]
  # libpq and libcurl are loaded at run time, not linked: --version loads both
  [[ "$output" == *$'\nlibpq '[0-9]* ]]
  [[ "$output" == *$'\nlibcurl '[0-9]* ]]
  [[ "$output" != *"not loaded"* ]]
  run buildah run --isolation chroot "$CTR" -- ldd /usr/local/bin/db-migrate
  [ "$status" -eq 0 ]
  [[ "$output" != *"not found"* ]]
}

@test "action image: as a Lambda container image, its entrypoint serves the Runtime API" {
  # Lambda starts the image's entrypoint with AWS_LAMBDA_RUNTIME_API set; the fixture
  # (fixtures/lambda_runtime.py) serves it events and checks the responses.
  two_migrations
  L=$T/lambda
  mkdir -p "$L"
  printf '{"command": "apply", "inputs": {"database-url": "%s", "migrations-dir": "migrations"}, "audit": {"actor": "octocat", "event": "push"}}' \
    "$DATABASE_URL" >"$L/apply.json"
  printf '{"command": "apply", "inputs": {"migration-dir": "x"}}' >"$L/bad.json"
  # shellcheck disable=SC2086
  run python3 "$BATS_TEST_DIRNAME/fixtures/lambda_runtime.py" "$L" 60000 3 "$L/apply.json" \
    "$L/bad.json" -- buildah run --isolation chroot --workingdir /var/task -v "$WS:/var/task" \
    --env 'AWS_LAMBDA_RUNTIME_API={api}' --env AWS_LAMBDA_LOG_FORMAT=JSON "$CTR" -- $ENTRYPOINT
  if [ "$status" -ne 0 ]; then cat "$L/violations" "$L/stderr" "$L/stdout" >&2; return 1; fi
  [ "$(sed -n 1p "$L/invocations.jsonl" | jq -r '.body.status + " " + (.body."exit-code" | tostring)')" = "applied 0" ]
  [ "$(sed -n 2p "$L/invocations.jsonl" | jq -r .type)" = DbMigrate.InvalidEvent ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
  [ "$(sql "SELECT actor || ' ' || event FROM db_migrate.runs")" = "octocat push" ]
  # Its log is JSON lines, as the function's log format asks.
  jq -e -s 'length > 0 and all(.[]; type == "object" and has("level"))' "$L/stdout"
}

@test "action deploy: apply on push runs the migrations, sets outputs, writes the summary" {
  # A directory other than the default: INPUT_MIGRATIONS-DIR, hyphen and all, reaches
  # the binary through buildah as through the runner.
  two_migrations db/migrations
  head=$(wsgit rev-parse HEAD)
  event push "{\"ref\":\"refs/heads/main\",\"after\":\"$head\"}"
  run_action 0 command=apply migrations-dir=db/migrations "database-url=$DATABASE_URL"

  [ "$(output status)" = applied ]
  [ "$(output applied-count)" = 2 ]
  [ "$(output pending-count)" = 0 ]
  [[ "$(output applied-versions)" == *20240101000000*20240102000000* ]]
  report=$(output report-file)
  [ -s "$T/runner_temp/${report#/github/runner_temp/}" ]
  [ "$(sql "SELECT count(*) FROM accounts")" = 0 ]
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations WHERE status = 'applied'")" = 20240101000000,20240102000000 ]
  [ "$(sql "SELECT outcome || ' ' || git_sha || ' ' || actor || ' ' || event FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = "applied $head octocat push" ]
  grep -q 20240102000000 "$SUMMARY"
  # Markdown-escaped in the table: add\_accounts\_created.
  grep -Eq 'add\\?_accounts\\?_created' "$SUMMARY"
  # The workspace still belongs to its owner: the container wrote nothing into it.
  [ -z "$(find "$WS" -not -uid "$WS_UID" -print -quit)" ]

  # The same commit again: nothing to do.
  run_action 0 command=apply migrations-dir=db/migrations "database-url=$DATABASE_URL"
  [ "$(output status)" = up-to-date ]
  [ "$(output applied-count)" = 0 ]
  [ "$(output deployed-sha)" = "$head" ]
}

@test "action config file: db-migrate.yml in the checkout sets what the inputs leave out" {
  two_migrations db/migrations
  printf 'migrations-dir: db/migrations\nhistory-schema: ops\nlock-timeout: ${DBM_LOCK}\n' >"$WS/db-migrate.yml"
  commit_all "config file"
  event push '{"ref":"refs/heads/main"}'
  # An unset ${VAR} is a usage error naming the file's line.
  run_action 2 command=apply "database-url=$DATABASE_URL"
  echo "the action said: $output" >&2
  [[ "$output" == *"error: config file 'db-migrate.yml' line 3: environment variable 'DBM_LOCK' is not set"* ]]
  printf 'migrations-dir: db/migrations\nhistory-schema: ops\n' >"$WS/db-migrate.yml"
  commit_all "config file without the variable"
  run_action 0 command=apply "database-url=$DATABASE_URL"
  [ "$(output applied-count)" = 2 ]
  [ "$(sql "SELECT count(*) FROM ops.migrations WHERE status = 'applied'")" = 2 ]
  # An input still wins over the file.
  run_action 0 command=status history-schema=db_migrate "database-url=$DATABASE_URL"
  [ "$(output pending-count)" = 2 ]
}

@test "action pull request: plan reports the new migration; apply is refused" {
  two_migrations
  event push '{}'
  run_action 0 command=apply "database-url=$DATABASE_URL"
  base=$(wsgit rev-parse HEAD)

  wsgit checkout -q -b feature
  cat >"$WS/migrations/20240103000000_add_accounts_name.sql" <<'EOF'
ALTER TABLE accounts ADD COLUMN name text;
EOF
  commit_all "add name"
  head=$(wsgit rev-parse HEAD)
  event pull_request "{\"action\":\"synchronize\",\"number\":7,\"pull_request\":{\"number\":7,\"base\":{\"ref\":\"main\",\"sha\":\"$base\"},\"head\":{\"ref\":\"feature\",\"sha\":\"$head\"}},\"repository\":{\"full_name\":\"acme/app\"}}"

  run_action 0 command=plan "database-url=$DATABASE_URL"
  [ "$(output status)" = pending ]
  [ "$(output pending-count)" = 1 ]
  [ "$(output deployed-sha)" = "$base" ]
  grep -q 20240103000000 "$SUMMARY"
  grep -Eq 'add\\?_accounts\\?_name' "$SUMMARY"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]

  run_action 2 command=apply "database-url=$DATABASE_URL"
  [[ "$output" == *allow-apply-on-pull-request* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
  [ -z "$(sql "SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'name'")" ]
  # command: rollback confirms itself in the Action: on a pull request the event guard refuses it.
  run_action 2 command=rollback "database-url=$DATABASE_URL"
  [[ "$output" == *"rollback refuses to run on 'pull_request' events"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
  # The fleet inputs without targets: in db-migrate.yml stop the step instead of being ignored.
  run_action 2 command=status targets=canary "database-url=$DATABASE_URL"
  [[ "$output" == *"option 'targets' chooses among the targets: of the config file"* ]]
}

@test "action failure: annotation, exit 1, outputs and summary; the rerun after the fix resumes" {
  two_migrations
  cat >"$WS/migrations/20240103000000_backfill.sql" <<'EOF'
-- backfill the domain column
ALTER TABLE accounts ADD COLUMN domain text;

UPDATE accounts SET domain = split_part(emial, '@', 2);
EOF
  commit_all "backfill"
  event push '{}'

  run_action 1 command=apply "database-url=$DATABASE_URL" report-file=db-migrate-report.json
  [[ "$output" == *"::error file=migrations/20240103000000_backfill.sql,line=4,"* ]]
  [[ "$output" == *emial* ]]
  [ "$(output status)" = failed ]
  [ "$(output applied-count)" = 2 ]
  [ "$(output report-file)" = db-migrate-report.json ]
  python3 - "$WS/db-migrate-report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "failed", r["status"]
m = {x["version"]: x for x in r["migrations"]}
assert m["20240103000000"]["status"] == "failed", m["20240103000000"]
assert m["20240103000000"]["error"]["line"] == 4, m["20240103000000"]["error"]
assert m["20240102000000"]["status"] == "applied", m["20240102000000"]
PY
  grep -q 20240103000000 "$SUMMARY"
  grep -q emial "$SUMMARY"
  # The failed transactional migration left nothing behind.
  [ -z "$(sql "SELECT 1 FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'domain'")" ]
  [ "$(sql "SELECT outcome FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = failed ]

  sed -i 's/emial/email/' "$WS/migrations/20240103000000_backfill.sql"
  rm -f "$WS/db-migrate-report.json"
  commit_all "fix the backfill"
  run_action 0 command=apply "database-url=$DATABASE_URL"
  [ "$(output status)" = applied ]
  [ "$(output applied-count)" = 1 ]
  [ "$(output applied-versions)" = 20240103000000 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 3 ]
  [ "$(sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'accounts' AND column_name = 'domain'")" = 1 ]
}
