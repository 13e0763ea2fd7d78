/*
 * db.c - running migrations on a libpq session.
 *
 * A small transactional migration is sent as text in one simple-protocol
 * message: BEGIN, its settings, its statements, its history row, COMMIT.
 * Consecutive ones share a message (a batch), each still its own
 * transaction, so the server runs them back to back and a network costs one
 * round trip per batch, not per migration. Each statement still gets its own
 * result, so a failure names its statement, and PostgreSQL's error position,
 * relative to the whole message, is mapped back to the statement's text.
 *
 * Large files go one extended-protocol query per statement inside the same
 * kind of transaction (pipelined, or one at a time when very large), so the
 * server never parses megabytes at once; files outside a transaction run
 * statement by statement and record their progress.
 */
#include "postgres/db.h"
#include "common/error.h"
#include "postgres/history.h"
#include "common/log.h"
#include "common/util.h"

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

/*
 * Where in `text` the server's error points: PostgreSQL's cursor position
 * (characters, 1-based) counts from the statement at byte `stmt_offset`;
 * without one, that statement's start.
 */
static size_t error_offset(const PGresult *res, const char *text, size_t text_len,
                           size_t stmt_offset)
{
    const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);

    if (!pos || stmt_offset > text_len)
        return stmt_offset;
    return stmt_offset + dbm_sql_charpos_to_offset(text + stmt_offset, text_len - stmt_offset,
                                                   strtol(pos, NULL, 10));
}

