/*
 * adopt_drizzle.c - Drizzle's drizzle.__drizzle_migrations.
 *
 * drizzle-orm/src/pg-core/dialect.ts (migrate) writes (id serial, hash
 * text, created_at bigint): hash is the SHA-256 (hex) of the migration
 * file's bytes (tool_hash.c), created_at the journal entry's "when". A row names no file:
 * it is matched to the file with its hash, else (a file edited after it
 * ran) to the journal entry with its "when", kept in the migration as
 * tool_stamp.
 */
#include "postgres/adopt_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

char *dbm_adopt_drizzle_sql(const char *table)
{
    return dbm_xasprintf("SELECT hash, created_at::text FROM %s ORDER BY created_at, id", table);
}

void dbm_adopt_drizzle_rows(dbm_adopt_source *s, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        dbm_adopt_entry *e = dbm_adopt_source_add(s, NULL, DBM_ADOPT_APPLIED);
        e->checksum = PQgetisnull(res, i, 0) ? NULL : dbm_xstrdup(PQgetvalue(res, i, 0));
        e->description = PQgetisnull(res, i, 1) ? NULL : dbm_xstrdup(PQgetvalue(res, i, 1));
    }
}

void dbm_adopt_drizzle_resolve(dbm_adopt_source *s, const dbm_migration_set *set)
{
    for (size_t k = 0; k < s->count; k++) {
        dbm_adopt_entry *e = &s->items[k];
        long long when = e->description ? strtoll(e->description, NULL, 10) : -1;
        const dbm_migration *by_hash = NULL, *by_when = NULL;

        for (size_t i = 0; i < set->count; i++) {
            const dbm_migration *m = &set->items[i];
            if (e->checksum && m->tool_hash && strcmp(m->tool_hash, e->checksum) == 0 && !by_hash)
                by_hash = m;
            if (m->tool_stamp == when && !by_when)
                by_when = m;
        }
        if (by_hash || by_when)
            e->version = dbm_xstrdup((by_hash ? by_hash : by_when)->version);
        else /* no file: the row shown as it is, in the warning that says so */
            e->version =
                dbm_xasprintf("(hash %.12s..., created_at %s)", e->checksum ? e->checksum : "?",
                              e->description ? e->description : "?");
    }
}
