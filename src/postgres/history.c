/*
 * history.c - the history tables' SQL, and nothing else's.
 */
#include "postgres/history_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema name quoted as an identifier. Caller frees with PQfreemem. */
static char *quote_schema(PGconn *conn, const char *schema)
{
    return PQescapeIdentifier(conn, schema, strlen(schema));
}

/* A literal, or NULL as the SQL keyword. Caller frees. */
static char *literal(PGconn *conn, const char *s)
{
    char *q;
    char *out;

    if (!s)
        return dbm_xstrdup("NULL");
    q = PQescapeLiteral(conn, s, strlen(s));
    if (!q)
        return dbm_xstrdup("NULL");
    out = dbm_xstrdup(q);
    PQfreemem(q);
    return out;
}

/* Run a command; on failure record the server's message under `what`. */
static int exec_ok(PGconn *conn, const char *sql, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int error = 0;

    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        error = dbm_error_set(DBM_EGENERIC, "unable to %s: %s", what, dbm_db_message(res, conn));
        if (res && PQresultErrorField(res, PG_DIAG_SQLSTATE) &&
            strcmp(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501") == 0)
            dbm_error_hint("the database user needs CREATE on the database (for the history "
                           "schema) and on the schemas the migrations change");
    }
    PQclear(res);
    return error;
}

/* The DDL of the history tables, for `s` quoted already. Caller frees. */
static char *ensure_sql(const char *s)
{
    return dbm_xasprintf("CREATE SCHEMA IF NOT EXISTS %s;\n"
                         "CREATE TABLE IF NOT EXISTS %s.runs (\n"
                         "    id bigserial PRIMARY KEY,\n"
                         "    command text NOT NULL,\n"
                         "    started_at timestamptz NOT NULL,\n"
                         "    finished_at timestamptz,\n"
                         "    outcome text,\n"
                         "    git_sha text,\n"
                         "    deployed_sha text,\n"
                         "    actor text,\n"
                         "    event text,\n"
                         "    run_url text,\n"
                         "    db_user text NOT NULL DEFAULT current_user,\n"
                         "    tool_version text NOT NULL);\n"
                         "CREATE TABLE IF NOT EXISTS %s.migrations (\n"
                         "    version text PRIMARY KEY,\n"
                         "    name text NOT NULL,\n"
                         "    checksum text NOT NULL,\n"
                         "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
                         "    duration_ms bigint NOT NULL,\n"
                         "    run_id bigint REFERENCES %s.runs(id),\n"
                         "    git_sha text,\n"
                         "    transactional boolean NOT NULL,\n"
                         "    status text NOT NULL CHECK (status IN ('applied', 'failed')),\n"
                         "    failed_statement int,\n"
                         "    error text);\n"
                         /* Added after the first release: older histories gain them here. */
                         "ALTER TABLE %s.runs ADD COLUMN IF NOT EXISTS detail jsonb;\n"
                         "CREATE TABLE IF NOT EXISTS %s.lease (\n"
                         "    name text PRIMARY KEY,\n"
                         "    token text NOT NULL,\n"
                         "    run_id bigint,\n"
                         "    command text,\n"
                         "    actor text,\n"
                         "    host text,\n"
                         "    client_pid int,\n"
                         "    git_sha text,\n"
                         "    run_url text,\n"
                         "    backend_pid int,\n"
                         "    since timestamptz NOT NULL,\n"
                         "    heartbeat_at timestamptz NOT NULL,\n"
                         "    expires_at timestamptz NOT NULL);\n"
                         "CREATE TABLE IF NOT EXISTS %s.statements (\n"
                         "    version text NOT NULL,\n"
                         "    statement int NOT NULL,\n"
                         "    run_id bigint,\n"
                         "    claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
                         "    finished_at timestamptz,\n"
                         "    outcome text CHECK (outcome IN ('done', 'failed')),\n"
                         "    PRIMARY KEY (version, statement));\n"
                         "COMMIT",
                         s, s, s, s, s, s, s);
}

/* The result of `sql` (the last statement's) is a single 't'. */
static bool exec_true(PGconn *conn, const char *sql, char **msg)
{
    PGresult *res = PQexec(conn, sql);
    bool ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
              strcmp(PQgetvalue(res, 0, 0), "t") == 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        *msg = dbm_xstrdup(dbm_db_message(res, conn));
    PQclear(res);
    return ok;
}

/*
 * Concurrent first runs would each find the schema missing and race in
 * CREATE SCHEMA IF NOT EXISTS, which then fails with a unique violation: the
 * DDL runs in a transaction holding a transaction-level advisory lock of its
 * own key, which is sound through a transaction-mode pooler (it ends with the
 * transaction). It is tried, not waited for, so that no waiting run holds a
 * snapshot; creators hold it for milliseconds.
 */
int dbm_history_ensure(PGconn *conn, const char *schema, long long wait_ms)
{
    char *s = quote_schema(conn, schema);
    char *ddl = ensure_sql(s);
    char *try = dbm_xasprintf("BEGIN; SET LOCAL lock_timeout = '30s'; "
                              "SELECT pg_try_advisory_xact_lock(%lld)",
                              dbm_history_ddl_key(schema));
    int64_t deadline = dbm_now_ms() + (wait_ms > 0 ? wait_ms : 0) + 5000;
    char *msg = NULL;
    int error = 0;

    for (long long delay = 20;; delay = delay < 500 ? delay * 2 : 500) {
        bool got = exec_true(conn, try, &msg);

        if (got) {
            /* nothing is created beside a table of the same name that is not the history's */
            if ((error = dbm_history_check_shape(conn, schema)) == 0)
                error = exec_ok(conn, ddl, "create the history tables");
            break;
        }
        PQclear(PQexec(conn, "ROLLBACK"));
        if (msg || dbm_now_ms() >= deadline) {
            error = dbm_error_set(msg ? DBM_EGENERIC : DBM_ELOCKED,
                                  "unable to create the history tables: %s",
                                  msg ? msg : "another run kept creating them");
            break;
        }
        dbm_sleep_ms(delay);
    }
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    free(msg);
    free(try);
    free(ddl);
    PQfreemem(s);
    return error;
}

static char *copy_field(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : dbm_xstrdup(PQgetvalue(res, row, col));
}

/*
 * timestamptz text under DateStyle ISO and TimeZone UTC ("2026-11-24
 * 20:33:01.123456+00") as ISO 8601 to the second ("2026-11-24T20:33:01Z").
 * Formatting here rather than with to_char saves the server a call per row.
 */
static char *iso_utc(const char *text)
{
    size_t n = strlen(text);
    if (n < 19 || text[10] != ' ')
        return dbm_xstrdup(text);
    return dbm_xasprintf("%.10sT%.8sZ", text, text + 11);
}

char *dbm_history_read_sql(PGconn *conn, const char *schema)
{
    char *s = quote_schema(conn, schema);
    char *rolled = dbm_history_sql_read_rolled_back(conn, s);
    char *sql =
        dbm_xasprintf("SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'; "
                      "SELECT version, name, checksum, applied_at, duration_ms, run_id, git_sha, "
                      "transactional, status, failed_statement, error FROM %s.migrations "
                      "ORDER BY applied_at, version; "
                      "SELECT git_sha FROM %s.runs WHERE command = 'apply' AND outcome IN "
                      "('applied', 'up-to-date') AND git_sha IS NOT NULL ORDER BY id DESC LIMIT 1; "
                      "%s",
                      s, s, rolled);
    free(rolled);
    PQfreemem(s);
    return sql;
}

/* A history query failed because its table (or the whole schema) does not exist. */
static bool table_missing(const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0);
}

