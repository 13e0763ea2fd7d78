#!/usr/bin/env bats
# Fleets (DESIGN section 11): one set of migrations over the targets of
# db-migrate.yml, several databases of a real PostgreSQL, several at once.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_workdir
  printf 'CREATE TABLE t1 (id int);\n' > migrations/001_t1.sql
  printf 'CREATE TABLE t2 (id int);\n' > migrations/002_t2.sql
  PFX="f${BATS_TEST_NUMBER}_$RANDOM"
}

# The advisory lock key db-migrate uses for the history schema db_migrate (FNV-1a, signed).
run_lock_key() {
  python3 -c '
h = 1469598103934665603
for c in b"db-migrate:db_migrate":
    h = ((h ^ c) * 1099511628211) % (1 << 64)
print(h - (1 << 64) if h >= (1 << 63) else h)'
}

# db NAME QUERY: a query on the fleet's database NAME.
db() { psql -X -q -At "$PGTEST_URL_BASE/${PFX}_$1" -c "$2"; }

# The five-target fleet: two that apply, one down, one whose migration fails, one locked.
five_targets() {
  target ok1 canary "$(mkdb ok1)"
  target ok2 eu "$(mkdb ok2)"
  target down eu "postgresql://postgres@127.0.0.1:1/nothing"
  target broken us "$(mkdb broken)"
  db broken "CREATE TABLE t2 (id int)" # 002 fails there: the table exists
  export LOCKED_URL
  LOCKED_URL=$(mkdb locked)
  # shellcheck disable=SC2016
  target locked us '${LOCKED_URL}'
}

# outcomes FILE: "name=outcome" per target of a JSON report, in its order.
outcomes() { jq -r '.targets[] | "\(.name)=\(.outcome)"' "$1" | paste -sd' '; }

