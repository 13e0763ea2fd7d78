/*
 * claim.c - the statements of non-transactional migrations, claimed before
 * they run: <history-schema>.statements has a row per (version, statement)
 * saying which run claimed it and whether it is done. A claim is taken in a
 * statement of its own, so two runners can never both run one statement,
 * even through a pooler that defeated the run lock, and a rerun knows what a
 * killed run left unfinished.
 *
 * A statement that can run in a transaction runs in one with the end of its
 * claim, so an unfinished claim of such a statement means it did not take
 * effect and may be taken again. One that cannot (CREATE INDEX CONCURRENTLY,
 * VACUUM..., or a DO block or CALL, which may COMMIT inside) ends its claim in
 * a statement after it: an unfinished claim may hide a statement that ran, and
 * is reported for a person to check.
 */
#include "postgres/history_internal.h"
#include "postgres/message.h"
#include "common/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A literal, or NULL. Caller frees. */
static char *lit(PGconn *conn, const char *s)
{
    char *q = s ? PQescapeLiteral(conn, s, strlen(s)) : NULL;
    char *out = dbm_xstrdup(q ? q : "NULL");

    PQfreemem(q);
    return out;
}

static int claim_failed(PGconn *conn, const PGresult *res, const char *what)
{
    return dbm_error_set(DBM_EGENERIC, "unable to %s: %s", what, dbm_db_message(res, conn));
}

int dbm_history_claim(dbm_claim_state *state, char **who, PGconn *conn, const char *schema,
                      const char *version, int n, long long run_id, bool retake)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *v = lit(conn, version);
    char *sql = dbm_xasprintf(
        "WITH ins AS (INSERT INTO %s.statements (version, statement, run_id) VALUES (%s, %d, "
        "%lld) ON CONFLICT (version, statement) DO NOTHING RETURNING 1), "
        "re AS (UPDATE %s.statements c SET run_id = %lld, claimed_at = clock_timestamp(), "
        "finished_at = NULL, outcome = NULL WHERE c.version = %s AND c.statement = %d AND "
        "(c.outcome = 'failed' OR (c.outcome IS NULL AND (%s OR c.run_id = %lld))) RETURNING 1) "
        "SELECT (SELECT count(*) FROM ins) + (SELECT count(*) FROM re), c.outcome, "
        "coalesce('run ' || c.run_id, 'a run') || ' at ' || to_char(c.claimed_at AT TIME ZONE "
        "'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC', c.version IS NOT NULL FROM (SELECT 1) x "
        "LEFT JOIN %s.statements c ON c.version = %s AND c.statement = %d",
        s, v, n, run_id, s, run_id, v, n, retake ? "true" : "false", run_id, s, v, n);
    PGresult *res = PQexec(conn, sql);
    int error = 0;

    *who = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        error = claim_failed(conn, res, "claim the statement");
        goto done;
    }
    if (strcmp(PQgetvalue(res, 0, 0), "0") != 0)
        *state = DBM_CLAIM_MINE;
    else if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
        *state = DBM_CLAIM_BUSY; /* claimed by a run that has not committed it yet */
    else
        *state = PQgetisnull(res, 0, 1)                       ? DBM_CLAIM_INTERRUPTED
                 : strcmp(PQgetvalue(res, 0, 1), "done") == 0 ? DBM_CLAIM_DONE
                                                              : DBM_CLAIM_BUSY;
    if (*state != DBM_CLAIM_MINE && !PQgetisnull(res, 0, 2))
        *who = dbm_xstrdup(PQgetvalue(res, 0, 2));
done:
    PQclear(res);
    free(sql);
    free(v);
    PQfreemem(s);
    return error;
}

char *dbm_history_sql_claim_done(PGconn *conn, const char *schema, const char *version, int n,
                                 long long run_id)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *v = lit(conn, version);
    /* A failing cast ends the transaction, the statement with it, when the claim went to another
     * run. */
    char *sql = dbm_xasprintf(
        "WITH u AS (UPDATE %s.statements SET outcome = 'done', finished_at = clock_timestamp() "
        "WHERE version = %s AND statement = %d AND run_id = %lld AND outcome IS NULL RETURNING 1) "
        "SELECT (CASE WHEN count(*) = 1 THEN '1' ELSE 'statement %d of version ' || %s || "
        "' was claimed by another run' END)::int FROM u",
        s, v, n, run_id, n, v);

    free(v);
    PQfreemem(s);
    return sql;
}

int dbm_history_claim_end(PGconn *conn, const char *schema, const char *version, int n,
                          long long run_id, const char *outcome)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *v = lit(conn, version), *o = lit(conn, outcome);
    char *sql = dbm_xasprintf("UPDATE %s.statements SET outcome = %s, finished_at = "
                              "clock_timestamp() WHERE version = %s AND statement = %d AND "
                              "run_id = %lld",
                              s, o, v, n, run_id);
    PGresult *res = PQexec(conn, sql);
    int error = PQresultStatus(res) == PGRES_COMMAND_OK
                    ? 0
                    : claim_failed(conn, res, "record the statement's end");

    PQclear(res);
    free(sql);
    free(v);
    free(o);
    PQfreemem(s);
    return error;
}

int dbm_history_claims_clear(int *cleared, PGconn *conn, const char *schema, const char *version,
                             bool unfinished_only)
{
    char *s = PQescapeIdentifier(conn, schema, strlen(schema));
    char *v = lit(conn, version);
    char *sql = dbm_xasprintf("WITH d AS (DELETE FROM %s.statements WHERE version = %s%s "
                              "RETURNING statement) SELECT coalesce(min(statement), 0) FROM d",
                              s, v, unfinished_only ? " AND outcome IS NULL" : "");
    PGresult *res = PQexec(conn, sql);
    int error = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        error = claim_failed(conn, res, "clear the statements' claims");
    else if (cleared)
        *cleared = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    free(sql);
    free(v);
    PQfreemem(s);
    return error;
}
