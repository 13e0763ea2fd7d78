#!/usr/bin/env bats
# baseline --adopt-from: a database another tool migrated switches to
# db-migrate without running anything again. Each test builds the database
# with the psql reference (shared/corpora/apply-with-psql.sh --tx) and the
# tool's own history rows, written the way that tool writes them (dbmate's
# rows are written by dbmate itself), then imports them.

load helpers

DBMATE=${DBMATE_BIN:-$REPO_ROOT/node_modules/.bin/dbmate}

setup_file() { pg_start; }
teardown_file() { pg_stop; }

setup() {
  unset_github_env
  new_db
  new_workdir
}

# copy_corpus NAME: a writable copy of a corpus in $WORK/m (new migrations are added there).
copy_corpus() {
  need_corpus "$1"
  cp -r "$CORPORA/$1" "$WORK/m"
  chmod -R u+w "$WORK/m"
  M="$WORK/m"
}

reference_apply() {
  "$CORPORA/apply-with-psql.sh" --tx "$M" "$DATABASE_URL" >/dev/null
}

# After an import: a rerun applies nothing and the runs table says up-to-date.
apply_is_up_to_date() {
  run_dbm 0 apply --migrations-dir "$M" --report-file "$WORK/r.json"
  [[ "$output" == *"up to date: nothing to apply"* ]]
  [ "$(sql "SELECT outcome FROM db_migrate.runs WHERE command = 'apply' ORDER BY id DESC LIMIT 1")" = up-to-date ]
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["applied_count"] == 0 if "applied_count" in r else True; assert r["status"] == "up-to-date", r["status"]' "$WORK/r.json"
}

# imported_rows TOOL: rows recorded by the import, with the note of their origin.
imported_rows() {
  sql "SELECT count(*) FROM db_migrate.migrations WHERE status = 'applied' AND error = 'baseline: adopted from $1'"
}

