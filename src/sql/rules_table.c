/*
 * rules_table.c - the rules on changes to existing tables: ALTER TABLE (added
 * columns, NOT NULL, constraints, type changes, dropped columns), DROP and
 * RENAME. A table created earlier in the section or the run is not existing:
 * nobody else can be using it yet. Types dropped or renamed away are noted
 * here for the enum rule, tables with a validated constraint for SET NOT NULL.
 */
#include "sql/node.h"
#include "sql/rules_internal.h"

#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; name && i < n; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

/*
 * Whether a default calling `name` may be volatile. Known volatile built-ins
 * are; so is any function not known to be stable or immutable, because
 * CREATE FUNCTION makes functions VOLATILE unless told otherwise.
 */
static bool is_volatile_function(const char *name)
{
    static const char *const non_volatile[] = {
        "now",
        "transaction_timestamp",
        "statement_timestamp",
        "current_setting",
        "lower",
        "upper",
        "length",
        "concat",
        "btrim",
        "trim",
        "to_char",
        "to_jsonb",
        "to_json",
        "jsonb_build_object",
        "json_build_object",
        "jsonb_build_array",
        "array_length",
        "date_trunc",
        "make_interval",
        "timezone",
        "abs",
        "round",
        "md5",
        "encode",
        "decode",
        "array_fill",
        "to_timestamp",
        "to_date",
        "replace",
        "substring",
        "left",
        "right",
    };
    return name && !in_list(name, non_volatile, sizeof(non_volatile) / sizeof(non_volatile[0]));
}

/* A call to a known volatile function anywhere in an expression tree. */
static const char *find_volatile_call(const json_t *node)
{
    const char *found = NULL;

    if (json_is_object(node)) {
        const json_t *fc = json_object_get(node, "FuncCall");
        const char *key;
        json_t *v;
        if (fc && is_volatile_function(dbm_rules_last_name(json_object_get(fc, "funcname"))))
            return dbm_rules_last_name(json_object_get(fc, "funcname"));
        json_object_foreach((json_t *)node, key, v)
        {
            if ((found = find_volatile_call(v)) != NULL)
                return found;
        }
    } else if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach(node, i, v)
        {
            if ((found = find_volatile_call(v)) != NULL)
                return found;
        }
    }
    return NULL;
}

static void check_add_column(checker *c, const char *table, const json_t *coldef)
{
    const char *col = jstr(coldef, "colname");
    const char *type =
        dbm_rules_last_name(json_object_get(json_object_get(coldef, "typeName"), "names"));
    bool not_null = false, has_default = false, generates = false;
    const char *volatile_what = NULL;
    size_t i;
    json_t *item;

    if (type && (strcmp(type, "serial") == 0 || strcmp(type, "bigserial") == 0 ||
                 strcmp(type, "smallserial") == 0 || strcmp(type, "serial4") == 0 ||
                 strcmp(type, "serial8") == 0 || strcmp(type, "serial2") == 0)) {
        volatile_what = type;
        generates = true;
    }
    json_array_foreach(json_object_get(coldef, "constraints"), i, item)
    {
        const json_t *con = json_object_get(item, "Constraint");
        const char *ct = jstr(con, "contype");
        if (!ct)
            continue;
        if (strcmp(ct, "CONSTR_NOTNULL") == 0 || strcmp(ct, "CONSTR_PRIMARY") == 0)
            not_null = true;
        else if (strcmp(ct, "CONSTR_DEFAULT") == 0) {
            const char *fn = find_volatile_call(json_object_get(con, "raw_expr"));
            has_default = true;
            if (fn && !volatile_what)
                volatile_what = fn;
        } else if (strcmp(ct, "CONSTR_IDENTITY") == 0) {
            generates = true;
            volatile_what = volatile_what ?: "an identity";
        } else if (strcmp(ct, "CONSTR_GENERATED") == 0) {
            /* a VIRTUAL column (PostgreSQL 18) is computed when read: nothing is written */
            generates = true;
            if (!jstr_is(con, "generated_kind", "v"))
                volatile_what = volatile_what ?: "a stored generated expression";
        }
    }
    if (volatile_what)
        dbm_rules_hit(
            c, "volatile-default",
            dbm_xasprintf("column \"%s\" added to \"%s\" with %s%s: the table is rewritten",
                          col ?: "?", table, volatile_what,
                          strchr(volatile_what, ' ') ? "" : (generates ? " type" : "()")),
            NULL);
    else if (not_null && !has_default && !generates)
        dbm_rules_hit(
            c, "not-null-column-without-default",
            dbm_xasprintf("column \"%s\" added to \"%s\" as NOT NULL without a default: this "
                          "fails if the table has rows",
                          col ?: "?", table),
            NULL);
}

/*
 * Whether an ALTER TABLE subcommand takes less than ACCESS EXCLUSIVE
 * (PostgreSQL 15 AlterTableGetLockLevel). `con` is its Constraint, if any.
 */
