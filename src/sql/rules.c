/*
 * rules.c - safety rules over libpg_query parse trees: the engine.
 *
 * One pass over the statements in order. State carried between statements:
 * the tables created so far in the section (changes to them are harmless:
 * nobody else can be using them yet), the tables on which a constraint was
 * validated, the enum types dropped or renamed away, and whether lock_timeout
 * has been set. The rules on tables are in rules_table.c, the ignore comments
 * in rules_ignore.c; the rules on single statements are here.
 */
#include "sql/node.h"
#include "sql/rules.h"
#include "sql/rules_internal.h"

#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct dbm_rule_info dbm_rules[] = {
    {"index-without-concurrently",
     "CREATE INDEX without CONCURRENTLY on an existing table blocks writes to it until the "
     "index is built",
     "CREATE INDEX CONCURRENTLY in a migration marked -- migrate:no-transaction"},
    {"not-null-column-without-default",
     "ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows",
     "add the column with a constant DEFAULT, or add it nullable, backfill, then enforce NOT "
     "NULL"},
    {"volatile-default",
     "ADD COLUMN with a volatile default (clock_timestamp(), random(), gen_random_uuid(), "
     "nextval(), serial, identity, stored generated) rewrites the table under an ACCESS "
     "EXCLUSIVE lock",
     "add the column without a default (or with a constant one), backfill in batches, then set "
     "the default"},
    {"set-not-null",
     "ALTER COLUMN ... SET NOT NULL, or ADD ... NOT NULL col without NOT VALID (PostgreSQL "
     "18), scans the whole table under an ACCESS EXCLUSIVE lock",
     "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT "
     "NULL (PostgreSQL 12+ skips the scan) and drop the check"},
    {"constraint-without-not-valid",
     "ADD CONSTRAINT ... CHECK or FOREIGN KEY validates every row while holding its lock",
     "ADD CONSTRAINT ... NOT VALID, then VALIDATE CONSTRAINT in a later statement or migration"},
    {"unique-without-using-index",
     "ADD CONSTRAINT ... UNIQUE or PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
     "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE/PRIMARY KEY USING INDEX"},
    {"alter-column-type",
     "ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock, "
     "unless the change is binary-compatible (varchar(n) to a longer varchar or to text)",
     "add a new column, backfill it, switch the application, then drop the old column"},
    {"drop-column", "DROP COLUMN breaks application code that still reads or writes the column",
     "stop using the column in the application first, deploy, then drop it"},
    {"drop-table", "DROP TABLE breaks application code that still uses the table",
     "stop using the table in the application first, deploy, then drop it"},
    {"rename-column", "RENAME COLUMN breaks application code that uses the old name",
     "add a new column, write both, backfill, switch reads, then drop the old one"},
    {"rename-table", "RENAME TABLE breaks application code that uses the old name",
     "create the new table (or a view under the old name), switch the application, then drop "
     "the old one"},
    {"enum-value-change",
     "renaming an enum value, or recreating an enum type (to remove or reorder values), breaks "
     "stored data and application code that uses the old values",
     "only add values (ALTER TYPE ... ADD VALUE); stop using a value before retiring it"},
    {"vacuum-full", "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock",
     "plain VACUUM, or an online repack tool, outside the migration"},
    {"cluster", "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
     "an online repack tool outside the migration, or leave the physical order alone"},
    {"lock-table",
     "LOCK TABLE holds a lock until the end of the transaction and queues every other "
     "statement behind it",
     "let each statement take the lock it needs, with lock_timeout set"},
    {"missing-lock-timeout",
     "a statement takes an ACCESS EXCLUSIVE lock with no lock_timeout: while it waits, every "
     "query on the table waits behind it",
     "keep the lock-timeout option (default 5s), or SET lock_timeout at the top of the "
     "migration"},
    {NULL, NULL, NULL},
};

