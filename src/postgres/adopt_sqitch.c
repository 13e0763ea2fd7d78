/*
 * adopt_sqitch.c - Sqitch's registry as entries to adopt. Sqitch keeps the
 * changes deployed now in <registry>.changes (sqitchers/sqitch
 * lib/App/Sqitch/Engine/pg.pm: a row inserted by log_deploy_change, deleted
 * by log_revert_change), with the SHA-1 of each deploy script in
 * script_hash. A row is matched to the change whose id (change_id, the SHA-1
 * of the change's plan line and its parent's id: sqitch_id.h) it records, so
 * a change reworked several times is told apart by its id, and a plan edited
 * or reordered since Sqitch deployed it stops the import at the first row no
 * change of the plan has the id of, saying what differs.
 */
#include "postgres/adopt_internal.h"
#include "postgres/message.h"
#include "common/error.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* The registry schema: the one holding changes, tags and events, "sqitch" first. NULL: none. */
static char *find_registry(PGconn *conn, int *error)
{
    PGresult *res = PQexec(conn, "SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE "
                                 "(SELECT count(*) FROM pg_catalog.pg_class c WHERE "
                                 "c.relnamespace = n.oid AND c.relkind IN ('r', 'p') AND "
                                 "c.relname IN ('changes', 'tags', 'events', 'projects')) = 4 "
                                 "ORDER BY n.nspname <> 'sqitch', n.nspname LIMIT 1");
    char *schema = NULL;

    *error = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        *error = dbm_error_set(DBM_EGENERIC, "unable to read the catalog: %s",
                               dbm_db_message(res, conn));
    else if (PQntuples(res) == 1)
        schema = dbm_xstrdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return schema;
}

/* The set's change whose Sqitch id is `id`, or NULL. */
static const dbm_migration *by_id(const dbm_migration_set *set, const char *id)
{
    for (size_t i = 0; i < set->count; i++)
        if (set->items[i].tool_id && strcmp(set->items[i].tool_id, id) == 0)
            return &set->items[i];
    return NULL;
}

/*
 * Row j (change `name` with id `id`, deploy script hash `hash`) as an entry: the set's change
 * with that id. An id names the change's plan line and, through its parent, every line above
 * it, so a row no change has the id of means the plan was edited above or at that change.
 */
static void take_row(dbm_adopt_source *s, const dbm_migration_set *set, size_t j, const char *id,
                     const char *name, const char *hash, bool *stop)
{
    const dbm_migration *m = by_id(set, id), *at = j < set->count ? &set->items[j] : NULL;
    dbm_adopt_entry *e;

    if (m) {
        e = dbm_adopt_source_add(s, m->version, DBM_ADOPT_APPLIED);
        e->checksum = dbm_xstrdup(hash);
        return;
    }
    e = dbm_adopt_source_add(s, at ? at->version : "?", DBM_ADOPT_UNFINISHED);
    if (!at)
        e->detail = dbm_xasprintf("deployed change %zu ('%s', change_id %s) is past the end of "
                                  "sqitch.plan",
                                  j + 1, name, id);
    else if (strcmp(at->name, name) != 0)
        e->detail = dbm_xasprintf("deployed change %zu is '%s' where sqitch.plan has '%s'", j + 1,
                                  name, at->name);
    else if (!at->tool_id)
        e->detail = dbm_xasprintf("deployed change %zu '%s' has change_id %s; sqitch.plan line "
                                  "has no id (a %%project pragma, and a date and planner on "
                                  "this line and every change line above it, are needed)",
                                  j + 1, name, id);
    else
        e->detail = dbm_xasprintf("deployed change %zu '%s' has change_id %s where sqitch.plan "
                                  "gives %s: its plan line, or one above it, was edited or "
                                  "reordered since Sqitch deployed it",
                                  j + 1, name, id, at->tool_id);
    *stop = true;
}

int dbm_adopt_read_sqitch(dbm_adopt_source *s, bool *found, PGconn *conn,
                          const dbm_migration_set *set)
{
    char *quoted = NULL, *sql = NULL;
    PGresult *res = NULL;
    bool stop = false;
    int error;

    memset(s, 0, sizeof(*s));
    *found = false;
    s->schema = find_registry(conn, &error);
    if (error < 0 || !s->schema)
        return error;
    s->name = dbm_xstrdup("changes");
    *found = true;
    quoted = PQescapeIdentifier(conn, s->schema, strlen(s->schema));
    sql = dbm_xasprintf("SELECT change_id, change, script_hash FROM %s.changes ORDER BY "
                        "committed_at, change_id",
                        quoted ? quoted : "sqitch");
    res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        error = dbm_error_set(DBM_EGENERIC, "unable to read %s.changes: %s", s->schema,
                              dbm_db_message(res, conn));
        goto done;
    }
    for (int j = 0; j < PQntuples(res) && !stop; j++)
        take_row(s, set, (size_t)j, PQgetvalue(res, j, 0), PQgetvalue(res, j, 1),
                 PQgetvalue(res, j, 2), &stop);
done:
    PQclear(res);
    PQfreemem(quoted);
    free(sql);
    return error;
}

int dbm_adopt_sqitch_edits(dbm_report *report, PGconn *conn, const dbm_migration_set *set,
                           char *const *display, dbm_severity severity)
{
    dbm_adopt_source s;
    bool found = false;
    int error, edits = 0;

    if (set->format != DBM_FORMAT_SQITCH)
        return 0;
    if ((error = dbm_adopt_read_sqitch(&s, &found, conn, set)) < 0) {
        dbm_adopt_source_clear(&s);
        return error;
    }
    for (size_t k = 0; found && k < s.count; k++) {
        const dbm_adopt_entry *e = &s.items[k];
        const dbm_migration *m = dbm_migrations_find(set, e->version);
        const char *path;
        dbm_finding *f;

        if (e->state != DBM_ADOPT_APPLIED || !m || !m->tool_hash || !e->checksum ||
            strcmp(e->checksum, m->tool_hash) == 0)
            continue;
        path = dbm_adopt_shown(display, set, (size_t)(m - set->items));
        f = dbm_report_add_finding(report, severity, "edited-sqitch", path, 1, 0,
                                   "'%s' was edited after Sqitch deployed it (%s.changes "
                                   "script_hash %s, the file's %s)",
                                   path, s.schema, e->checksum, m->tool_hash);
        dbm_report_set(&f->hint, "Sqitch deployed another version of this script: restore it, "
                                 "or put the change in a new change (sqitch rework)");
        edits++;
    }
    dbm_adopt_source_clear(&s);
    return edits;
}
