/*
 * lease.c - the run lease: the row of <history-schema>.lease that names the
 * run holding the run lock, taken, renewed and released in short
 * transactions, so that it holds through a transaction-mode pooler, where a
 * session advisory lock is shared by the clients of one server connection and
 * outlives the run on it.
 *
 * Which connection is direct is decided by the server, in the statement that
 * takes the lease: the backend's pid equals the one libpq was given at
 * startup (BackendKeyData) only when nothing stands in between; PgBouncer
 * hands its clients a key of its own. On a direct connection the run also
 * holds the session advisory lock (the lock of earlier releases, so that
 * their runs and this one still exclude each other), and its lease lives as
 * long as its backend holds that lock: a killed run's lease is taken over at
 * once. Through a pooler no session lock is taken (it would stay on a pooled
 * server connection); the advisory lock is only tried for the transaction,
 * against runs of earlier releases, and the lease lives while a heartbeat on a
 * second connection renews it: a dead run's lease expires after its TTL.
 */
#include "postgres/db_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread.h"
#include "postgres/history_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASE_TTL_DEFAULT_S 30

struct dbm_db_lock {
    char token[40];
    char *schema_q; /* quoted */
    long long key, ttl_s;
    bool direct;
    dbm_job *heartbeat;
    char *renew_sql;
    PQconninfoOption *conninfo; /* the heartbeat's connection: the run's options */
    atomic_bool lost, stop;
    _Atomic int64_t renewed_ms; /* when the lease was last taken or renewed (dbm_now_ms) */
    pthread_t starter;          /* the run's thread, which must never run the heartbeat */
};

/* A literal, or NULL. Caller frees. */
static char *lit(PGconn *conn, const char *s)
{
    char *q = s ? PQescapeLiteral(conn, s, strlen(s)) : NULL;
    char *out = dbm_xstrdup(q ? q : "NULL");

    PQfreemem(q);
    return out;
}

static long long lease_ttl(void)
{
    const char *v = getenv("DB_MIGRATE_LEASE_TTL");
    long long s = v && *v ? strtoll(v, NULL, 10) : 0;

    return s >= 1 && s <= 86400 ? s : LEASE_TTL_DEFAULT_S;
}

dbm_db_lock *dbm_lease_new(PGconn *conn, const char *schema)
{
    dbm_db_lock *l = dbm_xcalloc(1, sizeof(*l));
    unsigned long long a = (unsigned long long)dbm_now_us() ^ ((unsigned long long)getpid() << 40);
    FILE *f = fopen("/dev/urandom", "rb");

    if (!f || fread(&a, sizeof(a), 1, f) != 1)
        a ^= (unsigned long long)(uintptr_t)l;
    if (f)
        fclose(f);
    snprintf(l->token, sizeof(l->token), "%016llx%08x", a, (unsigned)getpid());
    l->schema_q = PQescapeIdentifier(conn, schema, strlen(schema));
    l->key = dbm_history_lock_key(schema);
    l->ttl_s = lease_ttl();
    return l;
}

const char *dbm_db_lock_token(const dbm_db_lock *lock)
{
    return lock ? lock->token : NULL;
}

bool dbm_db_lock_direct(const dbm_db_lock *lock)
{
    return lock && lock->direct;
}

long long dbm_lease_key(const dbm_db_lock *lock)
{
    return lock->key;
}

/*
 * Whether the lease row `l` belongs to a live run: a direct holder while its
 * backend holds the advisory lock, any other until its expiry. Caller frees.
 */
static char *live_sql(const dbm_db_lock *lock, const char *l)
{
    unsigned long long k = (unsigned long long)lock->key;

    return dbm_xasprintf(
        "CASE WHEN %s.backend_pid IS NULL THEN %s.expires_at > clock_timestamp() ELSE EXISTS "
        "(SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.granted AND k.pid = "
        "%s.backend_pid AND k.database = (SELECT oid FROM pg_database WHERE datname = "
        "current_database()) AND k.classid = %u AND k.objid = %u AND k.objsubid = 1) END",
        l, l, l, (unsigned)(k >> 32), (unsigned)(k & 0xffffffffu));
}