const struct dbm_rule_info *dbm_rule_find(const char *id)
{
    for (const struct dbm_rule_info *r = dbm_rules; r->id; r++)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* ---- checking state ---- */

void dbm_rules_relset_add(relset *s, const char *schema, const char *name)
{
    if (!name)
        return;
    dbm_array_grow((void **)&s->items, &s->cap, s->count + 1, sizeof(*s->items));
    s->items[s->count].schema = dbm_xstrdup(schema);
    s->items[s->count].name = dbm_xstrdup(name);
    s->count++;
}

bool dbm_rules_relset_has(const relset *s, const char *schema, const char *name)
{
    for (size_t i = 0; name && i < s->count; i++) {
        if (strcmp(s->items[i].name, name) != 0)
            continue;
        if (!schema || !s->items[i].schema || strcmp(schema, s->items[i].schema) == 0)
            return true;
    }
    return false;
}

static void relset_free(relset *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].schema);
        free(s->items[i].name);
    }
    free(s->items);
}

bool dbm_rules_table_is_new(checker *c, const char *schema, const char *name)
{
    if (dbm_rules_relset_has(&c->new_tables, schema, name))
        return true;
    return c->opts && c->opts->table_is_new &&
           c->opts->table_is_new(c->opts->table_is_new_ctx, schema, name);
}

bool dbm_rules_relation_is_new(checker *c, const json_t *rv)
{
    return dbm_rules_table_is_new(c, jstr(rv, "schemaname"), jstr(rv, "relname"));
}

void dbm_rules_hit(checker *c, const char *rule, char *message, const char *hint_fmt, ...)
{
    dbm_rule_hits *h = c->hits;
    dbm_rule_hit *it;
    dbm_buf hint = DBM_BUF_INIT;
    va_list ap;

    if (dbm_rules_ignored(&c->ignores, c->stmts, c->stmt, rule)) {
        free(message);
        return;
    }
    if (hint_fmt) {
        va_start(ap, hint_fmt);
        char *s = NULL;
        if (vasprintf(&s, hint_fmt, ap) < 0)
            s = NULL;
        va_end(ap);
        dbm_buf_puts(&hint, s ? s : "");
        free(s);
    } else {
        dbm_buf_puts(&hint, dbm_rule_find(rule)->safe_alternative);
    }
    dbm_array_grow((void **)&h->items, &c->hits_cap, h->count + 1, sizeof(*h->items));
    it = &h->items[h->count++];
    it->rule = dbm_rule_find(rule)->id;
    it->stmt = c->stmt;
    it->line = c->stmts->items[c->stmt].line;
    it->col = c->stmts->items[c->stmt].col;
    it->message = message;
    it->hint = dbm_buf_detach(&hint);
}

void dbm_rules_strong_lock(checker *c, const char *what)
{
    if (c->lock_timeout_reported || c->lock_timeout_set ||
        (c->opts && c->opts->lock_timeout_configured))
        return;
    c->lock_timeout_reported = true;
    dbm_rules_hit(
        c, "missing-lock-timeout",
        dbm_xasprintf("%s takes an ACCESS EXCLUSIVE lock and no lock_timeout is set", what), NULL);
}

/* ---- names ---- */

const char *dbm_rules_last_name(const json_t *list)
{
    size_t n = json_array_size(list);
    return n ? jstr(json_object_get(json_array_get(list, n - 1), "String"), "sval") : NULL;
}

const char *dbm_rules_schema_name(const json_t *list)
{
    size_t n = json_array_size(list);
    return n > 1 ? jstr(json_object_get(json_array_get(list, n - 2), "String"), "sval") : NULL;
}

char *dbm_rules_qualified_name(const json_t *list)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item)
    {
        if (i)
            dbm_buf_putc(&b, '.');
        dbm_buf_puts(&b, jstr(json_object_get(item, "String"), "sval") ?: "?");
    }
    return dbm_buf_detach(&b);
}

char *dbm_rules_rel_name(const json_t *rv)
{
    const char *schema = jstr(rv, "schemaname"), *name = jstr(rv, "relname");
    return schema ? dbm_xasprintf("%s.%s", schema, name ?: "?") : dbm_xstrdup(name ?: "?");
}

