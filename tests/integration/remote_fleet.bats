#!/usr/bin/env bats
# run-in: ecs with a fleet (DESIGN sections 10 and 11): each matrix job's shard runs in one
# ECS task, inside the network; the task's fleet report comes home, so the job's summary,
# outputs and exit status are its shard's; `db-migrate report` over the shards' reports
# equals one task running the whole fleet. The fixture (tests/fixtures/remote_fixture.py)
# checks the ECS and CloudWatch Logs calls and really runs the task's command against the
# real PostgreSQL.

load helpers

AKID=AKIAREMOTETEST000001
SECRET=remoteSecretKey/0123456789abcdefghijklmnop
NAMES="t1 t2 t3 t4 t5"

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_workdir
  git init -q -b main . && git config user.email t@example.com && git config user.name t
  printf 'CREATE TABLE t1 (id int);\n' > migrations/001_t1.sql
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_t2.sql
  {
    echo "targets:"
    for t in $NAMES; do
      case $t in t1 | t2) g=eu ;; *) g=us ;; esac
      printf '  - name: %s\n    group: %s\n    database-url: ${URL_%s}\n' "$t" "$g" "$t"
    done
  } > db-migrate.yml
  git add -A && git commit -qm migrations
  # The image: the repository's tree at this commit.
  mkdir -p image && cp -r migrations db-migrate.yml image/
  PFX="e${BATS_TEST_NUMBER}_$RANDOM"
  for set in a b; do
    for t in $NAMES; do
      psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE ${PFX}${set}_$t" >/dev/null
    done
  done
  unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE \
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI
  export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET AWS_REGION=eu-west-1
  export AWS_CONFIG_FILE=$WORK/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials
  export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK GITHUB_SHA=$(git rev-parse HEAD)
  export GITHUB_ACTOR=octocat GITHUB_EVENT_NAME=push GITHUB_SERVER_URL=https://github.com
  export GITHUB_REPOSITORY=acme/app GITHUB_RUN_ID=4242 GITHUB_RUN_ATTEMPT=1
  IMAGE=registry.example/app:$GITHUB_SHA
}

teardown() {
  [ -z "${FIXTURE_PID:-}" ] || { exec {FIXTURE_FD}>&- ; wait "$FIXTURE_PID" || true; }
}

# db SET NAME QUERY
db() { psql -X -q -At "$PGTEST_URL_BASE/${PFX}$1_$2" -c "$3"; }