@test "dbmate: the history dbmate wrote is imported, nothing re-runs, and a new migration applies" {
  [ -x "$DBMATE" ] || { echo "dbmate is not installed: run 'npm install' (make check does)" >&2; return 1; }
  copy_corpus measure-sh-measure
  sed -n 's/^prelude:[[:space:]]*//p' "$M/SOURCE.txt" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" >/dev/null
  "$DBMATE" --url "$DATABASE_URL?sslmode=disable" --migrations-dir "$M" --no-dump-schema up >/dev/null
  [ "$(sql "SELECT count(*) FROM measure.schema_migrations")" = 72 ]

  # plan notices the table; apply refuses to run the set a second time.
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" == *"found dbmate's history table measure.schema_migrations listing 72 applied versions; 'db-migrate baseline --adopt-from dbmate' imports it"* ]]
  run_dbm 1 apply --migrations-dir "$M"
  [[ "$output" == *"adopt-available"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]

  run_dbm 0 baseline --adopt-from dbmate --migrations-dir "$M"
  [[ "$output" == *"adopted 72 migrations from measure.schema_migrations (72 listed there); nothing was run"* ]]
  [ "$(imported_rows dbmate)" = 72 ]
  # Each row carries the current file's checksum (the up section only).
  f="$M/20240830081828_create_apps_table.sql.sql"
  [ "$(sql "SELECT checksum FROM db_migrate.migrations WHERE version = '20240830081828'")" = \
    "sha256:$(awk '/^-- migrate:up/{f=1;next} /^-- migrate:down/{f=0} f' "$f" | sha256sum | cut -c1-64)" ]
  [ "$(sql "SELECT command, outcome FROM db_migrate.runs WHERE command = 'baseline'")" = "baseline|applied" ]

  apply_is_up_to_date
  pg_dump_schema --restrict-key=expectedschema --exclude-schema=db_migrate \
    --exclude-table=measure.schema_migrations "$DATABASE_URL" | schema_diff "$M/expected-schema.sql" /dev/stdin

  printf -- '-- migrate:up\nCREATE TABLE measure.after_adopt (id int);\n-- migrate:down\nDROP TABLE measure.after_adopt;\n' \
    > "$M/20990101000000_after_adopt.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [[ "$output" == *"applied  "*"20990101000000_after_adopt.sql (1 statement"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 73 ]
  [ "$(sql "SELECT to_regclass('measure.after_adopt') IS NOT NULL")" = t ]
}

@test "golang-migrate: the current version covers every file up to it" {
  copy_corpus goharbor-harbor
  reference_apply
  # golang-migrate's postgres driver keeps one row: TRUNCATE, then INSERT the current version.
  sql "TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES (190, false)"
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" == *"found golang-migrate's history table public.schema_migrations at version 190 listing 39 applied versions"* ]]
  run_dbm 0 baseline --adopt-from golang-migrate --migrations-dir "$M"
  [ "$(imported_rows golang-migrate)" = 39 ]
  apply_is_up_to_date
  printf 'CREATE TABLE after_adopt (id int);\n' > "$M/0200_after_adopt.up.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 40 ]
  [ "$(sql "SELECT to_regclass('after_adopt') IS NOT NULL")" = t ]
}

@test "golang-migrate: a dirty version blocks the import and says how to clear it" {
  copy_corpus goharbor-harbor
  reference_apply
  sql "TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES (190, true)"
  run_dbm 1 baseline --adopt-from golang-migrate --migrations-dir "$M"
  [[ "$output" == *"public.schema_migrations records version 190 as not finished (dirty = true); nothing was imported"* ]]
  [[ "$output" == *"migrate force"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  # Once the flag is cleared the import goes through.
  sql "UPDATE schema_migrations SET dirty = false"
  run_dbm 0 baseline --adopt-from golang-migrate --migrations-dir "$M"
  [ "$(imported_rows golang-migrate)" = 39 ]
}

@test "golang-migrate: --target-version imports only the versions up to it" {
  copy_corpus goharbor-harbor
  reference_apply
  sql "TRUNCATE schema_migrations; INSERT INTO schema_migrations (version, dirty) VALUES (190, false)"
  run_dbm 0 baseline --adopt-from golang-migrate --target-version 0015 --migrations-dir "$M"
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = "0001,0002,0003,0004,0005,0010,0011,0012,0015" ]
}

@test "goose: the newest row per version decides, and version 0 is goose's own" {
  copy_corpus openfga-openfga
  reference_apply
  # goose's table and rows: its first row is version 0; up inserts (v, true), down (v, false).
  sql "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
       INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (4, true), (5, true), (5, false), (5, true), (6, true)"
  run_dbm 0 baseline --adopt-from goose --migrations-dir "$M"
  [ "$(imported_rows goose)" = 6 ]
  [ "$(sql "SELECT transactional FROM db_migrate.migrations WHERE version = '006'")" = f ]
  apply_is_up_to_date
}

@test "goose: a version rolled back last is not imported and stays pending" {
  copy_corpus openfga-openfga
  reference_apply
  sql "CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
       INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), (2, true), (3, true), (4, true), (5, true), (6, true), (6, false)"
  run_dbm 0 baseline --adopt-from goose --migrations-dir "$M"
  [ "$(imported_rows goose)" = 5 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version = '006'")" = 0 ]
  run_dbm 0 plan --migrations-dir "$M" --report-file "$WORK/p.json"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); m={x["version"]: x["status"] for x in r["migrations"]}; assert m["006"] == "pending" and m["005"] == "applied", m' "$WORK/p.json"
}

# flyway_history DIR: Flyway's table and one row per migration as Flyway writes them
# (version with dots, description with spaces, type SQL, script file name), plus
# rows for six Java migrations the project has (type JDBC), which have no SQL file.
flyway_history() {
  sql "CREATE TABLE flyway_schema_history (installed_rank integer PRIMARY KEY, version varchar(50),
         description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
         checksum integer, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
         execution_time integer NOT NULL, success boolean NOT NULL)"
  "$CORPORA/apply-with-psql.sh" --list "$1" | cut -f1 | python3 -c '
import re, sys
rank = 0
out = []
java = ["44.1", "44.2", "44.3", "56.1", "66.3", "67.2"]
def row(version, desc, typ, script):
    global rank
    rank += 1
    v = "NULL" if version is None else "'"'"'%s'"'"'" % version
    out.append("(%d, %s, '"'"'%s'"'"', '"'"'%s'"'"', '"'"'%s'"'"', 12345, '"'"'postgres'"'"', 7, true)" % (rank, v, desc.replace("'"'"'", "'"'"''"'"'"), typ, script))
for f in sys.stdin.read().split():
    m = re.match(r"V([0-9._]+)__(.*)\.sql$", f)
    if m:
        row(m.group(1).replace("_", "."), m.group(2).replace("_", " "), "SQL", f)
        continue
    if java:
        for j in java:
            row(j, "java backfill " + j, "JDBC", "marquez.db.migrations.V%s__backfill" % j.replace(".", "_"))
        java = []
    m = re.match(r"R__(.*)\.sql$", f)
    row(None, m.group(1).replace("_", " "), "SQL", f)
print("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES " + ",\n".join(out) + ";")
' | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
}

@test "flyway: versioned and repeatable rows are imported, Java migrations are warned about" {
  copy_corpus MarquezProject-marquez
  reference_apply
  flyway_history "$M"
  [ "$(sql "SELECT count(*) FROM flyway_schema_history")" = 90 ]
  run_dbm 0 baseline --adopt-from flyway --migrations-dir "$M"
  [ "$(imported_rows flyway)" = 84 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE version LIKE 'R\_\_%'")" = 3 ]
  # Each once: the log's report lists them, with no warning line on stderr besides.
  [ "$(grep -c "public.flyway_schema_history lists version [0-9.]* as applied but it has no file" <<<"$output")" = 6 ]
  apply_is_up_to_date
}

@test "flyway: a row with success = false blocks the import" {
  copy_corpus MarquezProject-marquez
  reference_apply
  flyway_history "$M"
  sql "UPDATE flyway_schema_history SET success = false WHERE version = '47'"
  run_dbm 1 baseline --adopt-from flyway --migrations-dir "$M"
  [[ "$output" == *"records version 47 as not finished (success = false)"* ]]
  [[ "$output" == *"flyway repair"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
}

@test "flyway: the table is found in the schema Flyway was configured with, and a baseline row covers older versions" {
  printf 'CREATE TABLE app_a (id int);\n' > migrations/V1__a.sql
  printf 'CREATE TABLE app_b (id int);\n' > migrations/V2__b.sql
  printf 'CREATE TABLE app_c (id int);\n' > migrations/V3__c.sql
  sql "CREATE TABLE app_a (id int); CREATE TABLE app_b (id int); CREATE TABLE app_c (id int);
       CREATE SCHEMA app;
       CREATE TABLE app.flyway_schema_history (installed_rank integer PRIMARY KEY, version varchar(50),
         description varchar(200) NOT NULL, type varchar(20) NOT NULL, script varchar(1000) NOT NULL,
         checksum integer, installed_by varchar(100) NOT NULL, installed_on timestamp NOT NULL DEFAULT now(),
         execution_time integer NOT NULL, success boolean NOT NULL);
       INSERT INTO app.flyway_schema_history VALUES
         (1, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '\"app\"', NULL, 'postgres', now(), 0, true),
         (2, '2', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'postgres', now(), 0, true),
         (3, '3', 'c', 'SQL', 'V3__c.sql', 1, 'postgres', now(), 3, true)"
  run_dbm 0 baseline --adopt-from flyway
  [ "$(sql "SELECT string_agg(version, ',' ORDER BY version) FROM db_migrate.migrations")" = "1,2,3" ]
  run_dbm 0 apply
  [[ "$output" == *"up to date: nothing to apply"* ]]
}

@test "diesel: every version in __diesel_schema_migrations is imported" {
  need_pg 14 "crates.io's migrations use CREATE OR REPLACE TRIGGER"
  copy_corpus rust-lang-crates.io
  reference_apply
  # diesel's table; it records the folder's version with the dashes removed.
  sql "CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY NOT NULL, run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP)"
  for d in "$M"/*/; do d=${d%/}; d=${d##*/}; v=${d%%_*}; printf "INSERT INTO __diesel_schema_migrations (version) VALUES ('%s');\n" "${v//-/}"; done \
    | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
  [ "$(sql "SELECT count(*) FROM __diesel_schema_migrations")" = 285 ]
  run_dbm 0 baseline --adopt-from diesel --migrations-dir "$M"
  [ "$(imported_rows diesel)" = 285 ]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations WHERE NOT transactional")" = 7 ]
  apply_is_up_to_date
  mkdir "$M/2099-01-01-000000_after_adopt"
  printf 'CREATE TABLE after_adopt (id int);\n' > "$M/2099-01-01-000000_after_adopt/up.sql"
  printf 'DROP TABLE after_adopt;\n' > "$M/2099-01-01-000000_after_adopt/down.sql"
  run_dbm 0 apply --migrations-dir "$M"
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 286 ]
}

# prisma_history DIR: Prisma's table and one finished row per migration, checksum the
# SHA-256 of migration.sql as Prisma computes it.
prisma_history() {
  sql 'CREATE TABLE "_prisma_migrations" ("id" varchar(36) PRIMARY KEY NOT NULL, "checksum" varchar(64) NOT NULL,
         "finished_at" timestamptz, "migration_name" varchar(255) NOT NULL, "logs" text, "rolled_back_at" timestamptz,
         "started_at" timestamptz NOT NULL DEFAULT now(), "applied_steps_count" integer NOT NULL DEFAULT 0)'
  for f in "$1"/*/migration.sql; do
    n=${f%/migration.sql}; n=${n##*/}
    printf "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid(), '%s', now(), '%s', 1);\n" \
      "$(sha256sum "$f" | cut -c1-64)" "$n"
  done | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
}