/*
 * How a lease row `l` names its run, as SQL for a format string (its % doubled):
 * "run 12: apply by alice on ci-7, since 2026-01-02 03:04:05 UTC, commit ..., URL".
 */
#define WHO_ARGS(l)                                                                                \
    "coalesce(" l ".command, 'a run'), coalesce(" l ".actor, 'someone'), coalesce(" l ".host, "    \
    "'an unknown host'), to_char(" l ".since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
#define HOLDER_SQL(l)                                                                              \
    "format('%%s: %%s by %%s on %%s, since %%s UTC', coalesce('run ' || " l ".run_id, "            \
    "'a run not recorded yet'), " WHO_ARGS(l) ") || coalesce(', commit ' || left(" l ".git_sha, "  \
                                              "12), '') || coalesce(', ' || " l ".run_url, '')"
/* "run 12 (apply by alice on ci-7, since ... UTC)": the run whose lease was taken over. */
#define TOOK_SQL(l)                                                                                \
    "format('%%s (%%s by %%s on %%s, since %%s UTC)', coalesce('run ' || " l ".run_id, "           \
    "'a run not recorded yet'), " WHO_ARGS(l) ")"

/* The holder's read: the live lease when it is not this run's, in a statement of its own. */
static char *holder_sql(const dbm_db_lock *lock, const char *tok, const char *live_l)
{
    return dbm_xasprintf(
        "SELECT " HOLDER_SQL(
            "l") ", l.backend_pid, greatest(0, ceil(extract("
                 "epoch FROM l.expires_at - clock_timestamp())))::bigint FROM %s.lease l "
                 "WHERE l.name = 'run' AND l.token <> %s AND %s",
        lock->schema_q, tok, live_l);
}

/* The dead run whose lease the take replaced, as the log names it, or NULL. */
static char *took_sql(const char *tok)
{
    return dbm_xasprintf(
        "(SELECT " TOOK_SQL("p") " || CASE WHEN p.backend_pid IS NULL THEN "
                                 "' after it expired' ELSE ', whose session ended' END FROM prev p "
                                 "WHERE p.token <> %s AND NOT p.live)",
        tok);
}

/*
 * On a direct connection the take's transaction commits without waiting for its WAL to
 * reach the disk (synchronous_commit off for it alone), and so does the release's: there
 * the lease only names the holder of the session's advisory lock, which a crash of the
 * server ends as well, so a lease lost with the last moments of WAL is one whose run is
 * gone with it (and a release lost so leaves a row the next run finds dead and takes
 * over). The run's own writes commit durably, and each such commit flushes the WAL before
 * it, the lease's included. A no-op run pays one WAL flush (its runs row) instead of three.
 * Through a pooler the lease row is the lock: taken and released durably.
 */
char *dbm_lease_take_sql(PGconn *conn, const dbm_db_lock *lock, const dbm_lease_who *who)
{
    char *tok = lit(conn, lock->token), *cmd = lit(conn, who->command);
    char *act = lit(conn, who->actor), *sha = lit(conn, who->git_sha);
    char *url = lit(conn, who->run_url), *host = lit(conn, who->host);
    char *live_l = live_sql(lock, "l"), *live_p = live_sql(lock, "p");
    char *took = took_sql(tok);
    const char *s = lock->schema_q;
    char *sql = dbm_xasprintf(
        /* The lease, when the advisory lock could be had too: for the session when direct. */
        "WITH me AS (SELECT pg_backend_pid() = %d AS direct), "
        "adv AS (SELECT CASE WHEN me.direct THEN pg_try_advisory_lock(%lld) ELSE "
        "pg_try_advisory_xact_lock(%lld) END AS ok, me.direct FROM me), "
        "prev AS (SELECT p.*, %s AS live FROM %s.lease p WHERE p.name = 'run'), "
        "up AS (INSERT INTO %s.lease AS l (name, token, command, actor, host, client_pid, "
        "git_sha, run_url, backend_pid, since, heartbeat_at, expires_at) SELECT 'run', %s, %s, "
        "%s, %s, %d, %s, %s, CASE WHEN adv.direct THEN pg_backend_pid() END, clock_timestamp(), "
        "clock_timestamp(), clock_timestamp() + make_interval(secs => %lld) FROM adv WHERE adv.ok "
        "ON CONFLICT (name) DO UPDATE SET token = excluded.token, run_id = NULL, command = "
        "excluded.command, actor = excluded.actor, host = excluded.host, client_pid = "
        "excluded.client_pid, git_sha = excluded.git_sha, run_url = excluded.run_url, "
        "backend_pid = excluded.backend_pid, since = excluded.since, heartbeat_at = "
        "excluded.heartbeat_at, expires_at = excluded.expires_at "
        "WHERE l.token = excluded.token OR NOT (%s) RETURNING 1) "
        "SELECT adv.ok, adv.direct, (SELECT count(*) FROM up), %s, CASE WHEN adv.direct THEN "
        "set_config('synchronous_commit', 'off', true) END FROM adv",
        PQbackendPID(conn), lock->key, lock->key, live_p, s, s, tok, cmd, act, host, (int)getpid(),
        sha, url, lock->ttl_s, live_l, took);

    free(tok), free(cmd), free(act), free(sha), free(url), free(host);
    free(live_l), free(live_p), free(took);
    return sql;
}

