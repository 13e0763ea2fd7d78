#!/usr/bin/env bats
# db-migrate report FILE... (DESIGN sections 2 and 11): the shards' JSON reports merged into
# one fleet report equal what one process over every target writes. Two identical sets of
# databases on a real PostgreSQL: set A is migrated by three shards, set B by one run.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

NAMES="t1 t2 t3 t4 t5 t6 t7"

setup() {
  unset_github_env
  new_workdir
  printf 'CREATE TABLE t1 (id int);\n' > migrations/001_t1.sql
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_t2.sql
  PFX="r${BATS_TEST_NUMBER}_$RANDOM"
  {
    echo "stages: [canary, eu, us]"
    echo "targets:"
    for t in $NAMES; do
      case $t in t1) g=canary ;; t2 | t3 | t4) g=eu ;; *) g=us ;; esac
      printf '  - name: %s\n    group: %s\n    database-url: ${URL_%s}\n' "$t" "$g" "$t"
    done
  } > db-migrate.yml
  for set in a b; do
    for t in $NAMES; do
      psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE ${PFX}${set}_$t" >/dev/null
    done
  done
}

# use SET: point the targets' URLs at set a or b.
use() {
  for t in $NAMES; do export "URL_$t=$PGTEST_URL_BASE/${PFX}$1_$t"; done
}

# db SET NAME QUERY
db() { psql -X -q -At "$PGTEST_URL_BASE/${PFX}$1_$2" -c "$3"; }

# What may differ between two runs of the same fleet: durations, times, database names (and
# the width of a column of durations).
norm_json() {
  jq -S --arg p "$PFX" 'walk(if type == "object" then del(.duration_ms, .applied_at) else . end)
    | walk(if type == "string" then gsub($p + "[ab]_"; "DB_") | gsub("[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?"; "TS") | gsub("[0-9]+(\\.[0-9]+)? ?m?s\\b"; "T") else . end)' "$1"
}
norm_text() {
  sed -E "s/${PFX}[ab]_/DB_/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]+Z?/TS/g; s/[0-9]+(\.[0-9]+)? ?m?s\b/T/g; s/ +/ /g" "$1"
}

# shards SET N: run each shard I/N on SET into dir SET/, with its own summary and outputs;
# their exit statuses in SHARD_STATUS ("0 1 0").
shards() {
  local set=$1 n=$2 i
  use "$set"
  mkdir -p "$set"
  SHARD_STATUS=
  for i in $(seq "$n"); do
    GITHUB_STEP_SUMMARY="$set/summary$i.md" GITHUB_OUTPUT="$set/out$i" \
      run "$DBM" apply --shard "$i/$n" --parallel 2 --report-file "$set/shard$i.json"
    SHARD_STATUS="$SHARD_STATUS${SHARD_STATUS:+ }$status"
  done
}

# single SET WANT: one process over every target of SET.
single() {
  use "$1"
  GITHUB_STEP_SUMMARY=single.md GITHUB_OUTPUT=single.out \
    run_dbm "$2" apply --parallel 2 --report-file single.json
}

# merged WANT FILES...: the report command with a summary and outputs.
merged() {
  local want=$1
  shift
  GITHUB_STEP_SUMMARY=merged.md GITHUB_OUTPUT=merged.out run_dbm "$want" report --report-file merged.json "$@"
}

# The merged files equal the single run's: JSON, summary, outputs but for the report's path.
same_as_single() {
  diff <(norm_json single.json) <(norm_json merged.json)
  diff <(norm_text single.md) <(norm_text merged.md)
  diff <(grep -v '^report-file=' single.out) <(grep -v '^report-file=' merged.out)
}

