/*
 * db.c - running migrations on a libpq session.
 *
 * A transactional migration is sent as one pipeline (libpq pipeline mode):
 * BEGIN, the SET LOCALs, each statement as its own query, the history row,
 * COMMIT, then one Sync. That is one network round trip, yet each statement
 * gets its own result, so a failure names its statement and PostgreSQL's
 * error position is relative to that statement's text. Very large files fall
 * back to one query at a time inside the same transaction, so the pipeline
 * can never fill both sockets and stall.
 */
#include "db.h"
#include "error.h"
#include "history.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PIPELINE_MAX_QUERIES  500
#define PIPELINE_MAX_BYTES    (8u << 20)
#define LOCK_TIMEOUT_SQLSTATE "55P03"

static void notice_log(void *arg, const char *message)
{
    if (*(const bool *)arg) {
        size_t n = strcspn(message, "\n");
        dbm_log("  %.*s", (int)n, message);
    }
}

void dbm_db_quiet_notices(PGconn *conn, bool verbose)
{
    static bool log_them;
    log_them = verbose;
    PQsetNoticeProcessor(conn, notice_log, &log_them);
}

static const char *sqlstate_of(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

/* The session holding the advisory lock, as one line, or NULL. Caller frees. */
static char *lock_holder(PGconn *conn, long long key)
{
    char classid[16], objid[16];
    const char *params[2] = {classid, objid};
    PGresult *res;
    char *who = NULL;

    snprintf(classid, sizeof(classid), "%u", (unsigned)((unsigned long long)key >> 32));
    snprintf(objid, sizeof(objid), "%u", (unsigned)((unsigned long long)key & 0xffffffffu));
    res = PQexecParams(conn,
                       "SELECT a.pid, coalesce(a.usename, '?'), coalesce(a.application_name, ''), "
                       "coalesce(host(a.client_addr), 'local'), "
                       "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                       "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                       "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid "
                       "AND l.objid = $2::oid AND l.objsubid = 1 LIMIT 1",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        who = dbm_xasprintf("pid %s, user %s, application '%s', client %s, connected since %s UTC",
                            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                            PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
    PQclear(res);
    return who;
}

static int exec_simple(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int error = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to run '%s': %s", sql,
                              PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                  ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                                  : PQerrorMessage(conn));
    PQclear(res);
    return error;
}

void dbm_db_results_free(PGresult **res, int n)
{
    for (int i = 0; res && i < n; i++)
        PQclear(res[i]);
    free(res);
}

int dbm_db_lock_with(PGresult ***res, int *n, PGconn *conn, const char *schema, long long wait_ms,
                     const char *then_sql)
{
    long long key = dbm_history_lock_key(schema);
    PGresult **all = NULL, *r;
    size_t cap = 0;
    int count = 0, mine, error = 0;
    char *sql;
    bool got;

    if (res) {
        *res = NULL;
        *n = 0;
    }
    /*
     * One round trip for everything. The lock statement's results come first:
     * with a wait, SET LOCAL lasts for the implicit transaction of this
     * multi-statement query while the session lock outlives it, even when a
     * later statement fails and aborts that transaction. That transaction is
     * READ COMMITTED whatever the database's default: under REPEATABLE READ
     * the snapshot would be taken before the wait, and a run that waited
     * would not see what the holder applied.
     */
    if (wait_ms <= 0) {
        sql = dbm_xasprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
                            "SELECT pg_try_advisory_lock(%lld)%s%s",
                            key, then_sql ? "; " : "", then_sql ? then_sql : "");
        mine = 2;
    } else {
        sql = dbm_xasprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
                            "SET LOCAL lock_timeout = '%lldms'; SELECT pg_advisory_lock(%lld)%s%s",
                            wait_ms, key, then_sql ? "; " : "", then_sql ? then_sql : "");
        mine = 3;
    }
    if (!PQsendQuery(conn, sql)) {
        error =
            dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s", PQerrorMessage(conn));
        goto done;
    }
    while ((r = PQgetResult(conn)) != NULL) {
        dbm_array_grow((void **)&all, &cap, (size_t)count + 1, sizeof(*all));
        all[count++] = r;
    }
    r = count >= mine ? all[mine - 1] : count > 0 ? all[count - 1] : NULL;
    if (count < mine && PQresultStatus(r) != PGRES_FATAL_ERROR) {
        error =
            dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s", PQerrorMessage(conn));
        goto done;
    }
    if (PQresultStatus(r) == PGRES_TUPLES_OK)
        got = wait_ms > 0 || strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    else if (wait_ms > 0 && strcmp(sqlstate_of(r), LOCK_TIMEOUT_SQLSTATE) == 0)
        got = false;
    else {
        error = dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s",
                              r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                  ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                  : PQerrorMessage(conn));
        goto done;
    }
    if (!got) {
        char *who = lock_holder(conn, key);
        error =
            dbm_error_set(DBM_ELOCKED, "another run holds the migration lock for schema '%s' (%s)",
                          schema, who ? who : "holder already gone");
        dbm_error_hint("wait for that run to finish, raise run-lock-wait, or end the session "
                       "with SELECT pg_terminate_backend(pid) if it is stuck");
        free(who);
        goto done;
    }
    if (then_sql && res) {
        *n = count - mine;
        *res = dbm_xcalloc((size_t)*n + 1, sizeof(**res));
        memcpy(*res, all + mine, (size_t)*n * sizeof(**res));
        count = mine;
    }
