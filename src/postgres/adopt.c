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

int dbm_adopt_plan_build(dbm_adopt_plan **out, dbm_report *report, PGconn *conn,
                         const dbm_migration_set *set, char *const *display, dbm_format tool,
                         const char *target_version)
{
    dbm_adopt_source s;
    bool found = false;
    int error;

    *out = NULL;
    if ((error = tool == DBM_FORMAT_SQITCH ? dbm_adopt_read_sqitch(&s, &found, conn, set)
                 : tool == DBM_FORMAT_GRAPHILE_MIGRATE
                     ? dbm_adopt_read_graphile(&s, &found, conn)
                     : dbm_adopt_read(&s, &found, conn, tool)) < 0)
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
                   dbm_severity severity)
{
    static const dbm_format tools[] = {
        DBM_FORMAT_GOLANG_MIGRATE, DBM_FORMAT_DBMATE, DBM_FORMAT_GOOSE, DBM_FORMAT_FLYWAY,
        DBM_FORMAT_DIESEL,         DBM_FORMAT_PRISMA, DBM_FORMAT_SQLX,  DBM_FORMAT_DRIZZLE,
        DBM_FORMAT_SUPABASE,       DBM_FORMAT_ATLAS};
    bool present[sizeof(tools) / sizeof(tools[0])], any;
    int nfound = 0, error;

    if ((error = dbm_adopt_tables_present(present, &any, conn, tools,
                                          sizeof(tools) / sizeof(tools[0]))) < 0)
        return error;
    for (size_t t = 0; any && t < sizeof(tools) / sizeof(tools[0]); t++) {
        dbm_adopt_source s;
        bool found = false;
        size_t applied, unfinished;
        const char *current;

        if (!present[t])
            continue;
        error = dbm_adopt_read(&s, &found, conn, tools[t]);
        if (error == DBM_ECONFIG) {
            /* schema_migrations belongs to the other tool of that name. */
            dbm_error_clear();
            dbm_adopt_source_clear(&s);
            continue;
        }
        if (error < 0) {
            dbm_adopt_source_clear(&s);
            return error;
        }
        dbm_adopt_count(&applied, &unfinished, &current, &s, set);
        if (found && (applied || unfinished)) {
            report_available(report, severity, tools[t], &s, applied, unfinished, current);
            nfound++;
        }
        dbm_adopt_source_clear(&s);
    }
    return nfound;
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
