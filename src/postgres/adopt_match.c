/*
 * adopt_match.c - another tool's history, once read, as the files to import:
 * replaying the rows of the tools that keep a log, and matching versions to
 * the migration files. No SQL here.
 */
#include "postgres/adopt_internal.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

const char *dbm_adopt_table(dbm_format tool)
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
    case DBM_FORMAT_SQITCH:
        return "sqitch.changes";
    case DBM_FORMAT_GRAPHILE_MIGRATE:
        return "graphile_migrate.migrations";
    case DBM_FORMAT_SQLX:
        return "_sqlx_migrations";
    case DBM_FORMAT_DRIZZLE:
        return "__drizzle_migrations";
    case DBM_FORMAT_SUPABASE:
        return "schema_migrations";
    case DBM_FORMAT_ATLAS:
        return "atlas_schema_revisions";
    default:
        return NULL;
    }
}

const char *dbm_adopt_schema(dbm_format tool)
{
    switch (tool) {
    case DBM_FORMAT_DRIZZLE:
        return "drizzle";
    case DBM_FORMAT_SUPABASE:
        return "supabase_migrations";
    case DBM_FORMAT_ATLAS:
        return "atlas_schema_revisions";
    default:
        return NULL;
    }
}

const char *dbm_adopt_shown(char *const *display, const dbm_migration_set *set, size_t i)
{
    return display ? display[i] : set->items[i].path;
}

static void entry_clear(dbm_adopt_entry *e)
{
    free(e->version);
    free(e->script);
    free(e->description);
    free(e->checksum);
    free(e->detail);
    memset(e, 0, sizeof(*e));
}

void dbm_adopt_source_clear(dbm_adopt_source *s)
{
    for (size_t i = 0; i < s->count; i++)
        entry_clear(&s->items[i]);
    free(s->items);
    free(s->schema);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

dbm_adopt_entry *dbm_adopt_source_add(dbm_adopt_source *s, const char *version, dbm_adopt_state st)
{
    dbm_adopt_entry *e;
    dbm_array_grow((void **)&s->items, &s->cap, s->count + 1, sizeof(*s->items));
    e = &s->items[s->count++];
    memset(e, 0, sizeof(*e));
    e->version = dbm_xstrdup(version);
    e->state = st;
    return e;
}

static void source_remove(dbm_adopt_source *s, size_t i)
{
    entry_clear(&s->items[i]);
    memmove(&s->items[i], &s->items[i + 1], (s->count - i - 1) * sizeof(*s->items));
    s->count--;
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
static long flyway_find(const dbm_adopt_source *s, const char *version, const char *description)
{
    for (size_t i = 0; i < s->count; i++) {
        const dbm_adopt_entry *e = &s->items[i];
        if (version ? (e->version && strcmp(e->version, version) == 0)
                    : (!e->version && e->description && description &&
                       strcmp(e->description, description) == 0))
            return (long)i;
    }
    return -1;
}

void dbm_adopt_flyway_row(dbm_adopt_source *s, const char *version, const char *description,
                          const char *type, const char *script, bool success)
{
    long prev = flyway_find(s, version, description);
    dbm_adopt_entry *e;

    if (!type || strcmp(type, "SCHEMA") == 0)
        return;
    if (prev >= 0)
        source_remove(s, (size_t)prev);
    if (strcmp(type, "DELETE") == 0 || dbm_starts_with(type, "UNDO_"))
        return;
    if (strstr(type, "BASELINE")) {
        if (!version || !success)
            return;
        e = dbm_adopt_source_add(s, version, DBM_ADOPT_UP_TO);
        e->baseline = true;
    } else {
        e = dbm_adopt_source_add(s, version, success ? DBM_ADOPT_APPLIED : DBM_ADOPT_UNFINISHED);
        if (!success)
            e->detail = dbm_xstrdup("success = false");
    }
    e->script = dbm_xstrdup(script);
    e->description = dbm_xstrdup(description);
}

void dbm_adopt_prisma_row(dbm_adopt_source *s, const char *name, const char *checksum,
                          bool finished, bool rolled_back, const char *logs)
{
    long at = -1;
    dbm_adopt_entry *e;

    if (!name || rolled_back)
        return;
    for (size_t k = 0; k < s->count; k++)
        if (strcmp(s->items[k].version, name) == 0)
            at = (long)k;
    if (at >= 0) {
        /* A finished row wins over an unfinished one for the same name. */
        if (finished && s->items[at].state == DBM_ADOPT_UNFINISHED)
            source_remove(s, (size_t)at);
        else
            return;
    }
    if (finished) {
        e = dbm_adopt_source_add(s, name, DBM_ADOPT_APPLIED);
        e->checksum = dbm_xstrdup(checksum);
    } else {
        char *log = first_line(logs);
        e = dbm_adopt_source_add(s, name, DBM_ADOPT_UNFINISHED);
        e->detail = log ? dbm_xasprintf("finished_at and rolled_back_at are NULL: %s", log)
                        : dbm_xstrdup("finished_at and rolled_back_at are NULL");
        free(log);
    }
}

/* The file a Flyway repeatable entry names: by script, else by description. */
static long find_repeatable(const dbm_migration_set *set, const dbm_adopt_entry *e)
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

static long find_file(const dbm_migration_set *set, const dbm_adopt_entry *e)
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
    case DBM_FORMAT_SQITCH:
        return "the registry's deployed changes do not follow sqitch.plan: restore the plan "
               "as it was deployed (or revert the changes with sqitch) and run baseline "
               "--adopt-from sqitch again";
    default:
        return "finish or undo that migration with the old tool first";
    }
}

