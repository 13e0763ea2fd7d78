/*
 * progress.c - the watcher of a run's session (see progress.h).
 *
 * The main thread says what runs (begin/end) and is blocked in libpq for the
 * length of a statement or a batch; the watcher thread samples the session
 * from its own connection and logs. Everything they share is under `mu`, and
 * a line is logged under it too, so a line never tells of work the main
 * thread has already reported finished.
 */
#include "postgres/progress.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "postgres/db_internal.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_LINE_MS 5000
#define LINE_EVERY_MS 10000
/* Sampling: often while a piece of work is young (a short lock-timeout), then less. */
#define SAMPLE_FAST_MS 50
#define SAMPLE_SLOW_MS 250
#define FAST_FOR_MS    2000
#define IDLE_SAMPLE_MS 100
#define QUERY_EXCERPT  160
/* The second connection opens once a piece of work has run this long: most never do. */
#define CONNECT_AFTER_MS 50

struct dbm_progress {
    pthread_mutex_t mu;
    char pid[16]; /* the watched session's backend pid */
    const char **keys, **vals;
    int nparams;
    char *what;        /* the work under way, or NULL */
    unsigned long gen; /* counts begin/end calls, to spot a sample of finished work */
    int64_t since;     /* when `what` began (ms) */
    int64_t next_line; /* when its next line is due */
    bool have_blocker; /* `blocker` is the holder last seen for `what` */
    dbm_blocker blocker;
    dbm_job *job;
};

/* One look at the session. */
typedef struct {
    bool ok;       /* the query ran */
    bool waiting;  /* waits for a lock */
    char *command; /* a progress view's command ("CREATE INDEX", ...), or NULL */
    char *phase;
    long long done, total, tuples_done, tuples_total; /* -1: not reported */
    bool have_blocker;
    dbm_blocker blocker;
    long long blockers; /* how many sessions block it */
} sample;

/*
 * The session's state, the progress view row that applies, and the oldest of
 * the sessions that block it (pg_blocking_pids, asked only while it waits for
 * a lock: the function briefly locks the whole lock manager).
 */
static const char sample_sql[] =
    "SELECT a.wait_event_type IS NOT DISTINCT FROM 'Lock', p.command, p.phase, p.done, p.total, "
    "p.tdone, p.ttotal, b.pid, b.app, b.state, b.query, b.age, b.n "
    "FROM pg_stat_activity a "
    "LEFT JOIN LATERAL ("
    "SELECT command::text, phase::text, blocks_done AS done, blocks_total AS total, "
    "tuples_done AS tdone, tuples_total AS ttotal FROM pg_stat_progress_create_index "
    "WHERE pid = a.pid "
    "UNION ALL SELECT command::text, phase::text, heap_blks_scanned, heap_blks_total, "
    "heap_tuples_scanned, NULL::bigint FROM pg_stat_progress_cluster WHERE pid = a.pid "
    "UNION ALL SELECT 'VACUUM', phase::text, heap_blks_scanned, heap_blks_total, NULL::bigint, "
    "NULL::bigint FROM pg_stat_progress_vacuum WHERE pid = a.pid LIMIT 1) p ON true "
    "LEFT JOIN LATERAL ("
    "SELECT s.pid, coalesce(s.application_name, '') AS app, coalesce(s.state, '') AS state, "
    "left(regexp_replace(coalesce(s.query, ''), '\\s+', ' ', 'g'), 400) AS query, "
    "floor(extract(epoch FROM now() - coalesce(s.xact_start, s.backend_start)))::bigint AS age, "
    "count(*) OVER () AS n FROM pg_stat_activity s "
    "WHERE s.pid = ANY (CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END) "
    "ORDER BY coalesce(s.xact_start, s.backend_start) LIMIT 1) b ON true "
    "WHERE a.pid = $1::int";

static long long column_ll(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? -1 : strtoll(PQgetvalue(res, 0, col), NULL, 10);
}

static char *column_str(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : dbm_xstrdup(PQgetvalue(res, 0, col));
}

static void sample_clear(sample *s)
{
    free(s->command);
    free(s->phase);
    dbm_blocker_clear(&s->blocker);
}

static void take_sample(sample *s, PGconn *conn, const char *pid)
{
    const char *params[1] = {pid};
    PGresult *res = PQexecParams(conn, sample_sql, 1, NULL, params, NULL, NULL, 0);

    memset(s, 0, sizeof(*s));
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        PQclear(res);
        return;
    }
    s->ok = true;
    s->waiting = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    s->command = column_str(res, 1);
    s->phase = column_str(res, 2);
    s->done = column_ll(res, 3);
    s->total = column_ll(res, 4);
    s->tuples_done = column_ll(res, 5);
    s->tuples_total = column_ll(res, 6);
    if (!PQgetisnull(res, 0, 7)) {
        s->have_blocker = true;
        s->blocker.pid = (int)column_ll(res, 7);
        s->blocker.application = column_str(res, 8);
        s->blocker.state = column_str(res, 9);
        s->blocker.query =
            dbm_excerpt(PQgetvalue(res, 0, 10), strlen(PQgetvalue(res, 0, 10)), QUERY_EXCERPT);
        s->blocker.age_s = column_ll(res, 11);
        s->blockers = column_ll(res, 12);
    }
    PQclear(res);
}

