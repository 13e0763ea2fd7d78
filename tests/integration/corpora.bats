#!/usr/bin/env bats
# The real migration sets of shared/corpora, applied with --format auto:
# each must build exactly the schema the psql reference builds (the set's
# expected-schema.sql), and a second apply must find nothing to do.

load helpers

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

# apply_corpus NAME FORMATS COUNT: prelude, apply, compare the schema, rerun.
# FORMATS is the format auto must resolve to (alternatives separated by |).
# NAME may be an absolute path: a copy of a corpus placed where its tool keeps it.
apply_corpus() {
  local dir="$CORPORA/$1" format=$2 count=$3
  case "$1" in /*) dir=$1 ;; *) need_corpus "$1" ;; esac
  # The prelude lines stand in for what the project's tooling does out of band.
  sed -n 's/^prelude:[[:space:]]*//p' "$dir/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  run_dbm 0 apply --format auto --migrations-dir "$dir" --report-file "$WORK/report.json"
  python3 - "$WORK/report.json" "$format" "$count" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["format"] in sys.argv[2].split("|"), r["format"]
applied = [m for m in r["migrations"] if m["status"] == "applied"]
assert len(applied) == int(sys.argv[3]), len(applied)
assert r["status"] == "applied", r["status"]
PY
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" > "$WORK/schema.sql"
  schema_diff "$dir/expected-schema.sql" "$WORK/schema.sql"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied'")" = "$count" ]

  run_dbm 0 apply --format auto --migrations-dir "$dir"
  [[ "$output" == *"up to date: nothing to apply"* ]]
  [ "$(sql "SELECT outcome FROM db_migrate.runs ORDER BY id DESC LIMIT 1")" = up-to-date ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = "$count" ]
}

@test "goharbor (golang-migrate) builds the reference schema and reruns as up to date" {
  apply_corpus goharbor-harbor golang-migrate 39
}

@test "measure (dbmate) builds the reference schema and reruns as up to date" {
  # auto reads a flat dbmate directory as native (same sections and directives;
  # the versions here are 14-digit timestamps, so numeric and dbmate's string
  # order agree); format: dbmate reads it with dbmate's rules exactly.
  apply_corpus measure-sh-measure 'dbmate|native' 72
}

@test "openfga (goose) builds the reference schema and runs its NO TRANSACTION file outside a transaction" {
  apply_corpus openfga-openfga goose 6
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE version = '006'")" = f ]
}

@test "Marquez (Flyway) builds the reference schema, repeatables last, CONCURRENTLY file outside a transaction" {
  apply_corpus MarquezProject-marquez flyway 84
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE version = '47'")" = f ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version LIKE 'R\_\_%'")" = 3 ]
}

@test "crates.io (diesel) builds the reference schema with its metadata.toml transaction settings" {
  need_pg 14 "crates.io's migrations use CREATE OR REPLACE TRIGGER"
  apply_corpus rust-lang-crates.io diesel 285
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE NOT transactional")" = 7 ]
}

@test "umami (Prisma) builds the reference schema and reruns as up to date" {
  apply_corpus umami-software-umami prisma 19
}

@test "measure read explicitly as dbmate builds the same schema" {
  need_corpus measure-sh-measure
  dir="$CORPORA/measure-sh-measure"
  sed -n 's/^prelude:[[:space:]]*//p' "$dir/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  run_dbm 0 apply --format dbmate --migrations-dir "$dir"
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" > "$WORK/schema.sql"
  schema_diff "$dir/expected-schema.sql" "$WORK/schema.sql"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 72 ]
}

@test "atuin (sqlx) builds the reference schema: auto reads its plain files as native" {
  need_pg 14 "atuin's migrations use CREATE OR REPLACE TRIGGER"
  # Plain <version>_<name>.sql files without a sqlx mark: native reads them in
  # sqlx's order (numeric) with sqlx's transactions (one per file).
  apply_corpus atuinsh-atuin 'native|sqlx' 20
}

@test "atuin read as sqlx builds the same schema and records sqlx's versions" {
  need_pg 14 "atuin's migrations use CREATE OR REPLACE TRIGGER"
  need_corpus atuinsh-atuin
  run_dbm 0 apply --format sqlx --migrations-dir "$CORPORA/atuinsh-atuin"
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" > "$WORK/schema.sql"
  schema_diff "$CORPORA/atuinsh-atuin/expected-schema.sql" "$WORK/schema.sql"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE transactional")" = 20 ]
  [ "$(sql "SELECT name FROM db_migrate.migrations WHERE version = '20220505082442'")" = create-events ]
}

