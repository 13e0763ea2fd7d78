/*
 * session.c - what every job on the libpq session needs: server notices, the
 * result's SQLSTATE, plain commands, the session's timeouts and the pace of
 * retries.
 */
#include "postgres/db_internal.h"
#include "postgres/message.h"
#include "postgres/connect.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "sql/ident.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * A server notice under --verbose, as one line: libpq's "NOTICE:  text\n"
 * (or WARNING, INFO, ...) becomes "notice: text", the detail lines after it
 * left out.
 */
static void notice_log(void *arg, const char *message)
{
    char line[1024], severity[16];
    size_t n = strspn(message, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");

    if (!*(const bool *)arg || strstr(message, DBM_DB_FLUSH_NOTICE))
        return;
    if (n == 0 || n >= sizeof(severity) || strncmp(message + n, ":  ", 3) != 0)
        n = 0;
    for (size_t i = 0; i < n; i++)
        severity[i] = (char)(message[i] - 'A' + 'a');
    severity[n] = '\0';
    dbm_db_message_clean(line, sizeof(line), message, strcspn(message, "\n"));
    dbm_log("  %s%s%s", severity, n ? ": " : "", line);
}

void dbm_db_quiet_notices(PGconn *conn, bool verbose)
{
    static bool log_them;
    log_them = verbose;
    PQsetNoticeProcessor(conn, notice_log, &log_them);
}

const char *dbm_db_sqlstate(const PGresult *res)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return s ? s : "";
}

int dbm_db_exec_simple(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int error = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        error =
            dbm_error_set(DBM_EGENERIC, "unable to run '%s': %s", sql, dbm_db_message(res, conn));
    PQclear(res);
    return error;
}

void dbm_db_backoff(int attempt)
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

char *dbm_db_session_timeouts(const dbm_apply_opts *opts)
{
    char *lit = opts->search_path ? dbm_sql_quote_literal(opts->search_path) : NULL;
    char *sql = dbm_xasprintf("SET lock_timeout = '%lldms'; SET statement_timeout = '%lldms'%s%s%s",
                              opts->lock_timeout_ms, opts->statement_timeout_ms,
                              lit ? "; SELECT set_config('search_path', " : "", lit ? lit : "",
                              lit ? ", false)" : "");

    free(lit);
    return sql;
}

void dbm_db_session_reset(PGconn *conn, const dbm_apply_opts *opts)
{
    PQclear(PQexec(conn, opts->search_path
                             ? "RESET lock_timeout; RESET statement_timeout; RESET search_path"
                             : "RESET lock_timeout; RESET statement_timeout"));
}

char *dbm_db_stmt_text(const char *text, const dbm_stmt *s)
{
    return dbm_xstrndup(text + s->offset, s->len);
}

const char *const *dbm_db_session_restore(PGconn *pg)
{
    /* RESET ALL leaves the role and the session user alone (GUC_NO_RESET_ALL). */
#define RESETS "RESET SESSION AUTHORIZATION", "RESET ROLE", "RESET ALL"
    static const char *const v17[] = {RESETS,
                                      "SELECT set_config('client_connection_check_interval', "
                                      "'1s', false), set_config('idle_session_timeout', '0', "
                                      "false), set_config('transaction_timeout', '0', false)"};
    static const char *const v14[] = {RESETS,
                                      "SELECT set_config('client_connection_check_interval', "
                                      "'1s', false), set_config('idle_session_timeout', '0', "
                                      "false)"};
    static const char *const older[] = {RESETS, "SELECT NULL"};
#undef RESETS
    int v = PQserverVersion(pg);

    return v >= 170000 ? v17 : v >= 140000 ? v14 : older;
}

char *dbm_db_session_restore_sql(PGconn *pg)
{
    const char *const *r = dbm_db_session_restore(pg);
    dbm_buf b = DBM_BUF_INIT;

    for (size_t i = 0; i < DBM_DB_RESTORE_STATEMENTS; i++)
        dbm_buf_printf(&b, "%s%s", i ? "; " : "", r[i]);
    return dbm_buf_detach(&b);
}
