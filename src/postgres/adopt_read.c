/*
 * adopt_read.c - other tools' history tables: which exist, and one read into
 * entries. Read-only queries; what the rows mean is adopt_match.c's.
 */
#include "postgres/adopt_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Run a read-only query with text parameters; NULL (error recorded) on failure. */
static PGresult *query(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        dbm_error_set(DBM_EGENERIC, "unable to read %s: %s", what, dbm_db_message(res, conn));
        PQclear(res);
        return NULL;
    }
    return res;
}

/*
 * Find table `name`: the first schema of the search_path that has it, then
 * public, then (any_schema) any other schema in name order. *schema is NULL
 * when there is none.
 */
static int find_table(char **schema, PGconn *conn, const char *name, bool any_schema,
                      const char *only)
{
    const char *params[3] = {name, any_schema ? "t" : "f", only};
    PGresult *res =
        query(conn,
              "SELECT n.nspname FROM pg_catalog.pg_class c "
              "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
              "WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
              "AND CASE WHEN $3::text IS NOT NULL THEN n.nspname = $3 ELSE "
              "($2::boolean OR n.nspname = ANY (pg_catalog.current_schemas(false)) "
              "     OR n.nspname = 'public') END "
              "ORDER BY array_position(pg_catalog.current_schemas(false), n.nspname) NULLS LAST, "
              "n.nspname <> 'public', n.nspname LIMIT 1",
              3, params, "the catalog");
    *schema = NULL;
    if (!res)
        return DBM_EGENERIC;
    if (PQntuples(res) == 1)
        *schema = dbm_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* *out: whether schema.table has a column named `column`. */
static int has_column(bool *out, PGconn *conn, const char *schema, const char *table,
                      const char *column)
{
    const char *params[3] = {schema, table, column};
    PGresult *res = query(conn,
                          "SELECT count(*) FROM pg_catalog.pg_attribute a "
                          "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                          "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = $1 AND c.relname = $2 AND a.attname = $3 "
                          "AND a.attnum > 0 AND NOT a.attisdropped",
                          3, params, "the catalog");
    if (!res)
        return DBM_EGENERIC;
    *out = strcmp(PQgetvalue(res, 0, 0), "0") != 0;
    PQclear(res);
    return 0;
}

/* schema.name quoted for SQL. Caller frees. */
static char *qualified(PGconn *conn, const dbm_adopt_source *s)
{
    char *a = PQescapeIdentifier(conn, s->schema, strlen(s->schema));
    char *b = PQescapeIdentifier(conn, s->name, strlen(s->name));
    char *out = dbm_xasprintf("%s.%s", a ? a : "", b ? b : "");
    PQfreemem(a);
    PQfreemem(b);
    return out;
}

static const char *val(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static bool is_true(const PGresult *res, int row, int col)
{
    const char *v = val(res, row, col);
    return v && strcmp(v, "t") == 0;
}

/*
 * golang-migrate and dbmate both name their table schema_migrations: only
 * golang-migrate's has a dirty column. DBM_ECONFIG, naming the other tool,
 * when the table found is not `tool`'s.
 */
static int check_owner(PGconn *conn, const dbm_adopt_source *s, dbm_format tool)
{
    bool dirty;
    int error;

    if (tool != DBM_FORMAT_GOLANG_MIGRATE && tool != DBM_FORMAT_DBMATE)
        return 0;
    if ((error = has_column(&dirty, conn, s->schema, s->name, "dirty")) < 0)
        return error;
    if (dirty == (tool == DBM_FORMAT_GOLANG_MIGRATE))
        return 0;
    error = dbm_error_set(DBM_ECONFIG,
                          "%s.%s looks like %s's history table, not %s's (%s a dirty column)",
                          s->schema, s->name, dirty ? "golang-migrate" : "dbmate",
                          dbm_format_name(tool), dirty ? "it has" : "it has no");
    dbm_error_hint("set adopt-from to %s", dirty ? "golang-migrate" : "dbmate");
    return error;
}

/* The query that reads `tool`'s table (`table`, quoted), in the order its rows are replayed. */
static char *select_sql(dbm_format tool, const char *table)
{
    switch (tool) {
    case DBM_FORMAT_GOLANG_MIGRATE:
        return dbm_xasprintf("SELECT version::text, dirty FROM %s ORDER BY version DESC", table);
    case DBM_FORMAT_DBMATE:
    case DBM_FORMAT_DIESEL:
        return dbm_xasprintf("SELECT version::text FROM %s ORDER BY version", table);
    case DBM_FORMAT_GOOSE:
        /* The newest row per version decides; version 0 is goose's own first row. */
        return dbm_xasprintf("SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) "
                             "version_id, is_applied FROM %s ORDER BY version_id, id DESC) v "
                             "WHERE is_applied AND version_id <> 0 ORDER BY version_id",
                             table);
    case DBM_FORMAT_FLYWAY:
        return dbm_xasprintf("SELECT version, description, type, script, success FROM %s "
                             "ORDER BY installed_rank",
                             table);
    case DBM_FORMAT_PRISMA:
        return dbm_xasprintf("SELECT migration_name, checksum, finished_at IS NOT NULL, "
                             "rolled_back_at IS NOT NULL, logs FROM %s ORDER BY started_at, id",
                             table);
    case DBM_FORMAT_SQLX:
        return dbm_adopt_sqlx_sql(table);
    case DBM_FORMAT_DRIZZLE:
        return dbm_adopt_drizzle_sql(table);
    case DBM_FORMAT_SUPABASE:
        return dbm_adopt_supabase_sql(table);
    case DBM_FORMAT_ATLAS:
        return dbm_adopt_atlas_sql(table);
    default:
        return NULL;
    }
}

/* The rows of select_sql's query as entries of `s`. */
static void take_rows(dbm_adopt_source *s, const PGresult *res, dbm_format tool)
{
    if (tool == DBM_FORMAT_FLYWAY) {
        for (int i = 0; i < PQntuples(res); i++)
            dbm_adopt_flyway_row(s, val(res, i, 0), val(res, i, 1), val(res, i, 2), val(res, i, 3),
                                 is_true(res, i, 4));
    } else if (tool == DBM_FORMAT_PRISMA) {
        for (int i = 0; i < PQntuples(res); i++)
            dbm_adopt_prisma_row(s, val(res, i, 0), val(res, i, 1), is_true(res, i, 2),
                                 is_true(res, i, 3), val(res, i, 4));
    } else if (tool == DBM_FORMAT_SQLX) {
        dbm_adopt_sqlx_rows(s, res);
    } else if (tool == DBM_FORMAT_DRIZZLE) {
        dbm_adopt_drizzle_rows(s, res);
    } else if (tool == DBM_FORMAT_SUPABASE) {
        dbm_adopt_supabase_rows(s, res);
    } else if (tool == DBM_FORMAT_ATLAS) {
        dbm_adopt_atlas_rows(s, res);
    } else if (tool == DBM_FORMAT_GOLANG_MIGRATE) {
        /* One row: the current version, dirty while its migration runs or after it failed. */
        if (PQntuples(res) > 0) {
            bool dirty = is_true(res, 0, 1);
            dbm_adopt_entry *e = dbm_adopt_source_add(
                s, val(res, 0, 0), dirty ? DBM_ADOPT_UNFINISHED : DBM_ADOPT_UP_TO);
            if (dirty)
                e->detail = dbm_xstrdup("dirty = true");
        }
    } else {
        for (int i = 0; i < PQntuples(res); i++)
            if (val(res, i, 0))
                dbm_adopt_source_add(s, val(res, i, 0), DBM_ADOPT_APPLIED);
    }
}

int dbm_adopt_read(dbm_adopt_source *s, bool *found, PGconn *conn, dbm_format tool, bool tenant)
{
    const char *name = dbm_adopt_table(tool);
    char *table = NULL, *sql = NULL, *what = NULL;
    PGresult *res = NULL;
    int error = 0;

    memset(s, 0, sizeof(*s));
    *found = false;
    if (!name)
        return dbm_error_set(DBM_ECONFIG, "adopt-from '%s' is not a tool db-migrate can adopt from",
                             dbm_format_name(tool));
    if ((error = find_table(&s->schema, conn, name, tool == DBM_FORMAT_FLYWAY && !tenant,
                            dbm_adopt_schema(tool))) < 0 ||
        !s->schema)
        goto done;
    s->name = dbm_xstrdup(name);
    if ((error = check_owner(conn, s, tool)) < 0)
        goto done;
    *found = true;
    table = qualified(conn, s);
    sql = select_sql(tool, table);
    what = dbm_xasprintf("%s.%s", s->schema, s->name);
    if (!(res = query(conn, sql, 0, NULL, what))) {
        error = DBM_EGENERIC;
        goto done;
    }
    take_rows(s, res, tool);
done:
    PQclear(res);
    free(what);
    free(sql);
    free(table);
    return error;
}

int dbm_adopt_tables_present(bool present[], bool *any, PGconn *conn, const dbm_format *tools,
                             size_t n)
{
    dbm_buf names = DBM_BUF_INIT;
    const char *params[1];
    PGresult *res;

    *any = false;
    dbm_buf_putc(&names, '{');
    for (size_t t = 0; t < n; t++)
        dbm_buf_printf(&names, "%s\"%s\"", t ? "," : "", dbm_adopt_table(tools[t]));
    dbm_buf_putc(&names, '}');
    params[0] = names.ptr;
    res = query(conn,
                "SELECT DISTINCT c.relname FROM pg_catalog.pg_class c WHERE c.relname = ANY ($1) "
                "AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                1, params, "the catalog");
    dbm_buf_free(&names);
    if (!res)
        return DBM_EGENERIC;
    for (size_t t = 0; t < n; t++) {
        present[t] = false;
        for (int r = 0; r < PQntuples(res); r++)
            if (strcmp(PQgetvalue(res, r, 0), dbm_adopt_table(tools[t])) == 0)
                present[t] = *any = true;
    }
    PQclear(res);
    return 0;
}
