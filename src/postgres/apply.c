/*
 * apply.c - applying one migration, the way its file asks: a small
 * transactional file as a batch of one (batch.c), a large one a query per
 * statement in one transaction (transaction.c), a file outside a transaction
 * statement by statement with its progress recorded so a rerun resumes, and a
 * file that runs its own BEGIN/COMMIT as written.
 */
#include "postgres/db_internal.h"
#include "postgres/connect.h"
#include "sql/parse.h"
#include "common/error.h"
#include "postgres/history_internal.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Invalid indexes left behind by a failed CONCURRENTLY build, as a DROP hint. */
static char *invalid_indexes_hint(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_index i "
                                 "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n "
                                 "ON n.oid = c.relnamespace WHERE NOT i.indisvalid ORDER BY 1");
    dbm_buf b = DBM_BUF_INIT;

    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        dbm_buf_puts(&b, "an invalid index was left behind; drop it before the rerun:");
        for (int i = 0; i < PQntuples(res); i++)
            dbm_buf_printf(&b, " DROP INDEX CONCURRENTLY %s;", PQgetvalue(res, i, 0));
    }
    PQclear(res);
    return b.len ? dbm_buf_detach(&b) : NULL;
}

/*
 * Statement i (0-based) of a file outside a transaction, retrying lock
 * timeouts: NULL when it ran, else its error result (caller PQclears).
 */
static PGresult *run_retrying(PGconn *conn, const char *sql, size_t i, const dbm_apply_opts *opts)
{
    for (int attempt = 0;; attempt++) {
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);

        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
            PQclear(res);
            return NULL;
        }
        if (strcmp(dbm_db_sqlstate(res), DBM_LOCK_TIMEOUT_SQLSTATE) != 0 ||
            attempt >= opts->lock_retries)
            return res;
        dbm_log("  lock timeout in '%s' statement %zu (attempt %d of %ld); retrying",
                opts->display_path, i + 1, attempt + 1, opts->lock_retries + 1);
        PQclear(res);
        dbm_db_backoff(attempt);
    }
}

/*
 * Statement s (number i, 0-based) of a file outside a transaction failed with
 * `res` (freed here): the error goes in result, and in the history row with
 * the statement a rerun resumes at. DBM_EFAILED, or the history's error.
 */
static int statement_failed(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                            const dbm_stmt *s, size_t i, PGresult *res, const dbm_apply_opts *opts,
                            int64_t started)
{
    /* Before the error is recorded: a query of its own would replace the connection's message. */
    char *hint = (s->flags & DBM_STMT_NO_TX) ? invalid_indexes_hint(conn) : NULL;
    int error;

    dbm_db_record_error(result, res, conn, m->up, m->up_len,
                        dbm_db_error_offset(res, m->up, m->up_len, s->offset), m->up_line,
                        opts->display_path);
    PQclear(res);
    if (hint)
        dbm_report_set(&result->error->hint, hint);
    free(hint);
    error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false, "failed",
                               (dbm_now_us() - started) / 1000, (int)i + 1, result->error->message);
    /*
     * A lost connection is the statement's error, already in result: the row
     * recorded before the statement still says where a rerun resumes.
     */
    if (error < 0 && PQstatus(conn) == CONNECTION_BAD) {
        dbm_error_clear();
        error = 0;
    }
    return error == 0 ? DBM_EFAILED : error;
}

/*
 * A signal asked the run to stop after statement `next` - 1 (0-based `next`
 * is the first not run): the history row says a rerun resumes at `next`.
 * DBM_ECANCELLED, or the history's error.
 */
static int stopped_between(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                           size_t next, size_t count, const dbm_apply_opts *opts, int64_t started)
{
    char *msg = dbm_xasprintf("cancelled by %s before statement %zu of %zu; a rerun resumes there",
                              dbm_stop_signal_name(dbm_stop_signal()), next + 1, count);
    int error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false,
                                   "failed", (dbm_now_us() - started) / 1000, (int)next + 1, msg);

    dbm_report_set_error(result, msg, NULL);
    dbm_report_set(&result->error->file, opts->display_path);
    free(msg);
    return error < 0 ? error : DBM_ECANCELLED;
}

/*
 * Statement n of `m` failed with the error already in result: recorded in the
 * history row with the statement a rerun resumes at, and its claim ended as
 * failed. DBM_EFAILED, or the history's error.
 */
static int record_failure(dbm_mig_result *result, PGconn *conn, const dbm_migration *m, int n,
                          const dbm_apply_opts *opts, int64_t started)
{
    int error =
        dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false, "failed",
                           (dbm_now_us() - started) / 1000, n, result->error->message);

    if (error == 0)
        error = dbm_history_claim_end(conn, opts->schema, m->version, n, opts->run_id, "failed");
    /* A lost connection is the statement's error, already in result. */
    if (error < 0 && PQstatus(conn) == CONNECTION_BAD) {
        dbm_error_clear();
        error = 0;
    }
    return error == 0 ? DBM_EFAILED : error;
}

