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

#include <stdlib.h>
#include <string.h>

#define PG_NAME_MAX 63 /* NAMEDATALEN - 1: a longer name is cut by the server */

char *dbm_fleet_history_template(const dbm_config *cfg, const dbm_config_target *t)
{
    return t->history_schema ? dbm_xstrdup(t->history_schema)
                             : dbm_xasprintf("{schema}_%s", cfg->history_schema);
}

void dbm_fleet_schemas_free(dbm_fleet_schemas *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->exists);
    free(s);
}

/* The query's names into *s, without the history schemas the template makes. */
static void keep_tenants(dbm_fleet_schemas *s, dbm_tenant_schemas *q, const char *tmpl)
{
    s->names = dbm_xcalloc(q->count + 1, sizeof(*s->names));
    s->exists = dbm_xcalloc(q->count + 1, sizeof(*s->exists));
    for (size_t i = 0; i < q->count; i++) {
        if (dbm_sql_schema_template_matches(tmpl, q->names[i])) {
            s->skipped++;
            continue;
        }
        s->exists[s->count] = q->exists[i];
        s->names[s->count++] = q->names[i];
        q->names[i] = NULL;
    }
}

int dbm_fleet_schemas_read(dbm_fleet_schemas **out, const dbm_config *cfg,
                           const dbm_config_target *t)
{
    dbm_config tcfg = *cfg;
    dbm_conn *conn = NULL;
    dbm_tenant_schemas *q = NULL;
    char *tmpl = NULL;
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
    *out = dbm_xcalloc(1, sizeof(**out));
    keep_tenants(*out, q, tmpl);
    dbm_log("the schemas: query names %zu schema%s%s", (*out)->count, (*out)->count == 1 ? "" : "s",
            (*out)->skipped ? " (and history schemas, left out)" : "");
done:
    for (size_t i = 0; q && i < q->count; i++)
        free(q->names[i]);
    if (q)
        q->count = 0;
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