char *dbm_lease_holder_sql(PGconn *conn, const dbm_db_lock *lock)
{
    char *tok = lit(conn, lock->token), *live_l = live_sql(lock, "l");
    char *sql = holder_sql(lock, tok, live_l);

    free(tok);
    free(live_l);
    return sql;
}

int dbm_lease_read(dbm_lease_try *t, PGconn *conn, dbm_db_lock *lock, const PGresult *take,
                   const PGresult *holder)
{
    free(t->took_over);
    free(t->holder);
    memset(t, 0, sizeof(*t));
    if (PQresultStatus(take) != PGRES_TUPLES_OK || PQntuples(take) != 1) {
        const char *state = dbm_db_sqlstate(take);

        t->missing = strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0;
        if (t->missing)
            return 0;
        return dbm_error_set(DBM_EGENERIC, "unable to take the run lock: %s",
                             dbm_db_message(take, conn));
    }
    t->adv_ok = strcmp(PQgetvalue(take, 0, 0), "t") == 0;
    lock->direct = strcmp(PQgetvalue(take, 0, 1), "t") == 0;
    t->got = strcmp(PQgetvalue(take, 0, 2), "1") == 0;
    if (t->got && !PQgetisnull(take, 0, 3))
        t->took_over = dbm_xstrdup(PQgetvalue(take, 0, 3));
    if (!t->got && PQresultStatus(holder) == PGRES_TUPLES_OK && PQntuples(holder) == 1) {
        t->holder = dbm_xstrdup(PQgetvalue(holder, 0, 0));
        t->holder_pid =
            PQgetisnull(holder, 0, 1) ? 0 : (int)strtol(PQgetvalue(holder, 0, 1), NULL, 10);
        t->expires_in_s = strtoll(PQgetvalue(holder, 0, 2), NULL, 10);
    }
    return 0;
}

void dbm_lease_try_free(dbm_lease_try *t)
{
    free(t->took_over);
    free(t->holder);
    memset(t, 0, sizeof(*t));
}

/* --- the heartbeat, through a pooler --- */

/* The run's connection options, for a connection of the heartbeat's own. */
static PGconn *heartbeat_connect(const PQconninfoOption *opts)
{
    const char *keys[64], *vals[64];
    int n = 0;

    for (const PQconninfoOption *o = opts; o->keyword && n < 62; o++)
        if (o->val && *o->val && strcmp(o->keyword, "application_name") != 0) {
            keys[n] = o->keyword;
            vals[n++] = o->val;
        }
    keys[n] = "application_name";
    vals[n++] = "db-migrate lease";
    keys[n] = NULL;
    vals[n] = NULL;
    return PQconnectdbParams(keys, vals, 0);
}

/*
 * Renew the lease every third of its TTL until stopped. When the renewal
 * finds the lease gone to another run (this one missed its TTL), `lost` is
 * set for the run to see; a connection lost is opened again.
 */