@test "three shards' reports merged equal one process's report, summary and outputs" {
  shards a 3
  [ "$SHARD_STATUS" = "0 0 0" ]
  # every target in exactly one shard, and every shard has some
  [ "$(jq -r '.targets[].name' a/shard*.json | sort | paste -sd' ')" = "$NAMES" ]
  for i in 1 2 3; do [ "$(jq '.targets | length' a/shard$i.json)" -gt 0 ]; done
  single b 0
  merged 0 a/shard1.json a/shard2.json a/shard3.json
  [[ "$output" == *"merged 3 reports: 7 targets"* ]]
  [[ "$output" == *"apply on 7 targets: 7 applied (parallel 2)"* ]]
  same_as_single
  [ "$(jq -r '.status, .applied_count, .counts.applied, .exit_code' merged.json | paste -sd' ')" = "applied 14 7 0" ]
  grep -qx 'targets-applied=7' merged.out
  grep -qx 'applied-versions=001,002' merged.out # applied-count=14: each target's, summed
  grep -qx "report-file=merged.json" merged.out
  # the order of the files does not matter
  run_dbm 0 report --report-file again.json a/shard3.json a/shard1.json a/shard2.json
  diff <(norm_json merged.json) <(norm_json again.json)
}

@test "a schemas: query that failed, told by every shard, is one row of the merge" {
  # its schemas cannot be shared out, so each shard reports the target; the merge keeps one
  printf '  - name: saas\n    database-url: ${URL_t1}\n    schemas: "SELECT 1, 2"\n' >> db-migrate.yml
  shards a 3
  [ "$SHARD_STATUS" = "2 2 2" ]
  for i in 1 2 3; do [ "$(jq -r '.targets[] | select(.name == "saas") | .outcome' a/shard$i.json)" = error ]; done
  single b 2
  merged 2 a/shard1.json a/shard2.json a/shard3.json
  [ "$(jq '[.targets[] | select(.name == "saas")] | length' merged.json)" = 1 ]
  same_as_single
  # a target that ran, in two reports, is still overlapping shards
  cp a/shard1.json a/copy.json
  run_dbm 2 report a/shard1.json a/copy.json
  [[ "$output" == *"is in two reports"* ]] || { echo "$output"; false; }
}

@test "with a failed migration and a target down, the merge fails as the single run does" {
  # both in the last stage, so that no stage is left out in one shard and run in another
  for set in a b; do db $set t5 "CREATE TABLE t2 (id int)"; done # 002 fails on t5
  sed -i 's|${URL_t6}|postgresql://postgres@127.0.0.1:1/nothing|' db-migrate.yml
  shards a 3
  # each shard exits as its worst target: 1 with t5, else 3 with t6, else 0
  for i in 1 2 3; do
    names=" $(jq -r '.targets[].name' a/shard$i.json | paste -sd' ') "
    want=0
    [[ "$names" == *" t6 "* ]] && want=3
    [[ "$names" == *" t5 "* ]] && want=1
    [ "$(cut -d' ' -f$i <<< "$SHARD_STATUS")" = "$want" ]
  done
  single b 1
  [[ "$output" == *"error: 2 of 7 targets did not succeed: t5 (failed), t6 (unreachable)"* ]]
  merged 1 a/shard*.json
  [[ "$output" == *"error: 2 of 7 targets did not succeed: t5 (failed), t6 (unreachable)"* ]]
  same_as_single
  # failures first: failed (1), then unreachable (3), then the rest by stage and file order
  [ "$(jq -r '[.targets[] | "\(.name)=\(.outcome)"] | join(" ")' merged.json)" = "t5=failed t6=unreachable t1=applied t2=applied t3=applied t4=applied t7=applied" ]
  [ "$(jq -r '.status, .exit_code' merged.json | paste -sd' ')" = "failed 1" ]
  grep -qx 'status=failed' merged.out
  grep -qx 'targets-failed=1' merged.out
  grep -qx 'targets-unreachable=1' merged.out
}

@test "status shards merged tell the drift between targets as one status run does" {
  # the others are behind; a second apart, so that the times shown differ
  for set in a b; do use $set; run_dbm 0 apply --targets t1,t5; sleep 1; done
  use a
  mkdir -p a
  for i in 1 2 3; do
    GITHUB_STEP_SUMMARY=a/summary$i.md GITHUB_OUTPUT=a/out$i run_dbm 0 status --shard $i/3 --report-file a/st$i.json
  done
  use b
  GITHUB_STEP_SUMMARY=single.md GITHUB_OUTPUT=single.out run_dbm 0 status --report-file single.json
  merged 0 a/st1.json a/st2.json a/st3.json
  same_as_single
  [ "$(jq -r '.drift.counts.behind, .drift.counts.ahead' merged.json | paste -sd' ')" = "5 2" ]
  [[ "$output" == *"Drift between targets: "*"5 behind"* ]]
}