@test "a fleet applies every target it can reach; one down exits 3, the others are applied" {
  target a canary "$(mkdb a)"
  target b eu "$(mkdb b)"
  target down eu "postgresql://postgres@127.0.0.1:1/nothing"
  export C_URL
  C_URL=$(mkdb c)
  # shellcheck disable=SC2016
  target c us '${C_URL}'
  run_dbm 3 apply --report-file report.json --parallel 3
  [[ "$output" == *"apply on 4 targets: 1 unreachable, 3 applied (parallel 3)"* ]]
  [[ "$output" == *"down: unable to connect to 'postgres@127.0.0.1:1/nothing'"* ]]
  [[ "$output" == *"error: 1 of 4 targets did not succeed: down (unreachable)"* ]]
  for t in a b c; do
    [ "$(db $t "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
    [ "$(db $t "SELECT outcome FROM db_migrate.runs")" = applied ]
  done
  [ "$(outcomes report.json)" = "down=unreachable a=applied b=applied c=applied" ]
  [ "$(jq -r '.status, .applied_count, .counts.applied, .counts.unreachable' report.json | paste -sd' ')" = "failed 6 3 1" ]
  [ "$(jq -r '.targets[0].exit_code, .targets[1].report.database, (.targets[1].report.migrations | length)' report.json | paste -sd' ')" = "3 postgres@127.0.0.1:$PGTEST_PORT/${PFX}_a 2" ]
  # the passwordless URL is fine to show, but the report never holds a URL's password
  ! grep -q 'postgresql://' report.json

  # a rerun: nothing to do where it was applied
  run_dbm 3 apply --report-file report.json
  [ "$(outcomes report.json)" = "down=unreachable a=up-to-date b=up-to-date c=up-to-date" ]
}

@test "a failed migration, a held run lock and a down target each get their own outcome; exit 1 is the worst" {
  five_targets
  key=$(run_lock_key)
  psql -X -q "$LOCKED_URL" -c "SELECT pg_advisory_lock($key); SELECT pg_sleep(5)" >/dev/null &
  holder=$!
  sleep 0.7
  run_dbm 1 apply --report-file report.json --run-lock-wait 1s --parallel 5
  wait $holder
  # failures first: failed (1), then unreachable (3), then locked (4), then the rest in file order
  [ "$(outcomes report.json)" = "broken=failed down=unreachable locked=locked ok1=applied ok2=applied" ]
  [ "$(jq -r '[.targets[].exit_code] | join(",")' report.json)" = "1,3,4,0,0" ]
  [[ "$output" == *"error: 3 of 5 targets did not succeed: "* ]]
  [[ "$output" == *"locked: another run holds the migration lock"* ]]
  [ "$(db broken "SELECT status FROM db_migrate.migrations ORDER BY version" | paste -sd,)" = "applied" ]
  [ "$(db locked "SELECT to_regclass('t1') IS NULL")" = t ]
  [ "$(db ok2 "SELECT count(*) FROM db_migrate.migrations")" = 2 ]
}

@test "parallel 1 and parallel 5 give the same outcome per target" {
  five_targets
  run_dbm 1 apply --report-file one.json --parallel 1
  for t in ok1 ok2 locked; do db $t "DROP SCHEMA db_migrate CASCADE; DROP TABLE t1, t2" 2>/dev/null; done
  db broken "DROP SCHEMA db_migrate CASCADE; DROP TABLE t1" 2>/dev/null
  run_dbm 1 apply --report-file five.json --parallel 5
  [ "$(outcomes one.json)" = "broken=failed down=unreachable ok1=applied ok2=applied locked=applied" ]
  [ "$(outcomes five.json)" = "$(outcomes one.json)" ]
  [ "$(jq -c '[.targets[] | [.name, .applied_count, .pending_count]]' five.json)" = "$(jq -c '[.targets[] | [.name, .applied_count, .pending_count]]' one.json)" ]
}

@test "targets selects by name and by group glob; a glob that selects nothing is exit 2" {
  target a canary "$(mkdb a)"
  target b eu-west "$(mkdb b)"
  target c eu-north "$(mkdb c)"
  target d us "$(mkdb d)"
  run_dbm 0 apply --targets 'eu-*' --report-file r.json
  [ "$(outcomes r.json)" = "b=applied c=applied" ]
  [ "$(db a "SELECT to_regclass('db_migrate.migrations') IS NULL")" = t ]
  INPUT_TARGETS='a, d' run_dbm 0 status --report-file r.json
  [ "$(outcomes r.json)" = "a=pending d=pending" ]
  run_dbm 2 plan --targets 'a,eu-sout*'
  [[ "$output" == *"error: targets 'eu-sout*' matches no target name or group"* ]]
  [[ "$output" == *"hint: name targets or groups of the config file: a in canary, b in eu-west, c in eu-north, d in us"* ]]
  [ "$(db a "SELECT to_regclass('db_migrate.migrations') IS NULL")" = t ]
}

@test "fail-fast starts no more targets after one fails" {
  target broken a "$(mkdb broken)"
  db broken "CREATE TABLE t1 (id int)"
  target b b "$(mkdb b)"
  target c c "$(mkdb c)"
  run_dbm 1 apply --parallel 1 --fail-fast --report-file r.json
  [ "$(outcomes r.json)" = "broken=failed b=skipped c=skipped" ]
  [ "$(jq -r '.targets[1].error' r.json)" = "not started: an earlier target failed (fail-fast)" ]
  [ "$(db b "SELECT to_regclass('db_migrate.migrations') IS NULL")" = t ]
  # without it the others go on
  run_dbm 1 apply --parallel 1 --report-file r.json
  [ "$(outcomes r.json)" = "broken=failed b=applied c=applied" ]
}

@test "in Actions the fleet's summary, outputs and log tell every target, failures first" {
  five_targets
  export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$WORK/summary.md GITHUB_OUTPUT=$WORK/out.txt
  run_dbm 1 apply --run-lock-wait 1s
  grep -q '^targets-count=5$' out.txt
  grep -q '^targets-failed=1$' out.txt
  grep -q '^targets-unreachable=1$' out.txt
  grep -q '^targets-applied=3$' out.txt
  grep -q '^status=failed$' out.txt
  grep -q '^applied-count=7$' out.txt
  grep -q '^## db-migrate: apply on 5 targets: 1 failed, 1 unreachable, 3 applied (parallel 4)' summary.md
  [ "$(grep -c '^| ' summary.md)" = 7 ]
  [ "$(grep '^| ' summary.md | sed -n 3p | cut -d'|' -f2,3)" = " failed | \`broken\` " ]
  [ "$(grep -c '^<details><summary>' summary.md)" = 5 ]
  [[ "$output" == *"[broken] "*"relation \"t2\" already exists"* ]]
}

@test "bad fleet options are exit 2 with a hint; other commands take one target only" {
  target a canary "$(mkdb a)"
  target b eu "$(mkdb b)"
  run_dbm 2 apply --parallel 0
  [[ "$output" == *"error: parallel '0' is out of range"* ]]
  [[ "$output" == *"hint: give a number of targets from 1 to 64"* ]]
  run_dbm 2 apply --fail-fast maybe
  [ "${lines[0]%%:*}" = error ]
  run_dbm 2 rollback
  [[ "$output" == *"error: 'rollback' runs on one target at a time"* ]]
  run_dbm 2 apply --run-in lambda --lambda-function f
  [[ "$output" == *"error: run-in: lambda does not run 'apply' on a fleet"* ]]
  run_dbm 0 apply --targets b
  run_dbm 0 verify --targets b --report-file r.json
  [ "$(outcomes r.json)" = "b=up-to-date" ]
}

# shard_names I/N: the targets shard I/N runs, from its report, sorted.
shard_names() {
  "$DBM" status --shard "$1" --report-file "s.json" >/dev/null 2>&1 || true
  jq -r '.targets[].name' s.json | sort | paste -sd' '
}

@test "shards cover every target exactly once; an added target moves no other, an added shard few" {
  for i in $(seq 1 30); do target "t$i" g "postgresql://postgres@127.0.0.1:1/t$i"; done
  : > all
  for i in 1 2 3; do shard_names "$i/3" | tr ' ' '\n' > "three.$i"; cat "three.$i" >> all; done
  [ "$(sort all | paste -sd' ')" = "$(seq 1 30 | sed 's/^/t/' | sort | paste -sd' ')" ]
  for i in 1 2 3; do [ "$(wc -l < "three.$i")" -ge 3 ]; done # no shard is nearly empty
  # an added target: every other stays in its shard
  target t31 g "postgresql://postgres@127.0.0.1:1/t31"
  for i in 1 2 3; do [ "$(shard_names "$i/3" | tr ' ' '\n' | grep -vx t31)" = "$(cat "three.$i")" ]; done
  # a fourth shard takes targets only from the others, and fewer than half of them
  moved=0
  for i in 1 2 3; do
    shard_names "$i/4" | tr ' ' '\n' > "four.$i"
    [ -z "$(comm -13 <(sort "three.$i" | grep -vx t31) <(sort "four.$i" | grep -vx t31))" ] # none gained
    moved=$((moved + $(comm -23 <(sort "three.$i") <(sort "four.$i" | grep -vx t31) | wc -l)))
  done
  [ "$moved" -gt 0 ] && [ "$moved" -lt 15 ]
  # the shard's selection is stable from run to run and combines with targets
  [ "$(shard_names 2/3)" = "$(shard_names 2/3)" ]
  run_dbm 2 status --shard 4/3
  [[ "$output" == *"error: invalid value '4/3' for shard"* ]]
  [[ "$output" == *"hint: give I/N"* ]]
}

@test "shard: only digits I/N with 1 <= I <= N <= 1000, from the flag, the input or the file" {
  target a g "postgresql://postgres@127.0.0.1:1/a"
  for v in ' 1/4' '+1/4' '1/ 4' '1/+4' '1/4 ' '01/4' '1/04' '-1/4' '1' '1/' '1/4/2' '0x1/4'; do
    run_dbm 2 status --shard "$v"
    [ "${lines[0]}" = "error: invalid value '$v' for shard: write I/N with digits only (no space, sign or leading zero)" ]
    [[ "${lines[1]}" == "hint: give I/N, this job's index from 1 to N (N at most 1000)"* ]]
    [ "${#lines[@]}" -eq 2 ]
  done
  run_dbm 2 status --shard 0/4
  [ "${lines[0]}" = "error: invalid value '0/4' for shard: I and N count from 1" ]
  run_dbm 2 status --shard 1/1001
  [ "${lines[0]}" = "error: invalid value '1/1001' for shard: N is more than 1000" ]
  # the input and the config file are read alike
  INPUT_SHARD='+2/3' run_dbm 2 status
  [ "${lines[0]}" = "error: invalid value '+2/3' for shard: write I/N with digits only (no space, sign or leading zero)" ]
  echo "shard: '3/2'" >> db-migrate.yml
  run_dbm 2 status
  [ "${lines[0]}" = "error: invalid value '3/2' for shard: I is greater than N" ]
  # a good value still runs the shard (the target is down: exit 3, not 2)
  run_dbm 3 status --shard 1/1 --report-file r.json
  [ "$(jq -r '.targets[].name' r.json)" = a ]
}

@test "stages run in order, canary first; a failed stage stops the later ones" {
  target eu-1 eu "$(mkdb eu1)"
  target can canary "$(mkdb can)"
  target us-1 us "$(mkdb us1)"
  target other none "$(mkdb other)"
  printf 'stages:\n  - canary\n  - "eu*"\n  - us\n' >> db-migrate.yml
  run_dbm 0 apply --parallel 4 --report-file r.json
  [ "$(outcomes r.json)" = "can=applied eu-1=applied us-1=applied other=applied" ]
  # each stage started after the one before it finished; targets in no stage run last
  started() { db "$1" "SELECT extract(epoch FROM started_at) FROM db_migrate.runs"; }
  finished() { db "$1" "SELECT extract(epoch FROM finished_at) FROM db_migrate.runs"; }
  python3 -c "import sys; a=list(map(float, sys.argv[1:])); assert a[0] <= a[1] and a[2] <= a[3] and a[4] <= a[5], a" \
    "$(finished can)" "$(started eu1)" "$(finished eu1)" "$(started us1)" "$(finished us1)" "$(started other)"

  # a failed canary: nothing later starts, whatever fail-fast says
  printf 'CREATE TABLE t3 (id int);\n' > migrations/003_t3.sql
  db can "CREATE TABLE t3 (id int)"
  run_dbm 1 apply --parallel 4 --report-file r.json
  [ "$(outcomes r.json)" = "can=failed eu-1=skipped us-1=skipped other=skipped" ]
  [ "$(jq -r '.targets[1].error' r.json)" = "not started: a target of an earlier stage failed" ]
  [ "$(db eu1 "SELECT to_regclass('t3') IS NULL")" = t ]
  # selecting past the canary runs the later stages
  run_dbm 0 apply --targets 'eu*,us' --report-file r.json
  [ "$(outcomes r.json)" = "eu-1=applied us-1=applied" ]
  # a stage that names no group is exit 2
  printf '  - uss\n' >> db-migrate.yml
  run_dbm 2 plan
  [[ "$output" == *"error: stage 'uss' matches no target's group"* ]]
}

@test "read-only commands look at every target: a canary that is down skips no later stage" {
  target down canary "postgresql://postgres@127.0.0.1:1/nothing"
  target eu-1 eu "$(mkdb eu1)"
  target eu-2 eu "$(mkdb eu2)"
  printf 'stages: [canary, eu]\n' >> db-migrate.yml
  "$DBM" apply --targets eu-1 --report-file /dev/null >/dev/null 2>&1
  for cmd in status plan verify dry-run; do
    run_dbm 3 "$cmd" --report-file r.json
    echo "$cmd: $(outcomes r.json)"
    [ "$(outcomes r.json)" = "down=unreachable eu-1=up-to-date eu-2=pending" ]
    [ "$(jq -r '.counts.skipped' r.json)" = 0 ]
    [ "$(jq -r '.drift.compared' r.json)" = 2 ]
  done
  # apply still stops at the failed stage
  run_dbm 3 apply --report-file r.json
  [ "$(outcomes r.json)" = "down=unreachable eu-1=skipped eu-2=skipped" ]
}

@test "SIGTERM cancels the statements running on every target and starts no more" {
  printf 'CREATE TABLE t3 (id int);\nSELECT pg_sleep(60) AS fleet_slow;\n' > migrations/003_slow.sql
  for t in a b c; do target "$t" g "$(mkdb "$t")"; done
  "$DBM" apply --parallel 2 --report-file "$WORK/r.json" > "$WORK/out" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    [ "$(psql -X -At "$PGTEST_URL_BASE/postgres" -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%fleet_slow%' AND state = 'active' AND pid <> pg_backend_pid()")" = 2 ] && break
    sleep 0.05
  done
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  cat "$WORK/out"
  [ "$status" -eq 143 ]
  [ "$(outcomes r.json)" = "a=cancelled b=cancelled c=skipped" ]
  [ "$(jq -r '.targets[2].error' r.json)" = "not started: the run was stopped" ]
  for t in a b; do
    [ "$(db $t "SELECT to_regclass('t3') IS NULL")" = t ]
    [ "$(db $t "SELECT outcome FROM db_migrate.runs")" = cancelled ]
  done
}