static void read_rows(dbm_history *h, const PGresult *res)
{
    h->count = (size_t)PQntuples(res);
    h->rows = dbm_xcalloc(h->count, sizeof(*h->rows));
    for (size_t i = 0; i < h->count; i++) {
        dbm_history_row *r = &h->rows[i];
        int row = (int)i;
        r->version = copy_field(res, row, 0);
        r->name = copy_field(res, row, 1);
        r->checksum = copy_field(res, row, 2);
        r->applied_at = iso_utc(PQgetvalue(res, row, 3));
        r->duration_ms = strtoll(PQgetvalue(res, row, 4), NULL, 10);
        r->run_id = PQgetisnull(res, row, 5) ? 0 : strtoll(PQgetvalue(res, row, 5), NULL, 10);
        r->git_sha = copy_field(res, row, 6);
        r->transactional = strcmp(PQgetvalue(res, row, 7), "t") == 0;
        r->status = copy_field(res, row, 8);
        r->failed_statement =
            PQgetisnull(res, row, 9) ? 0 : (int)strtol(PQgetvalue(res, row, 9), NULL, 10);
        r->error = copy_field(res, row, 10);
    }
    dbm_history_index(h);
}

int dbm_history_from_results(dbm_history **out, PGconn *conn, PGresult *const *res, int n)
{
    dbm_history *h = dbm_xcalloc(1, sizeof(*h));
    int error = 0;

    *out = NULL;
    /*
     * The statements of dbm_history_read_sql, in order: two SETs, the rows,
     * the last apply, the versions rolled back since. A failing one ends the
     * query, so fewer results come back; a missing table is the expected
     * failure on a new database.
     */
    for (int i = 0; i < 5; i++) {
        const PGresult *r = i < n ? res[i] : NULL;
        ExecStatusType st = PQresultStatus(r);

        if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
            if (i == 2)
                read_rows(h, r);
            else if (i == 3 && PQntuples(r) == 1)
                h->last_apply_sha = copy_field(r, 0, 0);
            else if (i == 4)
                dbm_history_read_rolled_back(h, r);
            continue;
        }
        if (i >= 2 && r && table_missing(r))
            break;
        error =
            dbm_error_set(DBM_EGENERIC, "unable to read the history: %s", dbm_db_message(r, conn));
        goto done;
    }
    h->exists = n >= 4 && PQresultStatus(res[3]) == PGRES_TUPLES_OK;
    *out = h;
    h = NULL;
