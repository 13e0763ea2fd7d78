/*
 * adopt.c - other tools' history tables: what adopt.h promises, from the
 * reading (adopt_read.c) and the matching (adopt_match.c).
 */
#include "postgres/adopt_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "postgres/history.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

const char *dbm_adopt_note(dbm_format tool)
{
    switch (tool) {
    case DBM_FORMAT_GOLANG_MIGRATE:
        return "adopted from golang-migrate";
    case DBM_FORMAT_DBMATE:
        return "adopted from dbmate";
    case DBM_FORMAT_GOOSE:
        return "adopted from goose";
    case DBM_FORMAT_FLYWAY:
        return "adopted from flyway";
    case DBM_FORMAT_DIESEL:
        return "adopted from diesel";
    case DBM_FORMAT_PRISMA:
        return "adopted from prisma";
    case DBM_FORMAT_SQLX:
        return "adopted from sqlx";
    case DBM_FORMAT_DRIZZLE:
        return "adopted from drizzle";
    case DBM_FORMAT_SUPABASE:
        return "adopted from supabase";
    case DBM_FORMAT_ATLAS:
        return "adopted from atlas";
    case DBM_FORMAT_SQITCH:
        return "adopted from sqitch";
    case DBM_FORMAT_GRAPHILE_MIGRATE:
        return "adopted from graphile-migrate";
    default:
        return "adopted";
    }
}

/* The session as it was before tenant_begin (the setting and the transaction gone). */
static void tenant_end(PGconn *conn, const char *search_path, bool own)
{
    if (search_path)
        PQclear(PQexec(conn, own ? "ROLLBACK"
                                 : "ROLLBACK TO SAVEPOINT dbm_adopt_search_path; "
                                   "RELEASE SAVEPOINT dbm_adopt_search_path"));
}

/*
 * A tenant's search_path while its tables are looked for: the other tool's
 * table of a tenant of a schemas: target is in the tenant's schema, not where
 * the session's own search_path points. The setting is local to a read-only
 * transaction (a savepoint inside one already open) that tenant_end rolls
 * back, so the session keeps its own and, through PgBouncer's transaction
 * pooling, the reads run on the server connection that has it. *own: the
 * transaction is this one's. Nothing with NULL.
 */
static int tenant_begin(PGconn *conn, const char *search_path, bool *own)
{
    const char *params[1] = {search_path};
    PGresult *res;
    bool begun;
    int error = 0;

    *own = PQtransactionStatus(conn) == PQTRANS_IDLE;
    if (!search_path)
        return 0;
    res = PQexec(conn, *own ? "BEGIN READ ONLY" : "SAVEPOINT dbm_adopt_search_path");
    begun = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (begun) {
        PQclear(res);
        res = PQexecParams(conn, "SELECT pg_catalog.set_config('search_path', $1, true)", 1, NULL,
                           params, NULL, NULL, 0);
    }
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to look in the search_path '%s': %s",
                              search_path, dbm_db_message(res, conn));
    PQclear(res);
    if (error < 0 && begun)
        tenant_end(conn, search_path, *own);
    return error;
}

int dbm_adopt_plan_build(dbm_adopt_plan **out, dbm_report *report, PGconn *conn,
                         const dbm_migration_set *set, char *const *display, dbm_format tool,
                         const char *target_version, const char *search_path)
{
    dbm_adopt_source s;
    bool found = false, own;
    int error;

    *out = NULL;
    memset(&s, 0, sizeof(s));
    if (tool == DBM_FORMAT_SQITCH)
        error = dbm_adopt_read_sqitch(&s, &found, conn, set);
    else if (tool == DBM_FORMAT_GRAPHILE_MIGRATE)
        error = dbm_adopt_read_graphile(&s, &found, conn);
    else if ((error = tenant_begin(conn, search_path, &own)) == 0) {
        error = dbm_adopt_read(&s, &found, conn, tool, search_path != NULL);
        tenant_end(conn, search_path, own);
    }
    if (error < 0)
        goto done;
    if (!found) {
        const char *tool_name = dbm_format_name(tool);
        const char *only = dbm_adopt_schema(tool);
        if (only)
            error = dbm_error_set(DBM_ECONFIG, "no %s history table %s.%s", tool_name, only,
                                  dbm_adopt_table(tool));
        else
            error =
                dbm_error_set(DBM_ECONFIG, "no %s history table '%s' in the search_path or public",
                              tool_name, dbm_adopt_table(tool));
        dbm_error_hint("connect to the database %s migrated, with the search_path it used, or "
                       "choose the right adopt-from",
                       tool_name);
        goto done;
    }
    *out = dbm_adopt_match(report, &s, tool, set, display, target_version);
done:
    dbm_adopt_source_clear(&s);
    return error;
}

void dbm_adopt_plan_free(dbm_adopt_plan *plan)
{
    if (!plan)
        return;
    free(plan->table);
    free(plan->import);
    free(plan);
}

/*
 * The adopt-available finding for tool's table in `s`, which lists `applied`
 * versions and `unfinished` ones; golang-migrate's says its current version.
 */
