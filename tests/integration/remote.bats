#!/usr/bin/env bats
# run-in: ecs and run-in: lambda end to end. A local fixture
# (tests/fixtures/remote_fixture.py) stands in for ECS, CloudWatch Logs and
# Lambda: it checks every call (SigV4 verified with botocore, the documented
# request shapes) and really runs the work: RunTask runs db-migrate with the
# task's command override and environment, in the "image" (a directory with
# the migrations), against the real PostgreSQL, and serves its output as the
# task's CloudWatch log; Invoke runs the image's db-migrate as a Lambda custom
# runtime against the fixture's Runtime API.

load helpers

AKID=AKIAREMOTETEST000001
SECRET=remoteSecretKey/0123456789abcdefghijklmnop
TD_ARN=arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7

setup_file() {
  # TLS on, as RDS has it: auth aws-iam requires it.
  CERT_DIR=$(mktemp -d /tmp/dbm-remote-cert.XXXXXX)
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -keyout "$CERT_DIR/server.key" -out "$CERT_DIR/server.crt" 2>/dev/null
  chmod 755 "$CERT_DIR"; chmod 600 "$CERT_DIR/server.key"
  [ "$(id -u)" -ne 0 ] || chown postgres "$CERT_DIR/server.key" "$CERT_DIR/server.crt"
  export CERT_DIR
  pg_start ssl=on "ssl_cert_file=$CERT_DIR/server.crt" "ssl_key_file=$CERT_DIR/server.key"
}
teardown_file() { pg_stop; rm -rf "$CERT_DIR"; }

setup() {
  unset_github_env
  new_db
  new_workdir
  git init -q -b main . && git config user.email t@example.com && git config user.name t
  printf 'CREATE TABLE accounts (id bigint PRIMARY KEY);\n' > migrations/001_accounts.sql
  printf 'ALTER TABLE accounts ADD COLUMN email text;\n' > migrations/002_email.sql
  git add -A && git commit -qm migrations
  # The image: the same migrations, built from this commit.
  mkdir -p "$WORK/image" && cp -r migrations "$WORK/image/"
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
  export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=eu-west-1
  export AWS_CONFIG_FILE=$WORK/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials
  # The Action's environment in a runner.
  export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK GITHUB_SHA=$(git rev-parse HEAD)
  export GITHUB_ACTOR=octocat GITHUB_EVENT_NAME=push GITHUB_SERVER_URL=https://github.com
  export GITHUB_REPOSITORY=acme/app GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1
  export GITHUB_STEP_SUMMARY=$WORK/summary.md GITHUB_OUTPUT=$WORK/output.txt
  : > "$GITHUB_STEP_SUMMARY"; : > "$GITHUB_OUTPUT"
  DENY='{}'
  IMAGE=registry.example/app:$GITHUB_SHA
}

teardown() {
  [ -z "${FIXTURE_PID:-}" ] || { exec {FIXTURE_FD}>&- ; wait "$FIXTURE_PID" || true; }
}

