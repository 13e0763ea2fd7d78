/*
 * adopt_graphile.c - graphile-migrate's history as entries to adopt:
 * graphile_migrate.migrations(hash, previous_hash, filename, date), a row
 * per committed migration it ran (graphile/migrate src/migration.ts,
 * runStringMigration), filename being "<number>.sql" without the slug and
 * hash the file's "--! Hash:", compared with the file's own.
 */
#include "postgres/adopt_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int dbm_adopt_read_graphile(dbm_adopt_source *s, bool *found, PGconn *conn)
{
    PGresult *res =
        PQexec(conn, "SELECT filename, hash FROM graphile_migrate.migrations ORDER BY filename");
    int error = 0;

    memset(s, 0, sizeof(*s));
    *found = false;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        /* 42P01 / 3F000: no such table or schema */
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (!state || (strcmp(state, "42P01") != 0 && strcmp(state, "3F000") != 0))
            error = dbm_error_set(DBM_EGENERIC, "unable to read graphile_migrate.migrations: %s",
                                  dbm_db_message(res, conn));
        PQclear(res);
        return error;
    }
    *found = true;
    s->schema = dbm_xstrdup("graphile_migrate");
    s->name = dbm_xstrdup("migrations");
    for (int i = 0; i < PQntuples(res); i++) {
        const char *file = PQgetvalue(res, i, 0);
        size_t n = strlen(file);
        char *version = dbm_xstrndup(file, n > 4 && strcmp(file + n - 4, ".sql") == 0 ? n - 4 : n);
        dbm_adopt_entry *e = dbm_adopt_source_add(s, version, DBM_ADOPT_APPLIED);

        e->checksum = dbm_xstrdup(PQgetvalue(res, i, 1));
        free(version);
    }
    PQclear(res);
    return 0;
}