/*
 * Statement n of `m` was claimed by another run that did not end it: a person
 * must say whether it took effect (interrupted), or the other run may still be
 * running it (busy). The migration fails without running it.
 */
static int claim_refused(dbm_mig_result *result, PGconn *conn, const dbm_migration *m, int n,
                         dbm_claim_state state, const char *who, const dbm_apply_opts *opts,
                         int64_t started)
{
    char *msg, *hint, *invalid = invalid_indexes_hint(conn);
    dbm_error_info *e;

    if (state == DBM_CLAIM_INTERRUPTED) {
        msg = dbm_xasprintf("statement %d was interrupted: %s claimed it and ended without its "
                            "outcome, so it may have taken effect",
                            n, who ? who : "a run");
        hint = dbm_xasprintf("check whether it took effect and undo it if it did%s%s%s; then "
                             "'db-migrate repair --target-version %s' lets the next apply run "
                             "it again",
                             invalid ? " (" : "", invalid ? invalid : "", invalid ? ")" : "",
                             m->version);
    } else {
        msg = dbm_xasprintf("statement %d is claimed by %s, which has not ended it", n,
                            who ? who : "another run");
        hint = dbm_xasprintf("another run may be running it: wait for it; if no run is, check "
                             "the statement, then 'db-migrate repair --target-version %s'",
                             m->version);
    }
    e = dbm_report_set_error(result, msg, NULL);
    dbm_report_set(&e->hint, hint);
    dbm_report_set(&e->file, opts->display_path);
    free(msg);
    free(hint);
    free(invalid);
    if (state != DBM_CLAIM_INTERRUPTED)
        return DBM_EFAILED; /* the row may be a live run's progress: left alone */
    return record_failure(result, conn, m, n, opts, started) == DBM_EFAILED ? DBM_EFAILED
                                                                            : DBM_EGENERIC;
}

/*
 * Statement i of a file outside a transaction that may run in one: in one
 * with the end of its claim, so that a claim left unfinished means it did not
 * take effect.
 */
static int run_with_claim(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt *s, int n, const dbm_apply_opts *opts)
{
    dbm_stmt_list one;
    char *done = dbm_history_sql_claim_done(conn, opts->schema, m->version, n, opts->run_id);
    int error;

    memset(&one, 0, sizeof(one));
    one.items = (dbm_stmt *)s;
    one.count = 1;
    error =
        dbm_db_run_transactional(result, conn, m->up, m->up_len, m->up_line, &one, &done, 1, opts);
    free(done);
    return error;
}

/*
 * Statement i (0-based) of a file outside a transaction: claimed first, then
 * recorded as in progress (a rerun resumes here), then run. Skipped when
 * another run ran it already. 0, DBM_EFAILED (in result and the history), or
 * the history's error.
 */
static int run_claimed(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                       const dbm_stmt_list *stmts, size_t i, const dbm_apply_opts *opts,
                       int64_t started)
{
    const dbm_stmt *s = &stmts->items[i];
    bool in_tx = !(s->flags & (DBM_STMT_NO_TX | DBM_STMT_MAY_COMMIT));
    int n = (int)i + 1, error;
    dbm_claim_state state = DBM_CLAIM_BUSY;
    char *who = NULL, *sql;
    PGresult *res;

    error = dbm_history_claim(&state, &who, conn, opts->schema, m->version, n, opts->run_id, in_tx);
    if (error == 0 && state == DBM_CLAIM_DONE)
        dbm_log("  '%s' statement %d was run to its end by %s: not run again", opts->display_path,
                n, who ? who : "another run");
    else if (error == 0 && state != DBM_CLAIM_MINE)
        error = claim_refused(result, conn, m, n, state, who, opts, started);
    free(who);
    if (error < 0 || state != DBM_CLAIM_MINE)
        return error;
    if ((error =
             dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false, "failed",
                                0, n, "interrupted: the run stopped during this statement")) < 0)
        return error;
    if (in_tx) {
        error = run_with_claim(result, conn, m, s, n, opts);
        return error == DBM_EFAILED ? record_failure(result, conn, m, n, opts, started) : error;
    }
    sql = dbm_db_stmt_text(m->up, s);
    res = run_retrying(conn, sql, i, opts);
    free(sql);
    if (res) {
        error = statement_failed(result, conn, m, s, i, res, opts, started);
        if (PQstatus(conn) != CONNECTION_BAD)
            dbm_history_claim_end(conn, opts->schema, m->version, n, opts->run_id, "failed");
        return error;
    }
    return dbm_history_claim_end(conn, opts->schema, m->version, n, opts->run_id, "done");
}