# fixture_start: the fixture with the task definition app:7 (container "app", image $IMAGE,
# DATABASE_URL of the test database, awslogs), the service "api", the function "migrate".
fixture_start() {
  local session='' oidc='' entrypoint=''
  [ -z "${ENTRYPOINT:-}" ] || entrypoint=' "entryPoint": ["db-migrate"],'
  [ -z "${SESSION:-}" ] || session=", \"session_token\": \"$SESSION\""
  [ -z "${OIDC:-}" ] || oidc=" \"oidc\": $OIDC,"
  cat > "$WORK/fixture.json" <<JSON
{"region": "eu-west-1",
 "credentials": {"access_key_id": "$AKID", "secret_access_key": "$SECRET"$session},
 "binary": "$DBM",
 "images": {"$IMAGE": "$WORK/image", "registry.example/app:old": "$WORK/old-image"},
 "base_env": {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "$ASAN_OPTIONS"},
 "task_definitions": [{"family": "app", "revision": 7, "networkMode": "awsvpc",
   "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
   "executionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
   "taskRoleArn": "arn:aws:iam::123456789012:role/app-task",
   "containerDefinitions": [{"name": "app", "image": "${TASK_IMAGE:-$IMAGE}", "essential": true,$entrypoint
     "environment": [{"name": "DATABASE_URL", "value": "$DATABASE_URL"}],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app",
       "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "migrate"}}}]}],
 "services": {"api": {"taskDefinition": "$TD_ARN",
   "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-0a1"],
     "securityGroups": ["sg-0db"], "assignPublicIp": "DISABLED"}}}},
 "functions": {"migrate": {"image": "$IMAGE", "timeout_s": ${FN_TIMEOUT:-60},
   "env": {"DATABASE_URL": "$DATABASE_URL"}}},
 "deny": $DENY,$oidc
 "requests": "$WORK/requests.jsonl"}
JSON
  remote_fixture_start
}

# requests OP: the bodies of the calls of OP, one JSON a line.
requests() {
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["op"] == sys.argv[2]: print(json.dumps(r["body"]))' "$WORK/requests.jsonl" "$1"
}

ecs_args() {
  echo --run-in ecs --ecs-cluster prod --ecs-service api
}

@test "ecs: apply runs in the task, streams its log and brings the report home" {
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 0 apply $(ecs_args)
  fixture_check
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002 ]
  # The audit fields travelled: the history says who ran what from where.
  [ "$(sql "SELECT actor || ' ' || event || ' ' || git_sha || ' ' || run_url FROM db_migrate.runs")" = \
    "octocat push $GITHUB_SHA https://github.com/acme/app/actions/runs/4242/attempts/1" ]
  # The task's own log lines are in the job log, between stop-commands markers.
  [[ "$output" == *"started ecs task arn:aws:ecs:eu-west-1:123456789012:task/prod/"* ]]
  [[ "$output" == *"::stop-commands::"* ]]
  printf '%s\n' "$output" | grep -q '^applied  migrations/002_email.sql'
  # The frame is read, not shown.
  [[ "$output" != *"db-migrate-report-begin"* ]]
  # Outputs and summary from the task's report.
  grep -qx 'status=applied' "$GITHUB_OUTPUT"
  grep -qx 'applied-count=2' "$GITHUB_OUTPUT"
  grep -qx 'applied-versions=001,002' "$GITHUB_OUTPUT"
  grep -qF '| `002` | email | applied |' "$GITHUB_STEP_SUMMARY"
  # The calls: the service's definition and network, the override's command and audit env.
  [ "$(requests DescribeServices)" = '{"services": ["api"], "cluster": "prod"}' ]
  run_task=$(requests RunTask)
  python3 - "$run_task" "$GITHUB_SHA" <<'PY'
import json, sys
b = json.loads(sys.argv[1])
assert b["taskDefinition"] == "arn:aws:ecs:eu-west-1:123456789012:task-definition/app:7", b
assert b["networkConfiguration"] == {"awsvpcConfiguration": {"subnets": ["subnet-0a1"],
        "securityGroups": ["sg-0db"], "assignPublicIp": "DISABLED"}}, b
o = b["overrides"]["containerOverrides"][0]
assert o["name"] == "app"
assert o["command"][:5] == ["db-migrate", "apply", "--run-in", "here", "--report-in-log"], o
env = {e["name"]: e["value"] for e in o["environment"]}
assert env["GITHUB_SHA"] == sys.argv[2] and env["GITHUB_ACTOR"] == "octocat", env
assert "DATABASE_URL" not in env and "AWS_SECRET_ACCESS_KEY" not in env, env
PY
}

@test "ecs: a failing migration exits 1 with the annotation at the repository path" {
  printf 'CREATE TABLE broken (id int REFERENCES nowhere(id));\n' > migrations/003_broken.sql
  git add -A && git commit -qm broken
  cp migrations/003_broken.sql "$WORK/image/migrations/"
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 1 apply $(ecs_args)
  fixture_check
  [[ "$output" == *'::error file=migrations/003_broken.sql,line=1'* ]]
  [[ "$output" == *'relation "nowhere" does not exist'* ]]
  grep -qx 'status=failed' "$GITHUB_OUTPUT"
  grep -qx 'applied-count=2' "$GITHUB_OUTPUT"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
}

@test "ecs: a rerun after the fix resumes where the failed run stopped" {
  printf 'CREATE TABLE broken (id int REFERENCES nowhere(id));\n' > "$WORK/image/migrations/003_broken.sql"
  cp "$WORK/image/migrations/003_broken.sql" migrations/
  git add -A && git commit -qm broken
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 1 apply $(ecs_args)
  # The fix, in a new commit and a new image.
  printf 'CREATE TABLE fixed (id int);\n' > migrations/003_broken.sql
  cp migrations/003_broken.sql "$WORK/image/migrations/"
  git add -A && git commit -qm fixed
  export GITHUB_SHA=$(git rev-parse HEAD)
  : > "$GITHUB_OUTPUT"
  # shellcheck disable=SC2046
  run_dbm 0 apply $(ecs_args)
  fixture_check
  grep -qx 'applied-versions=003' "$GITHUB_OUTPUT"
  [ "$(sql "SELECT count(*) FROM db_migrate.runs")" = 2 ]
  [ "$(sql "SELECT to_regclass('fixed') IS NOT NULL")" = t ]
}

