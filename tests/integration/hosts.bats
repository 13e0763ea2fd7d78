#!/usr/bin/env bats
# hosts.bats - `localhost` in database-url, whatever the machine's /etc/hosts makes of it.
#
# Each test runs db-migrate with a private /etc/hosts (scripts/with-hosts.sh, a mount
# namespace of its own): localhost as ::1 then 127.0.0.1 (Debian's default), as 127.0.0.1
# only, and as ::1 only. The server here listens on 127.0.0.1 alone, as many do (a container
# port published on 127.0.0.1, listen_addresses = '127.0.0.1'), and asks a password of one
# user; network.bats (whose server listens on both) runs whole under each mode in
# `make check-hosts`.

load helpers

setup_file() {
  pg_start password_encryption=scram-sha-256
  HOSTS_PASSWORD="pw-$RANDOM$RANDOM"
  psql -X -q "$PGTEST_URL_BASE/postgres" -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE hosts_user LOGIN PASSWORD '$HOSTS_PASSWORD'" >/dev/null
  # The password asked of hosts_user over TCP; the other lines stay as initdb wrote them.
  local hba=$PGTEST_DIR/data/pg_hba.conf
  { echo "host all hosts_user 127.0.0.1/32 scram-sha-256"; cat "$hba"; } >"$hba.new"
  cat "$hba.new" >"$hba" && rm -f "$hba.new"
  pg_reload
  export HOSTS_PASSWORD
}
teardown_file() { pg_stop; }

setup() {
  [ "$(id -u)" -eq 0 ] || skip "a private /etc/hosts needs root (unshare -m)"
  python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
    skip "this machine has no ::1 (IPv6 loopback)"
  unset_github_env
  unset PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE
  new_db
  psql -X -q "$PGTEST_URL_BASE/postgres" -c "ALTER DATABASE $DBNAME OWNER TO hosts_user" >/dev/null
  new_workdir
  printf 'CREATE TABLE hosts_t (id int);\n' >migrations/001_hosts_t.sql
}

# in_hosts EXPECTED MODE args...: db-migrate with /etc/hosts in MODE (debian, ipv4, ipv6).
in_hosts() {
  local want=$1 mode=$2
  shift 2
  run "$REPO_ROOT/scripts/with-hosts.sh" "$mode" "$DBM" "$@"
  if [ "$status" -ne "$want" ]; then
    echo "expected exit $want, got $status from: with-hosts.sh $mode db-migrate $*" >&2
    echo "$output" >&2
    return 1
  fi
}

# One error line matching $1, one hint line matching $2, nothing else said about the failure.
assert_failure_lines() {
  if [ "$(grep -c '^error: ' <<<"$output")" -ne 1 ] || ! grep -qE "^error: .*$1" <<<"$output" ||
    [ "$(grep -c '^hint: ' <<<"$output")" -ne 1 ] || ! grep -qE "^hint: .*$2" <<<"$output"; then
    echo "want 'error: ...$1...' and 'hint: ...$2...', got:" >&2
    echo "$output" >&2
    return 1
  fi
}

@test "hosts: with-hosts.sh gives localhost the addresses of each mode, and only inside" {
  run "$REPO_ROOT/scripts/with-hosts.sh" debian getent ahosts localhost
  [ "$(awk '/STREAM/ {print $1}' <<<"$output" | paste -sd' ')" = "::1 127.0.0.1" ]
  run "$REPO_ROOT/scripts/with-hosts.sh" ipv4 getent ahosts localhost
  [ "$(awk '/STREAM/ {print $1}' <<<"$output" | paste -sd' ')" = "127.0.0.1" ]
  run "$REPO_ROOT/scripts/with-hosts.sh" ipv6 getent ahosts localhost
  [ "$(awk '/STREAM/ {print $1}' <<<"$output" | paste -sd' ')" = "::1" ]
  # The machine's own names are kept; the machine's file is untouched.
  run "$REPO_ROOT/scripts/with-hosts.sh" ipv6 getent hosts "$(hostname)"
  [ "$status" -eq 0 ]
  before=$(md5sum </etc/hosts)
  "$REPO_ROOT/scripts/with-hosts.sh" ipv6 true
  [ "$(md5sum </etc/hosts)" = "$before" ]
  run "$REPO_ROOT/scripts/with-hosts.sh" nonsense true
  [ "$status" -eq 2 ]
  [[ "$output" == *"'nonsense' is not debian, ipv4, ipv6, host or a hosts file"* ]]
}

