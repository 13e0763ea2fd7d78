/*
 * dryrun.c - pending migrations in one transaction that is rolled back, with
 * the locks and rewrites of each statement measured on the server.
 *
 * Per statement: read the relation locks this backend holds and the
 * relfilenodes of the user tables, run the statement, read the locks again
 * (the difference is what the statement took) and compare the relfilenodes
 * (a table with a new one was rewritten). The snapshots travel as oid arrays
 * in query parameters, so nothing is created on the server to hold them: a
 * scratch table would itself take locks and change the catalog.
 */
#include "postgres/dryrun.h"
#include "postgres/message.h"
#include "postgres/db.h"
#include "common/error.h"
#include "common/util.h"
#include "sql/ident.h"

#include <stdlib.h>
#include <string.h>

struct dbm_dryrun {
    PGconn *conn;
};

/*
 * What one migration's statements share. `held` is LOCKS_SQL at the migration's start:
 * locks earlier migrations of the dry-run took, which pg_locks cannot show again when a
 * statement of this one takes them. `shown` are the "oid mode" keys of those already
 * reported for an earlier statement of this migration (in production that one took it).
 */
typedef struct {
    const char *relations;
    PGresult *held;
    char **shown;
    size_t nshown, capshown;
} mig_state;

/* Relation locks held by this backend on relations that existed when the migration
 * started ($1), outside the system schemas. */
static const char LOCKS_SQL[] =
    "SELECT l.relation::text || ' ' || l.mode, format('%I.%I', n.nspname, c.relname), l.mode "
    "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted "
    "AND l.relation = ANY ($1::oid[]) "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%' "
    "ORDER BY 2, 3";

/* Every table and materialized view with storage in the user's schemas, and any such
 * relation this backend has locked: oids and their filenodes, as two arrays. */
static const char FILENODES_SQL[] =
    "SELECT coalesce(array_agg(c.oid ORDER BY c.oid), '{}')::text, "
    "coalesce(array_agg(pg_relation_filenode(c.oid) ORDER BY c.oid), '{}')::text "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'm') AND pg_relation_filenode(c.oid) IS NOT NULL "
    "AND ((n.nspname NOT IN ('pg_catalog', 'information_schema') "
    "AND n.nspname NOT LIKE 'pg\\_toast%') OR c.oid IN (SELECT relation FROM pg_locks "
    "WHERE pid = pg_backend_pid() AND locktype = 'relation'))";

/* The relations of a snapshot whose filenode changed, with their size now. Relations
 * dropped since are gone from pg_class and drop out of the join. */
static const char REWRITES_SQL[] =
    "SELECT format('%I.%I', n.nspname, c.relname), pg_total_relation_size(c.oid) "
    "FROM unnest($1::oid[], $2::oid[]) AS b(oid, filenode) "
    "JOIN pg_class c ON c.oid = b.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE pg_relation_filenode(c.oid) IS DISTINCT FROM b.filenode ORDER BY 1";

/* The oid of relation $2 in schema $1 (NULL: as the search_path finds it), if any. */
static const char RESOLVE_SQL[] =
    "SELECT c.oid::text FROM pg_class c WHERE c.oid = to_regclass(CASE WHEN $1::text IS NULL "
    "THEN quote_ident($2) ELSE quote_ident($1) || '.' || quote_ident($2) END)";

static const char RELATIONS_SQL[] =
    "SELECT coalesce(array_agg(oid ORDER BY oid), '{}')::text FROM pg_class";

/* Run a query with text parameters; the result when it returned rows or completed, else
 * NULL with a message recorded. */
static PGresult *query(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);

    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    dbm_error_set(DBM_EGENERIC, "dry-run: unable to measure the statement: %s",
                  dbm_db_message(res, conn));
    PQclear(res);
    return NULL;
}

int dbm_dryrun_begin(dbm_dryrun **out, PGconn *conn, long long lock_timeout_ms,
                     long long statement_timeout_ms, const char *search_path)
{
    char *lit = search_path ? dbm_sql_quote_literal(search_path) : NULL;
    char *sql = dbm_xasprintf("BEGIN; SET LOCAL lock_timeout = '%lldms'; "
                              "SET LOCAL statement_timeout = '%lldms'%s%s%s",
                              lock_timeout_ms, statement_timeout_ms,
                              lit ? "; SELECT set_config('search_path', " : "", lit ? lit : "",
                              lit ? ", true)" : "");
    PGresult *res = PQexec(conn, sql);
    int error = 0;

    *out = NULL;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
        error = dbm_error_set(DBM_EGENERIC, "dry-run: unable to open the transaction: %s",
                              dbm_db_message(res, conn));
        if (PQtransactionStatus(conn) != PQTRANS_IDLE)
            PQclear(PQexec(conn, "ROLLBACK"));
        goto done;
    }
    *out = dbm_xcalloc(1, sizeof(**out));
    (*out)->conn = conn;
