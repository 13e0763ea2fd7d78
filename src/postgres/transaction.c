/*
 * transaction.c - a section in one transaction, one extended-protocol query
 * per statement.
 *
 * Files too large for a batch go this way: BEGIN, the settings, each
 * statement, the history statements and COMMIT, pipelined (one round trip,
 * the server never parsing megabytes at once) or, when very large, one at a
 * time.
 */
#include "postgres/db_internal.h"
#include "common/error.h"
#include "postgres/history_internal.h"
#include "common/log.h"
#include "common/util.h"
#include "sql/ident.h"

#include <stdlib.h>
#include <string.h>

#define PIPELINE_MAX_QUERIES 500
#define PIPELINE_MAX_BYTES   (8u << 20)

#define TX_SETTINGS                                                                                \
    "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, "            \
    "true), %s" DBM_HISTORY_MARK_START

/* The search_path's part of the settings: "" when the session's stays. */
static char *search_path_setting(const char *value)
{
    return value ? dbm_xasprintf("set_config('search_path', %s, true), ", value) : dbm_xstrdup("");
}

char *dbm_db_tx_settings_sql(const dbm_apply_opts *opts)
{
    char lock[32], stmt[32];
    char *lit = opts->search_path ? dbm_sql_quote_literal(opts->search_path) : NULL;
    char *sp = search_path_setting(lit);
    char *sql;

    snprintf(lock, sizeof(lock), "'%lldms'", opts->lock_timeout_ms);
    snprintf(stmt, sizeof(stmt), "'%lldms'", opts->statement_timeout_ms);
    sql = dbm_xasprintf(TX_SETTINGS, lock, stmt, sp);
    free(sp);
    free(lit);
    return sql;
}

char *dbm_db_tx_settings_prepare(const char *name, bool search_path)
{
    char *sp = search_path_setting(search_path ? "$3" : NULL);
    char *select = dbm_xasprintf(TX_SETTINGS, "$1", "$2", sp);
    char *sql =
        dbm_xasprintf("PREPARE %s (text, text%s) AS %s", name, search_path ? ", text" : "", select);

    free(sp);
    free(select);
    return sql;
}

char *dbm_db_tx_settings_execute(const char *name, const dbm_apply_opts *opts)
{
    char *lit = opts->search_path ? dbm_sql_quote_literal(opts->search_path) : NULL;
    char *sql = dbm_xasprintf("EXECUTE %s('%lldms', '%lldms'%s%s)", name, opts->lock_timeout_ms,
                              opts->statement_timeout_ms, lit ? ", " : "", lit ? lit : "");

    free(lit);
    return sql;
}

/* queries[0..n) one at a time; the first error result, or NULL, as run_queries. */
static PGresult *run_one_by_one(PGconn *conn, char **queries, size_t n, size_t *failed)
{
    for (size_t i = 0; i < n; i++) {
        PGresult *res = PQexec(conn, queries[i]);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            *failed = i;
            return res;
        }
        PQclear(res);
    }
    return NULL;
}

/* queries[0..n) in one pipeline; the first error result, or NULL, as run_queries. */
static PGresult *run_pipelined(PGconn *conn, char **queries, size_t n, size_t *failed)
{
    PGresult *error_res = NULL;

    for (size_t i = 0; i < n; i++)
        if (!PQsendQueryParams(conn, queries[i], 0, NULL, NULL, NULL, NULL, 0)) {
            *failed = i;
            break;
        }
    PQpipelineSync(conn);
    /* Each query's results end with a NULL; the Sync's result ends the pipeline. */
    for (size_t idx = 0;;) {
        PGresult *res = PQgetResult(conn);
        ExecStatusType st;

        if (!res) {
            if (PQstatus(conn) == CONNECTION_BAD)
                break;
            idx++;
            continue;
        }
        st = PQresultStatus(res);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            break;
        }
        if ((st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR) && !error_res) {
            error_res = res;
            *failed = idx;
            continue;
        }
        PQclear(res);
    }
    PQexitPipelineMode(conn);
    return error_res;
}

/*
 * Send queries[0..n) and read their results. Pipelined when allowed, else one
 * at a time. Returns NULL when all succeeded, else the first error result
 * (caller PQclears) with *failed its index. A failed transaction is rolled back.
 */
static PGresult *run_queries(PGconn *conn, char **queries, size_t n, bool pipelined, size_t *failed)
{
    PGresult *error_res;

    *failed = n;
    /* Pipeline mode cannot be refused on a healthy idle connection; degrade rather than fail. */
    if (pipelined && PQenterPipelineMode(conn))
        error_res = run_pipelined(conn, queries, n, failed);
    else
        error_res = run_one_by_one(conn, queries, n, failed);
    if (error_res && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (!error_res && *failed < n) {
        /* A send failed without a server error: the connection is gone. */
        error_res = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    }
    return error_res;
}

/*
 * The queries of a transaction: BEGIN, the settings, the statements, the
 * suffix, COMMIT (*nq of them, *prefix before the first statement). Caller
 * frees each and the array.
 */
static char **transaction_queries(size_t *nq, size_t *prefix, const char *text,
                                  const dbm_stmt_list *stmts, char *const *suffix, size_t nsuffix,
                                  const dbm_apply_opts *opts)
{
    char **q = dbm_xcalloc(stmts->count + nsuffix + 3, sizeof(*q));
    size_t n = 0;

    q[n++] = dbm_xstrdup("BEGIN");
    q[n++] = dbm_db_tx_settings_sql(opts);
    *prefix = n;
    for (size_t i = 0; i < stmts->count; i++)
        q[n++] = dbm_db_stmt_text(text, &stmts->items[i]);
    for (size_t i = 0; i < nsuffix; i++)
        q[n++] = dbm_xstrdup(suffix[i]);
    q[n++] = dbm_xstrdup("COMMIT");
    *nq = n;
    return q;
}

int dbm_db_run_transactional(dbm_mig_result *result, PGconn *conn, const char *text, size_t len,
                             int first_line, const dbm_stmt_list *stmts, char *const *suffix,
                             size_t nsuffix, const dbm_apply_opts *opts)
{
    size_t nq, prefix;
    char **q = transaction_queries(&nq, &prefix, text, stmts, suffix, nsuffix, opts);
    bool pipelined = nq <= PIPELINE_MAX_QUERIES && len <= PIPELINE_MAX_BYTES;
    int error = 0;

    for (int attempt = 0;; attempt++) {
        size_t failed;
        PGresult *res = run_queries(conn, q, nq, pipelined, &failed);
        bool in_body = failed >= prefix && failed < prefix + stmts->count;

        if (!res)
            break;
        if (strcmp(dbm_db_sqlstate(res), DBM_LOCK_TIMEOUT_SQLSTATE) == 0 &&
            attempt < opts->lock_retries) {
            dbm_log("  lock timeout in '%s' (attempt %d of %ld); retrying", opts->display_path,
                    attempt + 1, opts->lock_retries + 1);
            PQclear(res);
            dbm_db_backoff(attempt);
            continue;
        }
        dbm_db_record_error(
            result, res, conn, text, len,
            in_body ? dbm_db_error_offset(res, text, len, stmts->items[failed - prefix].offset) : 0,
            first_line, opts->display_path);
        dbm_db_transactional_hint(result, res, failed >= prefix + stmts->count && failed + 1 < nq);
        PQclear(res);
        error = DBM_EFAILED;
        break;
    }
    for (size_t i = 0; i < nq; i++)
        free(q[i]);
    free(q);
    return error;
}
