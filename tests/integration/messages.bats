#!/usr/bin/env bats
# What a new user meets first: bad names and settings stop at load with a message that
# says what to change, errors carry a hint, and the terminal output fits the terminal.

load helpers

setup_file() {
  # SCRAM for the password below: PostgreSQL 13 stores md5 by default, which scram-sha-256 refuses.
  pg_start password_encryption=scram-sha-256
  # pwuser must prove a password; everyone else is trusted.
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "CREATE ROLE pwuser LOGIN PASSWORD 'secret-pw'"
  sed -i '1i host all pwuser 127.0.0.1/32 scram-sha-256' "$PGTEST_DIR/data/pg_hba.conf"
  pg_reload
}
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

@test "a migration file name that is not UTF-8 stops every command at load, shown escaped" {
  printf 'CREATE TABLE a (x int);\n' >migrations/1_caf$'\xe9'.sql
  for cmd in plan apply; do
    run_dbm 2 "$cmd"
    [[ "${lines[0]}" == "error: migration name '1_caf\\xe9.sql' in 'migrations' is not valid UTF-8" ]]
    [[ "${lines[1]}" == "hint: rename it in UTF-8"* ]]
  done
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]
}

@test "migrations-dir in db-migrate.yml is relative to the file's folder, from any subdirectory" {
  git init -q .
  mkdir -p db/migrations app/src
  printf 'CREATE TABLE a (x int);\n' >db/migrations/001_a.sql
  printf 'migrations-dir: db/migrations\n' >db-migrate.yml
  cd app/src
  run_dbm 0 apply
  [ "$(sql "SELECT to_regclass('a') IS NOT NULL")" = t ]
  # a flag stays relative to the working directory
  run_dbm 2 plan --migrations-dir db/migrations
  [[ "$output" == *"migrations directory 'db/migrations' does not exist"* ]]
  # and so does --config FILE's folder for the value inside it
  cd "$WORK"
  mkdir conf && printf 'migrations-dir: ../db/migrations\n' >conf/ci.yml
  run_dbm 0 status --config conf/ci.yml
  [[ "$output" == *"001"*"a"* ]]
}

@test "a user that needs a password and was given none gets a hint naming where it goes" {
  printf 'CREATE TABLE a (x int);\n' >migrations/001_a.sql
  unset PGPASSWORD
  run_dbm 3 apply --database-url "host=127.0.0.1 port=$PGTEST_PORT user=pwuser dbname=$DBNAME"
  [[ "${lines[0]}" == "error: unable to connect to 'pwuser@127.0.0.1:$PGTEST_PORT/$DBNAME': "*"no password supplied"* ]]
  [[ "${lines[1]}" == "hint: the server asks this user for a password and none was given: set PGPASSWORD, or write it in database-url"*"auth: aws-iam" ]]
  PGPASSWORD=secret-pw run_dbm 0 plan --database-url "host=127.0.0.1 port=$PGTEST_PORT user=pwuser dbname=$DBNAME"
}

@test "a failed connection names the target libpq resolved from PG* variables, and a missing socket" {
  printf 'CREATE TABLE a (x int);\n' >migrations/001_a.sql
  unset DATABASE_URL PGHOST PGHOSTADDR PGUSER PGDATABASE
  port=$(free_port)
  PGPORT=$port PGUSER=someone PGDATABASE=appdb PGHOST=$BATS_TEST_TMPDIR run_dbm 3 plan
  [[ "${lines[0]}" == "error: unable to connect to 'someone@$BATS_TEST_TMPDIR:$port/appdb': "*"No such file or directory" ]]
  [ "${lines[1]}" = "hint: no server on socket $BATS_TEST_TMPDIR/.s.PGSQL.$port: set host= (or PGHOST) and port to the server's, or give database-url" ]
  # libpq's own defaults when only the port is given: the compiled socket folder, the login user
  PGPORT=$port run_dbm 3 plan
  [[ "${lines[0]}" == "error: unable to connect to '$(id -un)@/"*":$port/$(id -un)': "* ]]
  [[ "${lines[1]}" == "hint: no server on socket /"*"/.s.PGSQL.$port: "* ]]
}

@test "a history-schema PostgreSQL would refuse is exit 2 at load, before connecting" {
  printf 'CREATE TABLE a (x int);\n' >migrations/001_a.sql
  long=$(printf 'h%.0s' $(seq 64))
  for bad in '' pg_catalog information_schema pg_toast pg_temp_3 "$long"; do
    run_dbm 2 apply --history-schema "$bad" --database-url "postgresql://nobody@127.0.0.1:1/x"
    [[ "${lines[0]}" == "error: history-schema '$bad' "* ]]
    [[ "${lines[1]}" == "hint: give a schema of its own for the history tables"* ]]
  done
}