@test "prisma: finished migrations are imported; a rolled-back attempt before them is ignored" {
  copy_corpus umami-software-umami
  reference_apply
  prisma_history "$M"
  sql "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at)
       VALUES (gen_random_uuid(), 'x', NULL, '05_add_user_displayname', 'failed once', now(), now() - interval '1 day')"
  run_dbm 0 baseline --adopt-from prisma --migrations-dir "$M"
  [ "$(imported_rows prisma)" = 19 ]
  [[ "$output" != *"adopt-edited"* ]]
  apply_is_up_to_date
}

@test "prisma: CRLF and LF files match a checksum taken with either line ending, as Prisma accepts" {
  mkdir -p "$WORK/p/01_crlf" "$WORK/p/02_lf" "$WORK/p/03_bom"
  M="$WORK/p"
  printf 'CREATE TABLE crlf_a (id int);\r\nCREATE TABLE crlf_b (id int);\r\n' > "$M/01_crlf/migration.sql"
  printf 'CREATE TABLE lf_a (id int);\n' > "$M/02_lf/migration.sql"
  printf '\xef\xbb\xbfCREATE TABLE bom_a (id int);\r\n' > "$M/03_bom/migration.sql"
  run_dbm 0 apply --format prisma --migrations-dir "$M"
  sql "SET client_min_messages = warning; DROP SCHEMA db_migrate CASCADE"
  # checksum.rs: SHA-256 of the file as it is (sha256sum)
  prisma_history "$M"
  run_dbm 0 baseline --adopt-from prisma --migrations-dir "$M"
  [[ "$output" != *"adopt-edited"* ]]
  [ "$(imported_rows prisma)" = 3 ]
  # script_matches_checksum also takes the file with CRLF as LF and with LF as CRLF
  sql "SET client_min_messages = warning; DROP SCHEMA db_migrate CASCADE"
  sql "UPDATE _prisma_migrations SET checksum = '$(printf 'CREATE TABLE crlf_a (id int);\nCREATE TABLE crlf_b (id int);\n' | sha256sum | cut -c1-64)' WHERE migration_name = '01_crlf';
       UPDATE _prisma_migrations SET checksum = '$(printf 'CREATE TABLE lf_a (id int);\r\n' | sha256sum | cut -c1-64)' WHERE migration_name = '02_lf'"
  run_dbm 0 baseline --adopt-from prisma --migrations-dir "$M"
  [[ "$output" != *"adopt-edited"* ]]
  [ "$(imported_rows prisma)" = 3 ]
  # without its BOM the file is another file to Prisma
  sql "SET client_min_messages = warning; DROP SCHEMA db_migrate CASCADE"
  sql "UPDATE _prisma_migrations SET checksum = '$(printf 'CREATE TABLE bom_a (id int);\r\n' | sha256sum | cut -c1-64)' WHERE migration_name = '03_bom'"
  run_dbm 0 baseline --adopt-from prisma --migrations-dir "$M"
  [[ "$output" == *"03_bom/migration.sql' differs from the file prisma applied"* ]]
}