done:
    dbm_history_free(h);
    return error;
}

int dbm_history_load(dbm_history **out, PGconn *conn, const char *schema)
{
    char *sql = dbm_history_read_sql(conn, schema);
    PGresult *res[5] = {NULL, NULL, NULL, NULL, NULL};
    PGresult *r;
    int n = 0, error;

    /* One round trip; the results of a multi-statement query come one by one. */
    if (!PQsendQuery(conn, sql)) {
        *out = NULL;
        free(sql);
        return dbm_error_set(DBM_EGENERIC, "unable to read the history: %s",
                             dbm_db_message(NULL, conn));
    }
    while ((r = PQgetResult(conn)) != NULL) {
        if (n < 5)
            res[n++] = r;
        else
            PQclear(r);
    }
    error = dbm_history_from_results(out, conn, res, n);
    for (int i = 0; i < n; i++)
        PQclear(res[i]);
    /* a column missing from what was read: an application's table in the history's place */
    if (error < 0 && PQtransactionStatus(conn) == PQTRANS_IDLE &&
        dbm_history_check_shape(conn, schema) < 0)
        error = DBM_ECONFIG;
    free(sql);
    return error;
}

int dbm_history_run_start(long long *run_id, PGconn *conn, const char *schema,
                          const dbm_run_info *info)
{
    char *s = quote_schema(conn, schema);
    /*
     * Runs are recorded under the run lock, so a row still open is a run that
     * died (killed, or its connection lost): closed as abandoned, finished at
     * its last recorded migration, in the same statement. A run named by a
     * lease that is not this run's is left alone (its lease outlived a lock
     * defeated somehow: it may be running).
     */
    char *sql = dbm_xasprintf(
        "WITH abandoned AS (UPDATE %s.runs r SET outcome = 'abandoned', finished_at = "
        "coalesce((SELECT max(m.applied_at) FROM %s.migrations m WHERE m.run_id = r.id), "
        "r.started_at) WHERE r.finished_at IS NULL AND NOT EXISTS (SELECT 1 FROM %s.lease l "
        "WHERE l.run_id = r.id AND l.token IS DISTINCT FROM $9) RETURNING r.id, r.started_at), "
        "ins AS (INSERT INTO %s.runs (command, started_at, git_sha, deployed_sha, "
        "actor, event, run_url, tool_version, outcome, finished_at) VALUES "
        "($1, now(), $2, $3, $4, $5, $6, $7, $8::text, CASE WHEN $8::text IS NULL "
        "THEN NULL ELSE clock_timestamp() END) RETURNING id), "
        "lease AS (UPDATE %s.lease SET run_id = (SELECT id FROM ins) WHERE name = 'run' AND "
        "token = $9 RETURNING 1) "
        "SELECT (SELECT id FROM ins), (SELECT string_agg(format('%%s "
        "(started %%s)', id, to_char(started_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS UTC')), ', ' ORDER BY id) FROM abandoned), "
        "(SELECT count(*) FROM lease)",
        s, s, s, s, s);
    const char *params[9] = {info->command, info->git_sha, info->deployed_sha,
                             info->actor,   info->event,   info->run_url,
                             DBM_VERSION,   info->outcome, info->lease_token};
    PGresult *res = PQexecParams(conn, sql, 9, NULL, params, NULL, NULL, 0);
    int error = 0;

    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        error =
            dbm_error_set(DBM_EGENERIC, "unable to record the run: %s", dbm_db_message(res, conn));
    else
        *run_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (error == 0 && !PQgetisnull(res, 0, 1))
        dbm_log("notice: closed run %s as abandoned: it ended without recording its end "
                "(killed, or its connection lost)",
                PQgetvalue(res, 0, 1));
    PQclear(res);
    free(sql);
    PQfreemem(s);
    return error;
}