/* ---- rules on single statements ---- */

/* An option's boolean value as PostgreSQL reads it: no argument is true. */
static bool defelem_true(const json_t *de)
{
    const json_t *arg = json_object_get(de, "arg"), *v;
    const char *str;

    if (!arg)
        return true;
    if ((v = json_object_get(arg, "Integer")) != NULL)
        return json_integer_value(json_object_get(v, "ival")) != 0;
    if ((v = json_object_get(arg, "TypeName")) != NULL)
        arg = json_array_get(json_object_get(v, "names"), 0);
    if ((v = json_object_get(arg, "String")) != NULL && (str = jstr(v, "sval")) != NULL)
        return strcasecmp(str, "false") != 0 && strcasecmp(str, "off") != 0;
    return true;
}

static void check_enum(checker *c, const char *type, const json_t *n)
{
    const json_t *names = json_object_get(n, "typeName");
    const char *schema = dbm_rules_schema_name(names);
    char *q = dbm_rules_qualified_name(names);

    if (strcmp(type, "AlterEnumStmt") == 0 && jstr(n, "oldVal"))
        dbm_rules_hit(c, "enum-value-change",
                      dbm_xasprintf("value '%s' of enum \"%s\" is renamed to '%s'",
                                    jstr(n, "oldVal"), q, jstr(n, "newVal") ?: "?"),
                      NULL);
    else if (strcmp(type, "CreateEnumStmt") == 0 &&
             dbm_rules_relset_has(&c->old_types, schema, dbm_rules_last_name(names)))
        dbm_rules_hit(
            c, "enum-value-change",
            dbm_xasprintf("enum \"%s\" is recreated after the old type was dropped or renamed: "
                          "values may be removed or reordered",
                          q),
            NULL);
    free(q);
}

/* A SET [LOCAL] lock_timeout to a non-zero value, or its RESET. */
static void check_set(checker *c, const json_t *n)
{
    const char *kind = jstr(n, "kind");
    const json_t *arg = json_array_get(json_object_get(n, "args"), 0);
    const json_t *con = json_object_get(arg, "A_Const");
    const json_t *v;
    bool zero = false;

    if (!jstr_is(n, "name", "lock_timeout") || !kind)
        return;
    if (strcmp(kind, "VAR_SET_VALUE") != 0) {
        c->lock_timeout_set = false; /* RESET, SET ... TO DEFAULT */
        return;
    }
    if ((v = json_object_get(con, "ival")) != NULL)
        zero = json_integer_value(json_object_get(v, "ival")) == 0;
    else if ((v = json_object_get(con, "sval")) != NULL) {
        const char *s = jstr(v, "sval");
        zero = s && strtod(s, NULL) == 0;
    }
    c->lock_timeout_set = !zero;
}

