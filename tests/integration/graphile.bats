#!/usr/bin/env bats
# graphile-migrate's committed folder: applied in order with placeholders from
# the project's .gmrc, and its hash chain as the edit detection of plan and verify.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

# commit NAME BODY: append a committed migration to $M/committed, chained as graphile-migrate does.
commit() {
  local prev hash
  prev=$(cat "$WORK/last" 2>/dev/null || true)
  hash="sha1:$(printf '%s\n%s' "$prev" "$2" | python3 -c 'import sys,hashlib; print(hashlib.sha1((sys.stdin.read().strip()+"\n").encode()).hexdigest())')"
  printf -- '--! Previous: %s\n--! Hash: %s\n\n%s\n' "${prev:--}" "$hash" "$2" > "$M/committed/$1"
  echo "$hash" > "$WORK/last"
}

setup() {
  unset_github_env
  new_db
  new_workdir
  M="$WORK/db/migrations"
  mkdir -p "$M/committed"
  cat > "$WORK/db/.gmrc" <<'GMRC'
{
  // as graphile-migrate init writes it
  "connectionString": "postgres://example/app",
  "placeholders": {
    ":APP_VISITOR": "!ENV",
  },
}
GMRC
  export APP_VISITOR=app_visitor_$RANDOM
  sql "CREATE ROLE $APP_VISITOR"
  commit 000001.sql 'CREATE TABLE notes (id int PRIMARY KEY, body text);
GRANT SELECT ON notes TO :APP_VISITOR;
COMMENT ON TABLE notes IS $$owned by :DATABASE_OWNER$$;'
  commit 000002-index.sql '--! no-transaction
CREATE INDEX CONCURRENTLY notes_body ON notes (body);'
}

teardown() { sql "DROP OWNED BY $APP_VISITOR; DROP ROLE $APP_VISITOR" >/dev/null 2>&1 || true; }

@test "graphile-migrate: committed files apply in order with .gmrc placeholders, no-transaction outside one" {
  # offline, :DATABASE_OWNER takes libpq's default user, so the files parse
  run_dbm 0 plan --offline --migrations-dir "$M"
  run_dbm 0 apply --migrations-dir "$M" --report-file "$WORK/report.json"
  [ "$(jq -r .format "$WORK/report.json")" = graphile-migrate ]
  [ "$(sql "SELECT has_table_privilege('$APP_VISITOR', 'notes', 'SELECT')")" = t ]
  [ "$(sql "SELECT obj_description('notes'::regclass)")" = "owned by $(sql 'SELECT current_user')" ]
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE version = '000002'")" = f ]
  [ "$(sql "SELECT name FROM db_migrate.migrations WHERE version = '000002'")" = index ]
}

@test "graphile-migrate: an edited committed file stops plan, verify and apply, as graphile-migrate does" {
  run_dbm 0 apply --migrations-dir "$M"
  sed -i 's/body text/body text, extra int/' "$M/committed/000001.sql"
  for cmd in "plan --offline" verify apply; do
    run_dbm 2 $cmd --migrations-dir "$M"
    [[ "$output" == *"000001.sql' was edited after it was committed: its body hashes to sha1:"* ]]
    [[ "$output" == *"hint:"*"AllowInvalidHash"* ]]
  done
}

@test "graphile-migrate: a file that does not follow the chain is named with the one before it" {
  printf -- '--! Previous: sha1:abc\n--! Hash: sha1:def\n\nSELECT 1;\n' > "$M/committed/000003.sql"
  run_dbm 2 plan --offline --migrations-dir "$M"
  [[ "$output" == *"000003.sql' does not follow 'committed/000002-index.sql'"* ]]
}

GRAPHILE_MIGRATE=${GRAPHILE_MIGRATE_BIN:-$REPO_ROOT/node_modules/.bin/graphile-migrate}