int dbm_history_run_finish(PGconn *conn, const char *schema, long long run_id, const char *outcome)
{
    char *s = quote_schema(conn, schema);
    char *o = literal(conn, outcome);
    char *sql = dbm_xasprintf(
        "UPDATE %s.runs SET finished_at = clock_timestamp(), outcome = %s WHERE id = %lld", s, o,
        run_id);
    int error;

    /*
     * With the connection gone the run's end cannot be written, and saying so
     * would hide the cause, which was reported where it was met; the next run
     * closes this one as abandoned.
     */
    if (PQstatus(conn) == CONNECTION_BAD)
        error = DBM_EGENERIC;
    else
        error = exec_ok(conn, sql, "record the end of the run");
    free(sql);
    free(o);
    PQfreemem(s);
    return error;
}

/* The history INSERT of a transactional migration, over the given value expressions. */
static char *applied_insert(const char *schema_q, const char *version, const char *name,
                            const char *checksum, const char *run_id, const char *git_sha)
{
    return dbm_xasprintf(
        "INSERT INTO %s.migrations (version, name, checksum, applied_at, duration_ms, run_id, "
        "git_sha, transactional, status) SELECT %s, %s, %s, to_timestamp(t0::float8), "
        "((extract(epoch FROM clock_timestamp()) - t0) * 1000)::bigint, %s, %s, true, "
        "'applied' FROM (SELECT coalesce(nullif(current_setting('db_migrate.started_at', true), "
        "'')::numeric, extract(epoch FROM now())) AS t0) AS start "
        "RETURNING duration_ms",
        schema_q, version, name, checksum, run_id, git_sha);
}

char *dbm_history_sql_applied(PGconn *conn, const char *schema, const dbm_migration *m,
                              long long run_id, const char *git_sha)
{
    char *s = quote_schema(conn, schema);
    char *v = literal(conn, m->version);
    char *n = literal(conn, m->name);
    char *c = literal(conn, m->checksum);
    char *g = literal(conn, git_sha);
    char run[32];
    char *sql;

    snprintf(run, sizeof(run), "%lld", run_id);
    sql = applied_insert(s, v, n, c, run, g);
    free(v);
    free(n);
    free(c);
    free(g);
    PQfreemem(s);
    return sql;
}

char *dbm_history_sql_prepare(PGconn *conn, const char *schema, const char *name)
{
    char *s = quote_schema(conn, schema);
    char *insert = applied_insert(s, "$1", "$2", "$3", "$4", "$5");
    char *sql = dbm_xasprintf("PREPARE %s (text, text, text, bigint, text) AS %s", name, insert);

    free(insert);
    PQfreemem(s);
    return sql;
}