done:
    PQclear(res);
    free(sql);
    free(lit);
    return error;
}

void dbm_dryrun_free(dbm_dryrun *dr)
{
    if (!dr)
        return;
    if (PQtransactionStatus(dr->conn) != PQTRANS_IDLE)
        PQclear(PQexec(dr->conn, "ROLLBACK"));
    free(dr);
}

/* The statements of a migration that cannot be dry-run, each with the reason. */
static void not_executed(dbm_mig_result *result, const dbm_migration *m, const dbm_stmt_list *stmts,
                         const char *why)
{
    for (size_t i = 0; i < stmts->count; i++) {
        dbm_stmt_result *s =
            dbm_report_add_stmt(result, m->up_line + stmts->items[i].line - 1, stmts->items[i].tag);
        s->note = dbm_xasprintf("not executed: %s", why);
    }
    dbm_report_set(&result->note, NULL);
    result->note = dbm_xasprintf("not executed: %s", why);
}

/* Whether `key` ("oid mode") is among the rows of a LOCKS_SQL result. */
static bool lock_held(const PGresult *before, const char *key)
{
    for (int i = 0; before && i < PQntuples(before); i++)
        if (strcmp(PQgetvalue(before, i, 0), key) == 0)
            return true;
    return false;
}

static void record_failure(dbm_mig_result *result, PGconn *conn, const PGresult *res,
                           const dbm_migration *m, const dbm_stmt *s, const char *display_path)
{
    dbm_error_info *e = dbm_report_set_error(result, dbm_db_message(res, conn),
                                             PQresultErrorField(res, PG_DIAG_SQLSTATE));

    dbm_db_fill_error(e, res, m->up, m->up_len, s->offset, m->up_line, display_path);
}

/*
 * The documented locks of `s` that the transaction held when the migration started, as
 * rows of st->held (*out, *n; -1 for a lock not held), read before the statement runs (it
 * may rename or drop what it names). Nothing is asked of the server when no lock was held.
 */
static int held_before(int **out, size_t *n, PGconn *conn, const mig_state *st, const dbm_stmt *s)
{
    *out = NULL;
    *n = 0;
    if (!st->held || PQntuples(st->held) == 0 || s->nlocks == 0)
        return 0;
    *out = dbm_xcalloc(s->nlocks, sizeof(**out));
    *n = s->nlocks;
    for (size_t i = 0; i < s->nlocks; i++) {
        const char *params[2] = {s->locks[i].schema, s->locks[i].name};
        PGresult *res = query(conn, RESOLVE_SQL, 2, params);
        char *key;

        (*out)[i] = -1;
        if (!res)
            return DBM_EGENERIC;
        key =
            PQntuples(res) ? dbm_xasprintf("%s %s", PQgetvalue(res, 0, 0), s->locks[i].mode) : NULL;
        for (int r = 0; key && r < PQntuples(st->held); r++)
            if (strcmp(PQgetvalue(st->held, r, 0), key) == 0)
                (*out)[i] = r;
        free(key);
        PQclear(res);
    }
    return 0;
}

/* Report the held locks of `rows` (held_before) on `out`, once per migration. */
static void add_held(dbm_stmt_result *out, mig_state *st, const int *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *key;
        bool seen = false;

        if (rows[i] < 0)
            continue;
        key = PQgetvalue(st->held, rows[i], 0);
        for (size_t k = 0; k < st->nshown && !seen; k++)
            seen = strcmp(st->shown[k], key) == 0;
        if (seen)
            continue;
        dbm_array_grow((void **)&st->shown, &st->capshown, st->nshown + 1, sizeof(*st->shown));
        st->shown[st->nshown++] = dbm_xstrdup(key);
        dbm_report_add_lock_held(out, PQgetvalue(st->held, rows[i], 1),
                                 PQgetvalue(st->held, rows[i], 2));
    }
}

