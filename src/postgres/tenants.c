/*
 * tenants.c - run a schemas: query and check what it returns.
 */
#include "postgres/tenants.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAMEOID    19
#define TEXTOID    25
#define VARCHAROID 1043

#define QUERY_HINT                                                                                 \
    "the query must return one text column of schema names, e.g. schemas: \"select schema_name "   \
    "from tenants where active order by 1\""

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dbm_tenant_schemas_free(dbm_tenant_schemas *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->exists);
    free(s);
}

/* A failed query: the server's message, or a lost connection (exit 3). */
static int query_failed(PGconn *conn, const PGresult *res)
{
    char *shown = dbm_xstrdup(dbm_db_message(res, conn));

    if (PQstatus(conn) == CONNECTION_BAD) {
        dbm_error_set(DBM_ECONNECT, "the connection was lost during the schemas: query: %s", shown);
        dbm_error_hint("check that the database is up and reachable, then run again");
        free(shown);
        return DBM_ECONNECT;
    }
    dbm_error_set(DBM_ECONFIG, "the schemas: query failed: %s", shown);
    dbm_error_hint(QUERY_HINT);
    free(shown);
    return DBM_ECONFIG;
}

/* A built-in type's SQL name, else "pg_type N" in buf; for a message (these OIDs are fixed). */
static const char *type_name(Oid type, char buf[32])
{
    static const struct {
        Oid oid;
        const char *name;
    } names[] = {{16, "boolean"},     {18, "\"char\""},      {20, "bigint"},
                 {21, "smallint"},    {23, "integer"},       {26, "oid"},
                 {114, "json"},       {700, "real"},         {701, "double precision"},
                 {1009, "text[]"},    {1042, "character"},   {1082, "date"},
                 {1114, "timestamp"}, {1184, "timestamptz"}, {1700, "numeric"},
                 {2950, "uuid"},      {3802, "jsonb"},       {4089, "regnamespace"}};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].oid == type)
            return names[i].name;
    snprintf(buf, 32, "pg_type %u", (unsigned)type);
    return buf;
}

/* The shape: one column of a text type, each row a distinct non-empty name. */
static int check_rows(const PGresult *res)
{
    char buf[32];
    int n = PQntuples(res);
    Oid type;

    if (PQnfields(res) != 1) {
        dbm_error_set(DBM_ECONFIG, "the schemas: query returns %d columns, not one",
                      PQnfields(res));
        dbm_error_hint(QUERY_HINT);
        return DBM_ECONFIG;
    }
    type = PQftype(res, 0);
    if (type != TEXTOID && type != VARCHAROID && type != NAMEOID) {
        dbm_error_set(DBM_ECONFIG, "the schemas: query returns a column of type %s, not text",
                      type_name(type, buf));
        dbm_error_hint(QUERY_HINT " (cast it: select x::text ...)");
        return DBM_ECONFIG;
    }
    for (int i = 0; i < n; i++)
        if (PQgetisnull(res, i, 0) || !*PQgetvalue(res, i, 0)) {
            dbm_error_set(DBM_ECONFIG, "row %d of the schemas: query is %s", i + 1,
                          PQgetisnull(res, i, 0) ? "NULL" : "empty");
            dbm_error_hint("return only the names of the schemas to migrate (where x is not null)");
            return DBM_ECONFIG;
        }
    return 0;
}

/* The names, in the query's order; an error when one is there twice. */
static int take_names(dbm_tenant_schemas *s, const PGresult *res)
{
    char **sorted;
    int error = 0;

    s->count = (size_t)PQntuples(res);
    s->names = dbm_xcalloc(s->count + 1, sizeof(*s->names));
    s->exists = dbm_xcalloc(s->count + 1, sizeof(*s->exists));
    sorted = dbm_xcalloc(s->count + 1, sizeof(*sorted));
    for (size_t i = 0; i < s->count; i++)
        sorted[i] = s->names[i] = dbm_xstrdup(PQgetvalue(res, (int)i, 0));
    qsort(sorted, s->count, sizeof(*sorted), by_name);
    for (size_t i = 1; i < s->count && !error; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            char *shown = dbm_printable(sorted[i]);
            error =
                dbm_error_set(DBM_ECONFIG, "the schemas: query returns '%s' more than once", shown);
            dbm_error_hint("each schema is migrated once: select distinct names");
            free(shown);
        }
    free(sorted);
    return error;
}

/* Which of the names are schemas of the database: pg_namespace, sorted, searched. */
static int mark_existing(dbm_tenant_schemas *s, PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT nspname::text FROM pg_catalog.pg_namespace");
    char **have;
    size_t n;
    int error;

    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        error = query_failed(conn, res);
        PQclear(res);
        return error;
    }
    n = (size_t)PQntuples(res);
    have = dbm_xcalloc(n + 1, sizeof(*have));
    for (size_t i = 0; i < n; i++)
        have[i] = PQgetvalue(res, (int)i, 0);
    qsort(have, n, sizeof(*have), by_name);
    for (size_t i = 0; i < s->count; i++)
        s->exists[i] = bsearch(&s->names[i], have, n, sizeof(*have), by_name) != NULL;
    free(have);
    PQclear(res);
    return 0;
}

int dbm_db_tenant_schemas(dbm_tenant_schemas **out, PGconn *conn, const char *query)
{
    dbm_tenant_schemas *s = dbm_xcalloc(1, sizeof(*s));
    char *begin = dbm_xasprintf("BEGIN READ ONLY; SET LOCAL statement_timeout = '%lldms'",
                                DBM_TENANT_QUERY_TIMEOUT_MS);
    PGresult *res = PQexec(conn, begin);
    int error = 0;

    *out = NULL;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        error = query_failed(conn, res);
        goto done;
    }
    PQclear(res);
    /* The extended protocol runs one statement: "select ...; drop ..." is an error. */
    res = PQexecParams(conn, query, 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        error =
            PQresultStatus(res) == PGRES_COMMAND_OK
                ? dbm_error_set(DBM_ECONFIG,
                                "the schemas: query returns no rows to read (it is not a query)")
                : query_failed(conn, res);
        if (error == DBM_ECONFIG && PQresultStatus(res) == PGRES_COMMAND_OK)
            dbm_error_hint(QUERY_HINT);
        goto done;
    }
    if ((error = check_rows(res)) < 0 || (error = take_names(s, res)) < 0)
        goto done;
    error = mark_existing(s, conn);
done:
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    free(begin);
    if (error < 0)
        dbm_tenant_schemas_free(s);
    else
        *out = s;
    return error;
}
