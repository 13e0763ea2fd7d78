#!/usr/bin/env bats
# The sticky pull-request comment against a local stand-in for GitHub's REST API
# (fixtures/github_api.py), which checks each request's method, path, query,
# headers and body and answers with GitHub's documented response shapes.

load helpers

TOKEN=ghs_0123456789abcdefTESTTOKEN

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
  write migrations/001_index.sql <<'SQL'
CREATE INDEX accounts_email_idx ON accounts (email);
SQL
  printf '{"action":"synchronize","number":7,"pull_request":{"number":7,"head":{"sha":"abc"}}}\n' > "$WORK/event.json"
  export GITHUB_ACTIONS=true GITHUB_EVENT_NAME=pull_request GITHUB_EVENT_PATH="$WORK/event.json" \
    GITHUB_REPOSITORY=acme/app GITHUB_TOKEN=$TOKEN
}

teardown() {
  if [ -n "${FIXTURE_PID:-}" ]; then kill "$FIXTURE_PID" 2>/dev/null || true; wait "$FIXTURE_PID" 2>/dev/null || true; fi
}

write() { mkdir -p "$(dirname "$1")"; cat > "$1"; }

# start_fixture SCENARIO: the stand-in API on an ephemeral port; exports GITHUB_API_URL.
start_fixture() {
  GH="$WORK/gh"; mkdir -p "$GH"
  python3 "$BATS_TEST_DIRNAME/fixtures/github_api.py" "$GH" "$1" "$TOKEN" &
  FIXTURE_PID=$!
  for _ in $(seq 1 100); do [ -f "$GH/port" ] && break; sleep 0.05; done
  export GITHUB_API_URL="http://127.0.0.1:$(cat "$GH/port")"
}

requests() { jq -r '"\(.method) \(.path)?\(.query)"' "$GH/requests.jsonl"; }

# The token appears only in the mask command, never in a log line.
token_not_printed() {
  [ "$(printf '%s\n' "$output" | grep -c "$TOKEN")" = "$(printf '%s\n' "$output" | grep -c "^::add-mask::$TOKEN\$")" ]
}

@test "plan creates the comment when no comment carries the marker" {
  start_fixture create
  unset DATABASE_URL
  run_dbm 0 plan --comment-on-pr true
  [[ "$output" == *"created the comment on pull request #7"* ]]
  diff <(requests) - <<'EOF'
GET /repos/acme/app/issues/7/comments?per_page=100
POST /repos/acme/app/issues/7/comments?
EOF
  [ "$(jq -s 'map(select(.unexpected)) | length' "$GH/requests.jsonl")" = 0 ]
  body=$(jq -rs '.[1].body.body' "$GH/requests.jsonl")
  [ "$(printf '%s\n' "$body" | head -1)" = "<!-- db-migrate:comment command=plan schema=db_migrate dir=migrations -->" ]
  [[ "$body" == *"### 🟡 db-migrate plan: 1 pending · 1 warning"* ]]
  [[ "$body" == *"**index-without-concurrently** \`migrations/001_index.sql:1\`"* ]]
  [ "$(jq -rs '.[1].authorization' "$GH/requests.jsonl")" = "Bearer $TOKEN" ]
  token_not_printed
}

@test "plan finds its comment on the second page of the list and updates it" {
  start_fixture update
  unset DATABASE_URL
  run_dbm 0 plan --comment-on-pr=true
  [[ "$output" == *"updated the comment on pull request #7"* ]]
  diff <(requests) - <<'EOF'
GET /repos/acme/app/issues/7/comments?per_page=100
GET /repositories/1296269/issues/7/comments?per_page=100&page=2
PATCH /repos/acme/app/issues/comments/4242?
EOF
  [ "$(jq -s 'map(select(.unexpected)) | length' "$GH/requests.jsonl")" = 0 ]
  [ "$(jq -rs '.[2].body.body' "$GH/requests.jsonl" | head -1)" = "<!-- db-migrate:comment command=plan schema=db_migrate dir=migrations -->" ]
  token_not_printed
}

@test "dry-run posts its summary with the statement table, under its own marker" {
  sql "CREATE TABLE accounts (id int PRIMARY KEY, email text); INSERT INTO accounts SELECT g, 'u' || g FROM generate_series(1, 100) g"
  start_fixture create
  run_dbm 0 dry-run --comment-on-pr true
  [ "$(jq -s 'map(select(.unexpected)) | length' "$GH/requests.jsonl")" = 0 ]
  body=$(jq -rs '.[1].body.body' "$GH/requests.jsonl")
  [ "$(printf '%s\n' "$body" | head -1)" = "<!-- db-migrate:comment command=dry-run schema=db_migrate dir=migrations -->" ]
  [[ "$body" == *"### 🟡 db-migrate dry-run: takes ShareLock on \`public.accounts\` · 1 pending · 1 warning"* ]]
  [[ "$body" == *'`public.accounts` ShareLock |  | ⚠️ index-without-concurrently (confirmed) |'* ]]
  token_not_printed
}

@test "a 403 from a fork's read-only token is a warning and the exit status is unchanged" {
  start_fixture forbidden
  db=$DATABASE_URL
  unset DATABASE_URL
  run_dbm 0 plan --comment-on-pr true
  [[ "$output" == *"::warning::no pull request comment: GitHub answered 403 to creating a comment on pull request #7 (Resource not accessible by integration)"* ]]
  diff <(requests) - <<'EOF'
GET /repos/acme/app/issues/7/comments?per_page=100
POST /repos/acme/app/issues/7/comments?
EOF
  token_not_printed

  # A failing dry-run still fails with its own error after the warning.
  write migrations/002_bad.sql <<'SQL'
SELECT nosuch;
SQL
  export DATABASE_URL=$db
  run_dbm 1 dry-run --comment-on-pr true
  [[ "$output" == *"GitHub answered 403"* ]]
  [[ "$output" == *"error: unable to run 'migrations/001_index.sql' in the dry-run: relation \"accounts\" does not exist"* ]]
}

@test "outside a pull request no request is made" {
  start_fixture create
  unset DATABASE_URL
  export GITHUB_EVENT_NAME=push
  printf '{"ref":"refs/heads/main"}\n' > "$WORK/event.json"
  run_dbm 0 plan --comment-on-pr true
  [[ "$output" == *"comment-on-pr: 'push' is not a pull request event; no comment posted"* ]]
  [ ! -e "$GH/requests.jsonl" ]
}
