#!/usr/bin/env bash
# docs.sh - the README's pictures of what a person sees on GitHub, regenerated from a real run.
#
# A throwaway PostgreSQL; a git repository of 1,000 generated migrations (the benchmarks'
# generator, scripts/gen-migrations.py), applied; then one new migration on a table with
# rows. The dry-run writes its job summary and posts its pull-request comment (to the local
# stand-in for GitHub's API the tests use), the apply writes its job summary. Each Markdown
# file is rendered with cmark-gfm (GitHub's extensions: table, strikethrough, autolink,
# tagfilter) into HTML with scripts/docs.css and photographed by headless Chromium into
# docs/images/. Fails when a summary is 64 KiB or more, or when the new migration or its
# finding is not within the first 4 KB of the summary and the comment.
#
#   scripts/docs.sh            (make docs: installs cmark-gfm, Chromium and fonts first)
#   DBM_BIN=path               the db-migrate to run (default ./db-migrate)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${DBM_BIN:-$ROOT/db-migrate}
OUT=$ROOT/docs/images
PG_BIN=/usr/lib/postgresql/15/bin

as_pg() { if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

TMP=$(mktemp -d /tmp/db-migrate-docs.XXXXXX)
chmod 755 "$TMP"
[ "$(id -u)" -eq 0 ] && chown postgres "$TMP"
FIXTURE=""
cleanup() {
  [ -n "$FIXTURE" ] && kill "$FIXTURE" 2>/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/log" -w \
  -o "-p $PORT -k $TMP -c listen_addresses=127.0.0.1" start >/dev/null
psql -X -q "postgresql://postgres@127.0.0.1:$PORT/postgres" -c "CREATE DATABASE shop"
export DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/shop"

# The project: 1,000 migrations in git, applied by a push to main.
W=$TMP/shop
mkdir -p "$W/migrations"
cd "$W"
git init -q -b main
git config user.name "Docs" && git config user.email "docs@example.com"
python3 "$ROOT/scripts/gen-migrations.py" migrations 1000
git add migrations && git commit -q -m "1,000 migrations"
export GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app \
  GITHUB_ACTOR=octocat GITHUB_RUN_ID=4242
GITHUB_SHA=$(git rev-parse HEAD) GITHUB_EVENT_NAME=push GITHUB_STEP_SUMMARY=$TMP/first.md \
  "$BIN" apply >/dev/null
# Rows for the new migration to work on: about 25 MB.
psql -X -q "$DATABASE_URL" -c "INSERT INTO item_1 SELECT g, g % 1000, 'name ' || g FROM generate_series(1, 300000) g"

# A pull request adds one migration: a column and an index on that table.
git checkout -q -b archive-items
cat > migrations/20250301093000_archive_items.sql <<'SQL'
-- migrate:up
ALTER TABLE item_1 ADD COLUMN archived_at timestamptz;
CREATE INDEX item_1_name_idx ON item_1 (name);

-- migrate:down
DROP INDEX item_1_name_idx;
ALTER TABLE item_1 DROP COLUMN archived_at;
SQL
git add migrations && git commit -q -m "Archive items"

# The dry-run on the pull request: job summary and comment (to the tests' stand-in API).
GH=$TMP/gh
mkdir -p "$GH"
python3 "$ROOT/tests/integration/fixtures/github_api.py" "$GH" create tok &
FIXTURE=$!
for _ in $(seq 1 100); do [ -f "$GH/port" ] && break; sleep 0.05; done
printf '{"number":7,"pull_request":{"number":7}}\n' > "$TMP/event.json"
GITHUB_SHA=$(git rev-parse HEAD) GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH=$TMP/event.json \
  GITHUB_BASE_REF=main GITHUB_HEAD_REF=archive-items GITHUB_TOKEN=tok \
  GITHUB_API_URL="http://127.0.0.1:$(cat "$GH/port")" GITHUB_STEP_SUMMARY=$TMP/dry-run.md \
  "$BIN" dry-run --comment-on-pr true >/dev/null
kill "$FIXTURE"
wait "$FIXTURE" 2>/dev/null || true
FIXTURE=""
python3 -c '
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
print(next(r["body"]["body"] for r in reqs if r.get("method") == "POST"), end="")' \
  "$GH/requests.jsonl" > "$TMP/comment.md"

# The merge: apply on main.
git checkout -q main && git merge -q --ff-only archive-items
GITHUB_SHA=$(git rev-parse HEAD) GITHUB_EVENT_NAME=push GITHUB_STEP_SUMMARY=$TMP/apply.md \
  "$BIN" apply >/dev/null
cd "$ROOT"

# What the issue of this picture promises: the size bound, and the change up front.
check() {
  local file=$1 what=$2 limit=$3 size row finding
  size=$(stat -c %s "$file")
  row=$(grep -b -m1 '20250301093000' "$file" | cut -d: -f1)
  finding=$(grep -b -m1 'index-without-concurrently' "$file" | cut -d: -f1 || true)
  printf 'docs: %-22s %6d bytes; the new migration at byte %s, its finding at byte %s\n' \
    "$what" "$size" "$row" "${finding:--}"
  [ "$size" -lt "$limit" ] || { echo "docs: $what is $size bytes, over $limit" >&2; return 1; }
  [ "$row" -lt 4096 ] || { echo "docs: $what shows the new migration past 4 KB" >&2; return 1; }
  [ -z "$finding" ] || [ "$finding" -lt 4096 ] ||
    { echo "docs: $what shows the finding past 4 KB" >&2; return 1; }
}
check "$TMP/dry-run.md" "dry-run job summary" 65536
check "$TMP/comment.md" "pull-request comment" 60000
check "$TMP/apply.md" "apply job summary" 65536
grep -q 'index-without-concurrently' "$TMP/dry-run.md" || { echo "docs: no finding in the dry-run" >&2; exit 1; }

# Markdown -> HTML page -> PNG, at GitHub's width for the place it appears.
render() {
  local md=$1 png=$2 title=$3 width=$4 html height
  html=$TMP/$(basename "$png" .png).html
  {
    printf '<!doctype html>\n<html><head><meta charset="utf-8"><style>\n'
    cat "$ROOT/scripts/docs.css"
    printf '</style></head><body><div class="frame"><div class="frame-title">%s</div>\n' "$title"
    printf '<article class="markdown-body">\n'
    cmark-gfm --unsafe -e table -e strikethrough -e autolink -e tagfilter "$md"
    printf '</article></div>\n<script>document.body.setAttribute("data-height", '
    printf 'Math.ceil(document.querySelector(".frame").getBoundingClientRect().bottom) + 16)</script>\n'
    printf '</body></html>\n'
  } > "$html"
  height=$(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --window-size="$width,2000" --dump-dom "file://$html" 2>/dev/null |
    grep -o 'data-height="[0-9]*"' | grep -o '[0-9]*')
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="$width,$height" --screenshot="$png" "file://$html" >/dev/null 2>&1
  [ -s "$png" ] || { echo "docs: Chromium made no $png" >&2; return 1; }
  echo "docs: $(basename "$png") ${width}x$height"
}
mkdir -p "$OUT"
render "$TMP/dry-run.md" "$OUT/summary-dry-run.png" "Job summary: db-migrate dry-run on a pull request" 1000
render "$TMP/comment.md" "$OUT/comment-dry-run.png" "github-actions commented" 860
render "$TMP/apply.md" "$OUT/summary-apply.png" "Job summary: db-migrate apply after the merge" 1000
