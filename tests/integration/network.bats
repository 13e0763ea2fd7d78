#!/usr/bin/env bats
# network.bats - TLS to PostgreSQL and the SSH bastion, against real servers.
#
# netfixture.sh starts a PostgreSQL with ssl=on (certificate for localhost from
# a test CA; the test user only over TLS with SCRAM) and OpenSSH servers with
# their own host keys: one that forwards, one port with AllowTcpForwarding no,
# and one that still accepts ssh-rsa signatures. All on 127.0.0.1, all stopped
# in teardown_file.

load helpers

setup_file() {
  # Under /tmp: the postgres user must reach the certificate files.
  NET=$(mktemp -d /tmp/dbm-net.XXXXXX)
  "$BATS_TEST_DIRNAME/netfixture.sh" start "$NET"
  export NET
}

teardown_file() {
  "$BATS_TEST_DIRNAME/netfixture.sh" stop "$NET"
}

setup() {
  # shellcheck disable=SC1091
  . "$NET/env"
  unset_github_env
  unset DATABASE_URL PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE PGSSLMODE PGSSLROOTCERT
  # libssh2 1.10 leaks 56 bytes per login with an OpenSSH-format ECDSA key (inside the library).
  export LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/libssh2.supp:print_suppressions=0"
  export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
  new_workdir
  printf 'CREATE TABLE net_t (id int);\n' >migrations/001_net_t.sql
  URL="postgresql://$DB_USER:$DB_PASSWORD@localhost:$PGTEST_PORT/$DB_NAME"
  BASTION="$SSH_USER@127.0.0.1:$SSH_PORT"
}

# The fingerprint OpenSSH prints for a public key file.
fingerprint() {
  ssh-keygen -lf "$1" | cut -d' ' -f2
}

# db-migrate with the key and known_hosts passed as action inputs (environment,
# as the runner does), never on the command line.
# usage: run_tunnel EXPECTED KEYFILE KNOWN_HOSTS_FILE args...
run_tunnel() {
  local want=$1 key=$2 kh=$3
  shift 3
  run env "INPUT_SSH-PRIVATE-KEY=$(cat "$NET/$key")" "INPUT_SSH-KNOWN-HOSTS=$(cat "$NET/$kh")" \
    "$DBM" "$@"
  if [ "$status" -ne "$want" ]; then
    echo "expected exit $want, got $status from: db-migrate $* (key $key, known_hosts $kh)" >&2
    echo "$output" >&2
    return 1
  fi
}

