/*
 * lock.c - taking the run lock: the lease (lease.c) and, on a direct
 * connection, the session advisory lock, in the same round trip as the reads
 * that should see the database once it is held; waited for by trying again
 * from an idle session; the holder named when it is not free.
 */
#include "postgres/db_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/log.h"
#include "postgres/history_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The session holding the advisory lock (a run of an earlier release, which
 * takes no lease), as one line, or NULL. Caller frees.
 */
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

/* Send `sql` and gather all its results in order (*all: free with dbm_db_results_free). */
static int send_and_gather(PGresult ***all, int *count, PGconn *conn, const char *sql)
{
    size_t cap = 0;
    PGresult *r;

    *all = NULL;
    *count = 0;
    if (!PQsendQuery(conn, sql))
        return dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s",
                             dbm_db_message(NULL, conn));
    while ((r = PQgetResult(conn)) != NULL) {
        dbm_array_grow((void **)all, &cap, (size_t)*count + 1, sizeof(**all));
        (*all)[(*count)++] = r;
    }
    return 0;
}

/* What the lease row will say of this run. */
typedef struct {
    dbm_lease_who who;
    char host[256];
} lock_who;

static void fill_who(lock_who *w, const dbm_lock_opts *o)
{
    w->who.command = o->command;
    w->who.actor = o->actor;
    w->who.git_sha = o->git_sha;
    w->who.run_url = o->run_url;
    if (gethostname(w->host, sizeof(w->host)) != 0)
        snprintf(w->host, sizeof(w->host), "%s", "unknown");
    w->host[sizeof(w->host) - 1] = '\0';
    w->who.host = w->host;
}

/*
 * One try: the take, then then_sql when given, in one round trip and one READ
 * COMMITTED transaction (the reads see what a run that held the lock until
 * just now applied); when the lease is another run's, the holder's read in a
 * second. *t says what came of it; *all and *count hold every result,
 * then_sql's from index 2.
 */
static int try_once(dbm_lease_try *t, PGresult ***all, int *count, PGconn *conn, dbm_db_lock *lock,
                    const lock_who *w, const char *then_sql)
{
    char *take = dbm_lease_take_sql(conn, lock, &w->who);
    char *sql = dbm_xasprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; %s%s%s", take,
                              then_sql ? "; " : "", then_sql ? then_sql : "");
    int error = send_and_gather(all, count, conn, sql);

    if (error == 0 && *count < 2)
        error = dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s",
                              dbm_db_message(*count > 0 ? (*all)[*count - 1] : NULL, conn));
    if (error == 0)
        error = dbm_lease_read(t, conn, lock, (*all)[1], NULL);
    if (error == 0 && !t->got && !t->missing) {
        char *hsql = dbm_lease_holder_sql(conn, lock);
        PGresult *holder = PQexec(conn, hsql);

        error = dbm_lease_read(t, conn, lock, (*all)[1], holder);
        PQclear(holder);
        free(hsql);
    }
    /* The session lock alone is no run lock: a live run through a pooler has the lease. */
    if (error == 0 && t->adv_ok && !t->got && dbm_db_lock_direct(lock)) {
        char *unlock = dbm_xasprintf("SELECT pg_advisory_unlock(%lld)", dbm_lease_key(lock));
        PQclear(PQexec(conn, unlock));
        free(unlock);
    }
    free(sql);
    free(take);
    return error;
}

/* The holder of a try that did not get the lock, as one line. Caller frees. */
static char *holder_line(PGconn *conn, const dbm_db_lock *lock, const dbm_lease_try *t)
{
    char *who;

    if (t->holder && t->holder_pid)
        return dbm_xasprintf("%s; session pid %d", t->holder, t->holder_pid);
    if (t->holder)
        return dbm_xasprintf("%s; through a pooler", t->holder);
    who = lock_holder(conn, dbm_lease_key(lock));
    return who ? who : dbm_xstrdup("holder already gone");
}

/* DBM_ELOCKED, naming the run (or an earlier release's session) that holds the lock. */
static int held_elsewhere(PGconn *conn, const dbm_db_lock *lock, const dbm_lease_try *t,
                          const char *schema)
{
    char *who = holder_line(conn, lock, t);
    int error = dbm_error_set(
        DBM_ELOCKED, "another run holds the migration lock for schema '%s' (%s)", schema, who);

    if (t->holder && !t->holder_pid)
        dbm_error_hint("wait for that run to finish, or raise run-lock-wait; if it died, its "
                       "lease expires in %lld s unless renewed, and the next run takes it over",
                       t->expires_in_s);
    else if (t->holder)
        dbm_error_hint("wait for that run to finish, raise run-lock-wait, or end its session "
                       "with SELECT pg_terminate_backend(%d) if it is stuck",
                       t->holder_pid);
    else
        dbm_error_hint("wait for that run to finish, raise run-lock-wait, or end the session "
                       "with SELECT pg_terminate_backend(pid) if it is stuck");
    free(who);
    return error;
}

