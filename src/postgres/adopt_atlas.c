/*
 * adopt_atlas.c - Atlas's atlas_schema_revisions.atlas_schema_revisions.
 *
 * sql/migrate/migrate.go (Revision, RevisionType) and the executor write one
 * row per file: version, description, type (1 baseline, 2 executed,
 * 4 resolved, or'ed), applied and total statements, error and error_stmt
 * when it stopped part-way, hash (the file's atlas.sum hash). A baseline row
 * says every version up to it is applied; a row whose applied is below its
 * total, or with an error, is a migration left part-way. Versions starting
 * with '.' are Atlas's own bookkeeping (".atlas_cloud_identifiers").
 */
#include "postgres/adopt_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

char *dbm_adopt_atlas_sql(const char *table)
{
    return dbm_xasprintf("SELECT version, type, applied < total OR error IS NOT NULL, "
                         "coalesce(error, format('%%s of %%s statements applied', applied, "
                         "total)) FROM %s WHERE version NOT LIKE '.%%' ORDER BY version",
                         table);
}

void dbm_adopt_atlas_rows(dbm_adopt_source *s, const PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        long type = strtol(PQgetvalue(res, i, 1), NULL, 10);
        bool partial = strcmp(PQgetvalue(res, i, 2), "t") == 0 && !(type & 4);
        dbm_adopt_state st = partial      ? DBM_ADOPT_UNFINISHED
                             : (type & 1) ? DBM_ADOPT_UP_TO
                                          : DBM_ADOPT_APPLIED;
        dbm_adopt_entry *e = dbm_adopt_source_add(s, PQgetvalue(res, i, 0), st);

        e->baseline = (type & 1) != 0;
        if (partial)
            e->detail = dbm_xstrdup(PQgetvalue(res, i, 3));
    }
}
