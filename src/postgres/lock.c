/*
 * lock.c - the run lock: a session advisory lock per history schema, taken in
 * the same round trip as the reads that should see the database once it is
 * held, and waited for by trying again from an idle session.
 */
#include "postgres/db_internal.h"
#include "common/error.h"
#include "common/log.h"
#include "postgres/history_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
                       "WHERE l.locktype = 'advisory' AND l.granted "
                       "AND l.database = (SELECT oid FROM pg_database "
                       "WHERE datname = current_database()) AND l.classid = $1::oid "
                       "AND l.objid = $2::oid AND l.objsubid = 1 LIMIT 1",
                       2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        who = dbm_xasprintf("pid %s, user %s, application '%s', client %s, connected since %s UTC",
                            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
                            PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
    PQclear(res);
    return who;
}

void dbm_db_results_free(PGresult **res, int n)
{
    for (int i = 0; res && i < n; i++)
        PQclear(res[i]);
    free(res);
}

/*
 * The lock's try followed by then_sql, as one query; *mine is how many
 * results are the lock's (then_sql's come after). Caller frees.
 *
 * The transaction is READ COMMITTED whatever the database's default, so the
 * reads see what a run that held the lock until just now applied.
 */
static char *lock_sql(int *mine, long long key, const char *then_sql)
{
    *mine = 2;
    return dbm_xasprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; "
                         "SELECT pg_try_advisory_lock(%lld)%s%s",
                         key, then_sql ? "; " : "", then_sql ? then_sql : "");
}

/* Send `sql` and gather all its results in order (*all: free with dbm_db_results_free). */
static int send_and_gather(PGresult ***all, int *count, PGconn *conn, const char *sql)
{
    size_t cap = 0;
    PGresult *r;

    *all = NULL;
    *count = 0;
    if (!PQsendQuery(conn, sql))
        return dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s", PQerrorMessage(conn));
    while ((r = PQgetResult(conn)) != NULL) {
        dbm_array_grow((void **)all, &cap, (size_t)*count + 1, sizeof(**all));
        (*all)[(*count)++] = r;
    }
    return 0;
}

/*
 * *got: whether the lock statement (result mine - 1) was granted the lock;
 * false when another session holds it. DBM_EGENERIC when the statements
 * failed otherwise.
 */
static int lock_granted(bool *got, PGconn *conn, PGresult *const *all, int count, int mine)
{
    const PGresult *r = count >= mine ? all[mine - 1] : count > 0 ? all[count - 1] : NULL;

    if (count < mine && PQresultStatus(r) != PGRES_FATAL_ERROR)
        return dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s", PQerrorMessage(conn));
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        *got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    else
        return dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s",
                             r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                 : PQerrorMessage(conn));
    return 0;
}

/* DBM_ELOCKED, naming the session that holds the lock when it is still there. */
static int held_elsewhere(PGconn *conn, long long key, const char *schema)
{
    char *who = lock_holder(conn, key);
    int error =
        dbm_error_set(DBM_ELOCKED, "another run holds the migration lock for schema '%s' (%s)",
                      schema, who ? who : "holder already gone");

    dbm_error_hint("wait for that run to finish, raise run-lock-wait, or end the session "
                   "with SELECT pg_terminate_backend(pid) if it is stuck");
    free(who);
    return error;
}

/*
 * One try (and then_sql after it, in the same round trip when given): *all
 * holds every result and *got says whether the lock was granted.
 */
static int try_once(PGresult ***all, int *count, bool *got, PGconn *conn, long long key,
                    const char *then_sql, int *mine)
{
    char *sql = lock_sql(mine, key, then_sql);
    int error = send_and_gather(all, count, conn, sql);

    if (error == 0)
        error = lock_granted(got, conn, *all, *count, *mine);
    free(sql);
    return error;
}

/* The progress line of a long wait: for how long, and who holds the lock. */
static void report_wait(PGconn *conn, long long key, const char *schema, int64_t waited_ms)
{
    char *who = lock_holder(conn, key);

    dbm_log("waiting for the run lock of schema '%s' for %lld s, held by %s", schema,
            (long long)(waited_ms / 1000), who ? who : "a session that just ended");
    free(who);
}

static void sleep_ms(long long ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/*
 * Wait for the lock until wait_ms from now, trying again and again: each try
 * is a statement of its own that returns at once, and between tries the
 * session is idle, outside any transaction. A run that waited on the server
 * (pg_advisory_lock) would hold a snapshot for as long as it waits, and the
 * holder's CREATE INDEX CONCURRENTLY waits for every snapshot older than its
 * build: each would wait for the other. The last try is made at the deadline.
 */
static int poll_lock(bool *got, PGconn *conn, long long key, long long wait_ms, const char *schema)
{
    int64_t started = dbm_now_ms(), deadline = started + wait_ms, report = started + 5000;
    long long delay = 50;
    char *sql = dbm_xasprintf("SELECT pg_try_advisory_lock(%lld)", key);
    int error = 0;

    *got = false;
    while (!*got) {
        int64_t left = deadline - dbm_now_ms();
        PGresult **all = NULL;
        int count = 0;

        if (left <= 0)
            break;
        if (dbm_now_ms() >= report) {
            report_wait(conn, key, schema, dbm_now_ms() - started);
            report += 10000;
        }
        sleep_ms(delay < left ? delay : left);
        if (delay < 1000)
            delay = delay * 2 > 1000 ? 1000 : delay * 2;
        if ((error = send_and_gather(&all, &count, conn, sql)) == 0)
            error = lock_granted(got, conn, all, count, 1);
        dbm_db_results_free(all, count);
        if (error < 0)
            break;
    }
    free(sql);
    return error;
}

int dbm_db_lock_with(PGresult ***res, int *n, PGconn *conn, const char *schema, long long wait_ms,
                     const char *then_sql)
{
    long long key = dbm_history_lock_key(schema);
    PGresult **all = NULL;
    int count = 0, mine = 0, error;
    bool got = false;

    if (res) {
        *res = NULL;
        *n = 0;
    }
    /* One round trip for everything when nobody holds the lock. */
    if ((error = try_once(&all, &count, &got, conn, key, then_sql, &mine)) < 0)
        goto done;
    if (!got && wait_ms > 0) {
        dbm_db_results_free(all, count);
        all = NULL;
        count = 0;
        if ((error = poll_lock(&got, conn, key, wait_ms, schema)) < 0)
            goto done;
        /* Held now (a second hold of the same lock is harmless: the session's end frees both). */
        if (got && then_sql &&
            (error = try_once(&all, &count, &got, conn, key, then_sql, &mine)) < 0)
            goto done;
    }
    if (!got) {
        error = held_elsewhere(conn, key, schema);
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
    return error;
}
