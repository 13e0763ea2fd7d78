#!/usr/bin/env bash
# soak.sh [BIN] - make soak: SOAK_RUNNERS (8) runners apply one set of SOAK_MIGRATIONS (200)
# generated migrations to the same database, again and again, for SOAK_SECONDS (180), while
# a chaos loop kills at random: the client (SIGKILL), the runner's backend
# (pg_terminate_backend), every connection through the proxy the runners connect through
# (bench/soakproxy.py: a reset, or a blackhole that freezes the network then resets it).
# Each round, on a fresh database, ends with one clean apply and the invariants (see
# bench/soak.py and docs/testing.md); the exit status is 1 when one fails.
#
# The server is durable (fsync and synchronous_commit on, the defaults): a soak is about
# what survives. SOAK_POOLED=N sends N of the runners through a PgBouncer in transaction
# mode, when pgbouncer is installed. SOAK_KEEP=1 keeps the work folder (logs, migrations).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-${SOAK_BIN:-$ROOT/db-migrate}}
[ -x "$BIN" ] || { echo "soak: build ./db-migrate first (make)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/dbm-soak.XXXXXX"); chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  # runuser does not pass the signal on: PgBouncer is ended by its own pid.
  [ -s "$TMP/pgbouncer.pid" ] && kill "$(cat "$TMP/pgbouncer.pid")" 2>/dev/null || true
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "soak: kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PORT=$(free_port)
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=on -c synchronous_commit=on" \
  start >/dev/null

PPORT=$(free_port); CPORT=$(free_port)
python3 "$ROOT/bench/soakproxy.py" "$PPORT" "$PORT" "$CPORT" > "$TMP/proxy.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do grep -q ready "$TMP/proxy.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$TMP/proxy.out" || { cat "$TMP/proxy.out" >&2; exit 1; }

POOLER_URL=""
if [ "${SOAK_POOLED:-0}" -gt 0 ]; then
  PGB=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  [ -x "$PGB" ] || { echo "soak: SOAK_POOLED needs pgbouncer (scripts/deps.sh test installs it)" >&2; exit 2; }
  BPORT=$(free_port)
  cat > "$TMP/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BPORT
unix_socket_dir =
auth_type = trust
auth_file = $TMP/userlist.txt
pool_mode = transaction
default_pool_size = 4
; idle server connections close within seconds, so the check that no session is left
; sees the runners' sessions, not the pool's
server_idle_timeout = 1
max_client_conn = 200
ignore_startup_parameters = extra_float_digits,options
logfile = $TMP/pgbouncer.log
pidfile = $TMP/pgbouncer.pid
EOF
  echo '"postgres" ""' > "$TMP/userlist.txt"
  chown postgres "$TMP/pgbouncer.ini" "$TMP/userlist.txt" 2>/dev/null || true
  as_pg "$PGB" "$TMP/pgbouncer.ini" > "$TMP/pgbouncer.out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do psql -X -q "postgresql://postgres@127.0.0.1:$BPORT/postgres" -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.1; done
  POOLER_URL="postgresql://postgres@127.0.0.1:$BPORT"
fi

SOAK_POOLER_URL=$POOLER_URL nice python3 "$ROOT/bench/soak.py" "$BIN" "postgresql://postgres@127.0.0.1:$PORT" \
  "postgresql://postgres@127.0.0.1:$PPORT" "$CPORT" "$TMP" | tee "$TMP/soak.log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ] && [ "${SOAK_KEEP:-0}" != 1 ]; then
  # The evidence outlives the run when it failed.
  KEEP=$(mktemp -d "${TMPDIR:-/tmp}/dbm-soak-failed.XXXXXX")
  cp -r "$TMP/out" "$TMP/summary.json" "$TMP/soak.log" "$TMP/server.log" "$KEEP/" 2>/dev/null || true
  echo "soak: logs of the failed soak in $KEEP"
fi
exit "$status"