/*
 * Run statement `s` and fill `out` with what it took: the locks pg_locks shows it adding,
 * and those it takes that an earlier migration of the dry-run held already.
 */
static int run_statement(dbm_dryrun *dr, dbm_mig_result *result, const dbm_migration *m,
                         const dbm_stmt *s, mig_state *st, const char *display_path)
{
    PGconn *conn = dr->conn;
    PGresult *locks_before = NULL, *nodes = NULL, *locks_after = NULL, *rewrites = NULL;
    PGresult *res = NULL;
    dbm_stmt_result *out;
    const char *params[2];
    char *sql = NULL;
    int *held = NULL;
    size_t nheld = 0;
    int64_t t0;
    double ms;
    int error = 0;

    params[0] = st->relations;
    if ((error = held_before(&held, &nheld, conn, st, s)) < 0 ||
        !(locks_before = query(conn, LOCKS_SQL, 1, params)) ||
        !(nodes = query(conn, FILENODES_SQL, 0, NULL))) {
        error = DBM_EGENERIC;
        goto done;
    }

    sql = dbm_xstrndup(m->up + s->offset, s->len);
    t0 = dbm_now_us();
    res = PQexec(conn, sql);
    ms = (double)(dbm_now_us() - t0) / 1000.0;
    out = dbm_report_add_stmt(result, m->up_line + s->line - 1, s->tag);
    out->duration_ms = ms;
    result->duration_ms += ms;
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK &&
        PQresultStatus(res) != PGRES_EMPTY_QUERY) {
        out->note = dbm_xstrdup("failed");
        record_failure(result, conn, res, m, s, display_path);
        result->status = DBM_MIG_FAILED;
        error = DBM_EFAILED;
        goto done;
    }

    if (!(locks_after = query(conn, LOCKS_SQL, 1, params))) {
        error = DBM_EGENERIC;
        goto done;
    }
    for (int i = 0; i < PQntuples(locks_after); i++)
        if (!lock_held(locks_before, PQgetvalue(locks_after, i, 0)))
            dbm_report_add_lock(out, PQgetvalue(locks_after, i, 1), PQgetvalue(locks_after, i, 2));
    add_held(out, st, held, nheld);

    params[0] = PQgetvalue(nodes, 0, 0);
    params[1] = PQgetvalue(nodes, 0, 1);
    if (!(rewrites = query(conn, REWRITES_SQL, 2, params))) {
        error = DBM_EGENERIC;
        goto done;
    }
    for (int i = 0; i < PQntuples(rewrites); i++)
        dbm_report_add_rewrite(out, PQgetvalue(rewrites, i, 0),
                               strtoll(PQgetvalue(rewrites, i, 1), NULL, 10));
done:
    PQclear(locks_before);
    PQclear(nodes);
    PQclear(locks_after);
    PQclear(rewrites);
    PQclear(res);
    free(sql);
    free(held);
    return error;
}

int dbm_dryrun_migration(dbm_dryrun *dr, dbm_mig_result *result, const dbm_migration *m,
                         const dbm_stmt_list *stmts, const char *display_path)
{
    PGresult *rels = NULL;
    mig_state st = {0};
    const char *params[1];
    int error = 0;

    result->statement_count = (int)stmts->count;
    result->transactional = !m->no_transaction;
    result->duration_ms = 0;
    if (m->no_transaction) {
        not_executed(result, m, stmts,
                     "runs outside a transaction, so a dry-run could not roll it back");
        return 0;
    }
    if (stmts->manages_transaction) {
        not_executed(result, m, stmts,
                     "the file runs its own BEGIN/COMMIT, so a dry-run could not roll it back");
        return 0;
    }
    if (!(rels = query(dr->conn, RELATIONS_SQL, 0, NULL)))
        return DBM_EGENERIC;
    st.relations = params[0] = PQgetvalue(rels, 0, 0);
    if (!(st.held = query(dr->conn, LOCKS_SQL, 1, params)))
        error = DBM_EGENERIC;
    for (size_t i = 0; i < stmts->count && error == 0; i++)
        error = run_statement(dr, result, m, &stmts->items[i], &st, display_path);
    for (size_t i = 0; i < st.nshown; i++)
        free(st.shown[i]);
    free(st.shown);
    PQclear(st.held);
    PQclear(rels);
    return error;
}
