#!/usr/bin/env bash
# demo.sh - start a throwaway PostgreSQL, apply migrations-example/ with ./db-migrate,
# and show the job summary and step outputs it would write in GitHub Actions.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${DBM_BIN:-$ROOT/db-migrate}
PG_BIN=/usr/lib/postgresql/15/bin

# As the postgres user when root (initdb refuses root), from a directory it may enter.
as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

TMP=$(mktemp -d /tmp/db-migrate-demo.XXXXXX)
chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "== starting a throwaway PostgreSQL 15 on 127.0.0.1:$PORT ($TMP)"
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust --nosync -U postgres -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1" start >/dev/null
psql -X -q "postgresql://postgres@127.0.0.1:$PORT/postgres" -c "CREATE DATABASE demo"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/demo"

# What the runner would provide.
export GITHUB_STEP_SUMMARY="$TMP/summary.md" GITHUB_OUTPUT="$TMP/outputs"
export GITHUB_SHA=$(git rev-parse HEAD 2>/dev/null || echo "")
export GITHUB_ACTOR=${USER:-demo} GITHUB_EVENT_NAME=workflow_dispatch
touch "$GITHUB_STEP_SUMMARY" "$GITHUB_OUTPUT"

echo
echo "== db-migrate plan --migrations-dir migrations-example (as on a terminal)"
env -u GITHUB_STEP_SUMMARY -u GITHUB_OUTPUT "$BIN" plan --migrations-dir migrations-example || true
echo
echo "== db-migrate apply --migrations-dir migrations-example"
"$BIN" apply --migrations-dir migrations-example --report-file "$TMP/report.json"
echo
echo "== the job summary (\$GITHUB_STEP_SUMMARY) it wrote:"
echo
cat "$GITHUB_STEP_SUMMARY"
echo "== the step outputs (\$GITHUB_OUTPUT):"
cat "$GITHUB_OUTPUT"
echo
echo "== a rerun applies nothing:"
: > "$GITHUB_STEP_SUMMARY"
"$BIN" apply --migrations-dir migrations-example
echo
echo "== db-migrate status (as on a laptop: no GitHub variables):"
env -u GITHUB_STEP_SUMMARY -u GITHUB_OUTPUT "$BIN" status --migrations-dir migrations-example