@test "leaflet (Supabase) at supabase/migrations is read as supabase; lone CONCURRENTLY files run alone" {
  need_corpus hyperlink-academy-leaflet
  mkdir -p "$WORK/project/supabase"
  cp -r "$CORPORA/hyperlink-academy-leaflet" "$WORK/project/supabase/migrations"
  apply_corpus "$WORK/project/supabase/migrations" supabase 97 || return 1
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations WHERE NOT transactional")" = 20260731000000,20260731000001,20260818000001 ]
}

@test "leaflet outside supabase/migrations: native refuses the lone CONCURRENTLY file, --format supabase runs it" {
  need_corpus hyperlink-academy-leaflet
  dir="$CORPORA/hyperlink-academy-leaflet"
  sed -n 's/^prelude:[[:space:]]*//p' "$dir/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  run_dbm 1 apply --migrations-dir "$dir"
  [[ "$output" == *"cannot run inside a transaction block"* ]]
  run_dbm 0 apply --format supabase --migrations-dir "$dir"
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate "$DATABASE_URL" > "$WORK/schema.sql"
  schema_diff "$dir/expected-schema.sql" "$WORK/schema.sql"
}

@test "Dokploy (Drizzle) builds the reference schema from the journal; the file it does not name never runs" {
  apply_corpus Dokploy-dokploy drizzle 186
  [[ "$output" == *"skipping '0130_abandoned_dagger.sql': not in meta/_journal.json"* ]]
  [ "$(sql "SELECT name FROM db_migrate.migrations WHERE version = '0130'")" = perpetual_screwball ]
}

@test "chainloop (Atlas) builds the reference schema, txmode none files outside a transaction" {
  apply_corpus chainloop-dev-chainloop atlas 140
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE NOT transactional")" = 10 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = '20230710111950-cas-backend'")" = 1 ]
}

@test "chainloop (Atlas): an edited file fails atlas.sum, a warning in plan and drift in verify" {
  need_corpus chainloop-dev-chainloop
  cp -r "$CORPORA/chainloop-dev-chainloop" "$WORK/m"
  chmod -R u+w "$WORK/m"
  run_dbm 0 apply --migrations-dir "$WORK/m"
  run_dbm 0 verify --migrations-dir "$WORK/m"
  [[ "$output" != *"tool-checksum"* ]]
  printf -- '-- reworded\n' >> "$WORK/m/20230718102904.sql"
  run_dbm 0 plan --offline --migrations-dir "$WORK/m"
  [[ "$output" == *"tool-checksum"*"atlas.sum' does not match the files (first at '20230718102904.sql')"* ]]
  [[ "$output" == *"atlas migrate hash"* ]]
  run_dbm 1 verify --migrations-dir "$WORK/m"
  [[ "$output" == *"atlas.sum' does not match the files (first at '20230718102904.sql')"* ]]
  [[ "$output" == *"edited-applied"* ]]
}

@test "supabase: each file starts from a reset session, as the CLI's RESET ALL leaves it" {
  mkdir -p "$WORK/p/supabase/migrations"
  M="$WORK/p/supabase/migrations"
  printf 'CREATE SCHEMA other;\nSET search_path = other;\nCREATE TABLE in_other (id int);\n' > "$M/20240101000000_other.sql"
  printf 'CREATE TABLE in_public (id int);\n' > "$M/20240102000000_public.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [ "$(sql "SELECT to_regclass('other.in_other') IS NOT NULL AND to_regclass('public.in_public') IS NOT NULL")" = t ]
}

@test "chef-server (Sqitch) builds the reference schema in plan order, reworked changes from their tagged files" {
  apply_corpus chef-chef-server sqitch 13
  [ "$(sql "SELECT name FROM db_migrate.migrations WHERE version = '13'")" = update_acl ]
}

@test "Tastybytes (graphile-migrate) builds the reference schema with its placeholders from db-migrate.yml" {
  # The corpus's "placeholder:" lines are the project's .gmrc placeholders;
  # :DATABASE_OWNER comes from the connection, as graphile-migrate does.
  { echo "placeholders:"
    sed -n 's/^placeholder:[[:space:]]*\(:[A-Z0-9_]*\)=\(.*\)$/  "\1": "\2"/p' \
      "$CORPORA/villeheikkila-Tastybytes/SOURCE.txt"; } > "$WORK/db-migrate.yml"
  apply_corpus villeheikkila-Tastybytes graphile-migrate 317
  [ "$(sql "SELECT name FROM db_migrate.migrations WHERE version = '000001'")" = 000001.sql ]
}
