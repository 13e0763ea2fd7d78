/*
 * fleet_schemas.c - a schemas: target's schemas, and what each one gets.
 */
#include "command/fleet_schemas.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/tenants.h"
#include "sql/ident.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define PG_NAME_MAX 63 /* NAMEDATALEN - 1: a longer name is cut by the server */

char *dbm_fleet_history_template(const dbm_config *cfg, const dbm_config_target *t)
{
    return t->history_schema ? dbm_xstrdup(t->history_schema)
                             : dbm_xasprintf("{schema}_%s", cfg->history_schema);
}

/* Leave out of q the history schemas the template makes; returns how many. */
static size_t keep_tenants(dbm_tenant_schemas *q, const char *tmpl)
{
    size_t kept = 0, skipped = 0;

    for (size_t i = 0; i < q->count; i++) {
        if (dbm_sql_schema_template_matches(tmpl, q->names[i])) {
            free(q->names[i]);
            skipped++;
            continue;
        }
        q->exists[kept] = q->exists[i];
        q->names[kept++] = q->names[i];
    }
    q->count = kept;
    return skipped;
}

int dbm_fleet_schemas_read(dbm_fleet_schemas **out, const dbm_config *cfg,
                           const dbm_config_target *t)
{
    dbm_config tcfg = *cfg;
    dbm_conn *conn = NULL;
    dbm_tenant_schemas *q = NULL;
    char *tmpl = NULL;
    size_t skipped;
    int error;

    *out = NULL;
    if (!t->database_url) {
        error = dbm_error_set(DBM_ECONFIG, "target '%s' has no database-url", t->name);
        dbm_error_hint("give the target the database its schemas: query runs in");
        return error;
    }
    tcfg.database_url = t->database_url;
    tcfg.database_from_pgenv = false;
    if ((error = dbm_run_connect_config(&conn, &tcfg)) < 0 ||
        (error = dbm_db_tenant_schemas(&q, dbm_conn_pg(conn), t->schemas)) < 0)
        goto done;
    tmpl = dbm_fleet_history_template(cfg, t);
    skipped = keep_tenants(q, tmpl);
    dbm_log("the schemas: query names %zu schema%s%s", q->count, q->count == 1 ? "" : "s",
            skipped ? " (and history schemas, left out)" : "");
    *out = q;
    q = NULL;
done:
    dbm_tenant_schemas_free(q);
    dbm_conn_free(conn);
    free(tmpl);
    return error;
}

int dbm_fleet_schema_settings(char **history, char **search_path, const dbm_config *cfg,
                              const dbm_config_target *t, const char *schema)
{
    char *tmpl = dbm_fleet_history_template(cfg, t);
    int error = 0;

    *history = dbm_sql_expand_schema(tmpl, schema, false);
    *search_path = NULL;
    if (strlen(*history) > PG_NAME_MAX) {
        char *shown = dbm_printable(*history);
        error = dbm_error_set(DBM_ECONFIG,
                              "the history schema '%s' is longer than PostgreSQL's %d bytes", shown,
                              PG_NAME_MAX);
        dbm_error_hint("set the target's history-schema: to a shorter template, such as "
                       "\"{schema}\" (the history tables in the tenant's own schema)");
        free(shown);
        free(*history);
        *history = NULL;
    } else {
        *search_path = dbm_sql_expand_schema(
            t->search_path ? t->search_path : DBM_FLEET_SEARCH_PATH, schema, true);
    }
    free(tmpl);
    return error;
}

/* --- the selection's "TARGET/SCHEMA" globs --- */

struct dbm_fleet_globs {
    struct schema_glob {
        char *glob;
        bool looked, hit; /* a target's schemas were read for it; one of them matched */
        char *where;      /* the first target read for it, and a few of its schemas */
    } * items;
    size_t count, cap;
};

dbm_fleet_globs *dbm_fleet_globs_new(const char *targets)
{
    dbm_fleet_globs *f = dbm_xcalloc(1, sizeof(*f));
    char *copy, *save = NULL;

    if (!targets)
        return f;
    copy = dbm_xstrdup(targets);
    for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
        g += strspn(g, " ");
        g[strcspn(g, " ")] = '\0';
        if (!strchr(g, '/'))
            continue;
        dbm_array_grow((void **)&f->items, &f->cap, f->count + 1, sizeof(*f->items));
        f->items[f->count++] = (struct schema_glob){dbm_xstrdup(g), false, false, NULL};
    }
    free(copy);
    return f;
}

void dbm_fleet_globs_match(dbm_fleet_globs *f, const char *target, char *const *names, size_t n)
{
    for (size_t i = 0; i < f->count; i++) {
        struct schema_glob *g = &f->items[i];
        char *part = dbm_xstrndup(g->glob, strcspn(g->glob, "/"));
        bool mine = fnmatch(part, target, 0) == 0;
        free(part);
        if (!mine)
            continue;
        g->looked = true;
        for (size_t k = 0; k < n && !g->hit; k++) {
            char *shown = dbm_printable(names[k]);
            char *name = dbm_xasprintf("%s/%s", target, shown);
            g->hit = fnmatch(g->glob, name, 0) == 0;
            free(name);
            free(shown);
        }
        if (!g->where) {
            dbm_buf b = DBM_BUF_INIT;
            dbm_buf_printf(&b, "the schemas of %s: ", target);
            for (size_t k = 0; k < n && k < 10; k++)
                dbm_buf_printf(&b, "%s%s", k ? ", " : "", names[k]);
            dbm_buf_puts(&b, n > 10 ? ", ..." : n ? "" : "none");
            g->where = dbm_buf_detach(&b);
        }
    }
}

int dbm_fleet_globs_check_free(dbm_fleet_globs *f)
{
    int error = 0;

    for (size_t i = 0; i < f->count; i++) {
        struct schema_glob *g = &f->items[i];
        if (!error && g->looked && !g->hit) {
            char *shown = dbm_printable(g->where);
            error = dbm_error_set(DBM_ECONFIG, "targets '%s' matches no schema of %.*s", g->glob,
                                  (int)strcspn(g->glob, "/"), g->glob);
            dbm_error_hint("%s", shown);
            free(shown);
        }
        free(g->glob);
        free(g->where);
    }
    free(f->items);
    free(f);
    return error;
}
