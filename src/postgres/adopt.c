/*
 * adopt.c - other tools' history tables: find, read, match against the files.
 */
#include "postgres/adopt.h"
#include "common/error.h"
#include "postgres/history.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* What one entry of the other tool's table says. */
typedef enum {
    E_APPLIED,    /* this version is applied */
    E_UP_TO,      /* every version up to this one is applied (golang-migrate, Flyway baseline) */
    E_UNFINISHED, /* started and not finished: dirty, success = false, Prisma unfinished */
} entry_state;

typedef struct {
    char *version;     /* the tool's version; NULL for a Flyway repeatable */
    char *script;      /* Flyway: the script column */
    char *description; /* Flyway: the description column */
    char *checksum;    /* Prisma: hex SHA-256 of migration.sql; else NULL */
    char *detail;      /* for unfinished entries: what the table says */
    entry_state state;
    bool baseline; /* Flyway BASELINE row: its own version need not have a file */
} entry;

typedef struct {
    entry *items;
    size_t count, cap;
    char *schema, *name; /* where the table is */
} source;

static const char *tool_table(dbm_format tool)
{
    switch (tool) {
    case DBM_FORMAT_GOLANG_MIGRATE:
    case DBM_FORMAT_DBMATE:
        return "schema_migrations";
    case DBM_FORMAT_GOOSE:
        return "goose_db_version";
    case DBM_FORMAT_FLYWAY:
        return "flyway_schema_history";
    case DBM_FORMAT_DIESEL:
        return "__diesel_schema_migrations";
    case DBM_FORMAT_PRISMA:
        return "_prisma_migrations";
    default:
        return NULL;
    }
}

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
    default:
        return "adopted";
    }
}

static void entry_clear(entry *e)
{
    free(e->version);
    free(e->script);
    free(e->description);
    free(e->checksum);
    free(e->detail);
    memset(e, 0, sizeof(*e));
}