/* The session as db-migrate keeps it, after a file that changed it outside a transaction. */
static void session_restore(PGconn *conn)
{
    char *sql = dbm_db_session_restore_sql(conn);

    PQclear(PQexec(conn, sql));
    free(sql);
}

/*
 * A file outside a transaction: statement by statement from opts->resume_from,
 * each claimed and recorded as in progress before it runs, so a rerun resumes
 * at the one that failed or was interrupted, and no statement runs twice.
 */
static int run_non_transactional(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts,
                                 int64_t started)
{
    size_t start = opts->resume_from > 0 ? (size_t)opts->resume_from - 1 : 0;
    char *set = dbm_db_session_timeouts(opts);
    int error = 0;

    if ((error = dbm_db_exec_simple(conn, set)) < 0)
        goto done;
    if (start > 0) {
        dbm_report_set(&result->note, NULL);
        result->note = dbm_xasprintf("resumed at statement %zu of %zu", start + 1, stmts->count);
    }
    /* A repeatable file runs again from its start: its earlier claims are spent. */
    if (m->repeatable && start == 0 &&
        (error = dbm_history_claims_clear(NULL, conn, opts->schema, m->version, false)) < 0)
        goto done;
    for (size_t i = start; i < stmts->count; i++) {
        if ((error = run_claimed(result, conn, m, stmts, i, opts, started)) != 0)
            goto done;
        /* SIGTERM: this statement was left to finish; the next one is not started. */
        if (dbm_stop_signal() && i + 1 < stmts->count) {
            error = stopped_between(result, conn, m, i + 1, stmts->count, opts, started);
            goto done;
        }
    }
    error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false, "applied",
                               (dbm_now_us() - started) / 1000, 0, NULL);
done:
    dbm_db_session_reset(conn, opts);
    if (stmts->sets_session)
        session_restore(conn);
    free(set);
    return error;
}

/*
 * The text of a file that runs its own BEGIN/COMMIT, with its history row
 * recorded inside its last transaction: before the COMMIT that ends the file,
 * so the file's work and its row commit together, and a connection lost at
 * the COMMIT never leaves work done but unrecorded, for a rerun to do again.
 * NULL when the file does not end with COMMIT (its row is recorded after it).
 * Caller frees.
 */
static char *as_written_recorded(PGconn *conn, const dbm_migration *m, const dbm_stmt_list *stmts,
                                 const dbm_apply_opts *opts)
{
    const dbm_stmt *last = stmts->count ? &stmts->items[stmts->count - 1] : NULL;
    dbm_buf b = DBM_BUF_INIT;
    char *sql;

    if (!last || !(last->flags & DBM_STMT_TX_CONTROL) || !last->tag ||
        strcmp(last->tag, "COMMIT") != 0)
        return NULL;
    dbm_buf_put(&b, m->up, last->offset);
    for (size_t i = 0; stmts->sets_session && i < DBM_DB_RESTORE_STATEMENTS; i++)
        dbm_buf_printf(&b, "\n%s;", dbm_db_session_restore(conn)[i]);
    if (opts->replace_existing) {
        sql = dbm_history_sql_delete(conn, opts->schema, m->version);
        dbm_buf_printf(&b, "\n%s;", sql);
        free(sql);
    }
    sql = dbm_history_sql_applied(conn, opts->schema, m, opts->run_id, opts->git_sha);
    dbm_buf_printf(&b, "\n%s;\n", sql);
    free(sql);
    dbm_buf_puts(&b, m->up + last->offset);
    return dbm_buf_detach(&b);
}

/*
 * A file's text sent as one message, every result read: NULL when all ran, else the first
 * error (caller PQclears) with *failed the number of statements that ran before it: the
 * index of the one that failed.
 */
static PGresult *send_as_written(PGconn *conn, const char *text, size_t *failed)
{
    PGresult *res, *err = NULL;
    size_t ran = 0;

    if (!PQsendQuery(conn, text)) {
        *failed = 0;
        return PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    }
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);

        if (dbm_db_skip_copy(conn, st)) {
            /* its data is refused or dropped */
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            if (!err) {
                err = res;
                *failed = ran;
                continue;
            }
        } else {
            ran++;
        }
        PQclear(res);
    }
    return err;
}