done:
    dbm_db_results_free(all, count);
    free(sql);
    return error;
}

/* Numbered lines around `line` (1-based, in text), the line itself marked. */
static char *context_lines(const char *text, size_t len, int line, int first_line)
{
    dbm_buf b = DBM_BUF_INIT;
    int cur = 1;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (cur >= line - 3 && cur <= line + 2)
                dbm_buf_printf(&b, "%s%5d | %.*s\n", cur == line ? ">" : " ", cur + first_line - 1,
                               (int)(i - start), text + start);
            cur++;
            start = i + 1;
            if (cur > line + 2)
                break;
        }
    }
    return dbm_buf_detach(&b);
}

void dbm_db_fill_error(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                       size_t stmt_offset, int first_line, const char *file)
{
    const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    size_t offset = stmt_offset;
    int line = 1, col = 1;

    if (pos && stmt_offset <= text_len)
        offset = stmt_offset + dbm_sql_charpos_to_offset(text + stmt_offset, text_len - stmt_offset,
                                                         strtol(pos, NULL, 10));
    if (offset > text_len)
        offset = text_len;
    dbm_sql_linecol(text, text_len, offset, &line, &col);
    dbm_report_set(&e->detail, detail);
    dbm_report_set(&e->hint, hint);
    dbm_report_set(&e->file, file);
    e->line = first_line + line - 1;
    e->column = col;
    free(e->context);
    e->context = context_lines(text, text_len, line, first_line);
}