@test "ecs: ecs-image registers a revision with the commit's image first" {
  TASK_IMAGE=registry.example/app:old
  # db-migrate's own image: its entrypoint is the binary, which reads `db-migrate` as nothing.
  ENTRYPOINT=1
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 0 apply --run-in ecs --ecs-cluster prod --ecs-task-definition app:7 \
    --ecs-subnets 'subnet-1, subnet-2' --ecs-security-groups sg-9 --ecs-image "$IMAGE"
  fixture_check
  [[ "$output" == *"registered arn:aws:ecs:eu-west-1:123456789012:task-definition/app:8 with image $IMAGE"* ]]
  python3 - "$(requests RegisterTaskDefinition)" "$(requests RunTask)" "$IMAGE" <<'PY'
import json, sys
reg, run, image = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
assert reg["containerDefinitions"][0]["image"] == image, reg
assert "revision" not in reg and "taskDefinitionArn" not in reg and "status" not in reg, reg
assert reg["executionRoleArn"].endswith("role/app-execution"), reg
assert run["taskDefinition"].endswith("task-definition/app:8"), run
assert run["networkConfiguration"]["awsvpcConfiguration"] == {
    "subnets": ["subnet-1", "subnet-2"], "assignPublicIp": "DISABLED", "securityGroups": ["sg-9"]}, run
PY
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "ecs: a task that cannot start exits 3 with its stoppedReason" {
  TASK_IMAGE=registry.example/app:missing
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 3 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"stopped before db-migrate ran: CannotPullContainerError: pull image manifest"* ]]
  [[ "$output" == *"ecr:BatchGetImage"* ]]
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
}

@test "ecs: AccessDenied on RunTask names ecs:RunTask and the task definition" {
  DENY="{\"RunTask\": \"ecs:RunTask on $TD_ARN\"}"
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 3 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"aws ecs RunTask was denied: ecs:RunTask is not allowed on $TD_ARN"* ]]
  [[ "$output" == *"hint: allow ecs:RunTask on $TD_ARN"* ]]
}

@test "ecs: AccessDenied for iam:PassRole names the role to pass" {
  DENY='{"RunTask": "iam:PassRole on arn:aws:iam::123456789012:role/app-execution"}'
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 3 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"iam:PassRole is not allowed on arn:aws:iam::123456789012:role/app-execution"* ]]
}

@test "ecs: AccessDenied on the log names logs:GetLogEvents" {
  DENY='{"GetLogEvents": "logs:GetLogEvents on arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/app:log-stream:x"}'
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 3 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"logs:GetLogEvents is not allowed on arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/app"* ]]
  # A run that cannot be followed is not left to run unseen.
  [[ "$output" == *"stopped task arn:aws:ecs:"*": its run could not be followed"* ]]
  requests StopTask | grep -q '"reason": "db-migrate: the run could not be followed"'
}

@test "ecs: a cancelled job stops the task and follows it until it has stopped" {
  # A migration that waits long enough to be cancelled in the middle.
  printf 'CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n' > migrations/003_slow.sql
  cp migrations/003_slow.sql "$WORK/image/migrations/"
  git add -A && git commit -qm slow
  fixture_start
  # shellcheck disable=SC2046
  "$DBM" apply $(ecs_args) > "$WORK/out.txt" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND wait_event = 'PgSleep'")" = 1 ] && break
    sleep 0.2
  done
  kill -TERM "$pid"
  rc=0; wait "$pid" || rc=$?
  output=$(cat "$WORK/out.txt")
  fixture_check
  [ "$rc" = 1 ] || { echo "exit $rc"; echo "$output"; false; }
  [[ "$output" == *"the GitHub Actions job was cancelled: stopping task arn:aws:ecs:"* ]]
  [[ "$output" == *"the job was cancelled; the task stopped with status"* ]]
  [ "$(requests StopTask | python3 -c 'import json,sys; print(json.load(sys.stdin)["reason"])')" = \
    "db-migrate: the GitHub Actions job was cancelled" ]
  # Nothing of the task is left running.
  [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 0 ]
  [ "$(sql "SELECT to_regclass('slow') IS NULL")" = t ]
}