static void blocker_copy(dbm_blocker *to, const dbm_blocker *from)
{
    to->pid = from->pid;
    to->application = dbm_xstrdup(from->application);
    to->state = dbm_xstrdup(from->state);
    to->query = dbm_xstrdup(from->query);
    to->age_s = from->age_s;
}

/* " 1200 of 5000 blocks (24%)", or the count alone when there is no total. */
static void put_count(dbm_buf *b, const char *sep, long long done, long long total,
                      const char *unit)
{
    if (done < 0)
        return;
    if (total > 0)
        dbm_buf_printf(b, "%s%lld of %lld %s (%lld%%)", sep, done, total, unit, done * 100 / total);
    else
        dbm_buf_printf(b, "%s%lld %s", sep, done, unit);
}

/* The line for work `what` at `elapsed_ms`, and its JSON object (*json, caller frees). */
static char *describe(char **json, const char *what, int64_t elapsed_ms, const sample *s)
{
    dbm_buf b = DBM_BUF_INIT;
    json_t *j =
        json_pack("{s:s, s:I}", "migration", what, "elapsed_s", (json_int_t)(elapsed_ms / 1000));

    dbm_buf_printf(&b, "  '%s' running for %lld s", what, (long long)(elapsed_ms / 1000));
    if (s->command) {
        dbm_buf_printf(&b, ": %s, %s", s->command, s->phase ? s->phase : "");
        put_count(&b, ", ", s->done, s->total, "blocks");
        put_count(&b, ", ", s->tuples_done, s->tuples_total, "tuples");
        json_object_set_new(j, "command", json_string(s->command));
        json_object_set_new(j, "phase", s->phase ? json_string(s->phase) : json_null());
        json_object_set_new(j, "blocks_done", json_integer(s->done));
        json_object_set_new(j, "blocks_total", json_integer(s->total));
        json_object_set_new(j, "tuples_done", json_integer(s->tuples_done));
        json_object_set_new(j, "tuples_total", json_integer(s->tuples_total));
    }
    if (s->waiting) {
        json_object_set_new(j, "waiting_for_lock", json_true());
        if (s->have_blocker) {
            char *who = dbm_blocker_describe(&s->blocker);
            dbm_buf_printf(&b, ", waiting for a lock held by %s", who);
            if (s->blockers > 1)
                dbm_buf_printf(&b, " (and %lld more sessions)", s->blockers - 1);
            free(who);
            json_object_set_new(j, "blocker",
                                json_pack("{s:i, s:s, s:s, s:s, s:I}", "pid", s->blocker.pid,
                                          "application", s->blocker.application, "state",
                                          s->blocker.state, "query", s->blocker.query, "age_s",
                                          (json_int_t)s->blocker.age_s));
        } else {
            dbm_buf_puts(&b, ", waiting for a lock");
        }
    }
    *json = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return dbm_buf_detach(&b);
}

/* Keep what sample s of generation `gen` saw, and log a line when one is due. */
static void record_sample(dbm_progress *p, unsigned long gen, const sample *s, int64_t now)
{
    pthread_mutex_lock(&p->mu);
    if (gen != p->gen || !p->what)
        goto done;
    if (s->have_blocker) {
        dbm_blocker_clear(&p->blocker);
        blocker_copy(&p->blocker, &s->blocker);
        p->have_blocker = true;
    }
    if (now >= p->next_line) {
        char *json = NULL;
        char *line = describe(&json, p->what, now - p->since, s);

        dbm_log_with(line, "progress", json ? json : "null");
        free(json);
        free(line);
        while (p->next_line <= now)
            p->next_line += LINE_EVERY_MS;
    }
done:
    pthread_mutex_unlock(&p->mu);
}

static PGconn *watcher_connect(const dbm_progress *p)
{
    PGconn *conn = PQconnectdbParams(p->keys, p->vals, 0);

    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    PQfinish(conn);
    return NULL;
}

