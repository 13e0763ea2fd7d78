#!/usr/bin/env bats
# baseline --adopt-from for sqlx, Drizzle, the Supabase CLI and Atlas: each
# database is built by the psql reference (or by the tool itself: Drizzle's
# history is written by drizzle-orm's own migrator), its history rows written
# the way the tool's source writes them, then imported.

load helpers

DRIZZLE_MIGRATE=$REPO_ROOT/tests/integration/fixtures/drizzle-migrate.mjs

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

copy_corpus() {
  need_corpus "$1"
  mkdir -p "$WORK/${2:-m}"
  rmdir "$WORK/${2:-m}"
  cp -r "$CORPORA/$1" "$WORK/${2:-m}"
  chmod -R u+w "$WORK/${2:-m}"
  M="$WORK/${2:-m}"
}

prelude() {
  sed -n 's/^prelude:[[:space:]]*//p' "$M/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
}

reference_apply() {
  "$CORPORA/apply-with-psql.sh" --tx "$M" "$DATABASE_URL" >/dev/null
}

imported_rows() {
  sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied' AND error = 'baseline: adopted from $1'"
}

apply_is_up_to_date() {
  run_dbm 0 apply --migrations-dir "$M" "$@"
  [[ "$output" == *"up to date: nothing to apply"* ]]
}

# sqlx_history: _sqlx_migrations as sqlx-postgres/src/migrate.rs creates and fills it:
# the version, the description ('_' as ' '), success, SHA-384 of the file, nanoseconds.
sqlx_history() {
  sql "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL,
         installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL,
         checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"
  for f in "$M"/[0-9]*_*.sql; do
    case "$f" in *.down.sql) continue ;; esac
    b=${f##*/}; d=${b#*_}; d=${d%.sql}; d=${d%.up}
    printf "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (%s, '%s', true, '\\\\x%s', 1000);\n" \
      "${b%%_*}" "${d//_/ }" "$(sha384sum "$f" | cut -c1-96)"
  done | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
}