@test "ecs: remote-timeout stops a task that runs too long" {
  printf 'CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n' > migrations/003_slow.sql
  cp migrations/003_slow.sql "$WORK/image/migrations/"
  git add -A && git commit -qm slow
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 1 apply $(ecs_args) --remote-timeout 3s
  fixture_check
  [[ "$output" == *"remote-timeout passed: stopping task arn:aws:ecs:"* ]]
  [[ "$output" == *"the task ran longer than remote-timeout"* ]]
  requests StopTask | grep -q '"reason": "db-migrate: remote-timeout passed"'
  # What finished before is recorded; the rerun resumes from there.
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
}

@test "ecs: paths are the repository's, the connection string never travels" {
  mkdir -p db && git mv migrations db/migrations && git commit -qm moved
  mkdir -p "$WORK/image/db" && mv "$WORK/image/migrations" "$WORK/image/db/"
  printf 'CREATE TABLE broken (id int REFERENCES nowhere(id));\n' > db/migrations/003_broken.sql
  cp db/migrations/003_broken.sql "$WORK/image/db/migrations/"
  git add -A && git commit -qm broken
  fixture_start
  # An absolute directory under the workspace, and a database-url with a password.
  # shellcheck disable=SC2046
  run env "INPUT_MIGRATIONS-DIR=$WORK/db/migrations" \
    "INPUT_DATABASE-URL=postgresql://app:hunter2-secret@db.internal/app" "$DBM" apply $(ecs_args)
  fixture_check
  [ "$status" -eq 1 ] || { echo "$output"; false; }
  [[ "$output" == *'::error file=db/migrations/003_broken.sql,line=1'* ]]
  requests RunTask | grep -q '"--migrations-dir", "db/migrations"'
  ! grep -q 'hunter2' "$WORK/requests.jsonl"
  [[ "$output" != *"hunter2"* ]]
}

@test "ecs: apply on a pull request is refused before anything starts in AWS" {
  fixture_start
  # shellcheck disable=SC2046
  GITHUB_EVENT_NAME=pull_request run_dbm 2 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"apply refuses to run on 'pull_request' events"* ]]
  [ ! -s "$WORK/requests.jsonl" ]
}

@test "ecs: a service ECS does not know is a configuration error" {
  fixture_start
  run_dbm 2 apply --run-in ecs --ecs-cluster prod --ecs-service nosuch
  fixture_check
  [[ "$output" == *"ecs-service 'nosuch' was not found in cluster 'prod': arn:aws:ecs:eu-west-1:123456789012:service/prod/nosuch: MISSING"* ]]
}

@test "ecs: run-in ecs without a task definition or service is a usage error" {
  run_dbm 2 apply --run-in ecs --ecs-cluster prod
  [[ "${lines[0]}" == *"run-in: ecs needs ecs-task-definition or ecs-service"* ]]
  run_dbm 2 apply --run-in ecs --ecs-task-definition app:7
  [[ "$output" == *"run-in: ecs needs ecs-subnets (or ecs-service)"* ]]
  run_dbm 2 apply --run-in elsewhere
  [[ "$output" == *"invalid value 'elsewhere' for run-in"* ]]
  run_dbm 2 apply --run-in ecs --ecs-service api --ecs-assign-public-ip maybe
  [[ "$output" == *"ecs-assign-public-ip"* ]]
}

@test "ecs: a stale image refuses to run (expect-migrations), nothing applied" {
  printf 'CREATE TABLE newer (id int);\n' > migrations/003_newer.sql
  git add -A && git commit -qm newer
  # The image was built before 003: it lacks the file the Action saw.
  fixture_start
  # shellcheck disable=SC2046
  run_dbm 1 apply $(ecs_args)
  fixture_check
  [[ "$output" == *"::error title=db-migrate%3A expect-migrations::these migrations are not the ones expected: 2 migrations up to 002 here, 3 migrations up to 003 expected"* ]]
  grep -qx 'status=blocked' "$GITHUB_OUTPUT"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ] 2>/dev/null ||
    [ "$(sql "SELECT to_regclass('db_migrate.migrations') IS NULL")" = t ]
  # The digest the Action computed is what the task was told to expect.
  requests RunTask | grep -q '"--expect-migrations", "sha256:[0-9a-f]*:3:003"'
}

# ---- run-in: lambda ----