@test "graphile-migrate: baseline --adopt-from imports the history the real graphile-migrate wrote" {
  [ -x "$GRAPHILE_MIGRATE" ] || { echo "graphile-migrate is not installed: run 'npm install' (make check does)" >&2; return 1; }
  need_corpus villeheikkila-Tastybytes
  T="$CORPORA/villeheikkila-Tastybytes"
  sed -n 's/^prelude:[[:space:]]*//p' "$T/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  # graphile-migrate runs the first 40 committed migrations, with the project's placeholders
  mkdir -p "$WORK/gm/migrations/committed"
  ls "$T/committed" | head -40 | while read -r f; do cp "$T/committed/$f" "$WORK/gm/migrations/committed/"; done
  printf '{ "placeholders": { ":DATABASE_VISITOR": "tasted_visitor", ":DATABASE_AUTHENTICATOR": "tasted_authenticator" } }\n' \
    > "$WORK/gm/.gmrc"
  (cd "$WORK/gm" && DATABASE_URL="$DATABASE_URL" "$GRAPHILE_MIGRATE" migrate >/dev/null)
  [ "$(sql "SELECT count(*) FROM graphile_migrate.migrations")" = 40 ]

  { echo "placeholders:"
    sed -n 's/^placeholder:[[:space:]]*\(:[A-Z0-9_]*\)=\(.*\)$/  "\1": "\2"/p' "$T/SOURCE.txt"; } > "$WORK/db-migrate.yml"
  run_dbm 0 baseline --adopt-from graphile-migrate --migrations-dir "$T"
  [[ "$output" == *"adopted 40 migrations from graphile_migrate.migrations (40 listed there); nothing was run"* ]]
  [[ "$output" != *"adopt-edited"* ]] # the recorded hashes are the files' --! Hash
  [ "$(sql "SELECT max(version) FROM db_migrate.migrations")" = 000040 ]

  run_dbm 0 apply --migrations-dir "$T"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = 317 ]
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate --exclude-schema=graphile_migrate \
    "$DATABASE_URL" | schema_diff "$T/expected-schema.sql" /dev/stdin
}

@test "graphile-migrate: a recorded hash that differs from the file's is named when adopting" {
  run_dbm 0 apply --migrations-dir "$M"
  sql "CREATE SCHEMA graphile_migrate; CREATE TABLE graphile_migrate.migrations (hash text primary key, previous_hash text references graphile_migrate.migrations, filename text not null, date timestamptz not null default now()); INSERT INTO graphile_migrate.migrations (hash, previous_hash, filename) VALUES ('sha1:0123', NULL, '000001.sql')"
  sql "DROP SCHEMA db_migrate CASCADE"
  run_dbm 0 baseline --adopt-from graphile-migrate --migrations-dir "$M"
  [[ "$output" == *"000001.sql' differs from the file graphile-migrate applied (checksum sha1:0123)"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
}

# gm_commit NAME BODY PREV: a committed file with LF headers, its hash computed by
# graphile-migrate's own calculateHash (dist/hash.js) over BODY as given (CRLF kept).
gm_commit() {
  node -e '
    const { calculateHash } = require(process.argv[1]);
    const [name, body, prev] = process.argv.slice(2);
    const hash = calculateHash(body, prev === "-" ? null : prev);
    require("fs").writeFileSync(name, `--! Previous: ${prev}\n--! Hash: ${hash}\n\n${body}`);
    console.log(hash);' "$REPO_ROOT/node_modules/graphile-migrate/dist/hash.js" "$@"
}

@test "graphile-migrate: a CRLF body is hashed with its CRs, as graphile-migrate hashes it" {
  [ -x "$GRAPHILE_MIGRATE" ] || { echo "graphile-migrate is not installed: run 'npm install' (make check does)" >&2; return 1; }
  mkdir -p "$WORK/crlf/migrations/committed"
  cd "$WORK/crlf/migrations/committed"
  h1=$(gm_commit 000001.sql $'CREATE TABLE crlf_a (id int);\r\nCREATE TABLE crlf_b (id int);\r\n' -)
  gm_commit 000002.sql $'ALTER TABLE crlf_a ADD COLUMN note text;\r\n' "$h1" >/dev/null
  cd "$WORK"
  echo '{}' > "$WORK/crlf/.gmrc"
  # the real graphile-migrate checks the chain as it applies the files
  (cd "$WORK/crlf" && DATABASE_URL="$DATABASE_URL" "$GRAPHILE_MIGRATE" migrate >/dev/null)
  [ "$(sql "SELECT count(*) FROM graphile_migrate.migrations")" = 2 ]
  run_dbm 0 plan --migrations-dir "$WORK/crlf/migrations"
  run_dbm 0 baseline --adopt-from graphile-migrate --migrations-dir "$WORK/crlf/migrations"
  [[ "$output" == *"adopted 2 migrations from graphile_migrate.migrations"* ]]
  [[ "$output" != *"adopt-edited"* ]]
}

@test "graphile-migrate: CRLF header lines, which graphile-migrate cannot read, are a one-line error" {
  sed -i 's/$/\r/' "$M/committed/000001.sql"
  run_dbm 2 plan --offline --migrations-dir "$M"
  [[ "$output" == *"000001.sql' has '--!' header lines ending in CRLF, which graphile-migrate does not read as headers"* ]]
  [[ "$output" == *"hint: check the file out with LF line endings"* ]]
}
