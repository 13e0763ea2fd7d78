/*
 * history_audit.c - runs.detail: what a run did beyond its migrations rows.
 *
 * A rollback deletes the rows of what it undid and a repair --accept-edit
 * overwrites a checksum, so the migrations table alone cannot tell later runs
 * what happened. runs.detail (jsonb, added by dbm_history_ensure to older
 * histories) keeps it: {"rolled_back": [versions]} for a rollback,
 * {"accepted_edit": {"version", "old_checksum", "new_checksum"}} for a repair.
 */
#include "postgres/history_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *dbm_history_sql_read_rolled_back(PGconn *conn, const char *schema_q)
{
    char *table = dbm_xasprintf("%s.runs", schema_q);
    char *t = PQescapeLiteral(conn, table, strlen(table));
    char *sql = dbm_xasprintf(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = %s::regclass AND attname = "
        "'detail' AND NOT attisdropped), (SELECT json_agg(DISTINCT v)::text FROM %s.runs AS r, "
        "jsonb_array_elements_text(coalesce(to_jsonb(r) -> 'detail' -> 'rolled_back', "
        "'[]'::jsonb)) AS v WHERE r.command = 'rollback' AND r.id > coalesce((SELECT max(id) "
        "FROM %s.runs WHERE command = 'apply' AND outcome IN ('applied', 'up-to-date')), 0)), "
        "(SELECT json_agg(DISTINCT to_jsonb(r) -> 'detail' -> 'accepted_edit' ->> 'version')::text "
        "FROM %s.runs AS r WHERE r.command = 'repair' AND r.outcome = 'applied' AND "
        "to_jsonb(r) -> 'detail' ? 'accepted_edit' AND r.id > coalesce((SELECT max(id) FROM "
        "%s.runs WHERE command = 'apply' AND outcome IN ('applied', 'up-to-date')), 0))",
        t ? t : "NULL", schema_q, schema_q, schema_q, schema_q);

    PQfreemem(t);
    free(table);
    return sql;
}

/* A JSON array of strings (NULL: none) as a NULL-terminated list in *out, *n entries. */
static void read_list(char ***out, size_t *n, const char *text)
{
    json_t *list = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *v;

    *n = 0;
    *out = dbm_xcalloc(json_array_size(list) + 1, sizeof(**out));
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v))
            (*out)[(*n)++] = dbm_xstrdup(json_string_value(v));
    }
    json_decref(list);
}

void dbm_history_read_rolled_back(dbm_history *h, const PGresult *res)
{
    if (PQntuples(res) != 1)
        return;
    h->current = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    read_list(&h->rolled_back, &h->nrolled_back,
              PQgetisnull(res, 0, 1) ? NULL : PQgetvalue(res, 0, 1));
    read_list(&h->accepted_edits, &h->naccepted_edits,
              PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2));
}

char *dbm_history_sql_rolled_back(PGconn *conn, const char *schema, long long run_id,
                                  const char *version)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *v = PQescapeLiteral(conn, version, strlen(version));
    char *sql = dbm_xasprintf(
        "UPDATE %s.runs SET detail = jsonb_set(coalesce(detail, '{}'::jsonb), '{rolled_back}', "
        "coalesce(detail -> 'rolled_back', '[]'::jsonb) || to_jsonb(%s::text)) WHERE id = %lld",
        s, v, run_id);

    PQfreemem(v);
    PQfreemem(s);
    return sql;
}

/* Run one statement of the accept-edit transaction; *rows gets its row count. */
static int step(PGconn *conn, const char *sql, int nparams, const char *const *params, int *rows)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    int error = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to update the history: %s",
                              dbm_db_message(res, conn));
    else if (rows)
        *rows = (int)strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return error;
}

int dbm_history_accept_edit(PGconn *conn, const char *schema, long long run_id, const char *version,
                            const char *old_checksum, const char *new_checksum)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *update = dbm_xasprintf("UPDATE %s.migrations SET checksum = $3 WHERE version = $1 "
                                 "AND checksum = $2 AND status = 'applied'",
                                 s);
    char *audit = dbm_xasprintf(
        "UPDATE %s.runs SET detail = jsonb_build_object('accepted_edit', jsonb_build_object("
        "'version', $1::text, 'old_checksum', $2::text, 'new_checksum', $3::text)) "
        "WHERE id = $4::bigint",
        s);
    char run[32];
    const char *params[4] = {version, old_checksum, new_checksum, run};
    int rows = 0, error;

    snprintf(run, sizeof(run), "%lld", run_id);
    if ((error = step(conn, "BEGIN", 0, NULL, NULL)) < 0)
        goto done;
    if ((error = step(conn, update, 3, params, &rows)) == 0 && rows != 1)
        error = DBM_ENOTFOUND;
    if (error == 0)
        error = step(conn, audit, 4, params, NULL);
    if (error == 0)
        error = step(conn, "COMMIT", 0, NULL, NULL);
    else
        PQclear(PQexec(conn, "ROLLBACK"));
done:
    free(update);
    free(audit);
    PQfreemem(s);
    return error;
}