slow() { printf 'CREATE TABLE %s (id int);\nSELECT pg_sleep(%s);\n' "$2" "$3" > "migrations/$1"; }

@test "lambda: apply invokes the function and brings its report home" {
  fixture_start
  run_dbm 0 apply --run-in lambda --lambda-function migrate
  fixture_check
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002 ]
  [ "$(sql "SELECT actor || ' ' || event || ' ' || git_sha || ' ' || run_url FROM db_migrate.runs")" = \
    "octocat push $GITHUB_SHA https://github.com/acme/app/actions/runs/4242/attempts/1" ]
  [[ "$output" == *"invoking lambda function migrate (apply)"* ]]
  # The tail of the function's log, from X-Amz-Log-Result.
  [[ "$output" == *"::group::lambda log (the last 4 KB)"* && "$output" == *"START RequestId: "* ]]
  grep -qx 'status=applied' "$GITHUB_OUTPUT"
  grep -qx 'applied-versions=001,002' "$GITHUB_OUTPUT"
  grep -qF '| `002` | email | applied |' "$GITHUB_STEP_SUMMARY"
  python3 - "$(requests Invoke)" "$GITHUB_SHA" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["function"] == "migrate", r
e = r["event"]
assert e["command"] == "apply" and e["inputs"] == {}, e
assert e["expect-migrations"].startswith("sha256:") and e["expect-migrations"].endswith(":2:002"), e
assert e["audit"] == {"git-sha": sys.argv[2], "actor": "octocat", "event": "push",
    "run-url": "https://github.com/acme/app/actions/runs/4242/attempts/1"}, e
PY
}

