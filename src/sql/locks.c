/*
 * locks.c - the relation locks PostgreSQL's documentation ("Explicit Locking",
 * and each command's page) gives a statement, on the relations it names.
 *
 * A dry-run measures locks on the server; this table only serves where the
 * measurement cannot see a lock because the transaction already holds it (an
 * earlier migration of the same dry-run took it). Statement types not listed
 * give nothing, and relations the statement does not name (an index's table
 * for DROP INDEX, a view's base tables) are left out.
 */
#include "sql/node.h"
#include "sql/parse.h"
#include "sql/parse_internal.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const MODES[] = {
    NULL,
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
};
enum {
    ACCESS_SHARE = 1,
    ROW_EXCLUSIVE = 3,
    SHARE_UPDATE_EXCLUSIVE = 4,
    SHARE = 5,
    SHARE_ROW_EXCLUSIVE = 6,
    ACCESS_EXCLUSIVE = 8
};

/* A RangeVar, bare (a RangeVar* field) or wrapped ({"RangeVar": {...}}, a list item). */
static const json_t *range_var(const json_t *n)
{
    const json_t *w = json_object_get(n, "RangeVar");
    return w ? w : n;
}

static void add(dbm_stmt *st, const json_t *rv, int mode)
{
    const char *name;

    rv = range_var(rv);
    if (!rv || !(name = jstr(rv, "relname")) || mode < ACCESS_SHARE || mode > ACCESS_EXCLUSIVE)
        return;
    for (size_t i = 0; i < st->nlocks; i++) {
        dbm_stmt_lock *l = &st->locks[i];
        if (strcmp(l->name, name) == 0 && !l->schema == !jstr(rv, "schemaname") &&
            (!l->schema || strcmp(l->schema, jstr(rv, "schemaname")) == 0)) {
            if (mode > l->level) {
                l->level = mode;
                l->mode = MODES[mode];
            }
            return;
        }
    }
    st->locks = dbm_xrealloc(st->locks, (st->nlocks + 1) * sizeof(*st->locks));
    st->locks[st->nlocks++] =
        (dbm_stmt_lock){jstr(rv, "schemaname") ? dbm_xstrdup(jstr(rv, "schemaname")) : NULL,
                        dbm_xstrdup(name), MODES[mode], mode};
}

/* One ALTER TABLE subcommand's lock (PostgreSQL's AlterTableGetLockLevel), and the
 * referenced table's for a foreign key. */
static int alter_cmd(dbm_stmt *st, const json_t *cmd)
{
    const char *sub = jstr(cmd, "subtype");
    const json_t *con = json_object_get(json_object_get(cmd, "def"), "Constraint");

    if (!sub)
        return ACCESS_EXCLUSIVE;
    if (strcmp(sub, "AT_AddConstraint") == 0 && jstr_is(con, "contype", "CONSTR_FOREIGN")) {
        add(st, json_object_get(con, "pktable"), SHARE_ROW_EXCLUSIVE);
        return SHARE_ROW_EXCLUSIVE;
    }
    if (strcmp(sub, "AT_ValidateConstraint") == 0 || strcmp(sub, "AT_SetStatistics") == 0 ||
        strcmp(sub, "AT_ClusterOn") == 0 || strcmp(sub, "AT_DropCluster") == 0 ||
        strcmp(sub, "AT_AttachPartition") == 0 || strcmp(sub, "AT_DetachPartitionFinalize") == 0 ||
        (strcmp(sub, "AT_DetachPartition") == 0 && jbool(cmd, "concurrent")))
        return SHARE_UPDATE_EXCLUSIVE;
    if (dbm_starts_with(sub, "AT_EnableTrig") || dbm_starts_with(sub, "AT_DisableTrig") ||
        strcmp(sub, "AT_EnableAlwaysTrig") == 0 || strcmp(sub, "AT_EnableReplicaTrig") == 0)
        return SHARE_ROW_EXCLUSIVE;
    return ACCESS_EXCLUSIVE;
}

static void alter_table(dbm_stmt *st, const json_t *n)
{
    const json_t *cmds = json_object_get(n, "cmds");
    int mode = 0;
    size_t i;
    json_t *item;

    if (!jstr_is(n, "objtype", "OBJECT_TABLE") && !jstr_is(n, "objtype", "OBJECT_MATVIEW") &&
        !jstr_is(n, "objtype", "OBJECT_FOREIGN_TABLE"))
        return;
    json_array_foreach(cmds, i, item)
    {
        int m = alter_cmd(st, json_object_get(item, "AlterTableCmd"));
        if (m > mode)
            mode = m;
    }
    add(st, json_object_get(n, "relation"), mode ? mode : ACCESS_EXCLUSIVE);
}

static void each(dbm_stmt *st, const json_t *list, int mode)
{
    size_t i;
    json_t *item;

    json_array_foreach(list, i, item) add(st, item, mode);
}

void dbm_sql_documented_locks(dbm_stmt *st, const char *type, const json_t *n)
{
    if (strcmp(type, "IndexStmt") == 0)
        add(st, json_object_get(n, "relation"),
            jbool(n, "concurrent") ? SHARE_UPDATE_EXCLUSIVE : SHARE);
    else if (strcmp(type, "AlterTableStmt") == 0)
        alter_table(st, n);
    else if (strcmp(type, "CreateTrigStmt") == 0)
        add(st, json_object_get(n, "relation"), SHARE_ROW_EXCLUSIVE);
    else if (strcmp(type, "RuleStmt") == 0 || strcmp(type, "ClusterStmt") == 0)
        add(st, json_object_get(n, "relation"), ACCESS_EXCLUSIVE);
    else if (strcmp(type, "CreatePolicyStmt") == 0 || strcmp(type, "AlterPolicyStmt") == 0)
        add(st, json_object_get(n, "table"), ACCESS_EXCLUSIVE);
    else if (strcmp(type, "RenameStmt") == 0) /* ALTER INDEX ... RENAME: since 12 */
        add(st, json_object_get(n, "relation"),
            jstr_is(n, "renameType", "OBJECT_INDEX") ? SHARE_UPDATE_EXCLUSIVE : ACCESS_EXCLUSIVE);
    else if (strcmp(type, "TruncateStmt") == 0)
        each(st, json_object_get(n, "relations"), ACCESS_EXCLUSIVE);
    else if (strcmp(type, "LockStmt") == 0)
        each(st, json_object_get(n, "relations"),
             json_object_get(n, "mode") ? (int)json_integer_value(json_object_get(n, "mode"))
                                        : ACCESS_EXCLUSIVE);
    else if (strcmp(type, "ReindexStmt") == 0 && jstr_is(n, "kind", "REINDEX_OBJECT_TABLE"))
        add(st, json_object_get(n, "relation"), SHARE);
    else if (strcmp(type, "CreateStatsStmt") == 0)
        each(st, json_object_get(n, "relations"), SHARE_UPDATE_EXCLUSIVE);
    else if (strcmp(type, "InsertStmt") == 0 || strcmp(type, "UpdateStmt") == 0 ||
             strcmp(type, "DeleteStmt") == 0 || strcmp(type, "MergeStmt") == 0)
        add(st, json_object_get(n, "relation"), ROW_EXCLUSIVE);
}

void dbm_stmt_locks_free(dbm_stmt *st)
{
    for (size_t i = 0; i < st->nlocks; i++) {
        free(st->locks[i].schema);
        free(st->locks[i].name);
    }
    free(st->locks);
    st->locks = NULL;
    st->nlocks = 0;
}
