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
apply_corpus() {
  local dir="$CORPORA/$1" format=$2 count=$3
  need_corpus "$1"
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