@test "the merged exit status is the worst target's: a shard that could not connect exits 3" {
  sed -i 's|${URL_t6}|postgresql://postgres@127.0.0.1:1/nothing|' db-migrate.yml
  use a
  run_dbm 3 apply --targets t6 --report-file down.json
  run_dbm 0 apply --targets 't[1-5],t7' --report-file up.json
  run_dbm 3 report up.json down.json
  [[ "$output" == *"1 of 7 targets did not succeed: t6 (unreachable)"* ]]
}

@test "in the Action, the reports input's globs name the files, and failed targets are annotated" {
  db a t2 "CREATE TABLE t2 (id int)"
  use a
  mkdir -p reports/shard-1 reports/shard-2
  run_dbm 1 apply --shard 1/2 --report-file reports/shard-1/db-migrate-report.json
  s1=$status
  run "$DBM" apply --shard 2/2 --report-file reports/shard-2/db-migrate-report.json
  s2=$status
  [ $((s1 + s2)) -ge 1 ]
  export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK GITHUB_STEP_SUMMARY=$WORK/summary.md \
    GITHUB_OUTPUT=$WORK/out INPUT_COMMAND=report INPUT_REPORTS='reports/*/*.json' \
    INPUT_REPORT_FILE=merged.json
  run_dbm 1
  [[ "$output" == *"merged 2 reports: 7 targets"* ]]
  [[ "$output" == *"::error file=migrations/002_t2.sql,line=1,col=1,title=Migration failed::relation \"t2\" already exists"* ]]
  [[ "$output" == *"::error title=db-migrate%3A t2::failed: unable to apply"* ]]
  [ "$(jq '.targets | length' merged.json)" = 7 ]
  grep -q '| failed | `t2` | eu |' summary.md
  grep -qx 'targets-count=7' out
  # a glob that matches nothing is a usage error
  INPUT_REPORTS='nothing/*.json' run_dbm 2
  [[ "$output" == *"reports 'nothing/*.json' matches no file"* ]]
  [[ "$output" == *"hint: download the shards' reports first"* ]]
}

@test "single-database reports are a target each, named after their file or directory" {
  use a
  rm db-migrate.yml # a database per job, no targets
  mkdir -p eu
  DATABASE_URL=$URL_t1 run_dbm 0 apply --report-file eu/db-migrate-report.json
  db a t2 "CREATE TABLE t2 (id int)"
  DATABASE_URL=$URL_t2 run_dbm 1 apply --report-file us-east.json
  [ "$(jq .exit_code us-east.json)" = 1 ]
  run_dbm 1 report --report-file merged.json eu/db-migrate-report.json us-east.json
  [ "$(jq -r '[.targets[] | "\(.name)=\(.outcome)"] | join(" ")' merged.json)" = "us-east=failed eu=applied" ]
  [ "$(jq -r '.targets[0].report.migrations[1].error.message' merged.json)" = 'relation "t2" already exists' ]
  [[ "$output" == *"1 of 2 targets did not succeed: us-east (failed)"* ]]
}