# fixture_start SET: ECS and CloudWatch Logs, with the task definition app:7 whose
# container's environment points the targets' URLs at the databases of SET.
fixture_start() {
  local env='' t
  for t in $NAMES; do
    env="$env${env:+, }{\"name\": \"URL_$t\", \"value\": \"$PGTEST_URL_BASE/${PFX}$1_$t\"}"
  done
  cat > "$WORK/fixture.json" <<JSON
{"region": "eu-west-1",
 "credentials": {"access_key_id": "$AKID", "secret_access_key": "$SECRET"},
 "binary": "$DBM",
 "images": {"$IMAGE": "$WORK/image"},
 "base_env": {"PATH": "/usr/bin:/bin", "ASAN_OPTIONS": "$ASAN_OPTIONS"},
 "task_definitions": [{"family": "app", "revision": 7, "networkMode": "awsvpc",
   "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
   "executionRoleArn": "arn:aws:iam::123456789012:role/app-execution",
   "taskRoleArn": "arn:aws:iam::123456789012:role/app-task",
   "containerDefinitions": [{"name": "app", "image": "$IMAGE", "essential": true,
     "environment": [$env],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/app",
       "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "migrate"}}}]}],
 "services": {}, "functions": {}, "deny": {},
 "requests": "$WORK/requests.jsonl"}
JSON
  remote_fixture_start
}

# The command of each RunTask's container override, one JSON array a line.
task_commands() {
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["op"] == "RunTask":
        print(json.dumps(r["body"]["overrides"]["containerOverrides"][0]["command"]))' \
    "$WORK/requests.jsonl"
}

ecs_args() {
  echo --run-in ecs --ecs-cluster prod --ecs-task-definition app:7 --ecs-subnets subnet-0a1
}

norm_json() {
  jq -S --arg p "$PFX" 'walk(if type == "object" then del(.duration_ms, .applied_at) else . end)
    | walk(if type == "string" then gsub($p + "[ab]_"; "DB_") | gsub("[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?"; "TS") | gsub("[0-9]+(\\.[0-9]+)? ?m?s\\b"; "T") else . end)' "$1"
}
norm_text() {
  sed -E "s/${PFX}[ab]_/DB_/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?/TS/g; s/[0-9]+(\.[0-9]+)? ?m?s\b/T/g; s/ +/ /g" "$1"
}

@test "ecs: each shard runs in one task; the shards' reports merged equal one task's fleet" {
  db a t4 "CREATE TABLE t2 (id int)" # 002 fails on t4, in set a and set b
  db b t4 "CREATE TABLE t2 (id int)"
  fixture_start a
  statuses=
  for i in 1 2; do
    # shellcheck disable=SC2046
    GITHUB_STEP_SUMMARY=$WORK/summary$i.md GITHUB_OUTPUT=$WORK/out$i \
      run "$DBM" apply $(ecs_args) --shard $i/2 --parallel 2 --report-file shard$i.json
    statuses="$statuses $status"
    [[ "$output" == *"started ecs task"* ]]
    # the job's summary, outputs and report are its shard's fleet
    n=$(jq '.targets | length' shard$i.json)
    [ "$n" -gt 0 ]
    grep -qx "targets-count=$n" out$i
    grep -q "^## db-migrate: apply on $n target" summary$i.md
    # and the exit status is the shard's worst target's
    want=0
    jq -e '.targets[] | select(.name == "t4")' shard$i.json >/dev/null && want=1
    [ "$status" = "$want" ]
  done
  fixture_check
  # one task per shard, each running its share: the shard and fleet options travel
  [ "$(task_commands | wc -l)" = 2 ]
  [ "$(task_commands | jq -r '[.[0:4][], (index("--shard") as $i | .[$i + 1])] | join(" ")' | paste -sd,)" = \
    "db-migrate apply --run-in here 1/2,db-migrate apply --run-in here 2/2" ]
  task_commands | jq -e 'index("--parallel") as $i | .[$i + 1] == "2"' >/dev/null
  # every target in exactly one shard, migrated in set a
  [ "$(jq -r '.targets[].name' shard1.json shard2.json | sort | paste -sd' ')" = "$NAMES" ]
  [ "$(db a t1 "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
  # the failed migration's annotation names the repository's file and the target
  cat summary1.md summary2.md | grep -q '| failed | `t4` | us |'

  fixture_start b
  # shellcheck disable=SC2046
  GITHUB_STEP_SUMMARY=$WORK/single.md GITHUB_OUTPUT=$WORK/single.out \
    run_dbm 1 apply $(ecs_args) --parallel 2 --report-file single.json
  fixture_check
  GITHUB_STEP_SUMMARY=$WORK/merged.md GITHUB_OUTPUT=$WORK/merged.out \
    run_dbm 1 report --report-file merged.json shard1.json shard2.json
  [[ "$output" == *"1 of 5 targets did not succeed: t4 (failed)"* ]]
  [[ "$output" == *"::error file=migrations/002_t2.sql,line=1,col=1,title=Migration failed::"* ]]
  [[ "$output" == *"::error title=db-migrate%3A t4::failed: "* ]]
  # the single task's report, with the fields only a run here adds (git, the local checks)
  # dropped, equals the merge
  diff <(jq 'del(.git, .findings, .migrations_dir)' single.json | norm_json /dev/stdin) \
    <(jq 'del(.git, .findings, .migrations_dir)' merged.json | norm_json /dev/stdin)
  diff <(norm_text single.md) <(norm_text merged.md)
  diff <(grep -v '^report-file=' single.out) <(grep -v '^report-file=' merged.out)
}

@test "ecs: plan on a fleet and lambda with a fleet are refused before anything starts" {
  # shellcheck disable=SC2046
  run_dbm 2 plan $(ecs_args)
  [[ "$output" == *$'\nerror: run-in: ecs does not run \'plan\' on a fleet\nhint: plan the fleet offline here (--offline)'* ]]
  run_dbm 0 plan $(ecs_args) --offline
  run_dbm 2 apply --run-in lambda --lambda-function migrate
  [[ "$output" == *$'\nerror: run-in: lambda does not run \'apply\' on a fleet\nhint: use run-in: ecs'* ]]
  # a glob that selects nothing is told here, before a task is started
  # shellcheck disable=SC2046
  run_dbm 2 apply $(ecs_args) --targets 'nope*'
  [[ "$output" == *$'\nerror: targets \'nope*\' matches no target name or group'* ]]
  # run here, a target whose variable this job lacks is exit 2 before anything runs
  URL_t1=$PGTEST_URL_BASE/${PFX}a_t1 run_dbm 2 apply
  [[ "$output" == *"error: config file 'db-migrate.yml' line 7: environment variable 'URL_t2' is not set"* ]]
  [[ "$output" == *"hint: set it in the step's env for target 't2'"* ]]
  [ "$(db a t1 "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
  # but a selection of the targets it has runs
  URL_t1=$PGTEST_URL_BASE/${PFX}a_t1 run_dbm 0 apply --targets t1
}
