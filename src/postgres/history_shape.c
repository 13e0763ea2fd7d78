/*
 * history_shape.c - whether tables that already stand where the history goes
 * are the history's: a `migrations` table of the application's in the schema
 * given as history-schema is not to be built on.
 */
#include "postgres/history_internal.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

/*
 * Each history table with the columns this tool reads (a column added since
 * the first release, such as runs.detail, is added by dbm_history_ensure and
 * not asked for): the first one that exists in $1 without all of them.
 */
static const char shape_sql[] =
    "SELECT t.name, (SELECT string_agg(c, ', ' ORDER BY o) FROM unnest(t.cols) WITH ORDINALITY "
    "AS u(c, o) WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = "
    "to_regclass(format('%I.%I', $1::text, t.name)) AND a.attname = u.c AND NOT "
    "a.attisdropped)) "
    "FROM (VALUES (1, 'runs', '{id,command,started_at,finished_at,outcome,git_sha,"
    "deployed_sha,actor,event,run_url,db_user,tool_version}'::text[]), "
    "(2, 'migrations', '{version,name,checksum,applied_at,duration_ms,run_id,git_sha,"
    "transactional,status,failed_statement,error}'), "
    "(3, 'lease', '{name,token,run_id,command,actor,host,client_pid,git_sha,run_url,"
    "backend_pid,since,heartbeat_at,expires_at}'), "
    "(4, 'statements', '{version,statement,run_id,claimed_at,finished_at,outcome}')) "
    "AS t(k, name, cols) "
    "WHERE to_regclass(format('%I.%I', $1::text, t.name)) IS NOT NULL ORDER BY t.k";

int dbm_history_check_shape(PGconn *conn, const char *schema)
{
    const char *params[1] = {schema};
    PGresult *res = PQexecParams(conn, shape_sql, 1, NULL, params, NULL, NULL, 0);
    int error = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return 0; /* nothing learnt: what runs next reports the server's error */
    }
    for (int i = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 1))
            continue;
        error = dbm_error_set(DBM_ECONFIG,
                              "history-schema '%s' holds a table '%s' that is not db-migrate's "
                              "history (no column %s)",
                              schema, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
        dbm_error_hint("pick another history-schema (the default is db_migrate): the history "
                       "tables runs, migrations, lease and statements are created in it");
        break;
    }
    PQclear(res);
    return error;
}