@test "an application table named like a history table is not built on: exit 2 before creating anything" {
  printf 'CREATE TABLE a (x int);\n' >migrations/001_a.sql
  sql "CREATE TABLE public.migrations (id serial PRIMARY KEY, title text)"
  for cmd in apply status; do
    run_dbm 2 "$cmd" --history-schema public
    [ "${lines[0]}" = "error: history-schema 'public' holds a table 'migrations' that is not db-migrate's history (no column version, name, checksum, applied_at, duration_ms, run_id, git_sha, transactional, status, failed_statement, error)" ]
    [[ "${lines[1]}" == "hint: pick another history-schema"* ]]
  done
  [ "$(sql "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 1 ]
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]
  # a schema of its own works beside it
  run_dbm 0 apply --history-schema app_history
  [ "$(sql "SELECT count(*) FROM app_history.migrations")" = 1 ]
}

# as_user COMMAND...: run as a user that file modes apply to (postgres when the suite runs as root).
as_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

@test "a migrations directory or file this user may not write or read is exit 2 with a hint" {
  d=$(mktemp -d /tmp/dbm-perm.XXXXXX)
  chmod 755 "$d"
  mkdir "$d/migrations"
  printf 'CREATE TABLE a (x int);\n' >"$d/migrations/001_a.sql"
  chmod 555 "$d/migrations"
  cd "$d"
  run as_user "$DBM" new add_users
  [ "$status" -eq 2 ]
  [[ "${lines[0]}" == "error: unable to create 'migrations/"*"_add_users.sql': Permission denied" ]]
  [[ "${lines[1]}" == "hint: db-migrate runs as uid "*", which may not create it: change its owner or mode (chown, chmod)" ]]
  chmod 755 migrations
  chmod 000 migrations/001_a.sql
  run as_user "$DBM" plan --offline
  [ "$status" -eq 2 ]
  [ "${lines[0]}" = "error: unable to read 'migrations/001_a.sql': Permission denied" ]
  [[ "${lines[1]}" == "hint: db-migrate runs as uid "*", which may not read it: "* ]]
  chmod 000 migrations
  run as_user "$DBM" plan --offline
  [ "$status" -eq 2 ]
  [ "${lines[0]}" = "error: unable to read 'migrations': Permission denied" ]
  chmod 755 migrations
  cd / && rm -rf "$d"
}

@test "a statement stopped by statement-timeout gets a hint to raise it" {
  printf 'SELECT pg_sleep(3);\n' >migrations/001_slow.sql
  run_dbm 1 apply --statement-timeout 200ms
  [[ "$output" == *"canceling statement due to statement timeout"* ]]
  grep -q '^hint: the statement ran longer than statement-timeout: raise it' <<<"$output"
}

@test "on a terminal, SQL lines are cut to COLUMNS with an ellipsis, and TERM=dumb gets no colour" {
  printf 'CREATE TABLE a_table_with_a_long_name (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);\n' >migrations/001_a.sql
  on_tty() { script -qec "$*" /dev/null | tr -d '\r'; }
  out=$(COLUMNS=40 TERM=xterm on_tty "$DBM" plan --offline)
  line=$(grep 'CREATE TABLE' <<<"$out")
  [ "$(LC_ALL=C.UTF-8 wc -m <<<"$line")" -eq 41 ] # 40 and the newline
  [[ "$line" == *"…" ]]
  [[ "$out" == *$'\033['* ]]
  out=$(COLUMNS=40 TERM=dumb on_tty "$DBM" plan --offline)
  [[ "$out" != *$'\033['* ]]
  # not a terminal: whole lines, no colour
  COLUMNS=40 TERM=xterm run_dbm 0 plan --offline
  [[ "$output" == *"CREATE TABLE a_table_with_a_long_name (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email"* ]]
  [[ "$output" != *$'\033['* ]]
}

@test "a run started with SIGINT ignored (a background job) keeps ignoring it; SIGTERM still stops it" {
  printf 'SELECT pg_sleep(2) AS slow_one;\n' >migrations/001_slow.sql
  printf 'CREATE TABLE b (x int);\n' >migrations/002_b.sql
  # bats runs without job control: a background command starts with SIGINT and SIGQUIT ignored
  "$DBM" apply >"$WORK/out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%slow_one%' AND pid <> pg_backend_pid()")" = 1 ] && break
    sleep 0.1
  done
  kill -INT "$pid"
  kill -QUIT "$pid"
  st=0
  wait "$pid" || st=$?
  cat "$WORK/out"
  [ "$st" -eq 0 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 2 ]
  # SIGTERM is honoured all the same
  printf 'SELECT pg_sleep(30) AS slow_two;\n' >migrations/003_slow.sql
  "$DBM" apply >"$WORK/out" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%slow_two%' AND pid <> pg_backend_pid()")" = 1 ] && break
    sleep 0.1
  done
  kill -TERM "$pid"
  st=0
  wait "$pid" || st=$?
  [ "$st" -eq 143 ]
}