/* A file that runs its own BEGIN/COMMIT: sent as written, recorded in its last transaction. */
static int run_as_written(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt_list *stmts, const dbm_apply_opts *opts, int64_t started)
{
    char *set = dbm_db_session_timeouts(opts);
    char *text = as_written_recorded(conn, m, stmts, opts);
    size_t failed = 0;
    PGresult *res;
    int error;

    if ((error = dbm_db_exec_simple(conn, set)) < 0)
        goto done;
    if ((res = send_as_written(conn, text ? text : m->up, &failed)) != NULL) {
        /* At the statement that failed (db-migrate's own rows come before the last one); a
         * position is relative to the whole text, the same as the file's up to that row. */
        size_t at = stmts->count == 0       ? 0
                    : failed < stmts->count ? stmts->items[failed].offset
                                            : stmts->items[stmts->count - 1].offset;
        if (PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION))
            at = dbm_db_error_offset(res, m->up, m->up_len, 0);
        dbm_db_record_error(result, res, conn, m->up, m->up_len, at, m->up_line,
                            opts->display_path);
        PQclear(res);
        if (PQtransactionStatus(conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn, "ROLLBACK"));
        error = DBM_EFAILED;
        goto done;
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
        dbm_report_set_error(result, "the migration left a transaction open (BEGIN without COMMIT)",
                             NULL);
        dbm_report_set(&result->error->file, opts->display_path);
        error = DBM_EFAILED;
        goto done;
    }
    if (!text)
        error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, true,
                                   "applied", (dbm_now_us() - started) / 1000, 0, NULL);
done:
    dbm_db_session_reset(conn, opts);
    if (stmts->sets_session && !text)
        session_restore(conn);
    free(text);
    free(set);
    return error;
}

int dbm_db_run_statements(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    char *hist[2 + DBM_DB_RESTORE_STATEMENTS];
    size_t nhist = 0;
    int error;

    /* A file that changed the session puts it back before its history row, in its transaction. */
    for (size_t i = 0; stmts->sets_session && i < DBM_DB_RESTORE_STATEMENTS; i++)
        hist[nhist++] = dbm_xstrdup(dbm_db_session_restore(conn)[i]);
    if (opts->replace_existing)
        hist[nhist++] = dbm_history_sql_delete(conn, opts->schema, m->version);
    hist[nhist++] = dbm_history_sql_applied(conn, opts->schema, m, opts->run_id, opts->git_sha);
    error = dbm_db_run_transactional(result, conn, m->up, m->up_len, m->up_line, stmts, hist, nhist,
                                     opts);
    while (nhist > 0)
        free(hist[--nhist]);
    return error;
}

/* dbm_db_apply's batch of one: its only row is the caller's result. */
static dbm_mig_result *single_row(void *arg, size_t k)
{
    (void)k;
    return arg;
}

static void single_done(void *arg, size_t k, dbm_mig_result *r, int error)
{
    (void)arg, (void)k, (void)r, (void)error;
}

/*
 * A transactional file whose transaction control would end its transaction before its end
 * (plan's blocking transaction-control finding, checked again here): nothing is run, nothing
 * recorded. DBM_EFAILED.
 */
static int refuse_tx_control(dbm_mig_result *result, const dbm_migration *m, const dbm_stmt *s,
                             const dbm_apply_opts *opts)
{
    char *msg = dbm_xasprintf("%s would end the transaction db-migrate runs the file in, with its "
                              "history row; nothing was run",
                              s->tag);
    dbm_error_info *e = dbm_report_set_error(result, msg, NULL);

    dbm_report_set(&e->file, opts->display_path);
    e->line = m->up_line + s->line - 1;
    e->column = s->col;
    free(msg);
    result->status = DBM_MIG_FAILED;
    return DBM_EFAILED;
}

int dbm_db_apply(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    int64_t started = dbm_now_us();
    size_t tx = dbm_sql_misplaced_tx_control(stmts);
    int error;

    result->statement_count = (int)stmts->count;
    result->transactional = !m->no_transaction;
    if (!m->no_transaction && tx < stmts->count)
        return refuse_tx_control(result, m, &stmts->items[tx], opts);
    if (m->reset_session)
        dbm_db_reset_session(conn);
    if (dbm_db_batchable(conn, m, stmts)) {
        dbm_batch_item item = {m, stmts, *opts};
        dbm_batch_hooks hooks = {single_row, single_done, result};
        return dbm_db_apply_batch(conn, &item, 1, &hooks);
    }
    if (m->no_transaction)
        error = run_non_transactional(result, conn, m, stmts, opts, started);
    else if (stmts->manages_transaction)
        error = run_as_written(result, conn, m, stmts, opts, started);
    else
        error = dbm_db_run_statements(result, conn, m, stmts, opts);
    if (error == 0 && m->verify)
        error = dbm_db_verify(result, conn, m, opts, started);
    result->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    result->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}