/* An entry the tool left unfinished: an error finding that blocks the import. */
static void report_unfinished(dbm_report *report, const dbm_adopt_plan *plan,
                              const dbm_adopt_entry *e)
{
    const char *what = e->version ? e->version : e->script;
    dbm_finding *f = dbm_report_add_finding(
        report, DBM_SEV_ERROR, "adopt-unfinished", NULL, 0, 0,
        "%s records %s %s as not finished (%s); nothing was imported", plan->table,
        plan->tool == DBM_FORMAT_PRISMA ? "migration" : "version", what ? what : "?",
        e->detail ? e->detail : "failed");

    dbm_report_set(&f->hint, unfinished_hint(plan->tool));
}

/* An up-to entry: every versioned file up to it is taken; warn when its own file is missing. */
static void take_up_to(bool *take, dbm_report *report, const dbm_adopt_plan *plan,
                       const dbm_adopt_entry *e, long at, const dbm_migration_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        if (!set->items[i].repeatable &&
            dbm_version_cmp(set->format, set->items[i].version, e->version) <= 0)
            take[i] = true;
    if (at < 0 && !e->baseline) {
        dbm_finding *f = dbm_report_add_finding(
            report, DBM_SEV_WARNING, "adopt-no-file", NULL, 0, 0,
            "%s records version %s, which has no file in '%s'", plan->table, e->version, set->dir);
        dbm_report_set(&f->hint, "the files up to it are imported; restore the missing "
                                 "file if the database really is at that version");
    }
}

/* Whether the tool's recorded checksum is the file's: the tool's own hash of it when the format
 * has one (computed as the tool does, CRLF and all), else db-migrate's SHA-256 (hex). */
static bool same_file(const char *checksum, const dbm_migration *m)
{
    return m->tool_hash ? dbm_tool_hash_lists(m->tool_hash, checksum)
                        : strcmp(checksum, m->checksum + 7) == 0;
}

/*
 * An applied entry: its file (at, or -1) is taken; a warning when there is
 * none, or when the tool recorded another checksum for it.
 */
static void take_applied(bool *take, dbm_report *report, const dbm_adopt_plan *plan,
                         const dbm_adopt_entry *e, long at, const dbm_migration_set *set,
                         char *const *display)
{
    dbm_finding *f;

    if (at < 0) {
        f = dbm_report_add_finding(
            report, DBM_SEV_WARNING, "adopt-no-file", NULL, 0, 0,
            "%s lists %s %s as applied but it has no file in '%s'; not imported", plan->table,
            e->version ? "version" : "repeatable",
            e->version ? e->version : (e->script ? e->script : "?"), set->dir);
        dbm_report_set(&f->hint, "a migration that was not SQL (a Go or Java migration) or "
                                 "a deleted file; restore it if the new set needs it");
        return;
    }
    take[at] = true;
    if (e->checksum && !same_file(e->checksum, &set->items[at])) {
        const char *path = dbm_adopt_shown(display, set, (size_t)at);
        f = dbm_report_add_finding(report, DBM_SEV_WARNING, "adopt-edited", path, 0, 0,
                                   "'%s' differs from the file %s applied (checksum %s); "
                                   "imported with the current file's checksum",
                                   path, dbm_format_name(plan->tool), e->checksum);
        dbm_report_set(&f->hint, "check that the database matches the file; a change that "
                                 "never ran belongs in a new migration");
    }
}

/* plan->import: the files taken, in the set's order, up to target_version when given. */
static void select_imports(dbm_adopt_plan *plan, const bool *take, const dbm_migration_set *set,
                           const char *target_version)
{
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
}

dbm_adopt_plan *dbm_adopt_match(dbm_report *report, const dbm_adopt_source *s, dbm_format tool,
                                const dbm_migration_set *set, char *const *display,
                                const char *target_version)
{
    dbm_adopt_plan *plan = dbm_xcalloc(1, sizeof(*plan));
    bool *take = dbm_xcalloc(set->count + 1, sizeof(*take));

    plan->tool = tool;
    plan->table = dbm_xasprintf("%s.%s", s->schema, s->name);
    if (tool == DBM_FORMAT_DRIZZLE)
        dbm_adopt_drizzle_resolve((dbm_adopt_source *)s, set);
    for (size_t k = 0; k < s->count; k++) {
        const dbm_adopt_entry *e = &s->items[k];

        if (e->state == DBM_ADOPT_UNFINISHED) {
            report_unfinished(report, plan, e);
            plan->nblocked++;
            continue;
        }
        plan->listed++;
        if (e->state == DBM_ADOPT_UP_TO)
            take_up_to(take, report, plan, e, find_file(set, e), set);
        else
            take_applied(take, report, plan, e, find_file(set, e), set, display);
    }
    select_imports(plan, take, set, target_version);
    free(take);
    return plan;
}

void dbm_adopt_count(size_t *applied, size_t *unfinished, const char **current,
                     const dbm_adopt_source *s, const dbm_migration_set *set)
{
    *applied = *unfinished = 0;
    *current = NULL;
    for (size_t k = 0; k < s->count; k++) {
        if (s->items[k].state == DBM_ADOPT_UNFINISHED)
            (*unfinished)++;
        else if (s->items[k].state == DBM_ADOPT_APPLIED)
            (*applied)++;
        if (s->items[k].state != DBM_ADOPT_APPLIED && s->items[k].version)
            *current = s->items[k].version;
    }
    /* golang-migrate (and a Flyway baseline) list a version that covers the files up to it. */
    for (size_t k = 0; k < s->count; k++)
        if (s->items[k].state == DBM_ADOPT_UP_TO)
            for (size_t i = 0; i < set->count; i++)
                if (!set->items[i].repeatable &&
                    dbm_version_cmp(set->format, set->items[i].version, s->items[k].version) <= 0)
                    (*applied)++;
}
