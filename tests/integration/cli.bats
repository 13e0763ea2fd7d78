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