static int heartbeat_job(void *arg)
{
    dbm_db_lock *l = arg;
    PGconn *hb = NULL;
    int64_t next = dbm_now_ms() + l->ttl_s * 1000 / 3;

    /* Without a thread the job would run here, on the run's: no heartbeat then. */
    if (pthread_equal(pthread_self(), l->starter))
        return 0;
    while (!atomic_load(&l->stop) && !dbm_job_abandoned()) {
        PGresult *res;

        if (dbm_now_ms() < next) {
            dbm_sleep_ms(50);
            continue;
        }
        next = dbm_now_ms() + l->ttl_s * 1000 / 3;
        if (!hb || PQstatus(hb) != CONNECTION_OK) {
            PQfinish(hb);
            hb = heartbeat_connect(l->conninfo);
            if (PQstatus(hb) != CONNECTION_OK)
                continue;
        }
        res = PQexec(hb, l->renew_sql);
        if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "0") == 0)
            atomic_store(&l->lost, true);
        else if (PQresultStatus(res) == PGRES_COMMAND_OK)
            atomic_store(&l->renewed_ms, dbm_now_ms());
        PQclear(res);
    }
    PQfinish(hb);
    return 0;
}

void dbm_lease_heartbeat_start(dbm_db_lock *lock, PGconn *conn)
{
    char *tok = lit(conn, lock->token);

    lock->renew_sql =
        dbm_xasprintf("UPDATE %s.lease SET heartbeat_at = clock_timestamp(), expires_at = "
                      "clock_timestamp() + make_interval(secs => %lld) WHERE name = 'run' AND "
                      "token = %s",
                      lock->schema_q, lock->ttl_s, tok);
    free(tok);
    lock->conninfo = PQconninfo(conn);
    atomic_store(&lock->renewed_ms, dbm_now_ms());
    lock->starter = pthread_self();
    if (lock->conninfo)
        dbm_job_start(&lock->heartbeat, heartbeat_job, lock);
}

bool dbm_db_lock_lost(const dbm_db_lock *lock)
{
    dbm_db_lock *l = (dbm_db_lock *)lock;

    /* Found taken, or not renewed for its TTL (the process was stopped, the network slow). */
    return l && l->heartbeat &&
           (atomic_load(&l->lost) ||
            dbm_now_ms() - atomic_load(&l->renewed_ms) > l->ttl_s * 1000 * 5 / 6);
}

char *dbm_lease_release_sql(PGconn *conn, const dbm_db_lock *lock)
{
    char *tok = lit(conn, lock->token), *sql;

    /*
     * Nothing stays behind: the row, and on a direct session the advisory lock, dropped once
     * the row's deletion is committed (a run trying in between would find the lease's
     * session without the lock, and take the lease over as a dead run's). The deletion is
     * a transaction block of its own, so that the server logs no warning of a COMMIT
     * outside one; on a direct session it does not wait for the WAL (see the take).
     */
    if (lock->direct)
        sql = dbm_xasprintf("BEGIN; SET LOCAL synchronous_commit = off; DELETE FROM %s.lease "
                            "WHERE name = 'run' AND token = %s; COMMIT; "
                            "SELECT pg_advisory_unlock_all()",
                            lock->schema_q, tok);
    else
        sql = dbm_xasprintf("DELETE FROM %s.lease WHERE name = 'run' AND token = %s",
                            lock->schema_q, tok);
    free(tok);
    return sql;
}

void dbm_db_lock_release(dbm_db_lock *lock, PGconn *conn)
{
    char *sql;

    if (!lock)
        return;
    if (lock->heartbeat) {
        /* The job returns 0: joining leaves the run's own error, if any, as it is. */
        atomic_store(&lock->stop, true);
        dbm_job_join(lock->heartbeat);
    }
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        if (PQtransactionStatus(conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn, "ROLLBACK"));
        sql = dbm_lease_release_sql(conn, lock);
        PQclear(PQexec(conn, sql));
        free(sql);
    }
    if (lock->conninfo)
        PQconninfoFree(lock->conninfo);
    free(lock->renew_sql);
    PQfreemem(lock->schema_q);
    free(lock);
}
