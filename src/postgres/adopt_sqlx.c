/*
 * adopt_sqlx.c - sqlx's _sqlx_migrations read into entries.
 *
 * sqlx-postgres/src/migrate.rs writes one row per migration it ran:
 * version (bigint), description, installed_on, success (false while a
 * migration without a transaction is still running or after it failed),
 * checksum (bytea, SHA-384 of the file), execution_time. A false success is
 * what sqlx calls a dirty version: it refuses to go on until it is fixed.
 * The checksum is compared with the file's own SHA-384 (tool_hash.c).
 */
#include "postgres/adopt_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

char *dbm_adopt_sqlx_sql(const char *table)
{
    return dbm_xasprintf("SELECT version::text, success, encode(checksum, 'hex') FROM %s "
                         "ORDER BY version",
                         table);
}

void dbm_adopt_sqlx_rows(dbm_adopt_source *s, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        bool success = strcmp(PQgetvalue(res, i, 1), "t") == 0;
        dbm_adopt_entry *e = dbm_adopt_source_add(
            s, PQgetvalue(res, i, 0), success ? DBM_ADOPT_APPLIED : DBM_ADOPT_UNFINISHED);

        if (!success)
            e->detail = dbm_xstrdup("success = false");
        else if (!PQgetisnull(res, i, 2))
            e->checksum = dbm_xstrdup(PQgetvalue(res, i, 2));
    }
}