@test "report refuses what it cannot merge: exit 2, one line naming the files, and a hint" {
  use a
  run_dbm 0 apply --shard 1/2 --report-file s1.json
  run_dbm 0 apply --shard 2/2 --report-file s2.json
  # nothing to merge
  run_dbm 2 report
  [ "${lines[0]}" = "error: 'report' needs the JSON reports to merge" ]
  [[ "${lines[1]}" == "hint: run: db-migrate report shard-1.json"* ]]
  # a missing file
  run_dbm 2 report s1.json s3.json
  [ "${lines[0]}" = "error: no report file 's3.json'" ]
  [[ "${lines[1]}" == "hint: "* ]]
  # not JSON, and JSON that is not a report
  echo '## db-migrate: apply' > summary.md
  run_dbm 2 report s1.json summary.md
  [[ "${lines[0]}" == "error: 'summary.md' is not JSON: "*"(line 1, column 1)" ]]
  echo '{"name": "x"}' > other.json
  run_dbm 2 report s1.json other.json
  [ "${lines[0]}" = "error: 'other.json' is not a db-migrate report" ]
  [[ "${lines[1]}" == "hint: give the JSON reports the runs wrote"* ]]
  # the same shard twice under two names: its targets would count twice
  cp s1.json copy.json
  run_dbm 2 report s1.json s2.json copy.json
  [[ "${lines[0]}" == "error: target '"*"' is in two reports: 's1.json' and 'copy.json'" ]]
  [[ "${lines[1]}" == "hint: each target belongs to one shard"* ]]
  # a shard of another command
  run_dbm 0 status --shard 2/2 --report-file st.json
  run_dbm 2 report s1.json st.json
  [ "${lines[0]}" = "error: 's1.json' is a report of 'apply', 'st.json' of 'status'" ]
  # a shard of other migrations (another commit)
  printf 'CREATE TABLE t3 (id int);\n' > migrations/003_t3.sql
  run_dbm 0 apply --shard 2/2 --report-file s2new.json
  run_dbm 2 report s1.json s2new.json
  [[ "${lines[0]}" == "error: 's1.json' and 's2new.json' are reports of different migrations (sha256:"* ]]
  [[ "${lines[1]}" == "hint: merge the reports of one workflow run"* ]]
  # nothing was written for a refused merge
  run_dbm 2 report --report-file merged.json s1.json copy.json
  [ ! -s merged.json ] || [ "$(jq '.targets | length' merged.json)" = 0 ]
}

@test "a shard's report missing: the merge is written, names the shard and exits 2" {
  shards a 3
  [ "$SHARD_STATUS" = "0 0 0" ]
  # each shard's report says which shard it is, and how many targets the selection took
  for i in 1 2 3; do
    [ "$(jq -c .shard a/shard$i.json)" = "{\"index\":$i,\"count\":3}" ]
    [ "$(jq .targets_selected a/shard$i.json)" = 7 ]
  done
  merged 2 a/shard1.json a/shard3.json
  [[ "$output" == *"; no report of shard 2 of 3 (parallel 2)"* ]]
  [[ "$output" == *"error: no report of shard 2 of 3: 2 of 3 shards merged, their targets are not in the merge"* ]]
  [[ "$output" == *"hint: give every shard's report"* ]]
  [ "$(jq -c .shards merged.json)" = '{"count":3,"merged":[1,3],"missing":[2]}' ]
  [ "$(jq -r '.status, .exit_code' merged.json | paste -sd' ')" = "failed 2" ]
  grep -qx 'status=failed' merged.out
  grep -q 'no report of shard 2 of 3' merged.md
  # that merge and the missing shard merge into the whole fleet
  run_dbm 0 report --report-file whole.json merged.json a/shard2.json
  [ "$(jq -c .shards whole.json)" = null ] # whole: the report of the fleet
  [ "$(jq '.targets | length' whole.json)" = 7 ]
  # shards of two different counts do not merge
  use a
  run_dbm 0 apply --shard 1/2 --report-file other.json
  run_dbm 2 report a/shard1.json other.json
  [ "${lines[0]}" = "error: 'a/shard1.json' is a shard of 3, 'other.json' of 2" ]
}

@test "a shard with no targets says so and writes targets-count=0" {
  use a
  for i in $(seq 100); do
    GITHUB_STEP_SUMMARY=empty.md GITHUB_OUTPUT=empty.out run_dbm 0 apply --shard "$i/100" --report-file empty.json
    [ "$(jq '.targets | length' empty.json)" != 0 ] || break
    rm -f empty.md empty.out
  done
  [ "$(jq '.targets | length' empty.json)" = 0 ]
  [[ "$output" == *"apply on 0 targets: shard $i/100 has no targets (parallel 4)"* ]]
  grep -qx 'targets-count=0' empty.out
  grep -qx 'status=up-to-date' empty.out
  grep -q "shard $i/100 has no targets" empty.md
  [ "$(jq -c '.shard, .targets_selected' empty.json | paste -sd' ')" = "{\"index\":$i,\"count\":100} 7" ]
}