@test "hosts: localhost as ::1 then 127.0.0.1 (Debian's default) applies, and failures say what the server said" {
  url="postgresql://hosts_user:$HOSTS_PASSWORD@localhost:$PGTEST_PORT/$DBNAME"
  in_hosts 0 debian apply --database-url "$url"
  [ "$(sql "SELECT to_regclass('hosts_t') IS NOT NULL")" = t ]
  # ::1 refuses, 127.0.0.1 answers: its answer is the message, not the refusal at ::1.
  in_hosts 3 debian status --database-url "postgresql://hosts_user:wrong@localhost:$PGTEST_PORT/$DBNAME"
  assert_failure_lines 'password authentication failed for user "hosts_user"' 'check the user and password'
  [[ "$output" != *"Connection refused"* ]]
  in_hosts 3 debian status --database-url "postgresql://hosts_user:$HOSTS_PASSWORD@localhost:$PGTEST_PORT/nope_db"
  assert_failure_lines 'database "nope_db" does not exist' 'create the database first'
  # Nothing at either address: both are named.
  port=$(free_port)
  in_hosts 3 debian status --database-url "postgresql://hosts_user@localhost:$port/$DBNAME"
  assert_failure_lines "'hosts_user@localhost:$port/$DBNAME': Connection refused at ::1 and 127.0.0.1\$" 'check the host and port'
}

@test "hosts: localhost as 127.0.0.1 only applies, and failures say what the server said" {
  url="postgresql://hosts_user:$HOSTS_PASSWORD@localhost:$PGTEST_PORT/$DBNAME"
  in_hosts 0 ipv4 apply --database-url "$url"
  [ "$(sql "SELECT to_regclass('hosts_t') IS NOT NULL")" = t ]
  in_hosts 3 ipv4 status --database-url "postgresql://hosts_user:wrong@localhost:$PGTEST_PORT/$DBNAME"
  assert_failure_lines 'password authentication failed for user "hosts_user"' 'check the user and password'
  port=$(free_port)
  in_hosts 3 ipv4 status --database-url "postgresql://hosts_user@localhost:$port/$DBNAME"
  assert_failure_lines "Connection refused at 127.0.0.1\$" 'check the host and port'
}

@test "hosts: localhost as ::1 only, server on 127.0.0.1 only: refused at ::1, and the hint says why" {
  in_hosts 3 ipv6 apply --database-url "postgresql://hosts_user:$HOSTS_PASSWORD@localhost:$PGTEST_PORT/$DBNAME"
  assert_failure_lines "'hosts_user@localhost:$PGTEST_PORT/$DBNAME': Connection refused at ::1\$" \
    "nothing accepts connections at ::1: .*'localhost' resolves only to IPv6 here .* listening on IPv4 alone \(127.0.0.1\) is not reached by that name: give its IPv4 address in database-url, or add ::1 to the server's listen_addresses"
  [[ "$output" != *"$HOSTS_PASSWORD"* ]]
  [ "$(sql "SELECT to_regclass('hosts_t') IS NULL")" = t ]
  # The server's address given as the hint says: applied.
  in_hosts 0 ipv6 apply --database-url "postgresql://hosts_user:$HOSTS_PASSWORD@127.0.0.1:$PGTEST_PORT/$DBNAME"
  [ "$(sql "SELECT to_regclass('hosts_t') IS NOT NULL")" = t ]
  # A numeric address is not repeated after the refusal, and gets the usual hint.
  port=$(free_port)
  in_hosts 3 ipv6 status --database-url "postgresql://hosts_user@127.0.0.1:$port/$DBNAME"
  assert_failure_lines "'hosts_user@127.0.0.1:$port/$DBNAME': Connection refused\$" 'check the host and port'
}

@test "hosts: --wait keeps trying while localhost refuses at every address, then reports them" {
  port=$(free_port)
  start=$(date +%s%N)
  in_hosts 3 debian status --wait 1s --database-url "postgresql://hosts_user@localhost:$port/$DBNAME"
  [ $(( ($(date +%s%N) - start) / 1000000 )) -ge 900 ]
  assert_failure_lines "Connection refused at ::1 and 127.0.0.1\$" 'check the host and port'
}