@test "lambda: a function named by its ARN is invoked at its encoded path, signed as AWS signs it" {
  fixture_start
  run_dbm 0 apply --run-in lambda --lambda-function arn:aws:lambda:eu-west-1:123456789012:function:migrate
  fixture_check
  requests Invoke | grep -q '"function": "migrate"'
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "lambda: a series longer than one invocation is invoked again until done" {
  for i in 3 4 5 6 7; do slow "00${i}_t$i.sql" "t$i" 0.6; done
  git add -A && git commit -qm slow && export GITHUB_SHA=$(git rev-parse HEAD)
  cp migrations/* "$WORK/image/migrations/"
  FN_TIMEOUT=1.8
  fixture_start
  run_dbm 0 apply --run-in lambda --lambda-function migrate --lock-timeout 1s
  fixture_check
  n=$(requests Invoke | wc -l)
  [ "$n" -ge 3 ]
  [[ "$output" == *"the run took $n invocations"* ]]
  [[ "$output" == *"the last invocation stopped before its deadline"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 7 ]
  # Every invocation got the same event, with the option given.
  [ "$(requests Invoke | sort -u | wc -l)" = 1 ]
  requests Invoke | head -1 | grep -q '"inputs": {"lock-timeout": "1s"}'
  grep -qx 'status=applied' "$GITHUB_OUTPUT"
}

@test "lambda: a migration longer than the function may run fails with the advice to use ecs" {
  slow 003_long.sql long_table 30
  git add -A && git commit -qm long && export GITHUB_SHA=$(git rev-parse HEAD)
  cp migrations/003_long.sql "$WORK/image/migrations/"
  FN_TIMEOUT=2.5
  fixture_start
  run_dbm 1 apply --run-in lambda --lambda-function migrate
  fixture_check
  [[ "$output" == *"::error file=migrations/003_long.sql"* ]]
  [[ "$output" == *"run-in: ecs"* ]]
  grep -qx 'status=failed' "$GITHUB_OUTPUT"
  [ "$(sql "SELECT to_regclass('long_table') IS NULL")" = t ]
}

@test "lambda: a failing migration exits 1 with the annotation at the repository path" {
  printf 'CREATE TABLE broken (id int REFERENCES nowhere(id));\n' > migrations/003_broken.sql
  git add -A && git commit -qm broken && export GITHUB_SHA=$(git rev-parse HEAD)
  cp migrations/003_broken.sql "$WORK/image/migrations/"
  fixture_start
  run_dbm 1 apply --run-in lambda --lambda-function migrate
  fixture_check
  [[ "$output" == *'::error file=migrations/003_broken.sql,line=1'* ]]
  grep -qx 'applied-count=2' "$GITHUB_OUTPUT"
}

@test "lambda: AccessDenied names lambda:InvokeFunction and the function" {
  DENY='{"Invoke": "lambda:InvokeFunction on arn:aws:lambda:eu-west-1:123456789012:function:migrate"}'
  fixture_start
  run_dbm 3 apply --run-in lambda --lambda-function migrate
  fixture_check
  [[ "$output" == *"aws lambda Invoke was denied: lambda:InvokeFunction is not allowed on arn:aws:lambda:eu-west-1:123456789012:function:migrate"* ]]
  [ "$(sql "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
}

@test "lambda: a stale image refuses to run" {
  printf 'CREATE TABLE newer (id int);\n' > migrations/003_newer.sql
  git add -A && git commit -qm newer
  fixture_start
  run_dbm 1 apply --run-in lambda --lambda-function migrate
  fixture_check
  [[ "$output" == *"these migrations are not the ones expected: 2 migrations up to 002 here, 3 migrations up to 003 expected"* ]]
  grep -qx 'status=blocked' "$GITHUB_OUTPUT"
}

# ---- the example workflows, run as the runner runs their db-migrate step ----

ROLE=arn:aws:iam::123456789012:role/db-migrate-deploy
REQ_TOKEN=oidc-request-token-0123456789
JWT=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwOmVudmlyb25tZW50OnByb2R1Y3Rpb24ifQ.c2ln

# example_step WORKFLOW JOB VALUES: run the job's db-migrate step of examples/workflows/WORKFLOW
# with INPUT_* from its `with:` (expressions from VALUES, JSON), the job's OIDC token and no
# AWS keys: the role is assumed as in a real job.
example_step() {
  printf '%s' "$3" > "$WORK/values.json"
  python3 "$BATS_TEST_DIRNAME/fixtures/workflow_step.py" "$REPO_ROOT/examples/workflows/$1" "$2" \
    "$WORK/values.json" > "$WORK/inputs"
  mapfile -t inputs < "$WORK/inputs"
  run env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    ACTIONS_ID_TOKEN_REQUEST_URL="$AWS_ENDPOINT_URL/oidc/token?api-version=2.0" \
    ACTIONS_ID_TOKEN_REQUEST_TOKEN=$REQ_TOKEN "${inputs[@]}" "$DBM"
}

oidc_fixture() {
  SESSION=FwoGZXIvYXdzEremoteSessionToken0123456789
  OIDC="{\"request_token\": \"$REQ_TOKEN\", \"jwt\": \"$JWT\", \"role_arn\": \"$ROLE\"}"
  fixture_start
}

@test "examples/workflows/ecs.yml: its migrate step runs against the fixtures as against AWS" {
  TASK_IMAGE=registry.example/app:old
  oidc_fixture
  example_step ecs.yml migrate "{\"vars.MIGRATION_ROLE_ARN\": \"$ROLE\", \"vars.ECS_CLUSTER\": \"prod\",
    \"vars.MIGRATION_TASK_FAMILY\": \"app\", \"needs.image.outputs.image\": \"$IMAGE\",
    \"vars.PRIVATE_SUBNETS\": \"subnet-a,subnet-b\", \"vars.MIGRATION_SECURITY_GROUP\": \"sg-1\"}"
  [ "$status" -eq 0 ] || { echo "$output"; cat "$WORK/fixture.err"; false; }
  fixture_check
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002 ]
  grep -qx 'status=applied' "$GITHUB_OUTPUT"
  [ -s "$WORK/db-migrate-report.json" ]
  # OIDC token, STS, then ECS signed with the session's credentials (the fixture checked each).
  [ "$(head -2 "$WORK/requests.jsonl" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["op"] for l in sys.stdin))')" = \
    "OidcToken AssumeRoleWithWebIdentity" ]
  requests RegisterTaskDefinition | grep -q "\"image\": \"$IMAGE\""
}

@test "examples/workflows/lambda.yml: its migrate step runs against the fixtures as against AWS" {
  oidc_fixture
  example_step lambda.yml migrate "{\"vars.MIGRATION_ROLE_ARN\": \"$ROLE\", \"vars.MIGRATION_FUNCTION\": \"migrate\"}"
  [ "$status" -eq 0 ] || { echo "$output"; cat "$WORK/fixture.err"; false; }
  fixture_check
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = 001,002 ]
  grep -qx 'status=applied' "$GITHUB_OUTPUT"
  # The function connected with an RDS IAM token (auth: aws-iam travelled in the event).
  requests Invoke | grep -q '"inputs": {"auth": "aws-iam", "aws-region": "eu-west-1"}'
}
