/*
 * size.c - a table's rows: counted when small, else the planner's estimate.
 */
#include "postgres/size.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int dbm_db_table_size(dbm_table_size *out, PGconn *conn, const char *schema, const char *name)
{
    const char *params[2] = {schema, name};
    char *sql = NULL;
    PGresult *res;
    int error = 0;

    memset(out, 0, sizeof(*out));
    /* quote_ident keeps the name as written: the parser has already folded unquoted case. */
    res = PQexecParams(conn,
                       "SELECT c.oid::regclass::text, c.reltuples::bigint, "
                       "pg_total_relation_size(c.oid), pg_relation_size(c.oid) "
                       "FROM pg_class c WHERE c.oid = to_regclass(CASE WHEN $1::text IS NULL "
                       "THEN quote_ident($2) ELSE quote_ident($1) || '.' || quote_ident($2) END) "
                       "AND c.relkind IN ('r', 'p', 'm', 'f')",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        error = dbm_error_set(DBM_EGENERIC, "unable to read the size of '%s': %s", name,
                              dbm_db_message(res, conn));
        goto done;
    }
    if (PQntuples(res) != 1)
        goto done;
    out->exists = true;
    out->bytes = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
    if (strtoll(PQgetvalue(res, 0, 3), NULL, 10) > DBM_SIZE_COUNT_MAX_BYTES) {
        out->estimated = true;
        out->rows = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        out->never_analyzed = out->rows < 0;
        goto done;
    }
    sql = dbm_xasprintf("SELECT count(*) FROM %s", PQgetvalue(res, 0, 0));
    PQclear(res);
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to count the rows of '%s': %s", name,
                              dbm_db_message(res, conn));
    else
        out->rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
done:
    PQclear(res);
    free(sql);
    return error;
}