# No secret in the output: the password and no line of any private key's body.
assert_no_secrets() {
  local line f
  if [[ "$output" == *"$DB_PASSWORD"* ]]; then
    echo "the password appears in the output" >&2
    return 1
  fi
  for f in "$NET"/keys/*; do
    [[ "$f" == *.pub ]] && continue
    while IFS= read -r line; do
      [[ "$line" == -----* ]] && continue
      [ ${#line} -lt 16 ] && continue
      if [[ "$output" == *"$line"* ]]; then
        echo "a line of $f appears in the output" >&2
        return 1
      fi
    done <"$f"
  done
}

# Exactly one error line, and it contains $1.
assert_one_error() {
  local n
  n=$(grep -c '^error: ' <<<"$output" || true)
  if [ "$n" -ne 1 ] || ! grep -q "^error: .*$1" <<<"$output"; then
    echo "want one 'error: ...$1...' line, got:" >&2
    echo "$output" >&2
    return 1
  fi
}

@test "tls: verify-full with the right CA connects over TLS" {
  run_dbm 0 apply --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
  assert_no_secrets
  # pg_hba admits dbm_user only with hostssl: the apply ran over TLS.
  run psql -X -At "$PGTEST_URL_BASE/$DB_NAME" -c "SELECT to_regclass('net_t') IS NOT NULL"
  [ "$output" = t ]
  psql -X -q "$PGTEST_URL_BASE/$DB_NAME" -c "DROP TABLE net_t; DROP SCHEMA db_migrate CASCADE"
}

@test "tls: a certificate from another CA fails with exit 3" {
  run_dbm 3 status --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/other-ca.crt"
  assert_one_error "certificate verify failed"
  [[ "$output" == *"hint: the server's certificate is not signed by the CA in sslrootcert"* ]]
  assert_no_secrets
}

@test "tls: a host name the certificate does not name fails with exit 3" {
  run_dbm 3 status --database-url "postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGTEST_PORT/$DB_NAME" \
    --sslmode verify-full --sslrootcert "$NET/ca.crt"
  assert_one_error "does not match host name \"127.0.0.1\""
  [[ "$output" == *"hint: the certificate was issued for another name"* ]]
  assert_no_secrets
}

@test "tls: without TLS the server's pg_hba refuses the user, exit 3" {
  run_dbm 3 status --database-url "$URL" --sslmode disable
  # The server's words: "SSL off" until 13, "no encryption" from 14.
  if [ "$PG" -ge 14 ]; then assert_one_error "no encryption"; else assert_one_error "SSL off"; fi
  [[ "$output" == *"hint: the server accepts this user only over TLS"* ]]
}

@test "connect: a refused password is one line with exit 3 and no password" {
  run_dbm 3 status --database-url "postgresql://$DB_USER:wrong-$DB_PASSWORD@localhost:$PGTEST_PORT/$DB_NAME" \
    --sslmode require
  assert_one_error "password authentication failed for user \"dbm_user\""
  [[ "$output" == *"hint: check the user and password"* ]]
  assert_no_secrets
}

@test "connect: a missing database is one line with exit 3" {
  run_dbm 3 status --database-url "postgresql://$DB_USER:$DB_PASSWORD@localhost:$PGTEST_PORT/nope_db" \
    --sslmode require
  assert_one_error "database \"nope_db\" does not exist"
  [[ "$output" == *"hint: create the database first"* ]]
  assert_no_secrets
}

@test "connect: a closed port is one line with exit 3" {
  local port
  port=$(free_port)
  run_dbm 3 status --database-url "postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$port/$DB_NAME"
  assert_one_error "127.0.0.1:$port/$DB_NAME'.*Connection refused"
  assert_no_secrets
}

@test "bastion: apply through the tunnel with verify-full against the real host name" {
  local before after
  before=$(grep -c 'Accepted publickey' "$NET/sshd.log" || true)
  run_tunnel 0 keys/ed25519_openssh kh_hashed apply --ssh-bastion "$BASTION" \
    --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
  after=$(grep -c 'Accepted publickey' "$NET/sshd.log" || true)
  [ "$after" -gt "$before" ]
  [[ "$output" == *"applied"*"001_net_t.sql"* ]]
  assert_no_secrets
  run psql -X -At "$PGTEST_URL_BASE/$DB_NAME" -c "SELECT to_regclass('net_t') IS NOT NULL"
  [ "$output" = t ]
  run_tunnel 0 keys/ed25519_openssh kh_all status --ssh-bastion "$BASTION" \
    --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
  [[ "$output" == *"dbm_user@localhost:$PGTEST_PORT/dbm_net"* ]]
  psql -X -q "$PGTEST_URL_BASE/$DB_NAME" -c "DROP TABLE net_t; DROP SCHEMA db_migrate CASCADE"
}

@test "bastion: through the tunnel verify-full still checks the database's name" {
  run_tunnel 3 keys/ed25519_openssh kh_all status --ssh-bastion "$BASTION" \
    --database-url "postgresql://$DB_USER:$DB_PASSWORD@127.0.0.1:$PGTEST_PORT/$DB_NAME" \
    --sslmode verify-full --sslrootcert "$NET/ca.crt"
  assert_one_error "through ssh-bastion: server certificate for \"localhost\".* does not match host name \"127.0.0.1\""
}

@test "bastion: a changed host key is refused with its SHA256 fingerprint, exit 3" {
  run_tunnel 3 keys/ed25519_openssh kh_wrong status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "does not match ssh-known-hosts: the server sent ssh-ed25519 $(fingerprint "$NET/ssh_host_ed25519_key.pub")"
  [[ "$output" == *"hint: "*"ssh-keyscan -p $SSH_PORT 127.0.0.1"* ]]
  assert_no_secrets
}

@test "bastion: an unknown host is refused with its fingerprint, exit 3" {
  # known_hosts for port 22 only: a bastion on another port is another host.
  run_tunnel 3 keys/ed25519_openssh kh_port22_only status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "is not in ssh-known-hosts: the server sent ssh-ed25519 $(fingerprint "$NET/ssh_host_ed25519_key.pub")"
  [[ "$output" == *"hint: add the line for this key from 'ssh-keyscan -p $SSH_PORT 127.0.0.1'"* ]]
}

@test "bastion: empty known_hosts is a configuration error, exit 2" {
  run_tunnel 2 keys/ed25519_openssh kh_empty status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "ssh-known-hosts"
}

@test "bastion: a key the bastion does not authorize is refused, exit 3" {
  run_tunnel 3 keys/unauthorized kh_all status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "ssh-bastion '127.0.0.1:$SSH_PORT' refused the ed25519 key for user '$SSH_USER'"
  [[ "$output" == *"hint: add the public key"*"authorized_keys"* ]]
  assert_no_secrets
}

@test "bastion: a bastion that forbids forwarding is named before libpq runs, exit 3" {
  run_tunnel 3 keys/ed25519_openssh kh_nofwd status --ssh-bastion "$SSH_USER@127.0.0.1:$SSH_PORT_NOFWD" \
    --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
  assert_one_error "refuses to forward to 'localhost:$PGTEST_PORT'"
  [[ "$output" == *"hint: "*"AllowTcpForwarding"* ]]
  assert_no_secrets
}

@test "bastion: an unreachable bastion is one line, exit 3" {
  local port
  port=$(free_port)
  run_tunnel 3 keys/ed25519_openssh kh_all status --ssh-bastion "$SSH_USER@127.0.0.1:$port" --database-url "$URL"
  assert_one_error "unable to reach ssh-bastion '127.0.0.1:$port': Connection refused"
}

@test "bastion: Ed25519 and ECDSA keys in OpenSSH, PEM and PKCS#8 form log in" {
  local k
  for k in ed25519_openssh ed25519_pkcs8 ecdsa_openssh ecdsa_pem ecdsa_pkcs8; do
    run_tunnel 0 "keys/$k" kh_all status --ssh-bastion "$BASTION" \
      --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
    assert_no_secrets
  done
}

@test "bastion: RSA keys are refused by current OpenSSH with a hint, accepted where ssh-rsa is allowed" {
  local k
  for k in rsa_openssh rsa_pem rsa_pkcs8; do
    run_tunnel 3 "keys/$k" kh_all status --ssh-bastion "$BASTION" --database-url "$URL"
    assert_one_error "refused the rsa key for user '$SSH_USER'"
    [[ "$output" == *"hint: libssh2 1.10 signs with RSA keys only as ssh-rsa (SHA-1)"* ]]
    run_tunnel 0 "keys/$k" kh_legacy_rsa status --ssh-bastion "$SSH_USER@127.0.0.1:$SSH_PORT_LEGACY" \
      --database-url "$URL" --sslmode verify-full --sslrootcert "$NET/ca.crt"
    assert_no_secrets
  done
}

@test "bastion: passphrase-protected and damaged keys are configuration errors, exit 2" {
  run_tunnel 2 keys/ed25519_encrypted kh_all status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "ssh-private-key is protected by a passphrase"
  run_tunnel 2 keys/damaged kh_all status --ssh-bastion "$BASTION" --database-url "$URL"
  assert_one_error "ssh-private-key could not be read by libssh2"
  [[ "$output" == *"hint: "*"ssh-keygen -p"* ]]
  assert_no_secrets
}

@test "bastion: a password refused through the tunnel is one line, exit 3" {
  run_tunnel 3 keys/ecdsa_pem kh_all status --ssh-bastion "$BASTION" \
    --database-url "postgresql://$DB_USER:wrong-$DB_PASSWORD@localhost:$PGTEST_PORT/$DB_NAME" \
    --sslmode verify-full --sslrootcert "$NET/ca.crt"
  assert_one_error "dbm_user@localhost:$PGTEST_PORT/dbm_net' through ssh-bastion: password authentication failed"
  assert_no_secrets
}

@test "bastion: a bastion that stops answering mid-statement ends the run in seconds" {
  # db-migrate runs in a network namespace of its own and reaches the bastion through two
  # relays (a TCP port there, a Unix socket, the bastion's port here): iptables there cuts
  # the SSH connection's packets, with no reset, while a migration sleeps on the server.
  printf 'SELECT pg_sleep(600);\n' > migrations/002_sleep.sql
  python3 "$BATS_TEST_DIRNAME/fixtures/relay.py" "unix:$WORK/ssh.sock" "tcp:$SSH_PORT" > "$WORK/relay.out" 2>&1 3>&- &
  relay=$!
  for _ in $(seq 50); do grep -q ready "$WORK/relay.out" 2>/dev/null && break; sleep 0.1; done
  cat > "$WORK/netns.sh" <<SH
ip link set lo up || exit 90
python3 "$BATS_TEST_DIRNAME/fixtures/relay.py" "tcp:$SSH_PORT" "unix:$WORK/ssh.sock" > "$WORK/relay2.out" 2>&1 &
relay2=\$!
for _ in \$(seq 50); do grep -q ready "$WORK/relay2.out" 2>/dev/null && break; sleep 0.1; done
"$DBM" apply --ssh-bastion "$BASTION" --sslmode verify-full --sslrootcert "$NET/ca.crt" \
  --database-url "$URL?keepalives_idle=1&keepalives_interval=1&keepalives_count=2&tcp_user_timeout=3000" > "$WORK/run.out" 2>&1 &
run=\$!
# The server sleeps in 002, and 001's results have come through the tunnel (they are on
# their way while the server starts 002: cutting before they arrive blames 001).
for _ in \$(seq 200); do
  [ "\$(psql -X -At -h "$PGTEST_DIR" -p "$PGTEST_PORT" -U postgres -d "$DB_NAME" -c "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" = 1 ] &&
    grep -q '^applied  migrations/001_net_t.sql' "$WORK/run.out" && break
  sleep 0.1
done
iptables -A INPUT -p tcp --dport $SSH_PORT -j DROP && iptables -A INPUT -p tcp --sport $SSH_PORT -j DROP || exit 91
start=\$(date +%s)
wait \$run
code=\$?
cat "$WORK/run.out"
echo "exit=\$code seconds=\$(( \$(date +%s) - start ))"
kill \$relay2
SH
  run env "INPUT_SSH-PRIVATE-KEY=$(cat "$NET/keys/ecdsa_pem")" "INPUT_SSH-KNOWN-HOSTS=$(cat "$NET/kh_all")" \
    unshare -n bash "$WORK/netns.sh"
  kill "$relay"
  psql -X -q "$PGTEST_URL_BASE/$DB_NAME" -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'" \
    -c "DROP TABLE net_t; DROP SCHEMA db_migrate CASCADE" >/dev/null 2>&1
  [[ "$output" == *"exit=1 "* ]] || { echo "$output"; false; }
  [ "$(printf '%s\n' "$output" | sed -n 's/.*seconds=//p')" -le 15 ] || { echo "$output"; false; }
  assert_one_error "unable to apply 'migrations/002_sleep.sql': "
  # libpq only saw the tunnel's local end close: the hint gives the cause.
  [[ "$(grep '^hint: ' <<<"$output")" == "hint: through ssh-bastion: the bastion stopped answering: the connection timed out; "* ]] || { echo "$output"; false; }
  assert_no_secrets
}
