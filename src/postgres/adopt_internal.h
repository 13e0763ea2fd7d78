/*
 * adopt_internal.h - internal to postgres/: what adopt.c's two halves share.
 *
 * adopt_read.c is the SQL: which tools' tables exist, and one tool's table
 * read into a list of entries (what each row says). adopt_match.c is pure:
 * it replays Flyway's and Prisma's rows into entries and matches entries to
 * the migration files, so it is unit-tested without a database. adopt.c puts
 * them together behind adopt.h, the header callers include.
 */
#ifndef DBM_ADOPT_INTERNAL_H
#define DBM_ADOPT_INTERNAL_H

#include "postgres/adopt.h"

#include <stdbool.h>
#include <stddef.h>

/* What one entry of the other tool's table says. */
typedef enum {
    DBM_ADOPT_APPLIED,    /* this version is applied */
    DBM_ADOPT_UP_TO,      /* every version up to this one is applied (golang-migrate, Flyway
                             baseline) */
    DBM_ADOPT_UNFINISHED, /* started and not finished: dirty, success = false, Prisma unfinished */
} dbm_adopt_state;

typedef struct {
    char *version;     /* the tool's version; NULL for a Flyway repeatable */
    char *script;      /* Flyway: the script column */
    char *description; /* Flyway: the description column */
    char *checksum;    /* Prisma: hex SHA-256 of migration.sql; else NULL */
    char *detail;      /* for unfinished entries: what the table says */
    dbm_adopt_state state;
    bool baseline; /* Flyway BASELINE row: its own version need not have a file */
} dbm_adopt_entry;

/* A tool's table as entries, in the table's order. Every string is owned. */
typedef struct {
    dbm_adopt_entry *items;
    size_t count, cap;
    char *schema, *name; /* where the table is */
} dbm_adopt_source;

/* --- adopt_match.c --- */

/* The tool's history table name ("schema_migrations", ...), or NULL for another format. */
const char *dbm_adopt_table(dbm_format tool);

/* Append an entry for `version` (copied; may be NULL) in state st; the caller fills the rest. */
dbm_adopt_entry *dbm_adopt_source_add(dbm_adopt_source *s, const char *version, dbm_adopt_state st);

/* The path of the set's file i as users see it: display[i], or the set's path without display. */
const char *dbm_adopt_shown(char *const *display, const dbm_migration_set *set, size_t i);

/* Free what s holds and empty it. */
void dbm_adopt_source_clear(dbm_adopt_source *s);

/*
 * Replay one row of flyway_schema_history (in installed_rank order): a later
 * row for the same migration (a repeatable run again) replaces the earlier
 * one; DELETE rows (what `flyway repair` writes for a removed migration) and
 * undo rows take the migration out; SCHEMA rows only say Flyway created the
 * schema. NULL arguments stand for SQL NULLs.
 */
void dbm_adopt_flyway_row(dbm_adopt_source *s, const char *version, const char *description,
                          const char *type, const char *script, bool success);

/*
 * Replay one row of _prisma_migrations (in started_at order): per migration
 * name, a finished row that was not rolled back is applied and wins over an
 * unfinished one; an unfinished one blocks, with the first line of `logs`.
 */
void dbm_adopt_prisma_row(dbm_adopt_source *s, const char *name, const char *checksum,
                          bool finished, bool rolled_back, const char *logs);

/*
 * Match `s` (tool's table, found as s->schema.s->name) to `set`: the plan of
 * files to import, with the findings dbm_adopt_plan_build describes added to
 * `report`. Caller frees the plan (dbm_adopt_plan_free).
 */
dbm_adopt_plan *dbm_adopt_match(dbm_report *report, const dbm_adopt_source *s, dbm_format tool,
                                const dbm_migration_set *set, char *const *display,
                                const char *target_version);

/*
 * What `s` lists, for dbm_adopt_scan: *applied counts applied entries and the
 * set's files an up-to entry covers; *unfinished the unfinished entries;
 * *current the version of the last entry that is not a plain applied one
 * (golang-migrate's current version; NULL when none), borrowed from s.
 */
void dbm_adopt_count(size_t *applied, size_t *unfinished, const char **current,
                     const dbm_adopt_source *s, const dbm_migration_set *set);

/* --- adopt_sqlx.c, adopt_drizzle.c, adopt_supabase.c, adopt_atlas.c --- */

/* Each tool's query over its table (`table`, quoted), and its rows as entries. */
char *dbm_adopt_sqlx_sql(const char *table);
void dbm_adopt_sqlx_rows(dbm_adopt_source *s, const PGresult *res);
char *dbm_adopt_drizzle_sql(const char *table);
void dbm_adopt_drizzle_rows(dbm_adopt_source *s, const PGresult *res);
char *dbm_adopt_supabase_sql(const char *table);
void dbm_adopt_supabase_rows(dbm_adopt_source *s, const PGresult *res);
char *dbm_adopt_atlas_sql(const char *table);
void dbm_adopt_atlas_rows(dbm_adopt_source *s, const PGresult *res);

/*
 * Drizzle's rows name no version: give each the version of the file with
 * its hash, else of the journal entry with its "when" (created_at); a row
 * matching neither gets a version no file has, shown as the row.
 */
void dbm_adopt_drizzle_resolve(dbm_adopt_source *s, const dbm_migration_set *set);

/* The one schema a tool keeps its table in ("drizzle"), or NULL: the search_path's. */
const char *dbm_adopt_schema(dbm_format tool);

/* --- adopt_sqitch.c, adopt_graphile.c: tools whose history is not one table of versions --- */

/*
 * Sqitch's registry (the schema holding changes, tags, events and projects,
 * "sqitch" first): its changes in commit order, each matched to the set's
 * change with its change_id (dbm_migration.tool_id), checksum = script_hash;
 * the first row no change has the id of is an unfinished entry saying what
 * differs, and ends the list. *found is false without a registry.
 */
int dbm_adopt_read_sqitch(dbm_adopt_source *s, bool *found, PGconn *conn,
                          const dbm_migration_set *set);

/* graphile_migrate.migrations: version = filename without ".sql", checksum = hash. */
int dbm_adopt_read_graphile(dbm_adopt_source *s, bool *found, PGconn *conn);

/* --- adopt_read.c --- */

/*
 * Read `tool`'s table into `s` (emptied first; clear it whatever the result).
 * *found is false when the table does not exist. With `tenant` (the session's
 * search_path is a tenant's), a Flyway table is looked for on the search_path
 * and in public only, not in any schema: another schema is another tenant's.
 * DBM_ECONFIG for a tool db-migrate cannot adopt from, or when a
 * schema_migrations table belongs to the other tool that uses that name;
 * DBM_EGENERIC when reading fails.
 */
int dbm_adopt_read(dbm_adopt_source *s, bool *found, PGconn *conn, dbm_format tool, bool tenant);

/*
 * Which of tools[0..n)'s history table names exist in any schema, in one
 * round trip: present[t] for each, *any when one does. DBM_EGENERIC when the
 * catalog cannot be read.
 */
int dbm_adopt_tables_present(bool present[], bool *any, PGconn *conn, const dbm_format *tools,
                             size_t n);

#endif