static void check_statement(checker *c, const char *type, const json_t *n)
{
    const json_t *rv = json_object_get(n, "relation");

    if (strcmp(type, "CreateStmt") == 0) {
        dbm_rules_relset_add(&c->new_tables, jstr(rv, "schemaname"), jstr(rv, "relname"));
    } else if (strcmp(type, "CreateTableAsStmt") == 0 || strcmp(type, "SelectStmt") == 0) {
        const json_t *into =
            json_object_get(n, strcmp(type, "SelectStmt") == 0 ? "intoClause" : "into");
        const json_t *r = json_object_get(into, "rel");
        if (r)
            dbm_rules_relset_add(&c->new_tables, jstr(r, "schemaname"), jstr(r, "relname"));
    } else if (strcmp(type, "IndexStmt") == 0) {
        if (!jbool(n, "concurrent") && !dbm_rules_relation_is_new(c, rv)) {
            char *table = dbm_rules_rel_name(rv);
            const char *idx = jstr(n, "idxname");
            dbm_rules_hit(c, "index-without-concurrently",
                          dbm_xasprintf("index %s%s%son existing table \"%s\" is built without "
                                        "CONCURRENTLY: writes to the table wait until it is built",
                                        idx ? "\"" : "", idx ?: "", idx ? "\" " : "", table),
                          NULL);
            free(table);
        }
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        dbm_rules_check_alter_table(c, n);
    } else if (strcmp(type, "DropStmt") == 0) {
        dbm_rules_check_drop(c, n);
    } else if (strcmp(type, "RenameStmt") == 0) {
        dbm_rules_check_rename(c, n);
    } else if (strcmp(type, "AlterEnumStmt") == 0 || strcmp(type, "CreateEnumStmt") == 0) {
        check_enum(c, type, n);
    } else if (strcmp(type, "VacuumStmt") == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(n, "options"), i, item)
        {
            const json_t *de = json_object_get(item, "DefElem");
            if (jstr_is(de, "defname", "full") && defelem_true(de)) {
                dbm_rules_hit(
                    c, "vacuum-full",
                    dbm_xstrdup("VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock"),
                    NULL);
                dbm_rules_strong_lock(c, "VACUUM FULL");
                break;
            }
        }
    } else if (strcmp(type, "ClusterStmt") == 0) {
        char *table = rv ? dbm_rules_rel_name(rv) : dbm_xstrdup("every clustered table");
        dbm_rules_hit(
            c, "cluster",
            dbm_xasprintf("CLUSTER rewrites \"%s\" under an ACCESS EXCLUSIVE lock", table), NULL);
        dbm_rules_strong_lock(c, "CLUSTER");
        free(table);
    } else if (strcmp(type, "LockStmt") == 0) {
        dbm_rules_hit(c, "lock-table",
                      dbm_xstrdup("LOCK TABLE holds its lock until the transaction ends"), NULL);
        if (json_integer_value(json_object_get(n, "mode")) == 8)
            dbm_rules_strong_lock(c, "LOCK TABLE");
    } else if (strcmp(type, "TruncateStmt") == 0) {
        dbm_rules_strong_lock(c, "TRUNCATE");
    } else if (strcmp(type, "RefreshMatViewStmt") == 0) {
        if (!jbool(n, "concurrent"))
            dbm_rules_strong_lock(c, "REFRESH MATERIALIZED VIEW");
    } else if (strcmp(type, "VariableSetStmt") == 0) {
        check_set(c, n);
    }
}

int dbm_rules_check(dbm_rule_hits **out, const dbm_stmt_list *stmts, const char *section,
                    size_t len, const dbm_rules_options *opts)
{
    checker c;
    int rc = 0;

    memset(&c, 0, sizeof(c));
    *out = NULL;
    c.stmts = stmts;
    c.opts = opts;
    c.hits = dbm_xcalloc(1, sizeof(*c.hits));
    dbm_rules_ignores_find(&c.ignores, section, len);

    for (size_t i = 0; stmts && i < stmts->count; i++) {
        const dbm_stmt *st = &stmts->items[i];
        json_t *raw = dbm_stmt_tree(stmts, i);
        void *it = json_object_iter(json_object_get(raw, "stmt"));

        if (!it) {
            json_decref(raw);
            rc = dbm_error_set(DBM_EGENERIC,
                               "unable to read the parse tree of the statement at "
                               "line %d",
                               st->line);
            goto done;
        }
        c.stmt = i;
        check_statement(&c, json_object_iter_key(it), json_object_iter_value(it));
        json_decref(raw);
    }
    *out = c.hits;
    c.hits = NULL;

done:
    dbm_rule_hits_free(c.hits);
    dbm_rules_ignores_free(&c.ignores);
    relset_free(&c.new_tables);
    relset_free(&c.validated);
    relset_free(&c.old_types);
    return rc;
}

void dbm_rule_hits_free(dbm_rule_hits *hits)
{
    if (!hits)
        return;
    for (size_t i = 0; i < hits->count; i++) {
        free(hits->items[i].message);
        free(hits->items[i].hint);
    }
    free(hits->items);
    free(hits);
}