static bool cmd_lock_is_weaker(const char *sub, const json_t *con)
{
    return strcmp(sub, "AT_SetStatistics") == 0 || strcmp(sub, "AT_ClusterOn") == 0 ||
           strcmp(sub, "AT_DropCluster") == 0 || strcmp(sub, "AT_AttachPartition") == 0 ||
           strcmp(sub, "AT_DetachPartitionFinalize") == 0 ||
           dbm_starts_with(sub, "AT_EnableTrig") || dbm_starts_with(sub, "AT_DisableTrig") ||
           (strcmp(sub, "AT_AddConstraint") == 0 && jstr_is(con, "contype", "CONSTR_FOREIGN"));
}

/* ADD CONSTRAINT on `table`: a check or key validated under its lock, a unique index built so. */
static void check_add_constraint(checker *c, const char *table, const json_t *con)
{
    const char *ct = jstr(con, "contype");
    const char *name = jstr(con, "conname");

    if (ct && (strcmp(ct, "CONSTR_CHECK") == 0 || strcmp(ct, "CONSTR_FOREIGN") == 0) &&
        !jbool(con, "skip_validation"))
        dbm_rules_hit(c, "constraint-without-not-valid",
                      dbm_xasprintf("%s constraint %s%s%son \"%s\" is validated while its lock is "
                                    "held",
                                    strcmp(ct, "CONSTR_CHECK") == 0 ? "CHECK" : "FOREIGN KEY",
                                    name ? "\"" : "", name ?: "", name ? "\" " : "", table),
                      NULL);
    else if (ct && (strcmp(ct, "CONSTR_UNIQUE") == 0 || strcmp(ct, "CONSTR_PRIMARY") == 0) &&
             !json_object_get(con, "indexname"))
        dbm_rules_hit(c, "unique-without-using-index",
                      dbm_xasprintf("%s constraint %s%s%son \"%s\" builds its index under an "
                                    "ACCESS EXCLUSIVE lock",
                                    strcmp(ct, "CONSTR_UNIQUE") == 0 ? "UNIQUE" : "PRIMARY KEY",
                                    name ? "\"" : "", name ?: "", name ? "\" " : "", table),
                      NULL);
}

/*
 * ADD CONSTRAINT ... NOT NULL col (PostgreSQL 18) on `rv` (named `table`): without NOT VALID,
 * it scans the table under its ACCESS EXCLUSIVE lock, as SET NOT NULL does.
 */
static void check_add_not_null(checker *c, const json_t *rv, const char *table, const json_t *con)
{
    const char *col =
        jstr(json_object_get(json_array_get(json_object_get(con, "keys"), 0), "String"), "sval");
    const char *name = jstr(con, "conname");

    if (jbool(con, "skip_validation") ||
        dbm_rules_relset_has(&c->validated, jstr(rv, "schemaname"), jstr(rv, "relname")))
        return;
    dbm_rules_hit(c, "set-not-null",
                  dbm_xasprintf("NOT NULL constraint %s%s%son \"%s\".\"%s\" scans the table under "
                                "an ACCESS EXCLUSIVE lock",
                                name ? "\"" : "", name ?: "", name ? "\" " : "", table, col ?: "?"),
                  "add it NOT VALID, then VALIDATE CONSTRAINT it in a later statement or "
                  "migration: validating takes a weaker lock (PostgreSQL 18)");
}

/*
 * One subcommand of ALTER TABLE on the existing relation `rv` (named `table`).
 * Returns whether it takes an ACCESS EXCLUSIVE lock.
 */
static bool check_alter_cmd(checker *c, const json_t *rv, const char *table, const json_t *cmd)
{
    const char *sub = jstr(cmd, "subtype");
    const char *col = jstr(cmd, "name");
    const json_t *def = json_object_get(cmd, "def");
    const json_t *con = json_object_get(def, "Constraint");

    if (!sub)
        return false;
    if (strcmp(sub, "AT_ValidateConstraint") == 0) {
        dbm_rules_relset_add(&c->validated, jstr(rv, "schemaname"), jstr(rv, "relname"));
        return false;
    }
    if (strcmp(sub, "AT_AddColumn") == 0) {
        check_add_column(c, table, json_object_get(def, "ColumnDef"));
    } else if (strcmp(sub, "AT_SetNotNull") == 0) {
        if (!dbm_rules_relset_has(&c->validated, jstr(rv, "schemaname"), jstr(rv, "relname")))
            dbm_rules_hit(c, "set-not-null",
                          dbm_xasprintf("SET NOT NULL on \"%s\".\"%s\" scans the table under an "
                                        "ACCESS EXCLUSIVE lock",
                                        table, col ?: "?"),
                          "first ADD CONSTRAINT %s_%s_not_null CHECK (%s IS NOT NULL) NOT VALID "
                          "and VALIDATE CONSTRAINT it; SET NOT NULL then skips the scan",
                          jstr(rv, "relname") ?: "t", col ?: "col", col ?: "col");
    } else if (strcmp(sub, "AT_AddConstraint") == 0 && jstr_is(con, "contype", "CONSTR_NOTNULL")) {
        check_add_not_null(c, rv, table, con);
    } else if (strcmp(sub, "AT_AddConstraint") == 0 && con) {
        check_add_constraint(c, table, con);
    } else if (strcmp(sub, "AT_AlterColumnType") == 0) {
        dbm_rules_hit(c, "alter-column-type",
                      dbm_xasprintf("changing the type of \"%s\".\"%s\" rewrites the table "
                                    "unless the change is binary-compatible",
                                    table, col ?: "?"),
                      "if this only widens a varchar or turns varchar into text, no rewrite "
                      "happens: add `-- db-migrate:ignore alter-column-type` above it; otherwise "
                      "add a new column, backfill it, switch the application, then drop the old "
                      "one");
    } else if (strcmp(sub, "AT_DropColumn") == 0) {
        dbm_rules_hit(c, "drop-column",
                      dbm_xasprintf("column \"%s\".\"%s\" is dropped", table, col ?: "?"), NULL);
    }
    return !cmd_lock_is_weaker(sub, con);
}

