/*
 * adopt_supabase.c - the Supabase CLI's supabase_migrations.schema_migrations.
 *
 * pkg/migration/history.go creates it (version text primary key, statements
 * text[], name text, later created_by and idempotency_key); file.go's
 * ExecBatch inserts a row in the same batch as the file's statements, so a
 * row is a migration that ran whole. There is no checksum.
 */
#include "postgres/adopt_internal.h"
#include "common/util.h"

char *dbm_adopt_supabase_sql(const char *table)
{
    return dbm_xasprintf("SELECT version FROM %s ORDER BY version", table);
}

void dbm_adopt_supabase_rows(dbm_adopt_source *s, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++)
        if (!PQgetisnull(res, i, 0))
            dbm_adopt_source_add(s, PQgetvalue(res, i, 0), DBM_ADOPT_APPLIED);
}
