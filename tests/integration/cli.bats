#!/usr/bin/env bats
# The command line as a new user meets it: a bare call, typos of commands and options.

load helpers

setup() {
  unset_github_env
  unset DATABASE_URL
  new_workdir
}

@test "a bare db-migrate prints the usage on stderr and exits 2; in Actions it plans" {
  # Nothing on stdout: the usage is an error's.
  run bash -c '"$1" 2>/dev/null' _ "$DBM"
  [ "$status" -eq 2 ]
  [ -z "$output" ]
  run_dbm 2
  [ "${lines[0]}" = "usage: db-migrate [options] COMMAND" ]
  [[ "$output" == *"  rollback "* ]]
  [[ "$output" != *"error:"* ]]
  # The Action's command input defaults to plan; a run without it plans too.
  GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK run_dbm 0 --offline
  [[ "$output" == *"plan"* ]]
  INPUT_COMMAND=plan run_dbm 0 --offline
}

@test "a mistyped command or option gets a did-you-mean" {
  run_dbm 2 aply
  [ "${lines[0]}" = "error: unknown command 'aply'" ]
  [[ "${lines[1]}" == "hint: did you mean 'apply'?"* ]]
  run_dbm 2 plan --migration-dir db
  [ "${lines[0]}" = "error: unknown option '--migration-dir'" ]
  [ "${lines[1]}" = "hint: did you mean '--migrations-dir'?" ]
  run_dbm 2 frobnicate
  [ "${lines[1]}" = "hint: use one of: plan, apply, dry-run, status, verify, baseline, rollback, repair, history, report, new" ]
}

@test "fleet options without targets: in db-migrate.yml are refused before anything runs" {
  # A database that would answer: the options must not fall back to it.
  export DATABASE_URL=postgresql://nobody@127.0.0.1:1/none
  git init -q .
  run_dbm 2 status --targets foo
  [ "${lines[0]}" = "error: option 'targets' chooses among the targets: of the config file, and none were loaded from 'db-migrate.yml': no such file; nothing was run" ]
  [[ "${lines[1]}" == "hint: list the databases under targets: (docs/fleets.md), give --config FILE if the file is elsewhere, or drop targets to run against database-url" ]]
  run_dbm 2 apply --shard 2/2
  [[ "${lines[0]}" == "error: option 'shard' chooses among the targets: of the config file"* ]]
  run_dbm 2 status --parallel 3
  [[ "${lines[0]}" == "error: option 'parallel' chooses among the targets: of the config file"* ]]
  run_dbm 2 status --fail-fast
  [[ "${lines[0]}" == "error: option 'fail-fast' chooses among the targets: of the config file"* ]]
  # The Action's inputs are the same options; empty ones ask for nothing.
  INPUT_TARGETS=canary INPUT_COMMAND=apply GITHUB_ACTIONS=true GITHUB_WORKSPACE=$WORK run_dbm 2
  [[ "$output" == *"error: option 'targets' chooses among the targets: of the config file"* ]]
  INPUT_TARGETS= INPUT_SHARD= INPUT_PARALLEL= run_dbm 0 plan --offline
  run_dbm 0 plan --offline --fail-fast false
  # A file without targets: names where it was read.
  printf 'lock-timeout: 2s\n' > db-migrate.yml
  run_dbm 2 apply --shard 1/2
  [ "${lines[0]}" = "error: option 'shard' chooses among the targets: of the config file, and none were loaded from 'db-migrate.yml'; nothing was run" ]
  run_dbm 0 --help --targets foo
}

@test "bounds and options that would be ignored are refused" {
  run_dbm 2 plan --offline --lock-retries 99999999999
  [ "${lines[0]}" = "error: lock-retries '99999999999' is out of range" ]
  [ "${lines[1]}" = "hint: give a number of retries from 0 to 100" ]
  run_dbm 0 plan --offline --lock-retries 100
  # --exit-code is status's: plan exits 1 on blocking findings by itself.
  run_dbm 2 plan --offline --exit-code
  [ "${lines[0]}" = "error: --exit-code is an option of status, not of plan" ]
  [[ "${lines[1]}" == "hint: plan exits 1 on its own when it finds a blocking problem"* ]]
  # A second YAML document would be read by nothing.
  git init -q .
  printf 'lock-timeout: 2s\n---\nfail-on: warning\n' > db-migrate.yml
  run_dbm 2 plan --offline
  [ "${lines[0]}" = "error: config file 'db-migrate.yml' line 2: a second YAML document; db-migrate.yml holds one" ]
  [ "${lines[1]}" = "hint: merge its keys into the first document and remove the '---' line" ]
  # A leading or trailing '---' alone is one document.
  printf -- '---\nlock-timeout: 2s\n---\n' > db-migrate.yml
  run_dbm 0 plan --offline
}
