#!/usr/bin/env bash
# netfixture.sh start DIR | stop DIR - the servers the network tests talk to.
#
# start: in DIR (which it creates), a test CA and a second unrelated CA, a
# PostgreSQL (the major PG names, see helpers.bash; DIR must be under /tmp)
# with ssl=on (certificate for DNS:localhost signed by the test CA) whose
# pg_hba lets the test user in only over TLS with SCRAM, and an
# OpenSSH server on 127.0.0.1 with its own host keys and two ports: the first
# allows TCP forwarding, the second (Match LocalPort) does not. The PostgreSQL
# listens on 127.0.0.1 and ::1, as a server reached as "localhost" does, so the
# tests pass whatever localhost resolves to (scripts/with-hosts.sh). It writes
# client keys in several formats, known_hosts variants, and DIR/env: shell
# assignments for everything a test needs. stop: stops both servers (by the
# pids recorded in DIR) and removes DIR. Nothing listens beyond the loopback.
set -euo pipefail

cmd=${1:-}
DIR=${2:-}
[ -n "$cmd" ] && [ -n "$DIR" ] || { echo "usage: netfixture.sh start|stop DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
BATS_TEST_DIRNAME=$HERE
# shellcheck source=helpers.bash
. "$HERE/helpers.bash"

stop() {
  [ -d "$DIR" ] || return 0
  if [ -f "$DIR/env" ]; then
    # shellcheck disable=SC1091
    . "$DIR/env"
  fi
  local pidfile
  for pidfile in "$DIR/sshd.pid" "$DIR/sshd_legacy.pid"; do
    if [ -f "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
  done
  PGTEST_DIR=${PGTEST_DIR:-} pg_stop
  rm -rf "$DIR"
}

wait_port() {
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "netfixture: nothing listens on 127.0.0.1:$1" >&2
  return 1
}

start() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  chmod 755 "$DIR"
  cd "$DIR"

  # Two CAs: the one that signs the server certificate, and one that does not.
  for ca in ca other-ca; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=db-migrate test $ca" \
      -keyout "$ca.key" -out "$ca.crt" 2>/dev/null
  done
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr \
    2>/dev/null
  printf 'subjectAltName=DNS:localhost\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt 2>/dev/null
  chmod 600 server.key
  [ "$(id -u)" -eq 0 ] && chown postgres server.key server.crt

  # PostgreSQL: TLS on, the test user only over TLS with SCRAM.
  cat >pg_hba.conf <<EOF
local all all trust
host all postgres 127.0.0.1/32 trust
host all postgres ::1/128 trust
hostssl all dbm_user 127.0.0.1/32 scram-sha-256
hostssl all dbm_user ::1/128 scram-sha-256
EOF
  # Both loopback addresses (a machine without ::1 gets a warning in the log, no failure).
  pg_start listen_addresses=127.0.0.1,::1 ssl=on "ssl_cert_file=$DIR/server.crt" "ssl_key_file=$DIR/server.key" \
    "hba_file=$DIR/pg_hba.conf" password_encryption=scram-sha-256
  DB_PASSWORD="pw-$(openssl rand -hex 12)"
  psql -X -q "$PGTEST_URL_BASE/postgres" -v ON_ERROR_STOP=1 >/dev/null <<EOF
CREATE ROLE dbm_user LOGIN PASSWORD '$DB_PASSWORD';
CREATE DATABASE dbm_net OWNER dbm_user;
EOF

  # OpenSSH server: own host keys, two ports, keys authorized from a file here.
  for t in ed25519 ecdsa rsa; do
    ssh-keygen -q -t $t -N '' -C "host-$t" -f "ssh_host_${t}_key"
  done
  ssh-keygen -q -t ed25519 -N '' -C other-host -f other_host_key
  SSH_USER=$(id -un)
  SSH_PORT=$(free_port)
  SSH_PORT_NOFWD=$(free_port)
  while [ "$SSH_PORT_NOFWD" = "$SSH_PORT" ]; do SSH_PORT_NOFWD=$(free_port); done
  SSH_PORT_LEGACY=$(free_port)
  while [ "$SSH_PORT_LEGACY" = "$SSH_PORT" ] || [ "$SSH_PORT_LEGACY" = "$SSH_PORT_NOFWD" ]; do
    SSH_PORT_LEGACY=$(free_port)
  done
  : >authorized_keys
  cat >sshd_config <<EOF
ListenAddress 127.0.0.1:$SSH_PORT
ListenAddress 127.0.0.1:$SSH_PORT_NOFWD
HostKey $DIR/ssh_host_ed25519_key
HostKey $DIR/ssh_host_ecdsa_key
HostKey $DIR/ssh_host_rsa_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
AllowAgentForwarding no
X11Forwarding no
LogLevel VERBOSE
Match LocalPort $SSH_PORT_NOFWD
    AllowTcpForwarding no
EOF
  # A second server that still accepts SHA-1 RSA signatures (ssh-rsa), as
  # OpenSSH before 8.8 did by default.
  sed -e '/^ListenAddress/d' -e '/^Match/,$d' -e "s|^PidFile .*|PidFile $DIR/sshd_legacy.pid|" \
    sshd_config >sshd_legacy_config
  cat >>sshd_legacy_config <<EOF
ListenAddress 127.0.0.1:$SSH_PORT_LEGACY
HostKeyAlgorithms +ssh-rsa
PubkeyAcceptedAlgorithms +ssh-rsa
EOF

  # Client keys: every type in every format ssh-keygen or openssl writes.
  mkdir keys
  for t in ed25519 ecdsa rsa; do
    ssh-keygen -q -t $t -N '' -C "client-$t" -f "keys/${t}_openssh"
    cat "keys/${t}_openssh.pub" >>authorized_keys
    if [ $t != ed25519 ]; then
      for m in PEM PKCS8; do
        ssh-keygen -q -t $t -N '' -m $m -C "client-$t-$m" -f "keys/${t}_$(echo $m | tr A-Z a-z)"
        cat "keys/${t}_$(echo $m | tr A-Z a-z).pub" >>authorized_keys
      done
    fi
  done
  # ssh-keygen neither writes nor reads PKCS#8 Ed25519: openssl writes it, and
  # the public line is the raw key in SSH wire format.
  openssl genpkey -algorithm ed25519 -out keys/ed25519_pkcs8 2>/dev/null
  openssl pkey -in keys/ed25519_pkcs8 -pubout -outform DER | tail -c 32 | python3 -c '
import base64, struct, sys
k = sys.stdin.buffer.read(); t = b"ssh-ed25519"
blob = struct.pack(">I", len(t)) + t + struct.pack(">I", len(k)) + k
print("ssh-ed25519", base64.b64encode(blob).decode(), "client-ed25519-pkcs8")' >keys/ed25519_pkcs8.pub
  cat keys/ed25519_pkcs8.pub >>authorized_keys
  # A key whose body is damaged.
  sed '3s/[A-Za-z]/#/g' keys/ed25519_openssh >keys/damaged
  ssh-keygen -q -t ed25519 -N 'a passphrase' -C client-encrypted -f keys/ed25519_encrypted
  cat keys/ed25519_encrypted.pub >>authorized_keys
  ssh-keygen -q -t ed25519 -N '' -C client-unknown -f keys/unauthorized
  chmod 600 keys/*

  [ "$(id -u)" -eq 0 ] && mkdir -p /run/sshd
  /usr/sbin/sshd -D -e -f "$DIR/sshd_config" >"$DIR/sshd.log" 2>&1 </dev/null &
  wait_port "$SSH_PORT"
  wait_port "$SSH_PORT_NOFWD"
  /usr/sbin/sshd -D -e -f "$DIR/sshd_legacy_config" >"$DIR/sshd_legacy.log" 2>&1 </dev/null &
  wait_port "$SSH_PORT_LEGACY"

  # known_hosts variants.
  ssh-keyscan -p "$SSH_PORT" 127.0.0.1 2>/dev/null | sort >kh_all
  ssh-keyscan -H -p "$SSH_PORT" 127.0.0.1 2>/dev/null | sort >kh_hashed
  grep ' ssh-ed25519 ' kh_all >kh_ed25519
  grep ' ssh-rsa ' kh_all >kh_rsa
  printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 other_host_key.pub)" >kh_wrong
  printf '127.0.0.1 %s\n' "$(cut -d' ' -f1,2 ssh_host_ed25519_key.pub)" >kh_port22_only
  : >kh_empty
  ssh-keyscan -p "$SSH_PORT_NOFWD" 127.0.0.1 2>/dev/null | sort >kh_nofwd
  ssh-keyscan -p "$SSH_PORT_LEGACY" 127.0.0.1 2>/dev/null | sort >kh_legacy
  grep ' ssh-rsa ' kh_legacy >kh_legacy_rsa
  [ -s kh_all ] && [ -s kh_hashed ] && [ -s kh_nofwd ] || {
    echo "netfixture: ssh-keyscan found no host keys" >&2
    cat sshd.log >&2
    return 1
  }

  cat >env <<EOF
NET_DIR='$DIR'
PGTEST_DIR='$PGTEST_DIR'
PGTEST_PORT='$PGTEST_PORT'
PGTEST_URL_BASE='$PGTEST_URL_BASE'
DB_USER='dbm_user'
DB_NAME='dbm_net'
DB_PASSWORD='$DB_PASSWORD'
SSH_USER='$SSH_USER'
SSH_PORT='$SSH_PORT'
SSH_PORT_NOFWD='$SSH_PORT_NOFWD'
SSH_PORT_LEGACY='$SSH_PORT_LEGACY'
EOF
}

case "$cmd" in
  start)
    trap 'rc=$?; [ $rc -eq 0 ] || stop; exit $rc' EXIT
    start
    ;;
  stop) stop ;;
  *) echo "usage: netfixture.sh start|stop DIR" >&2; exit 2 ;;
esac