static void source_clear(source *s)
{
    for (size_t i = 0; i < s->count; i++)
        entry_clear(&s->items[i]);
    free(s->items);
    free(s->schema);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

static entry *source_add(source *s, const char *version, entry_state st)
{
    entry *e;
    dbm_array_grow((void **)&s->items, &s->cap, s->count + 1, sizeof(*s->items));
    e = &s->items[s->count++];
    memset(e, 0, sizeof(*e));
    e->version = dbm_xstrdup(version);
    e->state = st;
    return e;
}

static void source_remove(source *s, size_t i)
{
    entry_clear(&s->items[i]);
    memmove(&s->items[i], &s->items[i + 1], (s->count - i - 1) * sizeof(*s->items));
    s->count--;
}

/* Run a read-only query with text parameters; NULL (error recorded) on failure. */
static PGresult *query(PGconn *conn, const char *sql, int n, const char *const *params,
                       const char *what)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        dbm_error_set(DBM_EGENERIC, "unable to read %s: %s", what,
                      msg ? msg : PQerrorMessage(conn));
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
static int find_table(char **schema, PGconn *conn, const char *name, bool any_schema)
{
    const char *params[2] = {name, any_schema ? "t" : "f"};
    PGresult *res =
        query(conn,
              "SELECT n.nspname FROM pg_catalog.pg_class c "
              "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
              "WHERE c.relname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
              "AND ($2::boolean OR n.nspname = ANY (pg_catalog.current_schemas(false)) "
              "     OR n.nspname = 'public') "
              "ORDER BY array_position(pg_catalog.current_schemas(false), n.nspname) NULLS LAST, "
              "n.nspname <> 'public', n.nspname LIMIT 1",
              2, params, "the catalog");
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
static char *qualified(PGconn *conn, const source *s)
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

/* The first line of `text`, at most 200 bytes. Caller frees. */
static char *first_line(const char *text)
{
    size_t n = 0;
    if (!text)
        return NULL;
    while (*text == '\n' || *text == '\r' || *text == ' ')
        text++;
    while (text[n] && text[n] != '\n' && text[n] != '\r' && n < 200)
        n++;
    return n ? dbm_xstrndup(text, n) : NULL;
}

/* Flyway: the entry already recorded for the same migration, or -1. */
static long flyway_find(const source *s, const char *version, const char *description)
{
    for (size_t i = 0; i < s->count; i++) {
        const entry *e = &s->items[i];
        if (version ? (e->version && strcmp(e->version, version) == 0)
                    : (!e->version && e->description && description &&
                       strcmp(e->description, description) == 0))
            return (long)i;
    }
    return -1;
}

/*
 * Flyway: replay the table in installed_rank order. A later row for the same
 * migration (a repeatable run again) replaces the earlier one; DELETE rows
 * (what `flyway repair` writes for a removed migration) and undo rows take
 * the migration out; SCHEMA rows only say Flyway created the schema.
 */
static int read_flyway(source *s, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *version = val(res, i, 0), *desc = val(res, i, 1), *type = val(res, i, 2);
        const char *script = val(res, i, 3);
        bool success = is_true(res, i, 4);
        long prev = flyway_find(s, version, desc);
        entry *e;

        if (!type || strcmp(type, "SCHEMA") == 0)
            continue;
        if (prev >= 0)
            source_remove(s, (size_t)prev);
        if (strcmp(type, "DELETE") == 0 || dbm_starts_with(type, "UNDO_"))
            continue;
        if (strstr(type, "BASELINE")) {
            if (!version || !success)
                continue;
            e = source_add(s, version, E_UP_TO);
            e->baseline = true;
        } else {
            e = source_add(s, version, success ? E_APPLIED : E_UNFINISHED);
            if (!success)
                e->detail = dbm_xstrdup("success = false");
        }
        e->script = dbm_xstrdup(script);
        e->description = dbm_xstrdup(desc);
    }
    return 0;
}

/* Prisma: per migration name, finished and not rolled back; unfinished blocks. */
static int read_prisma(source *s, PGresult *res)
{
    for (int i = 0; i < PQntuples(res); i++) {
        const char *name = val(res, i, 0);
        bool finished = is_true(res, i, 2), rolled_back = is_true(res, i, 3);
        long at = -1;

        if (!name || rolled_back)
            continue;
        for (size_t k = 0; k < s->count; k++)
            if (strcmp(s->items[k].version, name) == 0)
                at = (long)k;
        if (at >= 0) {
            /* A finished row wins over an unfinished one for the same name. */
            if (finished && s->items[at].state == E_UNFINISHED)
                source_remove(s, (size_t)at);
            else
                continue;
        }
        if (finished) {
            entry *e = source_add(s, name, E_APPLIED);
            e->checksum = dbm_xstrdup(val(res, i, 1));
        } else {
            entry *e = source_add(s, name, E_UNFINISHED);
            char *log = first_line(val(res, i, 4));
            e->detail = log ? dbm_xasprintf("finished_at and rolled_back_at are NULL: %s", log)
                            : dbm_xstrdup("finished_at and rolled_back_at are NULL");
            free(log);
        }
    }
    return 0;
}

/*
 * Read `tool`'s table into `s`. *found is false when the table does not
 * exist; DBM_ECONFIG when a schema_migrations table belongs to the other
 * tool that uses that name.
 */
static int read_source(source *s, bool *found, PGconn *conn, dbm_format tool)
{
    const char *name = tool_table(tool);
    char *table = NULL, *sql = NULL;
    PGresult *res = NULL;
    int error = 0;

    memset(s, 0, sizeof(*s));
    *found = false;
    if (!name)
        return dbm_error_set(DBM_ECONFIG, "adopt-from '%s' is not a tool db-migrate can adopt from",
                             dbm_format_name(tool));
    if ((error = find_table(&s->schema, conn, name, tool == DBM_FORMAT_FLYWAY)) < 0 || !s->schema)
        goto done;
    s->name = dbm_xstrdup(name);
    if (tool == DBM_FORMAT_GOLANG_MIGRATE || tool == DBM_FORMAT_DBMATE) {
        bool dirty;
        if ((error = has_column(&dirty, conn, s->schema, name, "dirty")) < 0)
            goto done;
        if (dirty != (tool == DBM_FORMAT_GOLANG_MIGRATE)) {
            error = dbm_error_set(
                DBM_ECONFIG, "%s.%s looks like %s's history table, not %s's (%s a dirty column)",
                s->schema, name, dirty ? "golang-migrate" : "dbmate", dbm_format_name(tool),
                dirty ? "it has" : "it has no");
            dbm_error_hint("set adopt-from to %s", dirty ? "golang-migrate" : "dbmate");
            goto done;
        }
    }
    *found = true;
    table = qualified(conn, s);
    switch (tool) {
    case DBM_FORMAT_GOLANG_MIGRATE:
        sql = dbm_xasprintf("SELECT version::text, dirty FROM %s ORDER BY version DESC", table);
        break;
    case DBM_FORMAT_DBMATE:
    case DBM_FORMAT_DIESEL:
        sql = dbm_xasprintf("SELECT version::text FROM %s ORDER BY version", table);
        break;
    case DBM_FORMAT_GOOSE:
        /* The newest row per version decides; version 0 is goose's own first row. */
        sql = dbm_xasprintf("SELECT version_id::text FROM (SELECT DISTINCT ON (version_id) "
                            "version_id, is_applied FROM %s ORDER BY version_id, id DESC) v "
                            "WHERE is_applied AND version_id <> 0 ORDER BY version_id",
                            table);
        break;
    case DBM_FORMAT_FLYWAY:
        sql = dbm_xasprintf("SELECT version, description, type, script, success FROM %s "
                            "ORDER BY installed_rank",
                            table);
        break;
    case DBM_FORMAT_PRISMA:
        sql = dbm_xasprintf("SELECT migration_name, checksum, finished_at IS NOT NULL, "
                            "rolled_back_at IS NOT NULL, logs FROM %s ORDER BY started_at, id",
                            table);
        break;
    default:
        break;
    }
    {
        char *what = dbm_xasprintf("%s.%s", s->schema, s->name);
        res = query(conn, sql, 0, NULL, what);
        free(what);
    }
    if (!res) {
        error = DBM_EGENERIC;
        goto done;
    }
    if (tool == DBM_FORMAT_FLYWAY) {
        error = read_flyway(s, res);
    } else if (tool == DBM_FORMAT_PRISMA) {
        error = read_prisma(s, res);
    } else if (tool == DBM_FORMAT_GOLANG_MIGRATE) {
        /* One row: the current version, dirty while its migration runs or after it failed. */
        if (PQntuples(res) > 0) {
            bool dirty = is_true(res, 0, 1);
            entry *e = source_add(s, val(res, 0, 0), dirty ? E_UNFINISHED : E_UP_TO);
            if (dirty)
                e->detail = dbm_xstrdup("dirty = true");
        }
    } else {
        for (int i = 0; i < PQntuples(res); i++)
            if (val(res, i, 0))
                source_add(s, val(res, i, 0), E_APPLIED);
    }
done:
    PQclear(res);
    free(sql);
    free(table);
    return error;
}

/* The file a Flyway repeatable entry names: by script, else by description. */
static long find_repeatable(const dbm_migration_set *set, const entry *e)
{
    char *key = NULL;
    long at = -1;

    if (e->description) {
        key = dbm_xasprintf("R__%s", e->description);
        for (char *p = key; *p; p++)
            if (*p == ' ')
                *p = '_';
    }
    for (size_t i = 0; i < set->count && at < 0; i++) {
        const dbm_migration *m = &set->items[i];
        const char *base = strrchr(m->path, '/');
        base = base ? base + 1 : m->path;
        if (!m->repeatable)
            continue;
        if (e->script && (strcmp(e->script, m->path) == 0 || strcmp(e->script, base) == 0))
            at = (long)i;
        else if (key && strcmp(key, m->version) == 0)
            at = (long)i;
    }
    free(key);
    return at;
}

static long find_file(const dbm_migration_set *set, const entry *e)
{
    const dbm_migration *m;
    if (!e->version)
        return find_repeatable(set, e);
    m = dbm_migrations_find(set, e->version);
    return m ? (long)(m - set->items) : -1;
}

static const char *unfinished_hint(dbm_format tool)
{
    switch (tool) {
    case DBM_FORMAT_GOLANG_MIGRATE:
        return "that migration stopped part-way: complete or undo its changes by hand, then "
               "clear the flag as 'migrate force' does (UPDATE schema_migrations SET dirty = "
               "false, with version set to the last migration that completed) and run "
               "baseline --adopt-from golang-migrate again";
    case DBM_FORMAT_FLYWAY:
        return "that migration failed part-way: complete or undo its changes by hand, then "
               "remove the failed row as 'flyway repair' does (or set success = true if its "
               "changes are complete) and run baseline --adopt-from flyway again";
    case DBM_FORMAT_PRISMA:
        return "that migration failed part-way: complete or undo its changes by hand, then run "
               "'prisma migrate resolve --applied NAME' or '--rolled-back NAME' and run "
               "baseline --adopt-from prisma again";
    default:
        return "finish or undo that migration with the old tool first";
    }
}

static const char *shown(char *const *display, const dbm_migration_set *set, size_t i)
{
    return display ? display[i] : set->items[i].path;
}

int dbm_adopt_plan_build(dbm_adopt_plan **out, dbm_report *report, PGconn *conn,
                         const dbm_migration_set *set, char *const *display, dbm_format tool,
                         const char *target_version)
{
    source s;
    bool found = false;
    bool *take = NULL;
    dbm_adopt_plan *plan = NULL;
    const char *tool_name = dbm_format_name(tool);
    int error;

    *out = NULL;
    if ((error = read_source(&s, &found, conn, tool)) < 0)
        goto done;
    if (!found) {
        error = dbm_error_set(DBM_ECONFIG, "no %s history table '%s' in the search_path or public",
                              tool_name, tool_table(tool));
        dbm_error_hint("connect to the database %s migrated, with the search_path it used, or "
                       "choose the right adopt-from",
                       tool_name);
        goto done;
    }
    plan = dbm_xcalloc(1, sizeof(*plan));
    plan->tool = tool;
    plan->table = dbm_xasprintf("%s.%s", s.schema, s.name);
    take = dbm_xcalloc(set->count + 1, sizeof(*take));

    for (size_t k = 0; k < s.count; k++) {
        const entry *e = &s.items[k];
        long at;
        dbm_finding *f;

        if (e->state == E_UNFINISHED) {
            const char *what = e->version ? e->version : e->script;
            f = dbm_report_add_finding(
                report, DBM_SEV_ERROR, "adopt-unfinished", NULL, 0, 0,
                "%s records %s %s as not finished (%s); nothing was imported", plan->table,
                tool == DBM_FORMAT_PRISMA ? "migration" : "version", what ? what : "?",
                e->detail ? e->detail : "failed");
            dbm_report_set(&f->hint, unfinished_hint(tool));
            plan->nblocked++;
            continue;
        }
        plan->listed++;
        at = find_file(set, e);
        if (e->state == E_UP_TO) {
            for (size_t i = 0; i < set->count; i++)
                if (!set->items[i].repeatable &&
                    dbm_version_cmp(set->format, set->items[i].version, e->version) <= 0)
                    take[i] = true;
            if (at < 0 && !e->baseline) {
                f = dbm_report_add_finding(report, DBM_SEV_WARNING, "adopt-no-file", NULL, 0, 0,
                                           "%s records version %s, which has no file in '%s'",
                                           plan->table, e->version, set->dir);
                dbm_report_set(&f->hint, "the files up to it are imported; restore the missing "
                                         "file if the database really is at that version");
            }
            continue;
        }
        if (at < 0) {
            f = dbm_report_add_finding(
                report, DBM_SEV_WARNING, "adopt-no-file", NULL, 0, 0,
                "%s lists %s %s as applied but it has no file in '%s'; not imported", plan->table,
                e->version ? "version" : "repeatable",
                e->version ? e->version : (e->script ? e->script : "?"), set->dir);
            dbm_report_set(&f->hint, "a migration that was not SQL (a Go or Java migration) or "
                                     "a deleted file; restore it if the new set needs it");
            continue;
        }
        take[at] = true;
        if (e->checksum && strcmp(e->checksum, set->items[at].checksum + 7) != 0) {
            f = dbm_report_add_finding(report, DBM_SEV_WARNING, "adopt-edited",
                                       shown(display, set, (size_t)at), 0, 0,
                                       "'%s' differs from the file %s applied (checksum %s); "
                                       "imported with the current file's checksum",
                                       shown(display, set, (size_t)at), tool_name, e->checksum);
            dbm_report_set(&f->hint, "check that the database matches the file; a change that "
                                     "never ran belongs in a new migration");
        }
    }
    plan->import = dbm_xcalloc(set->count + 1, sizeof(*plan->import));
    for (size_t i = 0; i < set->count; i++) {
        const dbm_migration *m = &set->items[i];
        if (!take[i])
            continue;
        if (target_version &&
            (m->repeatable || dbm_version_cmp(set->format, m->version, target_version) > 0))
            continue;
        plan->import[plan->nimport++] = i;
    }
    *out = plan;
    plan = NULL;
done:
    free(take);
    dbm_adopt_plan_free(plan);
    source_clear(&s);
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
 * Which of the tools' history table names exist in any schema, in one round
 * trip: on a database no other tool managed (the usual first run) the scan is
 * then one query instead of one per tool, which a distant database feels.
 * *any is false when none does.
 */
static int tables_present(bool present[], bool *any, PGconn *conn, const dbm_format *tools,
                          size_t n)
{
    dbm_buf names = DBM_BUF_INIT;
    const char *params[1];
    PGresult *res;

    *any = false;
    dbm_buf_putc(&names, '{');
    for (size_t t = 0; t < n; t++)
        dbm_buf_printf(&names, "%s\"%s\"", t ? "," : "", tool_table(tools[t]));
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
            if (strcmp(PQgetvalue(res, r, 0), tool_table(tools[t])) == 0)
                present[t] = *any = true;
    }
    PQclear(res);
    return 0;
}

int dbm_adopt_scan(dbm_report *report, PGconn *conn, const dbm_migration_set *set,
                   dbm_severity severity)
{
    static const dbm_format tools[] = {DBM_FORMAT_GOLANG_MIGRATE, DBM_FORMAT_DBMATE,
                                       DBM_FORMAT_GOOSE,          DBM_FORMAT_FLYWAY,
                                       DBM_FORMAT_DIESEL,         DBM_FORMAT_PRISMA};
    bool present[sizeof(tools) / sizeof(tools[0])], any;
    int nfound = 0, error;

    if ((error = tables_present(present, &any, conn, tools, sizeof(tools) / sizeof(tools[0]))) < 0)
        return error;
    for (size_t t = 0; any && t < sizeof(tools) / sizeof(tools[0]); t++) {
        source s;
        bool found = false;
        size_t applied = 0, unfinished = 0;
        const char *current = NULL;
        dbm_finding *f;

        if (!present[t])
            continue;
        error = read_source(&s, &found, conn, tools[t]);

        if (error == DBM_ECONFIG) {
            /* schema_migrations belongs to the other tool of that name. */
            dbm_error_clear();
            source_clear(&s);
            continue;
        }
        if (error < 0) {
            source_clear(&s);
            return error;
        }
        for (size_t k = 0; k < s.count; k++) {
            if (s.items[k].state == E_UNFINISHED)
                unfinished++;
            else if (s.items[k].state == E_APPLIED)
                applied++;
            if (s.items[k].state != E_APPLIED && s.items[k].version)
                current = s.items[k].version;
        }
        /* golang-migrate (and a Flyway baseline) list a version that covers the files up to it. */
        for (size_t k = 0; k < s.count; k++)
            if (s.items[k].state == E_UP_TO)
                for (size_t i = 0; i < set->count; i++)
                    if (!set->items[i].repeatable &&
                        dbm_version_cmp(set->format, set->items[i].version, s.items[k].version) <=
                            0)
                        applied++;
        if (found && (applied || unfinished)) {
            const char *name = dbm_format_name(tools[t]);
            char *at = tools[t] == DBM_FORMAT_GOLANG_MIGRATE && current
                           ? dbm_xasprintf(" at version %s", current)
                           : dbm_xstrdup("");
            char *bad =
                unfinished ? dbm_xasprintf(" and %zu not finished", unfinished) : dbm_xstrdup("");
            f = dbm_report_add_finding(report, severity, "adopt-available", NULL, 0, 0,
                                       "found %s's history table %s.%s%s listing %zu applied "
                                       "version%s%s; 'db-migrate baseline --adopt-from %s' "
                                       "imports it",
                                       name, s.schema, s.name, at, applied, applied == 1 ? "" : "s",
                                       bad, name);
            dbm_report_set(&f->hint,
                           severity == DBM_SEV_ERROR
                               ? "db-migrate's history is empty, so apply would run every "
                                 "migration again: import the old history first with baseline "
                                 "--adopt-from (nothing is re-run), or drop that table if it "
                                 "does not describe this database"
                               : "run it once before the first apply; nothing is re-run "
                                 "(see docs/adopting.md)");
            free(at);
            free(bad);
            nfound++;
        }
        source_clear(&s);
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
        error = dbm_error_set(DBM_EGENERIC, "unable to begin the import: %s", PQerrorMessage(conn));
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
        r = dbm_report_add_migration(report, m->version, m->name, shown(display, set, i),
                                     DBM_MIG_APPLIED);
        r->transactional = !m->no_transaction;
        r->note = dbm_xasprintf("%s: recorded without running", dbm_adopt_note(plan->tool));
    }
    res = PQexec(conn, error < 0 ? "ROLLBACK" : "COMMIT");
    if (error == 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
        error =
            dbm_error_set(DBM_EGENERIC, "unable to commit the import: %s", PQerrorMessage(conn));
    PQclear(res);
    if (error == 0) {
        for (size_t k = 0; k < plan->nimport; k++)
            dbm_log("adopted  %s", shown(display, set, plan->import[k]));
        report->applied_count = (int)plan->nimport;
    }
    return error;
}