/* Sleep before retry `attempt` (0-based): 0.5 s doubling, capped at 8 s, with jitter. */
static void backoff(int attempt)
{
    static unsigned seed;
    long ms = 500L << (attempt < 4 ? attempt : 4);
    struct timespec ts;

    if (!seed)
        seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (ms > 8000)
        ms = 8000;
    ms = ms / 2 + rand_r(&seed) % (ms / 2 + 1);
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/*
 * Send queries[0..n) and read their results. Pipelined when allowed, else one
 * at a time. Returns NULL when all succeeded, else the first error result
 * (caller PQclears) with *failed its index. A failed transaction is rolled back.
 */
static PGresult *run_queries(PGconn *conn, char **queries, size_t n, bool pipelined, size_t *failed)
{
    PGresult *error_res = NULL;

    *failed = n;
    if (!pipelined) {
        for (size_t i = 0; i < n && !error_res; i++) {
            PGresult *res = PQexec(conn, queries[i]);
            ExecStatusType st = PQresultStatus(res);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
                PQclear(res);
            } else {
                error_res = res;
                *failed = i;
            }
        }
        goto done;
    }

    if (!PQenterPipelineMode(conn)) {
        /* Cannot happen on a healthy idle connection; degrade rather than fail. */
        return run_queries(conn, queries, n, false, failed);
    }
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
done:
    if (error_res && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (!error_res && *failed < n) {
        /* A send failed without a server error: the connection is gone. */
        error_res = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    }
    return error_res;
}

static char *section_stmt(const char *text, const dbm_stmt *s)
{
    return dbm_xstrndup(text + s->offset, s->len);
}

static void record_error(dbm_mig_result *result, const PGresult *res, PGconn *conn,
                         const char *text, size_t len, const dbm_stmt *stmt, int first_line,
                         const char *file)
{
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char *conn_msg = NULL;
    dbm_error_info *e;

    if (!msg) {
        size_t n = strcspn(PQerrorMessage(conn), "\n");
        conn_msg = dbm_xstrndup(PQerrorMessage(conn), n);
        msg = *conn_msg ? conn_msg : "connection lost";
    }
    e = dbm_report_set_error(result, msg,
                             PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                 ? PQresultErrorField(res, PG_DIAG_SQLSTATE)
                                 : NULL);
    dbm_db_fill_error(e, res, text, len, stmt ? stmt->offset : 0, first_line, file);
    free(conn_msg);
}

/*
 * Run a section transactionally: prefix queries, the statements, suffix
 * queries (history), COMMIT. Retries lock timeouts.
 */
static int run_transactional(dbm_mig_result *result, PGconn *conn, const char *text, size_t len,
                             int first_line, const dbm_stmt_list *stmts, const char *history_sql,
                             const dbm_apply_opts *opts)
{
    size_t nq = 0;
    size_t prefix;
    char **q = dbm_xcalloc(stmts->count + 5, sizeof(*q));
    bool pipelined;
    int error = 0;

    q[nq++] = dbm_xstrdup("BEGIN");
    q[nq++] = dbm_xasprintf("SET LOCAL lock_timeout = '%lldms'", opts->lock_timeout_ms);
    q[nq++] = dbm_xasprintf("SET LOCAL statement_timeout = '%lldms'", opts->statement_timeout_ms);
    prefix = nq;
    for (size_t i = 0; i < stmts->count; i++)
        q[nq++] = section_stmt(text, &stmts->items[i]);
    q[nq++] = dbm_xstrdup(history_sql);
    q[nq++] = dbm_xstrdup("COMMIT");
    pipelined = nq <= PIPELINE_MAX_QUERIES && len <= PIPELINE_MAX_BYTES;

    for (int attempt = 0;; attempt++) {
        size_t failed;
        PGresult *res = run_queries(conn, q, nq, pipelined, &failed);
        const dbm_stmt *stmt;

        if (!res)
            break;
        if (strcmp(sqlstate_of(res), LOCK_TIMEOUT_SQLSTATE) == 0 && attempt < opts->lock_retries) {
            dbm_log("  lock timeout in '%s' (attempt %d of %ld); retrying", opts->display_path,
                    attempt + 1, opts->lock_retries + 1);
            PQclear(res);
            backoff(attempt);
            continue;
        }
        stmt = failed >= prefix && failed < prefix + stmts->count ? &stmts->items[failed - prefix]
                                                                  : NULL;
        record_error(result, res, conn, text, len, stmt, first_line, opts->display_path);
        if (failed == prefix + stmts->count && strcmp(sqlstate_of(res), "23505") == 0) {
            dbm_report_set(&result->error->hint,
                           "another run recorded this version at the same time; nothing was "
                           "applied twice (the run lock was bypassed, e.g. by a pooler)");
        }
        if (strcmp(sqlstate_of(res), LOCK_TIMEOUT_SQLSTATE) == 0)
            dbm_report_set(&result->error->hint,
                           "another session held a conflicting lock for longer than lock-timeout "
                           "on every retry; find it in pg_locks, or raise lock-timeout or "
                           "lock-retries");
        PQclear(res);
        error = DBM_EFAILED;
        break;
    }
    for (size_t i = 0; i < nq; i++)
        free(q[i]);
    free(q);
    return error;
}

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

static int run_non_transactional(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts,
                                 int64_t started)
{
    size_t start = opts->resume_from > 0 ? (size_t)opts->resume_from - 1 : 0;
    char *set = dbm_xasprintf("SET lock_timeout = '%lldms'; SET statement_timeout = '%lldms'",
                              opts->lock_timeout_ms, opts->statement_timeout_ms);
    int error = 0;

    if ((error = exec_simple(conn, set)) < 0)
        goto done;
    if (start > 0)
        dbm_report_set(&result->note, NULL),
            result->note =
                dbm_xasprintf("resumed at statement %zu of %zu", start + 1, stmts->count);
    for (size_t i = start; i < stmts->count; i++) {
        const dbm_stmt *s = &stmts->items[i];
        char *sql = section_stmt(m->up, s);
        PGresult *res = NULL;

        /* Progress first: if this process dies mid-statement, a rerun resumes here. */
        if ((error = dbm_history_record(
                 conn, opts->schema, m, opts->run_id, opts->git_sha, false, "failed", 0, (int)i + 1,
                 "interrupted: the run stopped during this statement")) < 0) {
            free(sql);
            goto done;
        }
        for (int attempt = 0;; attempt++) {
            ExecStatusType st;
            PQclear(res);
            res = PQexec(conn, sql);
            st = PQresultStatus(res);
            if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
                PQclear(res);
                res = NULL;
                break;
            }
            if (strcmp(sqlstate_of(res), LOCK_TIMEOUT_SQLSTATE) == 0 &&
                attempt < opts->lock_retries) {
                dbm_log("  lock timeout in '%s' statement %zu (attempt %d of %ld); retrying",
                        opts->display_path, i + 1, attempt + 1, opts->lock_retries + 1);
                backoff(attempt);
                continue;
            }
            break;
        }
        free(sql);
        if (res) {
            char *hint = (s->flags & DBM_STMT_NO_TX) ? invalid_indexes_hint(conn) : NULL;
            record_error(result, res, conn, m->up, m->up_len, s, m->up_line, opts->display_path);
            PQclear(res);
            if (hint)
                dbm_report_set(&result->error->hint, hint);
            free(hint);
            error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false,
                                       "failed", (dbm_now_us() - started) / 1000, (int)i + 1,
                                       result->error->message);
            if (error == 0)
                error = DBM_EFAILED;
            goto done;
        }
    }
    error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, false, "applied",
                               (dbm_now_us() - started) / 1000, 0, NULL);