/* As dbm_db_fill_error, pointing at byte `offset` of `text`. */
static void fill_error_at(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                          size_t offset, int first_line, const char *file)
{
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    int line = 1, col = 1;

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

void dbm_db_fill_error(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                       size_t stmt_offset, int first_line, const char *file)
{
    fill_error_at(e, res, text, text_len, error_offset(res, text, text_len, stmt_offset),
                  first_line, file);
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

/* The server's error as the migration's, pointing at byte `offset` of `text`. */
static void record_error(dbm_mig_result *result, const PGresult *res, PGconn *conn,
                         const char *text, size_t len, size_t offset, int first_line,
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
    fill_error_at(e, res, text, len, offset, first_line, file);
    free(conn_msg);
}

/* The hints for a failed transactional migration that the server's error does not give. */
static void transactional_hint(dbm_mig_result *result, const PGresult *res, bool in_history)
{
    if (in_history && strcmp(sqlstate_of(res), "23505") == 0)
        dbm_report_set(&result->error->hint,
                       "another run recorded this version at the same time; nothing was "
                       "applied twice (the run lock was bypassed, e.g. by a pooler)");
    if (strcmp(sqlstate_of(res), LOCK_TIMEOUT_SQLSTATE) == 0)
        dbm_report_set(&result->error->hint,
                       "another session held a conflicting lock for longer than lock-timeout "
                       "on every retry; find it in pg_locks, or raise lock-timeout or "
                       "lock-retries");
}

/*
 * The first statement of a migration's transaction: its timeouts, and the
 * mark its history row measures the duration from.
 */
#define TX_SETTINGS                                                                                \
    "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, "            \
    "true), " DBM_HISTORY_MARK_START

static char *tx_settings_sql(const dbm_apply_opts *opts)
{
    char lock[32], stmt[32];

    snprintf(lock, sizeof(lock), "'%lldms'", opts->lock_timeout_ms);
    snprintf(stmt, sizeof(stmt), "'%lldms'", opts->statement_timeout_ms);
    return dbm_xasprintf(TX_SETTINGS, lock, stmt);
}

/* The same, prepared once under `name` for a batch, and its EXECUTE for one migration. */
static char *tx_settings_prepare(const char *name)
{
    char *select = dbm_xasprintf(TX_SETTINGS, "$1", "$2");
    char *sql = dbm_xasprintf("PREPARE %s (text, text) AS %s", name, select);

    free(select);
    return sql;
}

static char *tx_settings_execute(const char *name, const dbm_apply_opts *opts)
{
    return dbm_xasprintf("EXECUTE %s('%lldms', '%lldms')", name, opts->lock_timeout_ms,
                         opts->statement_timeout_ms);
}

/*
 * Run a section transactionally, one extended-protocol query per statement
 * (pipelined unless very large): BEGIN, the settings, the statements, the
 * suffix queries (history), COMMIT. Retries lock timeouts.
 */
static int run_transactional(dbm_mig_result *result, PGconn *conn, const char *text, size_t len,
                             int first_line, const dbm_stmt_list *stmts, char *const *suffix,
                             size_t nsuffix, const dbm_apply_opts *opts)
{
    size_t nq = 0;
    size_t prefix;
    char **q = dbm_xcalloc(stmts->count + nsuffix + 3, sizeof(*q));
    bool pipelined;
    int error = 0;

    q[nq++] = dbm_xstrdup("BEGIN");
    q[nq++] = tx_settings_sql(opts);
    prefix = nq;
    for (size_t i = 0; i < stmts->count; i++)
        q[nq++] = section_stmt(text, &stmts->items[i]);
    for (size_t i = 0; i < nsuffix; i++)
        q[nq++] = dbm_xstrdup(suffix[i]);
    q[nq++] = dbm_xstrdup("COMMIT");
    pipelined = nq <= PIPELINE_MAX_QUERIES && len <= PIPELINE_MAX_BYTES;

    for (int attempt = 0;; attempt++) {
        size_t failed;
        PGresult *res = run_queries(conn, q, nq, pipelined, &failed);
        bool in_body = failed >= prefix && failed < prefix + stmts->count;

        if (!res)
            break;
        if (strcmp(sqlstate_of(res), LOCK_TIMEOUT_SQLSTATE) == 0 && attempt < opts->lock_retries) {
            dbm_log("  lock timeout in '%s' (attempt %d of %ld); retrying", opts->display_path,
                    attempt + 1, opts->lock_retries + 1);
            PQclear(res);
            backoff(attempt);
            continue;
        }
        record_error(result, res, conn, text, len,
                     in_body ? error_offset(res, text, len, stmts->items[failed - prefix].offset)
                             : 0,
                     first_line, opts->display_path);
        transactional_hint(result, res, failed >= prefix + stmts->count && failed + 1 < nq);
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
            record_error(result, res, conn, m->up, m->up_len,
                         error_offset(res, m->up, m->up_len, s->offset), m->up_line,
                         opts->display_path);
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
        record_error(result, res, conn, m->up, m->up_len, error_offset(res, m->up, m->up_len, 0),
                     m->up_line, opts->display_path);
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

/* A transactional migration and its history row, one extended-protocol query per statement. */
static int run_statements(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    char *hist[2];
    size_t nhist = 0;
    int error;

    if (opts->replace_existing)
        hist[nhist++] = dbm_history_sql_delete(conn, opts->schema, m->version);
    hist[nhist++] = dbm_history_sql_applied(conn, opts->schema, m, opts->run_id, opts->git_sha);
    error = run_transactional(result, conn, m->up, m->up_len, m->up_line, stmts, hist, nhist, opts);
    while (nhist > 0)
        free(hist[--nhist]);
    return error;
}

/* --- batches --- */

/*
 * A message holds at most this many migrations and bytes of them, so the log
 * keeps up with the work and the server parses little at once (it parses a
 * whole message before running any of it). Larger files go alone through
 * run_transactional, which sends one statement at a time.
 */
#define BATCH_MAX_ITEMS 64
#define BATCH_MAX_BYTES (256u << 10)
#define BATCH_FILE_MAX  (64u << 10)

bool dbm_db_batchable(PGconn *conn, const dbm_migration *m, const dbm_stmt_list *stmts)
{
    /* Before PostgreSQL 13, statement_timeout covered a whole message, not each statement. */
    return !m->no_transaction && !stmts->manages_transaction && m->up_len <= BATCH_FILE_MAX &&
           PQserverVersion(conn) >= 130000;
}

/*
 * One message: items [first, end), with where each of their statements starts
 * in it. For a larger batch it opens by preparing the history and settings
 * statements (`pre` results before the first item) and ends by dropping them.
 */
typedef struct {
    dbm_buf sql;
    size_t first, end;
    size_t pre;
    char name[64];     /* the prepared history statement, or "" */
    char settings[64]; /* the prepared settings statement, or "" */
    size_t *at;        /* message offset of each statement, item after item */
    size_t *base;      /* per item (k - first): its first entry in `at` */
} batch_msg;

/* An item's results: BEGIN, its settings, the statements, [DELETE], INSERT, COMMIT. */
#define ITEM_PREFIX 2
static size_t item_results(const dbm_batch_item *it)
{
    return it->stmts->count + ITEM_PREFIX + (it->opts.replace_existing ? 3 : 2);
}

/* From this many migrations in a message on, their history and settings statements are
 * prepared once. */
#define BATCH_PREPARE_MIN 4

static void batch_build(batch_msg *b, PGconn *conn, const dbm_batch_item *items, size_t first,
                        size_t n, size_t max_items)
{
    static unsigned long prepared_seq;
    size_t nat = 0, bytes = 0, k;

    memset(b, 0, sizeof(*b));
    b->first = first;
    for (k = first; k < n && k - first < max_items; k++) {
        if (k > first && bytes + items[k].m->up_len > BATCH_MAX_BYTES)
            break;
        bytes += items[k].m->up_len;
        nat += items[k].stmts->count;
    }
    b->end = k;
    b->at = dbm_xcalloc(nat + 1, sizeof(*b->at));
    b->base = dbm_xcalloc(b->end - first, sizeof(*b->base));
    if (b->end - first >= BATCH_PREPARE_MIN) {
        /* Names no other run shares: a message that fails leaves its statements behind,
         * and a pooler may hand this session's server connection to another run. */
        char *prep;
        prepared_seq++;
        snprintf(b->name, sizeof(b->name), "db_migrate_record_%ld_%lu", (long)getpid(),
                 prepared_seq);
        snprintf(b->settings, sizeof(b->settings), "db_migrate_start_%ld_%lu", (long)getpid(),
                 prepared_seq);
        prep = dbm_history_sql_prepare(conn, items[first].opts.schema, b->name);
        dbm_buf_printf(&b->sql, "%s;\n", prep);
        free(prep);
        prep = tx_settings_prepare(b->settings);
        dbm_buf_printf(&b->sql, "%s;\n", prep);
        free(prep);
        b->pre = 2;
    }
    nat = 0;
    for (k = first; k < b->end; k++) {
        const dbm_batch_item *it = &items[k];
        char *settings =
            *b->settings ? tx_settings_execute(b->settings, &it->opts) : tx_settings_sql(&it->opts);
        char *hist = *b->name ? dbm_history_sql_execute(conn, b->name, it->m, it->opts.run_id,
                                                        it->opts.git_sha)
                              : dbm_history_sql_applied(conn, it->opts.schema, it->m,
                                                        it->opts.run_id, it->opts.git_sha);

        dbm_buf_printf(&b->sql, "BEGIN;\n%s;\n", settings);
        b->base[k - first] = nat;
        for (size_t i = 0; i < it->stmts->count; i++) {
            const dbm_stmt *st = &it->stmts->items[i];
            b->at[nat++] = b->sql.len;
            dbm_buf_put(&b->sql, it->m->up + st->offset, st->len);
            /* On its own line: the statement may end in a -- comment. */
            dbm_buf_puts(&b->sql, "\n;\n");
        }
        if (it->opts.replace_existing) {
            char *del = dbm_history_sql_delete(conn, it->opts.schema, it->m->version);
            dbm_buf_printf(&b->sql, "%s;\n", del);
            free(del);
        }
        dbm_buf_printf(&b->sql, "%s;\nCOMMIT;\n", hist);
        free(settings);
        free(hist);
    }
    if (*b->name)
        dbm_buf_printf(&b->sql, "DEALLOCATE %s;\nDEALLOCATE %s;\n", b->name, b->settings);
}

static void batch_free(batch_msg *b)
{
    dbm_buf_free(&b->sql);
    free(b->at);
    free(b->base);
}

/* Item k of the message failed with `res` at its result `pos`: its row says how. */
static void batch_failed(const batch_msg *b, const dbm_batch_item *items, size_t k, size_t pos,
                         PGresult *res, PGconn *conn, dbm_mig_result *r)
{
    const dbm_batch_item *it = &items[k];
    size_t offset = 0;

    if (pos >= ITEM_PREFIX && pos < ITEM_PREFIX + it->stmts->count) {
        /* The server's position counts from the message's start: where in it, then where
         * in the file, when it falls inside the statement. */
        const dbm_stmt *st = &it->stmts->items[pos - ITEM_PREFIX];
        size_t at = b->at[b->base[k - b->first] + pos - ITEM_PREFIX];
        size_t in_msg = error_offset(res, b->sql.ptr, b->sql.len, 0);

        offset = in_msg >= at && in_msg <= at + st->len ? st->offset + (in_msg - at) : st->offset;
    }
    record_error(r, res, conn, it->m->up, it->m->up_len, offset, it->m->up_line,
                 it->opts.display_path);
    transactional_hint(r, res, pos >= ITEM_PREFIX + it->stmts->count && pos + 1 < item_results(it));
}

/* Item `it` outside a batch, a statement at a time, its outcome in `r`. */
static int statements_one_by_one(dbm_mig_result *r, PGconn *conn, const dbm_batch_item *it)
{
    int64_t started = dbm_now_us();
    int error = run_statements(r, conn, it->m, it->stmts, &it->opts);

    r->statement_count = (int)it->stmts->count;
    r->transactional = true;
    r->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    r->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}

/*
 * Once per session: the server checks every second that the client is still
 * there (PostgreSQL 14 on, where the platform allows), so a job cancelled in
 * the middle of a batch stops the server within about a second instead of
 * letting it run the rest of the message. Failure to set it changes nothing.
 */
static void watch_client(PGconn *conn)
{
    static PGconn *done;

    if (done == conn || PQserverVersion(conn) < 140000)
        return;
    done = conn;
    PQclear(PQexec(conn, "SET client_connection_check_interval = '1s'"));
}

/* A result where an item's BEGIN or COMMIT should be, that is not one. */
static bool wrong_tag(const PGresult *res, size_t pos, size_t nres)
{
    const char *tag = PQcmdStatus((PGresult *)res);
    return (pos == 0 && strcmp(tag, "BEGIN") != 0) ||
           (pos + 1 == nres && strcmp(tag, "COMMIT") != 0);
}

int dbm_db_apply_batch(PGconn *conn, const dbm_batch_item *items, size_t n,
                       const dbm_batch_hooks *hooks)
{
    size_t k = 0, per_message = BATCH_MAX_ITEMS;
    bool one_by_one = false;
    int attempt = 0;

    watch_client(conn);
    while (k < n) {
        batch_msg b;
        size_t j = k, pos = 0, seen = 0, err_pos = 0, pre;
        PGresult *res, *err = NULL;
        long long duration = -1;
        double done_ms = 0; /* server time of the items applied from this message */
        int64_t sent = dbm_now_us();
        bool mismatch = false;
        dbm_mig_result *r;
        const char *scs = PQparameterStatus(conn, "standard_conforming_strings");

        if (one_by_one || !scs || strcmp(scs, "on") != 0) {
            /*
             * The files were split with standard_conforming_strings on; with
             * it off the server reads backslashes in strings otherwise, and
             * text run together could be read across statements. Also the
             * way to the error when the server could not parse a message.
             */
            r = hooks->row(hooks->arg, k);
            if (statements_one_by_one(r, conn, &items[k]) < 0) {
                hooks->done(hooks->arg, k, r, DBM_EFAILED);
                return DBM_EFAILED;
            }
            hooks->done(hooks->arg, k, r, 0);
            k++;
            one_by_one = false;
            continue;
        }
        batch_build(&b, conn, items, k, n, per_message);
        pre = b.pre;
        if (!PQsendQuery(conn, dbm_buf_cstr(&b.sql)))
            err = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
        while ((res = PQgetResult(conn)) != NULL) {
            ExecStatusType st = PQresultStatus(res);

            if (st == PGRES_COPY_IN) {
                /* COPY FROM STDIN: the data would have to follow in the file, which SQL cannot. */
                PQputCopyEnd(conn, "db-migrate sends no COPY data; load it with INSERT or COPY "
                                   "FROM a server file");
            } else if (st == PGRES_COPY_OUT) {
                char *row;
                while (PQgetCopyData(conn, &row, 0) > 0)
                    PQfreemem(row);
            } else if (err || mismatch) {
                /* the rest of the message was skipped, or cannot be matched any more */
            } else if (j == b.end) {
                /* after the last COMMIT: every item is applied, whatever comes now */
            } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
                err = res;
                err_pos = pos;
                continue;
            } else if (pre > 0) {
                pre--;
                seen++;
            } else if (wrong_tag(res, pos, item_results(&items[j]))) {
                /* The server split a file otherwise than its parser here did. */
                mismatch = true;
            } else {
                seen++;
                if (pos + 2 == item_results(&items[j]) && PQntuples(res) == 1)
                    duration = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
                if (++pos == item_results(&items[j])) {
                    /* Its COMMIT: applied. */
                    r = hooks->row(hooks->arg, j);
                    r->statement_count = (int)items[j].stmts->count;
                    r->transactional = true;
                    r->status = DBM_MIG_APPLIED;
                    r->duration_ms = duration >= 0 ? (double)duration : 0;
                    done_ms += r->duration_ms;
                    hooks->done(hooks->arg, j, r, 0);
                    j++;
                    pos = 0;
                    duration = -1;
                    attempt = 0;
                }
            }
            PQclear(res);
        }
        if (!err && !mismatch && j < b.end) /* the results stopped short: the connection is gone */
            err = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
        if (!err && !mismatch) {
            k = b.end;
            batch_free(&b);
            continue;
        }
        if (PQtransactionStatus(conn) == PQTRANS_INERROR ||
            PQtransactionStatus(conn) == PQTRANS_INTRANS)
            PQclear(PQexec(conn, "ROLLBACK"));
        if (*b.name && PQstatus(conn) == CONNECTION_OK) {
            /* Each alone: one fails when its PREPARE did not run, which is no matter. */
            char *drop = dbm_xasprintf("DEALLOCATE %s", b.name);
            PQclear(PQexec(conn, drop));
            free(drop);
            drop = dbm_xasprintf("DEALLOCATE %s", b.settings);
            PQclear(PQexec(conn, drop));
            free(drop);
        }
        if (!mismatch && seen == 0 && PQstatus(conn) == CONNECTION_OK) {
            /*
             * The server parses a whole message before it runs any of it, so
             * one migration it cannot parse stopped all of them: one to a
             * message from here, so the others run; and the one that fails
             * alone is sent a statement at a time, so its error is exact.
             */
            if (b.end - k > 1)
                per_message = 1;
            else
                one_by_one = true;
        } else if (!mismatch && strcmp(sqlstate_of(err), LOCK_TIMEOUT_SQLSTATE) == 0 &&
                   attempt < items[j].opts.lock_retries) {
            dbm_log("  lock timeout in '%s' (attempt %d of %ld); retrying",
                    items[j].opts.display_path, attempt + 1, items[j].opts.lock_retries + 1);
            backoff(attempt++);
            k = j;
        } else {
            r = hooks->row(hooks->arg, j);
            r->statement_count = (int)items[j].stmts->count;
            r->transactional = true;
            r->status = DBM_MIG_FAILED;
            /* The server answers a message at its end: its time, less the items before. */
            r->duration_ms = (double)(dbm_now_us() - sent) / 1000.0 - done_ms;
            if (r->duration_ms < 0)
                r->duration_ms = 0;
            if (mismatch) {
                dbm_report_set_error(r,
                                     "the server's results did not match the statements "
                                     "sent; nothing after the last migration reported "
                                     "applied was recorded by this run",
                                     NULL);
                dbm_report_set(&r->error->file, items[j].opts.display_path);
            } else {
                batch_failed(&b, items, j, err_pos, err, conn, r);
            }
            if (PQstatus(conn) != CONNECTION_OK)
                dbm_report_set(&r->error->hint,
                               "the connection was lost during a batch: this migration and "
                               "later ones of the batch may have committed before the server "
                               "noticed; `db-migrate status` shows what is recorded");
            PQclear(err);
            batch_free(&b);
            hooks->done(hooks->arg, j, r, DBM_EFAILED);
            return DBM_EFAILED;
        }
        PQclear(err);
        batch_free(&b);
    }
    return 0;
}

static dbm_mig_result *single_row(void *arg, size_t k)
{
    (void)k;
    return arg;
}

static void single_done(void *arg, size_t k, dbm_mig_result *r, int error)
{
    (void)arg, (void)k, (void)r, (void)error;
}

int dbm_db_apply(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts)
{
    int64_t started = dbm_now_us();
    int error;

    result->statement_count = (int)stmts->count;
    result->transactional = !m->no_transaction;
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
        error = run_statements(result, conn, m, stmts, opts);
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
            record_error(result, res, conn, m->down, m->down_len,
                         error_offset(res, m->down, m->down_len, s->offset), m->down_line,
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
        error = run_transactional(result, conn, m->down, m->down_len, m->down_line, down_stmts,
                                  &del, 1, &o);
    }
    free(del);
    result->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    result->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}