static void report_available(dbm_report *report, dbm_severity severity, dbm_format tool,
                             const dbm_adopt_source *s, size_t applied, size_t unfinished,
                             const char *current)
{
    const char *name = dbm_format_name(tool);
    char *at = tool == DBM_FORMAT_GOLANG_MIGRATE && current
                   ? dbm_xasprintf(" at version %s", current)
                   : dbm_xstrdup("");
    char *bad = unfinished ? dbm_xasprintf(" and %zu not finished", unfinished) : dbm_xstrdup("");
    dbm_finding *f = dbm_report_add_finding(report, severity, "adopt-available", NULL, 0, 0,
                                            "found %s's history table %s.%s%s listing %zu applied "
                                            "version%s%s; 'db-migrate baseline --adopt-from %s' "
                                            "imports it",
                                            name, s->schema, s->name, at, applied,
                                            applied == 1 ? "" : "s", bad, name);

    dbm_report_set(&f->hint, severity == DBM_SEV_ERROR
                                 ? "db-migrate's history is empty, so apply would run every "
                                   "migration again: import the old history first with baseline "
                                   "--adopt-from (nothing is re-run), or drop that table if it "
                                   "does not describe this database"
                                 : "run it once before the first apply; nothing is re-run "
                                   "(see docs/adopting.md)");
    free(at);
    free(bad);
}

/*
 * Which of the tools' history table names exist in any schema is asked in
 * one round trip: on a database no other tool managed (the usual first run)
 * the scan is then one query instead of one per tool, which a distant
 * database feels.
 */
int dbm_adopt_scan(dbm_report *report, PGconn *conn, const dbm_migration_set *set,
                   dbm_severity severity, const char *search_path)
{
    static const dbm_format tools[] = {
        DBM_FORMAT_GOLANG_MIGRATE, DBM_FORMAT_DBMATE, DBM_FORMAT_GOOSE, DBM_FORMAT_FLYWAY,
        DBM_FORMAT_DIESEL,         DBM_FORMAT_PRISMA, DBM_FORMAT_SQLX,  DBM_FORMAT_DRIZZLE,
        DBM_FORMAT_SUPABASE,       DBM_FORMAT_ATLAS};
    bool present[sizeof(tools) / sizeof(tools[0])], any, own;
    int nfound = 0, error;

    if ((error = dbm_adopt_tables_present(present, &any, conn, tools,
                                          sizeof(tools) / sizeof(tools[0]))) < 0)
        return error;
    if (!any)
        return 0;
    if ((error = tenant_begin(conn, search_path, &own)) < 0)
        return error;
    for (size_t t = 0; t < sizeof(tools) / sizeof(tools[0]) && error == 0; t++) {
        dbm_adopt_source s;
        bool found = false;
        size_t applied, unfinished;
        const char *current;

        if (!present[t])
            continue;
        error = dbm_adopt_read(&s, &found, conn, tools[t], search_path != NULL);
        if (error == DBM_ECONFIG) {
            /* schema_migrations belongs to the other tool of that name. */
            dbm_error_clear();
            error = 0;
        } else if (error == 0) {
            dbm_adopt_count(&applied, &unfinished, &current, &s, set);
            if (found && (applied || unfinished)) {
                report_available(report, severity, tools[t], &s, applied, unfinished, current);
                nfound++;
            }
        }
        dbm_adopt_source_clear(&s);
    }
    tenant_end(conn, search_path, own);
    return error < 0 ? error : nfound;
}

/*
 * Record the plan's files as applied, all in one transaction so a failure
 * leaves nothing half-imported.
 */
int dbm_adopt_import(dbm_report *report, PGconn *conn, const char *schema,
                     const dbm_migration_set *set, char *const *display, const dbm_adopt_plan *plan,
                     long long run_id, const char *git_sha)
{
    PGresult *res = PQexec(conn, "BEGIN");
    int error = 0;

    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to begin the import: %s",
                              dbm_db_message(res, conn));
    PQclear(res);
    if (error < 0)
        return error;
    for (size_t k = 0; k < plan->nimport; k++) {
        size_t i = plan->import[k];
        const dbm_migration *m = &set->items[i];
        dbm_mig_result *r;

        if ((error = dbm_history_baseline(conn, schema, m, run_id, git_sha,
                                          dbm_adopt_note(plan->tool))) < 0)
            break;
        r = dbm_report_add_migration(report, m->version, m->name, dbm_adopt_shown(display, set, i),
                                     DBM_MIG_APPLIED);
        r->transactional = !m->no_transaction;
        r->note = dbm_xasprintf("%s: recorded without running", dbm_adopt_note(plan->tool));
    }
    res = PQexec(conn, error < 0 ? "ROLLBACK" : "COMMIT");
    if (error == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
        error = dbm_error_set(DBM_EGENERIC, "unable to commit the import: %s",
                              dbm_db_message(res, conn));
    PQclear(res);
    if (error == 0) {
        for (size_t k = 0; k < plan->nimport; k++)
            dbm_log("adopted  %s", dbm_adopt_shown(display, set, plan->import[k]));
        report->applied_count = (int)plan->nimport;
    }
    return error;
}
