#!/usr/bin/env bats
# A database that stops answering without a reset (a network partition, a NAT that forgot the
# connection): TCP keepalives and tcp_user_timeout end the run in bounded time, and a long
# statement on a healthy connection is left alone. The client runs in a network namespace of
# its own (unshare -n, or -rn in a user namespace when not root) and reaches the server through
# fixtures/relay.py, so iptables there drops the packets of that path alone.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

# Whatever still sleeps on the server (the partitioned run's backend) ends with the test.
teardown() {
  sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" >/dev/null 2>&1 || true
}

# in_netns MODE URL_PARAMS: apply in a network namespace of its own, through the relay on
# 127.0.0.1:6543. Once migration 001's pg_sleep is running, MODE cut drops every packet of
# that path (no reset, no close), and MODE ss prints the client socket's timers ("ss -o").
# Prints the run's output, then "exit=N seconds=S" (S counted from the cut, or from the start).
in_netns() {
  cat > "$WORK/netns.sh" <<SH
ip link set lo up || exit 90
# emptied here, not by the relay's own redirection: that runs in the background job, so the
# wait below could read the "ready" of this test's previous relay and connect too soon
: > "$WORK/relay.out"
python3 "$BATS_TEST_DIRNAME/fixtures/relay.py" tcp:6543 "unix:$PGTEST_DIR/.s.PGSQL.$PGTEST_PORT" > "$WORK/relay.out" 2>&1 &
relay=\$!
for _ in \$(seq 50); do grep -q ready "$WORK/relay.out" 2>/dev/null && break; sleep 0.1; done
start=\$(date +%s)
"$DBM" apply --database-url "postgresql://postgres@127.0.0.1:6543/$DBNAME?sslmode=disable$2" > "$WORK/run.out" 2>&1 &
run=\$!
if [ "$1" != nocut ]; then
  for _ in \$(seq 100); do
    [ "\$(psql -X -At -h "$PGTEST_DIR" -p "$PGTEST_PORT" -U postgres -d "$DBNAME" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND application_name = 'db-migrate'")" = 1 ] && break
    sleep 0.1
  done
fi
[ "$1" = ss ] && echo "ss: \$(ss -tnoH state established '( dport = :6543 )')"
if [ "$1" = cut ]; then
  iptables -A INPUT -p tcp --dport 6543 -j DROP && iptables -A INPUT -p tcp --sport 6543 -j DROP || exit 91
  start=\$(date +%s)
fi
wait \$run
code=\$?
cat "$WORK/run.out"
echo "exit=\$code seconds=\$(( \$(date +%s) - start ))"
kill \$relay
SH
  if [ "$(id -u)" -eq 0 ]; then unshare -n bash "$WORK/netns.sh"; else unshare -rn bash "$WORK/netns.sh"; fi
}

@test "a database that stops answering mid-statement ends the run in seconds with one clear line" {
  printf 'SELECT pg_sleep(600);\n' > migrations/001_sleep.sql
  # The defaults (30 s idle, 10 s apart, 3 probes; tcp_user_timeout 60 s) shortened in the URL.
  run in_netns cut "&keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=3000"
  [ "$status" -eq 0 ] || { echo "$output"; false; }
  [[ "$output" == *"exit=1 "* ]] || { echo "$output"; false; }
  seconds=$(printf '%s\n' "$output" | sed -n 's/.*seconds=//p')
  [ "$seconds" -le 15 ] || { echo "$output"; false; }
  [ "$(printf '%s\n' "$output" | grep '^error: ' | tail -1)" = "error: unable to apply 'migrations/001_sleep.sql': could not receive data from server: Connection timed out" ] || { echo "$output"; false; }
}

@test "a 20 s statement on a healthy connection outlives keepalive probes every second" {
  printf 'SELECT pg_sleep(20);\n' > migrations/001_sleep.sql
  run in_netns nocut "&keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=3000"
  [[ "$output" == *"exit=0 "* ]] || { echo "$output"; false; }
  [ "$(sql "SELECT status FROM db_migrate.migrations WHERE version = '001'")" = applied ]
}

@test "keepalives are on by default (30 s idle), and database-url's own value wins" {
  printf 'SELECT pg_sleep(2);\n' > migrations/001_sleep.sql
  run in_netns ss ""
  [[ "$output" == *"exit=0 "* ]] || { echo "$output"; false; }
  [[ "$output" =~ timer:\(keepalive,(2[0-9]|30)sec ]] || { echo "$output"; false; }
  sql "DROP SCHEMA db_migrate CASCADE" >/dev/null 2>&1
  run in_netns ss "&keepalives_idle=5"
  [[ "$output" != *"keepalive,2"*"sec"* ]] || { echo "$output"; false; }
  [[ "$output" =~ timer:\(keepalive,[0-5](\.[0-9]+)?(ms|sec), ]] || { echo "$output"; false; }
  sql "DROP SCHEMA db_migrate CASCADE" >/dev/null 2>&1
  run in_netns ss "&keepalives=0"
  [[ "$output" == *"ss: 0 "* ]] || { echo "$output"; false; }
  [[ "$output" == *"exit=0 "* ]] || { echo "$output"; false; }
  [[ "$output" != *"keepalive"* ]] || { echo "$output"; false; }
}