char *dbm_history_sql_execute(PGconn *conn, const char *name, const dbm_migration *m,
                              long long run_id, const char *git_sha)
{
    char *v = literal(conn, m->version);
    char *n = literal(conn, m->name);
    char *c = literal(conn, m->checksum);
    char *g = literal(conn, git_sha);
    char *sql = dbm_xasprintf("EXECUTE %s(%s, %s, %s, %lld, %s)", name, v, n, c, run_id, g);

    free(v);
    free(n);
    free(c);
    free(g);
    return sql;
}

int dbm_history_record(PGconn *conn, const char *schema, const dbm_migration *m, long long run_id,
                       const char *git_sha, bool transactional, const char *status,
                       long long duration_ms, int failed_statement, const char *error_text)
{
    char *s = quote_schema(conn, schema);
    char *sql = dbm_xasprintf(
        "INSERT INTO %s.migrations AS m (version, name, checksum, applied_at, duration_ms, "
        "run_id, git_sha, transactional, status, failed_statement, error) VALUES ($1, $2, $3, "
        "now(), $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (version) DO UPDATE SET name = "
        "excluded.name, checksum = excluded.checksum, applied_at = excluded.applied_at, "
        "duration_ms = m.duration_ms + excluded.duration_ms, run_id = excluded.run_id, git_sha = "
        "excluded.git_sha, transactional = excluded.transactional, status = excluded.status, "
        "failed_statement = excluded.failed_statement, error = excluded.error WHERE m.status = "
        "'failed'",
        s);
    char dur[32], run[32], failed[32];
    const char *params[10];
    PGresult *res;
    int error = 0;

    snprintf(dur, sizeof(dur), "%lld", duration_ms);
    snprintf(run, sizeof(run), "%lld", run_id);
    snprintf(failed, sizeof(failed), "%d", failed_statement);
    params[0] = m->version;
    params[1] = m->name;
    params[2] = m->checksum;
    params[3] = dur;
    params[4] = run_id ? run : NULL;
    params[5] = git_sha;
    params[6] = transactional ? "true" : "false";
    params[7] = status;
    params[8] = failed_statement > 0 ? failed : NULL;
    params[9] = error_text;
    res = PQexecParams(conn, sql, 10, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to record '%s' in the history: %s", m->path,
                              dbm_db_message(res, conn));
    else if (strcmp(PQcmdTuples(res), "1") != 0)
        error = dbm_error_set(DBM_EGENERIC,
                              "unable to record '%s': another run recorded version %s meanwhile",
                              m->path, m->version);
    PQclear(res);
    free(sql);
    PQfreemem(s);
    return error;
}

int dbm_history_delete(PGconn *conn, const char *schema, const char *version)
{
    char *del = dbm_history_sql_delete(conn, schema, version);
    char *s = quote_schema(conn, schema);
    char *v = literal(conn, version);
    /*
     * The claims of a non-transactional migration's statements go with its
     * row (repair, rollback): running the version again runs them again.
     */
    char *sql = dbm_xasprintf("WITH claims AS (DELETE FROM %s.statements WHERE version = %s) %s", s,
                              v, del);
    PGresult *res = PQexec(conn, sql);
    int error = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to update the history: %s",
                              dbm_db_message(res, conn));
    else if (strcmp(PQcmdTuples(res), "0") == 0)
        error = dbm_error_set(DBM_ENOTFOUND, "version %s is not in the history", version);
    PQclear(res);
    free(sql);
    free(del);
    free(v);
    PQfreemem(s);
    return error;
}

char *dbm_history_sql_delete(PGconn *conn, const char *schema, const char *version)
{
    char *s = quote_schema(conn, schema);
    char *v = literal(conn, version);
    char *sql = dbm_xasprintf("DELETE FROM %s.migrations WHERE version = %s", s, v);

    free(v);
    PQfreemem(s);
    return sql;
}