/*
 * Wait for the lock until wait_ms from now, trying again and again: each try
 * is a short transaction of its own, and between tries the session is idle,
 * outside any transaction. A run that waited on the server (pg_advisory_lock)
 * would hold a snapshot for as long as it waits, and the holder's CREATE
 * INDEX CONCURRENTLY waits for every snapshot older than its build: each
 * would wait for the other. The last try is made at the deadline.
 */
static int poll_lock(dbm_lease_try *t, PGconn *conn, dbm_db_lock *lock, const lock_who *w,
                     const dbm_lock_opts *o)
{
    int64_t started = dbm_now_ms(), deadline = started + o->wait_ms, report = started + 5000;
    long long delay = 50;
    int error = 0;

    while (!t->got) {
        int64_t left = deadline - dbm_now_ms();
        PGresult **all = NULL;
        int count = 0;

        if (left <= 0)
            break;
        if (dbm_now_ms() >= report) {
            char *who = holder_line(conn, lock, t);
            dbm_log("waiting for the run lock of schema '%s' for %lld s, held by %s", o->schema,
                    (long long)((dbm_now_ms() - started) / 1000), who);
            free(who);
            report += 10000;
        }
        dbm_sleep_ms(delay < left ? delay : left);
        if (delay < 1000)
            delay = delay * 2 > 1000 ? 1000 : delay * 2;
        error = try_once(t, &all, &count, conn, lock, w, NULL);
        dbm_db_results_free(all, count);
        if (error < 0 || t->missing)
            break;
    }
    return error;
}

/*
 * The first try, creating the history tables when the lease table is missing
 * (a new database, or a history of an earlier release) and trying again.
 */
static int first_try(dbm_lease_try *t, PGresult ***all, int *count, PGconn *conn, dbm_db_lock *lock,
                     const lock_who *w, const dbm_lock_opts *o, const char *then_sql)
{
    int error = try_once(t, all, count, conn, lock, w, then_sql);

    if (error < 0 || !t->missing)
        return error;
    dbm_db_results_free(*all, *count);
    *all = NULL;
    *count = 0;
    if ((error = dbm_history_ensure(conn, o->schema, o->wait_ms)) < 0 ||
        (error = try_once(t, all, count, conn, lock, w, then_sql)) < 0)
        return error;
    if (t->missing)
        return dbm_error_set(DBM_EGENERIC,
                             "unable to take the run lock: the lease table of "
                             "schema '%s' is missing after creating it",
                             o->schema);
    return 0;
}

int dbm_db_lock_with(dbm_db_lock **out, PGresult ***res, int *n, PGconn *conn,
                     const dbm_lock_opts *o, const char *then_sql)
{
    dbm_db_lock *lock = dbm_lease_new(conn, o->schema);
    dbm_lease_try t = {0};
    lock_who w;
    PGresult **all = NULL;
    int count = 0, mine = 2, error;

    *out = NULL;
    if (res) {
        *res = NULL;
        *n = 0;
    }
    fill_who(&w, o);
    /* One round trip for everything when nobody holds the lock. */
    if ((error = first_try(&t, &all, &count, conn, lock, &w, o, then_sql)) < 0)
        goto done;
    if (!t.got && o->wait_ms > 0) {
        dbm_db_results_free(all, count);
        all = NULL;
        count = 0;
        if ((error = poll_lock(&t, conn, lock, &w, o)) < 0)
            goto done;
        /* Held now: the reads, after it. */
        if (t.got && then_sql) {
            char *sql =
                dbm_xasprintf("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; %s", then_sql);
            error = send_and_gather(&all, &count, conn, sql);
            mine = 1;
            free(sql);
            if (error < 0)
                goto done;
        }
    }
    if (!t.got) {
        error = held_elsewhere(conn, lock, &t, o->schema);
        goto done;
    }
    if (t.took_over)
        dbm_log("notice: took over the run lease of %s", t.took_over);
    if (!dbm_db_lock_direct(lock))
        dbm_lease_heartbeat_start(lock, conn);
    if (then_sql && res) {
        *n = count > mine ? count - mine : 0;
        *res = dbm_xcalloc((size_t)*n + 1, sizeof(**res));
        memcpy(*res, all + mine, (size_t)*n * sizeof(**res));
        count = count > mine ? mine : count;
    }
    *out = lock;
    lock = NULL;
done:
    dbm_lease_try_free(&t);
    dbm_db_lock_release(lock, error < 0 ? conn : NULL);
    dbm_db_results_free(all, count);
    return error;
}
