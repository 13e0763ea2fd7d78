/*
 * rollback.c - running a down section and deleting the history row, in one
 * transaction when the section can run in one, else statement by statement.
 */
#include "postgres/db_internal.h"
#include "postgres/connect.h"
#include "common/error.h"
#include "postgres/history_internal.h"
#include "common/util.h"

#include <stdlib.h>

/*
 * A down section that cannot run in a transaction (the migration runs outside
 * one, or the section holds DROP INDEX CONCURRENTLY): statement by statement,
 * then the history row is deleted. A failure leaves the row, so the migration
 * still reads as applied and a rerun of rollback starts the section again.
 */
static int run_down_statements(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                               const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    char *set = dbm_db_session_timeouts(opts);
    int error;

    if ((error = dbm_db_exec_simple(conn, set)) < 0)
        goto done;
    for (size_t i = 0; i < stmts->count; i++) {
        const dbm_stmt *s = &stmts->items[i];
        char *sql = dbm_db_stmt_text(m->down, s);
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);

        free(sql);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            dbm_db_record_error(result, res, conn, m->down, m->down_len,
                                dbm_db_error_offset(res, m->down, m->down_len, s->offset),
                                m->down_line, opts->display_path);
            PQclear(res);
            error = DBM_EFAILED;
            goto done;
        }
        PQclear(res);
    }
    if ((error = dbm_history_delete(conn, opts->schema, m->version)) == 0) {
        char *note = dbm_history_sql_rolled_back(conn, opts->schema, opts->run_id, m->version);
        error = dbm_db_exec_simple(conn, note);
        free(note);
    }
done:
    dbm_db_session_reset(conn, opts);
    free(set);
    return error;
}

/*
 * A down section that runs its own BEGIN/COMMIT (a Sqitch revert script): sent
 * as written, then the history row is deleted. A failure leaves the row.
 */
static int run_down_as_written(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                               const dbm_apply_opts *opts)
{
    PGresult *res = PQexec(conn, m->down);
    ExecStatusType st = PQresultStatus(res);
    int error = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        dbm_db_record_error(result, res, conn, m->down, m->down_len,
                            dbm_db_error_offset(res, m->down, m->down_len, 0), m->down_line,
                            opts->display_path);
        error = DBM_EFAILED;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
        if (error == 0) {
            dbm_report_set_error(result,
                                 "the down section left a transaction open (BEGIN "
                                 "without COMMIT)",
                                 NULL);
            error = DBM_EFAILED;
        }
    }
    if (error == 0 && (error = dbm_history_delete(conn, opts->schema, m->version)) == 0) {
        char *note = dbm_history_sql_rolled_back(conn, opts->schema, opts->run_id, m->version);
        error = dbm_db_exec_simple(conn, note);
        free(note);
    }
    return error;
}

int dbm_db_rollback_one(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                        const dbm_stmt_list *down_stmts, const dbm_apply_opts *opts)
{
    int64_t started = dbm_now_us();
    char *del[2 + DBM_DB_RESTORE_STATEMENTS] = {NULL};
    size_t ndel = 0;
    dbm_apply_opts o = *opts;
    int error;

    o.display_path = m->down_path ? m->down_path : m->path;
    result->statement_count = (int)down_stmts->count;
    result->transactional = !(m->no_transaction || down_stmts->has_no_tx);
    if (down_stmts->manages_transaction) {
        error = run_down_as_written(result, conn, m, &o);
    } else if (!result->transactional) {
        error = run_down_statements(result, conn, m, down_stmts, &o);
    } else {
        /* The session put back if the section changed it, then the row goes, and the run's
         * audit says why, with the section. */
        for (size_t i = 0; down_stmts->sets_session && i < DBM_DB_RESTORE_STATEMENTS; i++)
            del[ndel++] = dbm_xstrdup(dbm_db_session_restore(conn)[i]);
        del[ndel++] = dbm_history_sql_delete(conn, opts->schema, m->version);
        del[ndel++] = dbm_history_sql_rolled_back(conn, opts->schema, opts->run_id, m->version);
        error = dbm_db_run_transactional(result, conn, m->down, m->down_len, m->down_line,
                                         down_stmts, del, ndel, &o);
    }
    if (down_stmts->sets_session && (down_stmts->manages_transaction || !result->transactional)) {
        char *restore = dbm_db_session_restore_sql(conn);
        PQclear(PQexec(conn, restore));
        free(restore);
    }
    while (ndel > 0)
        free(del[--ndel]);
    result->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    result->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}