int dbm_history_baseline(PGconn *conn, const char *schema, const dbm_migration *m, long long run_id,
                         const char *git_sha, const char *note)
{
    char *s = quote_schema(conn, schema);
    char *sql = dbm_xasprintf(
        "INSERT INTO %s.migrations (version, name, checksum, applied_at, duration_ms, run_id, "
        "git_sha, transactional, status, error) VALUES ($1, $2, $3, now(), 0, $4, $5, "
        "$6, 'applied', $7) ON CONFLICT (version) DO NOTHING",
        s);
    char run[32];
    char *origin = dbm_xasprintf("baseline: %s", note ? note : "recorded without running");
    const char *params[7] = {m->version, m->name, m->checksum,
                             run,        git_sha, m->no_transaction ? "false" : "true",
                             origin};
    PGresult *res;
    int error = 0;

    snprintf(run, sizeof(run), "%lld", run_id);
    res = PQexecParams(conn, sql, 7, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to record '%s' in the history: %s", m->path,
                              dbm_db_message(res, conn));
    PQclear(res);
    free(origin);
    free(sql);
    PQfreemem(s);
    return error;
}

/* FNV-1a 64 over a fixed prefix and the schema name: stable across releases. */
static long long fnv_key(const char *prefix, const char *schema)
{
    unsigned long long h = 1469598103934665603ULL;

    for (const char *p = prefix; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = schema; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return (long long)h;
}

long long dbm_history_lock_key(const char *schema)
{
    return fnv_key("db-migrate:", schema);
}

long long dbm_history_ddl_key(const char *schema)
{
    return fnv_key("db-migrate-ddl:", schema);
}

/* --- the runs, for the history command --- */

static char *field_or_empty(const PGresult *res, int row, int col)
{
    return dbm_xstrdup(PQgetvalue(res, row, col)); /* libpq gives "" for NULL */
}

static char *runs_sql(PGconn *conn, const char *schema, long limit)
{
    char *s = quote_schema(conn, schema);
    char *sql = dbm_xasprintf(
        "SELECT r.id, r.command, to_char(r.started_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), r.outcome, r.git_sha, r.deployed_sha, r.actor, "
        "r.event, r.run_url, r.db_user, "
        "coalesce((extract(epoch FROM r.finished_at - r.started_at) * 1000)::bigint, -1), "
        "(SELECT count(*) FROM %s.migrations m WHERE m.run_id = r.id AND m.status = 'applied'), "
        "(SELECT string_agg(version, ',' ORDER BY version) FROM (SELECT version FROM "
        "%s.migrations m WHERE m.run_id = r.id AND m.status = 'applied' ORDER BY version "
        "LIMIT 10) AS first) "
        "FROM %s.runs r ORDER BY r.id DESC LIMIT %ld",
        s, s, s, limit);
    PQfreemem(s);
    return sql;
}

int dbm_history_runs(dbm_run_row **out, size_t *n, PGconn *conn, const char *schema, long limit)
{
    char *sql = runs_sql(conn, schema, limit);
    PGresult *res = PQexec(conn, sql);
    int error = 0;

    *out = NULL;
    *n = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        if (!table_missing(res))
            error = dbm_error_set(DBM_EGENERIC, "unable to read the runs: %s",
                                  dbm_db_message(res, conn));
        goto done;
    }
    *n = (size_t)PQntuples(res);
    *out = dbm_xcalloc(*n + 1, sizeof(**out));
    for (int i = 0; i < (int)*n; i++) {
        dbm_run_row *r = &(*out)[i];
        r->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        r->command = field_or_empty(res, i, 1);
        r->started_at = field_or_empty(res, i, 2);
        r->outcome = field_or_empty(res, i, 3);
        r->git_sha = field_or_empty(res, i, 4);
        r->deployed_sha = field_or_empty(res, i, 5);
        r->actor = field_or_empty(res, i, 6);
        r->event = field_or_empty(res, i, 7);
        r->run_url = field_or_empty(res, i, 8);
        r->db_user = field_or_empty(res, i, 9);
        r->duration_ms = strtoll(PQgetvalue(res, i, 10), NULL, 10);
        r->napplied = strtoll(PQgetvalue(res, i, 11), NULL, 10);
        r->applied = field_or_empty(res, i, 12);
    }
done:
    PQclear(res);
    free(sql);
    return error;
}

void dbm_history_runs_free(dbm_run_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].command);
        free(rows[i].started_at);
        free(rows[i].outcome);
        free(rows[i].git_sha);
        free(rows[i].deployed_sha);
        free(rows[i].actor);
        free(rows[i].event);
        free(rows[i].run_url);
        free(rows[i].db_user);
        free(rows[i].applied);
    }
    free(rows);
}