void dbm_rules_check_alter_table(checker *c, const json_t *n)
{
    const json_t *rv = json_object_get(n, "relation");
    const char *objtype = jstr(n, "objtype");
    char *table;
    bool strong = false;
    size_t i;
    json_t *item;

    if (!objtype || strcmp(objtype, "OBJECT_TABLE") != 0 || dbm_rules_relation_is_new(c, rv))
        return;
    table = dbm_rules_rel_name(rv);
    json_array_foreach(json_object_get(n, "cmds"), i, item)
    {
        if (check_alter_cmd(c, rv, table, json_object_get(item, "AlterTableCmd")))
            strong = true;
    }
    if (strong)
        dbm_rules_strong_lock(c, "ALTER TABLE");
    free(table);
}

void dbm_rules_check_drop(checker *c, const json_t *n)
{
    const char *type = jstr(n, "removeType");
    size_t i;
    json_t *item;

    if (!type)
        return;
    json_array_foreach(json_object_get(n, "objects"), i, item)
    {
        const json_t *names = json_object_get(json_object_get(item, "List"), "items");
        const json_t *tn = json_object_get(item, "TypeName");
        if (strcmp(type, "OBJECT_TYPE") == 0 && tn) {
            const json_t *tnames = json_object_get(tn, "names");
            const char *schema =
                json_array_size(tnames) > 1
                    ? jstr(json_object_get(json_array_get(tnames, 0), "String"), "sval")
                    : NULL;
            dbm_rules_relset_add(&c->old_types, schema, dbm_rules_last_name(tnames));
        } else if (strcmp(type, "OBJECT_TABLE") == 0) {
            const char *name = dbm_rules_last_name(names);
            const char *schema = dbm_rules_schema_name(names);
            if (dbm_rules_table_is_new(c, schema, name))
                continue;
            char *q = dbm_rules_qualified_name(names);
            dbm_rules_hit(c, "drop-table", dbm_xasprintf("table \"%s\" is dropped", q), NULL);
            free(q);
        }
    }
    if ((strcmp(type, "OBJECT_TABLE") == 0 || strcmp(type, "OBJECT_INDEX") == 0 ||
         strcmp(type, "OBJECT_MATVIEW") == 0 || strcmp(type, "OBJECT_TRIGGER") == 0) &&
        !jbool(n, "concurrent"))
        dbm_rules_strong_lock(c, strcmp(type, "OBJECT_TABLE") == 0     ? "DROP TABLE"
                                 : strcmp(type, "OBJECT_INDEX") == 0   ? "DROP INDEX"
                                 : strcmp(type, "OBJECT_MATVIEW") == 0 ? "DROP MATERIALIZED VIEW"
                                                                       : "DROP TRIGGER");
}

void dbm_rules_check_rename(checker *c, const json_t *n)
{
    const char *type = jstr(n, "renameType");
    const json_t *rv = json_object_get(n, "relation");
    char *table;

    if (!type)
        return;
    if (strcmp(type, "OBJECT_TYPE") == 0) {
        const json_t *names =
            json_object_get(json_object_get(json_object_get(n, "object"), "List"), "items");
        dbm_rules_relset_add(&c->old_types, dbm_rules_schema_name(names),
                             dbm_rules_last_name(names));
        return;
    }
    if (!(strcmp(type, "OBJECT_TABLE") == 0 ||
          (strcmp(type, "OBJECT_COLUMN") == 0 && jstr_is(n, "relationType", "OBJECT_TABLE"))) ||
        dbm_rules_relation_is_new(c, rv))
        return;
    table = dbm_rules_rel_name(rv);
    if (strcmp(type, "OBJECT_TABLE") == 0)
        dbm_rules_hit(
            c, "rename-table",
            dbm_xasprintf("table \"%s\" is renamed to \"%s\"", table, jstr(n, "newname") ?: "?"),
            NULL);
    else
        dbm_rules_hit(c, "rename-column",
                      dbm_xasprintf("column \"%s\".\"%s\" is renamed to \"%s\"", table,
                                    jstr(n, "subname") ?: "?", jstr(n, "newname") ?: "?"),
                      NULL);
    dbm_rules_strong_lock(c, strcmp(type, "OBJECT_TABLE") == 0 ? "ALTER TABLE ... RENAME"
                                                               : "RENAME COLUMN");
    free(table);
}
