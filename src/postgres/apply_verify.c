/*
 * apply_verify.c - a Sqitch change's verify script, run once its deploy script
 * is applied and recorded, on the same session, as `sqitch deploy` runs it.
 * A failing verify is a failed migration: the change's revert script undoes
 * the deploy (what Sqitch does) and its history row goes, so the next run
 * deploys the change again; without a revert that ran, the row says failed.
 */
#include "postgres/db_internal.h"
#include "common/error.h"
#include "common/util.h"
#include "sql/ident.h"
#include "postgres/history.h"
#include "postgres/history_internal.h"

#include <stdlib.h>
#include <string.h>

/* The verify script as users see it: the up's display path with the up's path swapped. */
static char *shown_path(const char *display_path, const dbm_migration *m)
{
    size_t dn = display_path ? strlen(display_path) : 0, pn = strlen(m->path);

    if (dn >= pn && strcmp(display_path + dn - pn, m->path) == 0)
        return dbm_xasprintf("%.*s%s", (int)(dn - pn), display_path, m->verify_path);
    return dbm_xstrdup(m->verify_path);
}

/* Run a script as written (its own BEGIN/COMMIT or ROLLBACK): NULL when it ran, else its error. */
static PGresult *run_script(PGconn *conn, const char *text)
{
    PGresult *res = PQexec(conn, text);
    ExecStatusType st = PQresultStatus(res);
    bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;

    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (ok) {
        PQclear(res);
        return NULL;
    }
    return res;
}

/* A fleet's tenant: the scripts, as written, run with its search_path for the session. */
static void session_search_path(PGconn *conn, const dbm_apply_opts *opts, bool set)
{
    char *lit, *sql;

    if (!opts->search_path)
        return;
    if (!set) {
        PQclear(PQexec(conn, "RESET search_path"));
        return;
    }
    lit = dbm_sql_quote_literal(opts->search_path);
    sql = dbm_xasprintf("SELECT set_config('search_path', %s, false)", lit);
    PQclear(PQexec(conn, sql));
    free(sql);
    free(lit);
}

int dbm_db_verify(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                  const dbm_apply_opts *opts, int64_t started)
{
    PGresult *res;
    char *shown, *message;
    bool reverted = false;
    int error;

    session_search_path(conn, opts, true);
    res = run_script(conn, m->verify);
    if (!res) {
        session_search_path(conn, opts, false);
        return 0;
    }
    shown = shown_path(opts->display_path, m);
    dbm_db_record_error(result, res, conn, m->verify, m->verify_len,
                        dbm_db_error_offset(res, m->verify, m->verify_len, 0), 1, shown);
    PQclear(res);
    if (m->down) {
        PGresult *down = run_script(conn, m->down);
        reverted = down == NULL;
        PQclear(down);
    }
    session_search_path(conn, opts, false);
    message = dbm_xasprintf("verify script failed: %s (%s)", result->error->message,
                            !m->down   ? "no revert script: the deploy stays"
                            : reverted ? "the deploy was reverted"
                                       : "its revert script failed too: the deploy may stay");
    dbm_report_set(&result->error->message, message);
    if (!result->error->hint)
        dbm_report_set(
            &result->error->hint,
            "fix the deploy or the verify script; the next run deploys the change again");
    /* Reverted: not applied, as a failed transactional migration; else a failed row says so. */
    error = dbm_history_delete(conn, opts->schema, m->version);
    if (error == 0 && !reverted)
        error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha,
                                   !m->no_transaction, "failed", (dbm_now_us() - started) / 1000, 0,
                                   message);
    free(message);
    free(shown);
    return error == 0 ? DBM_EFAILED : error;
}