static int watch(void *arg)
{
    dbm_progress *p = arg;
    PGconn *conn = NULL;
    bool tried = false;
    long long interval = IDLE_SAMPLE_MS;

    while (!dbm_job_wait(interval)) {
        unsigned long gen;
        int64_t since, now;
        bool busy;
        sample s;

        pthread_mutex_lock(&p->mu);
        busy = p->what != NULL;
        gen = p->gen;
        since = p->since;
        pthread_mutex_unlock(&p->mu);
        if (!busy) {
            interval = IDLE_SAMPLE_MS;
            continue;
        }
        if (!tried && dbm_now_ms() - since < CONNECT_AFTER_MS) {
            interval = SAMPLE_FAST_MS;
            continue;
        }
        if (!tried) {
            conn = watcher_connect(p);
            tried = true;
        }
        memset(&s, 0, sizeof(s));
        if (conn)
            take_sample(&s, conn, p->pid);
        now = dbm_now_ms();
        record_sample(p, gen, &s, now);
        sample_clear(&s);
        interval = now - since < FAST_FOR_MS ? SAMPLE_FAST_MS : SAMPLE_SLOW_MS;
    }
    PQfinish(conn);
    return 0;
}

/* The run's connection parameters for the watcher's own, under its own application_name. */
static void copy_params(dbm_progress *p, PGconn *conn)
{
    PQconninfoOption *opts = PQconninfo(conn);
    int n = 0;

    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        n++;
    p->keys = dbm_xcalloc((size_t)n + 2, sizeof(*p->keys));
    p->vals = dbm_xcalloc((size_t)n + 2, sizeof(*p->vals));
    for (PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (!o->val || !*o->val || strcmp(o->keyword, "application_name") == 0)
            continue;
        p->keys[p->nparams] = dbm_xstrdup(o->keyword);
        p->vals[p->nparams] = dbm_xstrdup(o->val);
        p->nparams++;
    }
    p->keys[p->nparams] = dbm_xstrdup("application_name");
    p->vals[p->nparams] = dbm_xstrdup("db-migrate progress");
    p->nparams++;
    PQconninfoFree(opts);
}

void dbm_progress_start(dbm_progress **out, PGconn *conn, bool direct)
{
    PGresult *res = NULL;
    dbm_progress *p;

    *out = NULL;
    if (!direct) {
        res = PQexec(conn, "SELECT pg_backend_pid()");
        if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            PQclear(res);
            return;
        }
    }
    p = dbm_xcalloc(1, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    if (res)
        snprintf(p->pid, sizeof(p->pid), "%s", PQgetvalue(res, 0, 0));
    else
        snprintf(p->pid, sizeof(p->pid), "%d", PQbackendPID(conn));
    PQclear(res);
    copy_params(p, conn);
    dbm_job_start(&p->job, watch, p);
    *out = p;
}

void dbm_progress_begin(dbm_progress *p, const char *what)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    free(p->what);
    p->what = dbm_xstrdup(what);
    p->gen++;
    p->since = dbm_now_ms();
    p->next_line = p->since + FIRST_LINE_MS;
    dbm_blocker_clear(&p->blocker);
    p->have_blocker = false;
    pthread_mutex_unlock(&p->mu);
}

void dbm_progress_end(dbm_progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    free(p->what);
    p->what = NULL;
    p->gen++;
    pthread_mutex_unlock(&p->mu);
}

bool dbm_progress_blocker(dbm_progress *p, dbm_blocker *out)
{
    bool have;

    memset(out, 0, sizeof(*out));
    if (!p)
        return false;
    pthread_mutex_lock(&p->mu);
    have = p->have_blocker;
    if (have)
        blocker_copy(out, &p->blocker);
    pthread_mutex_unlock(&p->mu);
    return have;
}

void dbm_progress_blame(dbm_progress *p, dbm_mig_result *r)
{
    dbm_error_info *e = r->error;
    dbm_blocker b;
    char *who, *msg;

    if (!e || !e->sqlstate || strcmp(e->sqlstate, DBM_LOCK_TIMEOUT_SQLSTATE) != 0 ||
        !dbm_progress_blocker(p, &b))
        return;
    who = dbm_blocker_describe(&b);
    msg = dbm_xasprintf("%s; the lock was held by %s", e->message, who);
    dbm_report_set(&e->message, msg);
    free(msg);
    msg = dbm_xasprintf("pid %d (application '%s') held the lock past lock-timeout on every "
                        "try: let it finish, or end it with SELECT pg_terminate_backend(%d); or "
                        "raise lock-timeout or lock-retries",
                        b.pid, b.application ? b.application : "", b.pid);
    dbm_report_set(&e->hint, msg);
    free(msg);
    free(who);
    free(e->blocker);
    e->blocker = dbm_xcalloc(1, sizeof(*e->blocker));
    *e->blocker = b;
}

void dbm_progress_free(dbm_progress *p)
{
    if (!p)
        return;
    dbm_job_abandon(p->job);
    dbm_job_join(p->job);
    for (int i = 0; i < p->nparams; i++) {
        if (strcmp(p->keys[i], "password") == 0)
            explicit_bzero((char *)p->vals[i], strlen(p->vals[i]));
        free((char *)p->keys[i]);
        free((char *)p->vals[i]);
    }
    free(p->keys);
    free(p->vals);
    free(p->what);
    dbm_blocker_clear(&p->blocker);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