@test "a report of the wrong shape is exit 2 naming the file and the field" {
  use a
  run_dbm 0 apply --shard 1/2 --report-file s1.json
  jq '.targets = "nope"' s1.json > bad.json
  run_dbm 2 report bad.json
  [ "${lines[0]}" = "error: 'bad.json' is not a db-migrate report: its field 'targets' is a string, not an array" ]
  [[ "${lines[1]}" == "hint: give the JSON reports as the runs wrote them"* ]]
  jq '.targets[0].name = 3' s1.json > bad.json
  run_dbm 2 report bad.json
  [ "${lines[0]}" = "error: 'bad.json' is not a db-migrate report: its field 'targets[0].name' is an integer, not a string" ]
  jq 'del(.targets[0].outcome)' s1.json > bad.json
  run_dbm 2 report bad.json
  [ "${lines[0]}" = "error: 'bad.json' is not a db-migrate report: its field 'targets[0].outcome' is missing, not a string" ]
  jq '.shard.index = 3' s1.json > bad.json
  run_dbm 2 report bad.json
  [ "${lines[0]}" = "error: 'bad.json' is not a db-migrate report: its field 'shard.index' is an integer, not an integer from 1 to shard.count" ]
  jq '.migrations = {}' s1.json > bad.json
  run_dbm 2 report bad.json
  [ "${lines[0]}" = "error: 'bad.json' is not a db-migrate report: its field 'migrations' is an object, not an array" ]
}

@test "a report-file that cannot be written is an error: before the run, or after it" {
  use a
  # a directory that does not exist: exit 2 before anything runs
  run_dbm 2 apply --shard 1/2 --report-file nodir/s1.json
  [ "${lines[0]}" = "error: unable to write the report to 'nodir/s1.json': its directory does not exist" ]
  [[ "${lines[1]}" == "hint: set report-file to a path"* ]]
  [ "$(db a t2 "SELECT to_regclass('db_migrate.runs') IS NULL")" = t ]
  run_dbm 2 report --report-file nodir/m.json a.json
  [ "${lines[0]}" = "error: unable to write the report to 'nodir/m.json': its directory does not exist" ]
  # a write that fails after the run: the run went well, the lost report is exit 2
  run_dbm 2 apply --report-file /dev/full
  [[ "$output" == *"apply on 7 targets: 7 applied"* ]]
  [[ "$output" == *"error: unable to write the report to '/dev/full': No space left on device"* ]]
  # a run that failed keeps its own exit status, and tells both
  sed -i 's|${URL_t6}|postgresql://postgres@127.0.0.1:1/nothing|' db-migrate.yml
  run_dbm 3 status --report-file /dev/full
  [[ "$output" == *"error: unable to write the report to '/dev/full'"* ]]
  [[ "$output" == *"error: 1 of 7 targets did not succeed: t6 (unreachable)"* ]]
}

@test "a merged report merges again, and --report-file - writes it to standard output" {
  use a
  for i in 1 2 3 4; do run_dbm 0 apply --shard $i/4 --report-file s$i.json; done
  # a merge of some shards fails, naming the others, and merges again with the rest
  run_dbm 2 report --report-file m12.json s1.json s2.json
  [[ "$output" == *"error: no report of shards 3, 4 of 4: 2 of 4 shards merged"* ]]
  run_dbm 2 report --report-file m34.json s3.json s4.json
  [ "$(jq -c .shards m34.json)" = '{"count":4,"merged":[3,4],"missing":[1,2]}' ]
  run_dbm 2 report --report-file m.json m12.json s3.json
  run_dbm 2 report m12.json m.json
  [[ "$output" == *"is in two reports"* ]]
  run_dbm 0 report --report-file all.json m12.json m34.json
  run_dbm 0 report --report-file direct.json s1.json s2.json s3.json s4.json
  diff <(norm_json direct.json) <(norm_json all.json)
  "$DBM" report --report-file - s1.json s2.json s3.json s4.json 2>/dev/null > out.json
  [ "$(jq '.targets | length' out.json)" = 7 ]
}

