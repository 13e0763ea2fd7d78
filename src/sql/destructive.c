/*
 * destructive.c - which statements of a section destroy data or objects.
 *
 * The DROPs listed are of objects that hold data, or that take data with them
 * (a type drops the columns of that type with CASCADE); dropping an index, a
 * view, a function or a trigger loses nothing a migration cannot rebuild.
 */
#include "sql/destructive.h"
#include "common/util.h"
#include "sql/node.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The DROP object types listed, with the words shown. */
static const struct {
    const char *remove_type, *what;
} drop_kinds[] = {
    {"OBJECT_TABLE", "DROP TABLE"},
    {"OBJECT_SCHEMA", "DROP SCHEMA"},
    {"OBJECT_MATVIEW", "DROP MATERIALIZED VIEW"},
    {"OBJECT_SEQUENCE", "DROP SEQUENCE"},
    {"OBJECT_TYPE", "DROP TYPE"},
    {"OBJECT_DOMAIN", "DROP DOMAIN"},
    {"OBJECT_EXTENSION", "DROP EXTENSION"},
    {"OBJECT_FOREIGN_TABLE", "DROP FOREIGN TABLE"},
};

static const char *sval(const json_t *node)
{
    return jstr(json_object_get(node, "String"), "sval");
}

/* "a.b.c" from a list of String nodes. Caller frees. */
static char *dotted(const json_t *names)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t i;
    json_t *item;

    json_array_foreach(names, i, item)
    {
        if (i)
            dbm_buf_putc(&b, '.');
        dbm_buf_puts(&b, sval(item) ? sval(item) : "?");
    }
    return b.ptr ? dbm_buf_detach(&b) : dbm_xstrdup("?");
}

static dbm_destructive *add(dbm_destructive_list *l, size_t *cap, const char *what, int line)
{
    dbm_destructive *d;

    dbm_array_grow((void **)&l->items, cap, l->count + 1, sizeof(*l->items));
    d = &l->items[l->count++];
    memset(d, 0, sizeof(*d));
    d->what = what;
    d->line = line;
    return d;
}

/* A RangeVar's table as the entry's table, schema and object. */
static void set_table(dbm_destructive *d, const json_t *rv)
{
    const char *schema = jstr(rv, "schemaname"), *name = jstr(rv, "relname");

    d->schema = dbm_xstrdup(schema);
    d->table = dbm_xstrdup(name ? name : "?");
    d->object = schema ? dbm_xasprintf("%s.%s", schema, d->table) : dbm_xstrdup(d->table);
}

static void drop_stmt(dbm_destructive_list *l, size_t *cap, const json_t *n, int line)
{
    const char *type = jstr(n, "removeType"), *what = NULL;
    bool cascade = jstr_is(n, "behavior", "DROP_CASCADE");
    size_t i;
    json_t *item;

    for (size_t k = 0; type && k < sizeof(drop_kinds) / sizeof(drop_kinds[0]); k++)
        if (strcmp(type, drop_kinds[k].remove_type) == 0)
            what = drop_kinds[k].what;
    if (!what)
        return;
    json_array_foreach(json_object_get(n, "objects"), i, item)
    {
        const json_t *names = json_object_get(json_object_get(item, "List"), "items");
        const json_t *tn = json_object_get(item, "TypeName");
        dbm_destructive *d = add(l, cap, what, line);
        size_t nn = json_array_size(names);

        d->cascade = cascade;
        if (names && strcmp(what, "DROP TABLE") == 0) {
            d->table = dbm_xstrdup(nn ? sval(json_array_get(names, nn - 1)) : NULL);
            d->schema = nn > 1 ? dbm_xstrdup(sval(json_array_get(names, nn - 2))) : NULL;
            d->all_rows = d->table != NULL;
        }
        if (names)
            d->object = dotted(names);
        else if (tn)
            d->object = dotted(json_object_get(tn, "names"));
        else
            d->object = dbm_xstrdup(sval(item) ? sval(item) : "?");
    }
}

static void alter_table(dbm_destructive_list *l, size_t *cap, const json_t *n, int line)
{
    const json_t *rv = json_object_get(n, "relation");
    size_t i;
    json_t *item;

    json_array_foreach(json_object_get(n, "cmds"), i, item)
    {
        const json_t *cmd = json_object_get(item, "AlterTableCmd");
        const char *col = jstr(cmd, "name");
        const char *schema = jstr(rv, "schemaname"), *rel = jstr(rv, "relname");
        dbm_destructive *d;

        if (!jstr_is(cmd, "subtype", "AT_DropColumn"))
            continue;
        d = add(l, cap, "DROP COLUMN", line);
        d->cascade = jstr_is(cmd, "behavior", "DROP_CASCADE");
        d->object = schema ? dbm_xasprintf("%s.%s.%s", schema, rel ? rel : "?", col ? col : "?")
                           : dbm_xasprintf("%s.%s", rel ? rel : "?", col ? col : "?");
    }
}

static void one_statement(dbm_destructive_list *l, size_t *cap, const char *type, const json_t *n,
                          int line)
{
    dbm_destructive *d;
    size_t i;
    json_t *item;

    if (strcmp(type, "DropStmt") == 0) {
        drop_stmt(l, cap, n, line);
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        alter_table(l, cap, n, line);
    } else if (strcmp(type, "TruncateStmt") == 0) {
        json_array_foreach(json_object_get(n, "relations"), i, item)
        {
            d = add(l, cap, "TRUNCATE", line);
            set_table(d, json_object_get(item, "RangeVar"));
            d->all_rows = true;
            d->cascade = jstr_is(n, "behavior", "DROP_CASCADE");
        }
    } else if (strcmp(type, "DeleteStmt") == 0) {
        d = add(l, cap, "DELETE", line);
        set_table(d, json_object_get(n, "relation"));
        d->all_rows = json_object_get(n, "whereClause") == NULL;
    } else if (strcmp(type, "DropdbStmt") == 0) {
        d = add(l, cap, "DROP DATABASE", line);
        d->object = dbm_xstrdup(jstr(n, "dbname") ? jstr(n, "dbname") : "?");
    }
}

void dbm_sql_destructive(dbm_destructive_list **out, const dbm_stmt_list *stmts)
{
    dbm_destructive_list *l = dbm_xcalloc(1, sizeof(*l));
    size_t cap = 0;

    for (size_t i = 0; stmts && i < stmts->count; i++) {
        json_t *raw = dbm_stmt_tree(stmts, i);
        void *it = json_object_iter(json_object_get(raw, "stmt"));

        if (it)
            one_statement(l, &cap, json_object_iter_key(it), json_object_iter_value(it),
                          stmts->items[i].line);
        json_decref(raw);
    }
    *out = l;
}

void dbm_destructive_list_free(dbm_destructive_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].object);
        free(list->items[i].schema);
        free(list->items[i].table);
    }
    free(list->items);
    free(list);
}