done:
    PQclear(PQexec(conn, "RESET lock_timeout; RESET statement_timeout"));
    free(set);
    return error;
}

/* A file that runs its own BEGIN/COMMIT: sent as written, then recorded. */
static int run_as_written(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt_list *stmts, const dbm_apply_opts *opts, int64_t started)
{
    char *set = dbm_xasprintf("SET lock_timeout = '%lldms'; SET statement_timeout = '%lldms'",
                              opts->lock_timeout_ms, opts->statement_timeout_ms);
    PGresult *res;
    int error;

    if ((error = exec_simple(conn, set)) < 0)
        goto done;
    res = PQexec(conn, m->up);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
        PQresultStatus(res) != PGRES_EMPTY_QUERY) {
        /* The position is relative to the whole text here. */
        record_error(result, res, conn, m->up, m->up_len, NULL, m->up_line, opts->display_path);
        PQclear(res);
        if (PQtransactionStatus(conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn, "ROLLBACK"));
        error = DBM_EFAILED;
        goto done;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PQclear(PQexec(conn, "ROLLBACK"));
        dbm_report_set_error(result, "the migration left a transaction open (BEGIN without COMMIT)",
                             NULL);
        dbm_report_set(&result->error->file, opts->display_path);
        error = DBM_EFAILED;
        goto done;
    }
    error = dbm_history_record(conn, opts->schema, m, opts->run_id, opts->git_sha, true, "applied",
                               (dbm_now_us() - started) / 1000, 0, NULL);
done:
    PQclear(PQexec(conn, "RESET lock_timeout; RESET statement_timeout"));
    free(set);
    return error;
}

int dbm_db_apply(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    int64_t started = dbm_now_us();
    int error;

    result->statement_count = (int)stmts->count;
    result->transactional = !m->no_transaction;
    if (m->no_transaction) {
        error = run_non_transactional(result, conn, m, stmts, opts, started);
    } else if (stmts->manages_transaction) {
        error = run_as_written(result, conn, m, stmts, opts, started);
    } else {
        char *hist = dbm_history_sql_applied(conn, opts->schema, m, opts->run_id, opts->git_sha,
                                             opts->replace_existing);
        error = run_transactional(result, conn, m->up, m->up_len, m->up_line, stmts, hist, opts);
        free(hist);
    }
    result->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    result->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}

/*
 * A down section that cannot run in a transaction (the migration runs outside
 * one, or the section holds DROP INDEX CONCURRENTLY): statement by statement,
 * then the history row is deleted. A failure leaves the row, so the migration
 * still reads as applied and a rerun of rollback starts the section again.
 */
static int run_down_statements(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                               const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    char *set = dbm_xasprintf("SET lock_timeout = '%lldms'; SET statement_timeout = '%lldms'",
                              opts->lock_timeout_ms, opts->statement_timeout_ms);
    int error;

    if ((error = exec_simple(conn, set)) < 0)
        goto done;
    for (size_t i = 0; i < stmts->count; i++) {
        const dbm_stmt *s = &stmts->items[i];
        char *sql = section_stmt(m->down, s);
        PGresult *res = PQexec(conn, sql);
        ExecStatusType st = PQresultStatus(res);

        free(sql);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            record_error(result, res, conn, m->down, m->down_len, s, m->down_line,
                         opts->display_path);
            PQclear(res);
            error = DBM_EFAILED;
            goto done;
        }
        PQclear(res);
    }
    error = dbm_history_delete(conn, opts->schema, m->version);
done:
    PQclear(PQexec(conn, "RESET lock_timeout; RESET statement_timeout"));
    free(set);
    return error;
}

int dbm_db_rollback_one(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                        const dbm_stmt_list *down_stmts, const dbm_apply_opts *opts)
{
    int64_t started = dbm_now_us();
    char *del = NULL;
    dbm_apply_opts o = *opts;
    int error;

    o.display_path = m->down_path ? m->down_path : m->path;
    result->statement_count = (int)down_stmts->count;
    result->transactional = !(m->no_transaction || down_stmts->has_no_tx);
    if (!result->transactional) {
        error = run_down_statements(result, conn, m, down_stmts, &o);
    } else {
        del = dbm_history_sql_delete(conn, opts->schema, m->version);
        error = run_transactional(result, conn, m->down, m->down_len, m->down_line, down_stmts, del,
                                  &o);
    }
    free(del);
    result->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    result->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}