# ---- examples/workflows/fleet.yml, its jobs' steps run as the runner runs them ----

# job_step JOB VALUES: run the db-migrate step of the example's JOB (INPUT_* from its
# `with:`, expressions from VALUES) in the Actions environment, then do what its
# upload-artifact step does and download-artifact then does: copy the uploaded file to
# reports/<artifact name>/.
job_step() {
  printf '%s' "$2" > values.json
  python3 "$BATS_TEST_DIRNAME/fixtures/workflow_step.py" "$REPO_ROOT/examples/workflows/fleet.yml" \
    "$1" values.json > inputs
  mapfile -t inputs < inputs
  run env GITHUB_ACTIONS=true GITHUB_WORKSPACE="$WORK" GITHUB_OUTPUT="$WORK/out-$1" \
    GITHUB_STEP_SUMMARY="$WORK/summary-$1.md" "${inputs[@]}" "$DBM"
  python3 - "$REPO_ROOT/examples/workflows/fleet.yml" "$1" values.json <<'PY'
import json, os, re, shutil, sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
values = json.load(open(sys.argv[3]))
expand = lambda t: re.sub(r"\$\{\{(.*?)\}\}", lambda m: values[m.group(1).strip()], str(t))
for s in wf["jobs"][sys.argv[2]]["steps"]:
    if s.get("uses", "").startswith("actions/upload-artifact") and "report" != sys.argv[2]:
        name, path = expand(s["with"]["name"]), expand(s["with"]["path"])
        if os.path.exists(path):
            os.makedirs(os.path.join("reports", name), exist_ok=True)
            shutil.copy(path, os.path.join("reports", name))
PY
}

@test "examples/workflows/fleet.yml: the canary, four shards, then the report job over all" {
  cp "$REPO_ROOT/examples/fleet/db-migrate.yml" .
  for t in CANARY EU_1 EU_2 EU_3 US_1 US_2 US_3; do
    psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE DATABASE ${PFX}x_${t,,}" >/dev/null
    export "${t}_DATABASE_URL=$PGTEST_URL_BASE/${PFX}x_${t,,}"
  done
  db x us_2 "CREATE TABLE t2 (id int)" # 002 fails on us-2
  job_step canary '{}'
  [ "$status" -eq 0 ]
  [ "$(jq -r '[.targets[].name] | join(" ")' db-migrate-canary.json)" = canary ]
  shard_of_us2=
  for i in 1 2 3 4; do
    job_step migrate "{\"matrix.shard\": \"$i\"}"
    jq -e '.targets[] | select(.name == "us-2")' "db-migrate-shard-$i.json" >/dev/null && shard_of_us2=$i
    if [ "$shard_of_us2" = "$i" ]; then [ "$status" -eq 1 ]; else [ "$status" -eq 0 ]; fi
  done
  [ -n "$shard_of_us2" ]
  [ "$(ls reports | paste -sd' ')" = "db-migrate-canary db-migrate-shard-1 db-migrate-shard-2 db-migrate-shard-3 db-migrate-shard-4" ]
  job_step report '{}'
  [ "$status" -eq 1 ]
  [[ "$output" == *"merged 5 reports: 7 targets"* ]]
  [[ "$output" == *"1 of 7 targets did not succeed: us-2 (failed)"* ]]
  [ "$(jq -r '[.targets[] | "\(.name)=\(.outcome)"] | join(" ")' db-migrate-fleet.json)" = \
    "us-2=failed canary=applied eu-1=applied eu-2=applied eu-3=applied us-1=applied us-3=applied" ]
  grep -qx 'targets-count=7' out-report
  grep -qx 'targets-failed=1' out-report
  grep -q '^## db-migrate: apply on 7 targets: 1 failed, 6 applied' summary-report.md
}
