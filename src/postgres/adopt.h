/*
 * adopt.h - read another migration tool's history table so a database that
 * tool migrated can switch to db-migrate without running anything again.
 *
 * Six tools are understood, named as the formats are: golang-migrate
 * (schema_migrations: version bigint, dirty boolean; one row, the current
 * version), dbmate (schema_migrations: version varchar, one row per applied
 * version), goose (goose_db_version: the newest row per version_id decides),
 * flyway (flyway_schema_history: versioned rows by version, repeatables by
 * script, BASELINE rows cover every version up to theirs), diesel
 * (__diesel_schema_migrations) and prisma (_prisma_migrations: finished and
 * not rolled back). A table is looked for in the schemas of the session's
 * search_path in order, then public; a Flyway table also in any other schema.
 * A tenant of a fleet's schemas: target passes its own search_path: the
 * tables are looked for there (then public, and no other schema for Flyway:
 * another schema is another tenant's), the session's search_path set to it
 * for the search and reset after.
 *
 * This module only reads those tables and matches their versions to the
 * files; it never writes to them. Recording the imported rows is history.c's
 * job (dbm_history_baseline), deciding when to do it the commands'.
 */
#ifndef DBM_ADOPT_H
#define DBM_ADOPT_H

#include "migration/migration.h"
#include "common/record.h"

#include "postgres/pq.h"
#include <stdbool.h>

typedef struct {
    dbm_format tool;
    char *table;    /* "schema.name" where the table was found */
    size_t listed;  /* versions the table lists as applied (golang-migrate: 1, its current) */
    size_t *import; /* indices into the set of the files to record, in apply order */
    size_t nimport;
    size_t nblocked; /* dirty or failed entries; each one is an error finding */
} dbm_adopt_plan;

/*
 * Read `tool`'s history table and match it against `set`. Adds findings to
 * `report`: an error for each dirty or failed entry (rule adopt-unfinished,
 * with the way to clear it), a warning for each applied version without a
 * file (adopt-no-file, not imported), a warning for a file whose checksum
 * differs from the one the tool recorded where the tool records one
 * (adopt-edited, imported anyway). With `target_version`, only versions up
 * to it (by the set's order) are imported, and no repeatables. `display`
 * gives each file's path as users see it (may be NULL: the set's paths).
 *
 * `search_path` is a tenant's (a value such as "\"tenant_a\", public"), or NULL
 * for the session's own.
 *
 * *out belongs to the caller. Errors: DBM_ECONFIG when the table is absent
 * or has another tool's shape (naming what was found); DBM_EGENERIC when
 * reading it (or setting the search_path) fails.
 */
int dbm_adopt_plan_build(dbm_adopt_plan **out, dbm_report *report, PGconn *conn,
                         const dbm_migration_set *set, char *const *display, dbm_format tool,
                         const char *target_version, const char *search_path);
void dbm_adopt_plan_free(dbm_adopt_plan *plan);

/*
 * Look for each tool's table and add one finding of `severity` per table
 * that lists applied versions (rule adopt-available), naming the table, the
 * count, and `baseline --adopt-from TOOL`. For plan when db-migrate's
 * history is empty (a notice) and for apply (an error: running the whole
 * set over a migrated database would run it twice). `search_path` is a
 * tenant's, or NULL (as for dbm_adopt_plan_build). Returns the number of
 * tables found, or DBM_EGENERIC when the catalog cannot be read.
 */
int dbm_adopt_scan(dbm_report *report, PGconn *conn, const dbm_migration_set *set,
                   dbm_severity severity, const char *search_path);

/*
 * Record each file of `plan` as applied by run_id in the history in `schema`
 * (dbm_history_baseline, with the note dbm_adopt_note), all in one
 * transaction: on failure nothing is recorded. Adds an applied row per file
 * to `report` and sets its applied_count. Returns 0 or DBM_EGENERIC.
 */
int dbm_adopt_import(dbm_report *report, PGconn *conn, const char *schema,
                     const dbm_migration_set *set, char *const *display, const dbm_adopt_plan *plan,
                     long long run_id, const char *git_sha);

/*
 * Sqitch's own edit detection, for plan and verify: when `set` is a Sqitch
 * project and the database has a Sqitch registry, a finding of `severity`
 * (rule edited-sqitch) for each deployed change whose deploy script's SHA-1
 * differs from the script_hash Sqitch recorded. Returns the number found,
 * or DBM_EGENERIC when the registry cannot be read.
 */
int dbm_adopt_sqitch_edits(dbm_report *report, PGconn *conn, const dbm_migration_set *set,
                           char *const *display, dbm_severity severity);

/* "adopted from dbmate": the note recorded with each imported row. Static string. */
const char *dbm_adopt_note(dbm_format tool);

#endif