@test "sqlx: _sqlx_migrations is imported; an edited file is named, a dirty version blocks" {
  need_pg 14 "atuin's migrations use CREATE OR REPLACE TRIGGER"
  copy_corpus atuinsh-atuin
  reference_apply
  sqlx_history
  run_dbm 0 plan --format sqlx --migrations-dir "$M"
  [[ "$output" == *"found sqlx's history table public._sqlx_migrations listing 20 applied versions"* ]]
  sql "UPDATE _sqlx_migrations SET success = false WHERE version = 20240108124837"
  run_dbm 1 baseline --adopt-from sqlx --format sqlx --migrations-dir "$M"
  [[ "$output" == *"records version 20240108124837 as not finished (success = false)"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  sql "UPDATE _sqlx_migrations SET success = true WHERE version = 20240108124837"
  printf -- '-- a comment added after it ran\n' >> "$M/20220505082442_create-events.sql"
  run_dbm 0 baseline --adopt-from sqlx --format sqlx --migrations-dir "$M"
  [[ "$output" == *"20220505082442_create-events.sql' differs from the file sqlx applied"* ]]
  [ "$(imported_rows sqlx)" = 20 ]
  apply_is_up_to_date --format sqlx
}

@test "sqlx: CRLF files are compared by sqlx's SHA-384 of their bytes, CRLF and BOM kept" {
  M="$WORK/migrations"
  printf 'CREATE TABLE crlf_a (id int);\r\nCREATE TABLE crlf_b (id int);\r\n' > "$M/20240101000000_crlf.sql"
  printf '\xef\xbb\xbfCREATE TABLE bom_a (id int);\n' > "$M/20240102000000_bom.sql"
  run_dbm 0 apply --format sqlx --migrations-dir "$M"
  sql "SET client_min_messages = warning; DROP SCHEMA db_migrate CASCADE"
  # the checksums sqlx writes: Sha384::digest of fs::read_to_string, every byte (sha384sum)
  sqlx_history
  run_dbm 0 baseline --adopt-from sqlx --format sqlx --migrations-dir "$M"
  [[ "$output" == *"adopted 2 migrations from "*"_sqlx_migrations"* ]]
  [[ "$output" != *"adopt-edited"* ]]
  # the same text with LF endings is another file to sqlx (it would refuse it: VersionMismatch)
  sql "SET client_min_messages = warning; DROP SCHEMA db_migrate CASCADE"
  printf 'CREATE TABLE crlf_a (id int);\nCREATE TABLE crlf_b (id int);\n' > "$M/20240101000000_crlf.sql"
  run_dbm 0 baseline --adopt-from sqlx --format sqlx --migrations-dir "$M"
  [[ "$output" == *"20240101000000_crlf.sql' differs from the file sqlx applied"* ]]
  [[ "$output" != *"20240102000000_bom.sql' differs"* ]]
}

@test "sqlx: a reversible pair applies, and rollback runs its .down.sql" {
  printf 'CREATE TABLE a (id int);\n' > migrations/20240101000000_create_a.up.sql
  printf 'DROP TABLE a;\n' > migrations/20240101000000_create_a.down.sql
  printf -- '-- no-transaction\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n' > migrations/20240102000000_index_a.up.sql
  printf 'DROP INDEX CONCURRENTLY a_id;\n' > migrations/20240102000000_index_a.down.sql
  run_dbm 0 apply --format sqlx
  [ "$(sql "SELECT string_agg(version || ':' || transactional, ',' ORDER BY version) FROM db_migrate.migrations")" = "20240101000000:true,20240102000000:false" ]
  [ "$(sql "SELECT to_regclass('a_id') IS NOT NULL")" = t ]
  run_dbm 0 rollback --format sqlx --target-version 0 --yes
  [ "$(sql "SELECT to_regclass('a') IS NULL")" = t ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "drizzle: the history drizzle-orm's migrator wrote is imported; an edited file is named" {
  command -v node >/dev/null && [ -d "$REPO_ROOT/node_modules/drizzle-orm" ] ||
    { echo "drizzle-orm is not installed: run 'npm install' (make check does)" >&2; return 1; }
  copy_corpus Dokploy-dokploy
  node "$DRIZZLE_MIGRATE" "$DATABASE_URL" "$M"
  [ "$(sql "SELECT count(*) FROM drizzle.__drizzle_migrations")" = 186 ]
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" == *"found drizzle's history table drizzle.__drizzle_migrations listing 186 applied versions"* ]]
  edited=$(cd "$M" && ls 0042_*.sql)
  printf -- '-- a comment added after it ran\n' >> "$M/$edited"
  run_dbm 0 baseline --adopt-from drizzle --migrations-dir "$M"
  [[ "$output" == *"$edited' differs from the file drizzle applied"* ]]
  [ "$(imported_rows drizzle)" = 186 ]
  apply_is_up_to_date
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate --exclude-schema=drizzle \
    "$DATABASE_URL" | schema_diff "$M/expected-schema.sql" /dev/stdin
}

@test "drizzle: a CRLF file drizzle-orm applied is matched by drizzle's hash of its bytes" {
  command -v node >/dev/null && [ -d "$REPO_ROOT/node_modules/drizzle-orm" ] ||
    { echo "drizzle-orm is not installed: run 'npm install' (make check does)" >&2; return 1; }
  mkdir -p "$WORK/d/meta"
  printf '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_a","breakpoints":true},{"idx":1,"version":"7","when":1700000000001,"tag":"0001_b","breakpoints":true}]}' > "$WORK/d/meta/_journal.json"
  printf 'CREATE TABLE a (id int);\r\n--> statement-breakpoint\r\nCREATE TABLE a2 (id int);\r\n' > "$WORK/d/0000_a.sql"
  printf 'CREATE TABLE b (id int);\r\n' > "$WORK/d/0001_b.sql"
  # drizzle-orm's migrator writes the hashes: SHA-256 of readFileSync(...).toString()
  node "$DRIZZLE_MIGRATE" "$DATABASE_URL" "$WORK/d"
  [ "$(sql "SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id LIMIT 1")" = "$(sha256sum < "$WORK/d/0000_a.sql" | cut -c1-64)" ]
  M="$WORK/d"
  run_dbm 0 baseline --adopt-from drizzle --migrations-dir "$M"
  [[ "$output" == *"adopted 2 migrations from drizzle.__drizzle_migrations"* ]]
  [[ "$output" != *"adopt-edited"* ]]
}

@test "drizzle: a row matching no file is warned about and not imported" {
  command -v node >/dev/null && [ -d "$REPO_ROOT/node_modules/drizzle-orm" ] ||
    { echo "drizzle-orm is not installed: run 'npm install' (make check does)" >&2; return 1; }
  mkdir -p "$WORK/d/meta"
  printf '{"version":"7","dialect":"postgresql","entries":[{"idx":0,"version":"7","when":1700000000000,"tag":"0000_a","breakpoints":true}]}' > "$WORK/d/meta/_journal.json"
  printf 'CREATE TABLE a (id int);\n' > "$WORK/d/0000_a.sql"
  node "$DRIZZLE_MIGRATE" "$DATABASE_URL" "$WORK/d"
  sql "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('feedface', 1600000000000)"
  M="$WORK/d"
  run_dbm 0 baseline --adopt-from drizzle --migrations-dir "$M"
  [[ "$output" == *"(hash feedface..., created_at 1600000000000) as applied but it has no file"* ]]
  [ "$(imported_rows drizzle)" = 1 ]
}

# supabase_history: supabase_migrations.schema_migrations as pkg/migration/history.go creates
# it, one row per file as file.go's ExecBatch inserts it (version, name, statements).
supabase_history() {
  sql "CREATE SCHEMA IF NOT EXISTS supabase_migrations;
       CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
       ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
       ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text"
  for f in "$M"/[0-9]*_*.sql; do
    b=${f##*/}; n=${b#*_}; n=${n%.sql}
    printf "INSERT INTO supabase_migrations.schema_migrations (version, name, statements) VALUES ('%s', '%s', ARRAY[%s]);\n" \
      "${b%%_*}" "${n//\'/\'\'}" "\$stmt\$$(cat "$f")\$stmt\$"
  done | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
}

@test "supabase: supabase_migrations.schema_migrations is imported, beside another tool's schema_migrations" {
  copy_corpus hyperlink-academy-leaflet project/supabase/migrations
  prelude
  "$CORPORA/apply-with-psql.sh" --tx --no-prelude "$M" "$DATABASE_URL" >/dev/null
  supabase_history
  sql "CREATE TABLE public.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)"
  run_dbm 0 baseline --adopt-from supabase --migrations-dir "$M"
  [[ "$output" == *"adopted 97 migrations from supabase_migrations.schema_migrations"* ]]
  [ "$(imported_rows supabase)" = 97 ]
  apply_is_up_to_date
  sql "DROP SCHEMA supabase_migrations CASCADE"
  new_db
  run_dbm 2 baseline --adopt-from supabase --migrations-dir "$M"
  [[ "$output" == *"no supabase history table supabase_migrations.schema_migrations"* ]]
}

# atlas_history: atlas_schema_revisions as Atlas's revisions table holds it (ent schema of
# cmd/atlas/internal/migrate/ent), one executed revision per file with its atlas.sum hash.
atlas_history() {
  sql "CREATE SCHEMA IF NOT EXISTS atlas_schema_revisions;
       CREATE TABLE atlas_schema_revisions.atlas_schema_revisions (version character varying NOT NULL PRIMARY KEY,
         description character varying NOT NULL, type bigint NOT NULL DEFAULT 2, applied bigint NOT NULL DEFAULT 0,
         total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL, execution_time bigint NOT NULL,
         error text NULL, error_stmt text NULL, hash character varying NOT NULL, partial_hashes jsonb NULL,
         operator_version character varying NOT NULL)"
  tail -n +2 "$M/atlas.sum" | while read -r name hash; do
    v=${name%.sql}; d=""; case "$v" in *_*) d=${v#*_}; v=${v%%_*} ;; esac
    printf "INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES ('%s', '%s', 2, 1, 1, now(), 1000, NULL, NULL, '%s', NULL, 'Atlas CLI v0.36.0');\n" \
      "$v" "$d" "${hash#h1:}"
  done | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
}

@test "atlas: atlas_schema_revisions is imported; a partly applied revision blocks, a baseline covers older files" {
  copy_corpus chainloop-dev-chainloop
  reference_apply
  atlas_history
  sql "UPDATE atlas_schema_revisions.atlas_schema_revisions SET applied = 0, error = 'relation exists' WHERE version = '20250519183708'"
  run_dbm 1 baseline --adopt-from atlas --migrations-dir "$M"
  [[ "$output" == *"records version 20250519183708 as not finished (relation exists)"* ]]
  sql "UPDATE atlas_schema_revisions.atlas_schema_revisions SET applied = 1, error = NULL"
  # a baseline revision stands for every file up to it (atlas migrate apply --baseline)
  sql "DELETE FROM atlas_schema_revisions.atlas_schema_revisions WHERE version < '20240101000000';
       INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES ('20231231000000', '', 1, 0, 0, now(), 0, NULL, NULL, '', NULL, 'Atlas CLI v0.36.0')"
  run_dbm 0 baseline --adopt-from atlas --migrations-dir "$M"
  [ "$(imported_rows atlas)" = 140 ]
  apply_is_up_to_date
}

# atlas_sum DIR: DIR/atlas.sum as Atlas's NewHashFile and HashFile.MarshalText write it
# (sql/migrate/dir.go): per file in name order, base64 of a running SHA-256 over each name and
# the file's bytes; first line "h1:" and base64 SHA-256 over every name and line hash.
atlas_sum() {
  python3 - "$1" <<'PY'
import base64, hashlib, os, sys
d = sys.argv[1]
run, total, lines = hashlib.sha256(), hashlib.sha256(), []
for n in sorted(f for f in os.listdir(d) if f.endswith(".sql")):
    run.update(n.encode())
    run.update(open(os.path.join(d, n), "rb").read())
    h = base64.b64encode(run.copy().digest()).decode()
    total.update(n.encode())
    total.update(h.encode())
    lines.append(f"{n} h1:{h}")
with open(os.path.join(d, "atlas.sum"), "w") as f:
    f.write("h1:" + base64.b64encode(total.digest()).decode() + "\n" + "\n".join(lines) + "\n")
PY
}

@test "atlas: atlas.sum is checked against the files' bytes, CRLF kept, as Atlas hashes them" {
  M="$WORK/migrations"
  printf 'CREATE TABLE crlf_a (id int);\r\n' > "$M/20240101000000_a.sql"
  printf '\xef\xbb\xbfCREATE TABLE bom_b (id int);\r\n' > "$M/20240102000000_b.sql"
  atlas_sum "$M"
  run_dbm 0 plan --format atlas --migrations-dir "$M"
  [[ "$output" != *"tool-checksum"* ]]
  [[ "$output" != *"does not match the files"* ]]
  # the same files with LF endings are edited files to Atlas
  printf 'CREATE TABLE crlf_a (id int);\n' > "$M/20240101000000_a.sql"
  run_dbm 0 plan --format atlas --migrations-dir "$M"
  [[ "$output" == *"atlas.sum' does not match the files (first at '20240101000000_a.sql')"* ]]
}