@test "prisma: an unfinished migration blocks the import, and an edited file is warned about" {
  copy_corpus umami-software-umami
  reference_apply
  prisma_history "$M"
  sql "UPDATE _prisma_migrations SET checksum = repeat('0', 64) WHERE migration_name = '02_report_schema_session_data'"
  run_dbm 0 plan --migrations-dir "$M"
  [[ "$output" == *"found prisma's history table public._prisma_migrations listing 19 applied versions"* ]]
  sql "UPDATE _prisma_migrations SET finished_at = NULL, logs = E'Database error code: 42P07\nmore' WHERE migration_name = '19_add_session_replay'"
  run_dbm 1 baseline --adopt-from prisma --migrations-dir "$M"
  [[ "$output" == *"records migration 19_add_session_replay as not finished (finished_at and rolled_back_at are NULL: Database error code: 42P07)"* ]]
  [[ "$output" == *"prisma migrate resolve"* ]]
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 0 ]
  sql "UPDATE _prisma_migrations SET finished_at = now() WHERE migration_name = '19_add_session_replay'"
  run_dbm 0 baseline --adopt-from prisma --migrations-dir "$M"
  [[ "$output" == *"02_report_schema_session_data/migration.sql' differs from the file prisma applied"* ]]
  [ "$(imported_rows prisma)" = 19 ]
}

@test "adopt-from refuses without the tool's table, with another tool's table, and over a non-empty history" {
  printf 'CREATE TABLE a (id int);\n' > migrations/001_a.sql
  run_dbm 2 baseline --adopt-from goose
  [[ "$output" == *"no goose history table 'goose_db_version' in the search_path or public"* ]]
  sql "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (1, false)"
  run_dbm 2 baseline --adopt-from dbmate
  [[ "$output" == *"public.schema_migrations looks like golang-migrate's history table, not dbmate's"* ]]
  [[ "$output" == *"set adopt-from to golang-migrate"* ]]
  run_dbm 0 baseline --target-version 001
  run_dbm 2 baseline --adopt-from golang-migrate
  [[ "$output" == *"already holds 1 version; adopt-from imports into an empty history only"* ]]
}

@test "an empty golang-migrate table neither blocks apply nor is offered for adoption" {
  sql "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
  printf 'CREATE TABLE a (id int);\n' > migrations/001_a.sql
  run_dbm 0 plan
  [[ "$output" != *"adopt-available"* ]]
  run_dbm 0 apply
  [ "$(sql "SELECT count(*) FROM db_migrate.migrations")" = 1 ]
}
