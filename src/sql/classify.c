/*
 * classify.c - the transaction flags of a statement node.
 *
 * Statements flagged DBM_STMT_NO_TX are those whose PostgreSQL 15 code calls
 * PreventInTransactionBlock():
 *
 *   CREATE INDEX CONCURRENTLY               IndexStmt.concurrent
 *   DROP INDEX CONCURRENTLY                 DropStmt.concurrent
 *   REINDEX ... CONCURRENTLY / (CONCURRENTLY)  ReindexStmt params "concurrently" true
 *   REINDEX SCHEMA | SYSTEM | DATABASE      ReindexStmt.kind (one transaction per table)
 *   VACUUM, with or without ANALYZE         VacuumStmt.is_vacuumcmd (ANALYZE alone is allowed)
 *   CLUSTER without a table name            ClusterStmt without relation
 *   CREATE DATABASE, DROP DATABASE          CreatedbStmt, DropdbStmt
 *   ALTER DATABASE ... SET TABLESPACE       AlterDatabaseStmt option "tablespace"
 *   ALTER SYSTEM                            AlterSystemStmt
 *   CREATE TABLESPACE, DROP TABLESPACE      CreateTableSpaceStmt, DropTableSpaceStmt
 *   CREATE SUBSCRIPTION creating a slot     unless create_slot = false, or connect = false
 *                                           without an explicit create_slot
 *   ALTER SUBSCRIPTION ... REFRESH PUBLICATION, and SET/ADD/DROP PUBLICATION
 *                                           unless WITH (refresh = false)
 *   DROP SUBSCRIPTION                       refused only when the subscription has a
 *                                           replication slot, which the catalog knows and
 *                                           the text does not: flagged, since that is the
 *                                           usual case
 *   ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY
 *   DISCARD ALL
 *   COMMIT PREPARED, ROLLBACK PREPARED
 *
 * Not flagged: ALTER TYPE ... ADD VALUE (allowed in a transaction block since
 * PostgreSQL 12), REFRESH MATERIALIZED VIEW CONCURRENTLY, ANALYZE. Refusals
 * that depend on the catalog cannot be seen in the text and are left to the
 * server: CLUSTER of a partitioned table, a procedure that commits (CALL).
 *
 * DBM_STMT_MAY_COMMIT marks a DO block whose body says COMMIT or ROLLBACK, and
 * every CALL: they may end the transaction they run in, so a file outside a
 * transaction runs them bare (a claim's transaction would make them fail with
 * "invalid transaction termination").
 *
 * DBM_STMT_TX_CONTROL marks the statements by which a file runs its own
 * transaction: BEGIN, START TRANSACTION, COMMIT / END, ROLLBACK / ABORT and
 * PREPARE TRANSACTION. SAVEPOINT, RELEASE and ROLLBACK TO SAVEPOINT do not set
 * it: they only work inside a transaction that is already open, so a file using
 * them either has its own BEGIN (which sets the flag) or relies on the
 * transaction the runner opens. COMMIT PREPARED and ROLLBACK PREPARED act on
 * another, prepared transaction; they are DBM_STMT_NO_TX instead.
 */
#include "sql/node.h"
#include "sql/parse.h"
#include "sql/parse_internal.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/*
 * The boolean value of option `name` in a list of DefElem nodes, with
 * PostgreSQL's defGetBoolean() reading: no argument is true; an integer 0/1;
 * a string true/false/on/off. *found says whether the option was given.
 */
static bool defelem_bool(const json_t *list, const char *name, bool dflt, bool *found)
{
    size_t i;
    json_t *item;

    if (found)
        *found = false;
    json_array_foreach(list, i, item)
    {
        const json_t *de = json_object_get(item, "DefElem");
        const json_t *arg, *v;
        const char *s;

        if (!de || !jstr_is(de, "defname", name))
            continue;
        if (found)
            *found = true;
        arg = json_object_get(de, "arg");
        if (!arg)
            return true;
        if ((v = json_object_get(arg, "Integer")) != NULL)
            return json_integer_value(json_object_get(v, "ival")) != 0;
        if ((v = json_object_get(arg, "Boolean")) != NULL)
            return jbool(v, "boolval");
        /* a bare word such as `off` arrives as a one-name TypeName */
        if ((v = json_object_get(arg, "TypeName")) != NULL)
            arg = json_array_get(json_object_get(v, "names"), 0);
        if ((v = json_object_get(arg, "String")) != NULL && (s = jstr(v, "sval")) != NULL)
            return strcasecmp(s, "true") == 0 || strcasecmp(s, "on") == 0;
        return dflt;
    }
    return dflt;
}

static bool defelem_present(const json_t *list, const char *name)
{
    bool found;
    defelem_bool(list, name, false, &found);
    return found;
}

static unsigned classify_transaction(const json_t *n)
{
    static const char *const control[] = {"TRANS_STMT_BEGIN", "TRANS_STMT_START",
                                          "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK",
                                          "TRANS_STMT_PREPARE"};
    const char *kind = jstr(n, "kind");

    if (!kind)
        return 0;
    for (size_t i = 0; i < sizeof(control) / sizeof(control[0]); i++)
        if (strcmp(kind, control[i]) == 0)
            return DBM_STMT_TX_CONTROL;
    if (strcmp(kind, "TRANS_STMT_COMMIT_PREPARED") == 0 ||
        strcmp(kind, "TRANS_STMT_ROLLBACK_PREPARED") == 0)
        return DBM_STMT_NO_TX;
    return 0;
}

static bool alter_table_detaches_concurrently(const json_t *n)
{
    size_t i;
    json_t *item;

    json_array_foreach(json_object_get(n, "cmds"), i, item)
    {
        const json_t *cmd = json_object_get(item, "AlterTableCmd");
        const json_t *pc = json_object_get(json_object_get(cmd, "def"), "PartitionCmd");

        if (jstr_is(cmd, "subtype", "AT_DetachPartition") && jbool(pc, "concurrent"))
            return true;
    }
    return false;
}

/* Whether `word` occurs in `text` as a word of its own, in any case. */
static bool has_word(const char *text, const char *word)
{
    size_t len = strlen(word);

    for (const char *p = text; (p = strcasestr(p, word)) != NULL; p += len) {
        bool start = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool end = !(isalnum((unsigned char)p[len]) || p[len] == '_');
        if (start && end)
            return true;
    }
    return false;
}

/* A DO block's body commits or rolls back (PL/pgSQL's transaction control). */
static bool do_block_ends_transaction(const json_t *n)
{
    size_t i;
    json_t *item;

    json_array_foreach(json_object_get(n, "args"), i, item)
    {
        const json_t *d = json_object_get(item, "DefElem");
        const json_t *str = json_object_get(json_object_get(d, "arg"), "String");
        const char *body = jstr(str, "sval");

        if (jstr_is(d, "defname", "as") && body &&
            (has_word(body, "commit") || has_word(body, "rollback")))
            return true;
    }
    return false;
}

/* Whether a node (any depth) calls set_config() by that name, qualified or not. */
static bool calls_set_config(const json_t *n)
{
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_array(n)) {
        json_array_foreach(n, i, v)
        {
            if (calls_set_config(v))
                return true;
        }
        return false;
    }
    if (!json_is_object(n))
        return false;
    json_object_foreach((json_t *)n, key, v)
    {
        if (strcmp(key, "FuncCall") == 0) {
            const json_t *names = json_object_get(v, "funcname");
            const json_t *last = json_array_get(names, json_array_size(names) - 1);
            if (jstr_is(json_object_get(last, "String"), "sval", "set_config"))
                return true;
        }
        if ((json_is_object(v) || json_is_array(v)) && calls_set_config(v))
            return true;
    }
    return false;
}

/* DBM_STMT_SETS_SESSION for a SET or RESET statement node, else 0. */
static unsigned classify_set(const json_t *n)
{
    const char *kind = jstr(n, "kind");

    if (jbool(n, "is_local"))
        return 0;
    /* SET TRANSACTION ... (VAR_SET_MULTI "TRANSACTION") lasts for the transaction only. */
    if (kind && strcmp(kind, "VAR_SET_MULTI") == 0 && jstr_is(n, "name", "TRANSACTION"))
        return 0;
    return DBM_STMT_SETS_SESSION;
}

unsigned dbm_sql_classify(const char *type, const json_t *n)
{
    static const char *const always[] = {"CreatedbStmt",       "DropdbStmt",
                                         "AlterSystemStmt",    "CreateTableSpaceStmt",
                                         "DropTableSpaceStmt", "DropSubscriptionStmt"};
    const json_t *opts;

    for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
        if (strcmp(type, always[i]) == 0)
            return DBM_STMT_NO_TX;

    if (strcmp(type, "TransactionStmt") == 0)
        return classify_transaction(n);
    if (strcmp(type, "VariableSetStmt") == 0)
        return classify_set(n);
    if (strcmp(type, "SelectStmt") == 0)
        return calls_set_config(n) ? DBM_STMT_SETS_SESSION : 0;
    if (strcmp(type, "CallStmt") == 0)
        return DBM_STMT_MAY_COMMIT;
    if (strcmp(type, "DoStmt") == 0)
        return do_block_ends_transaction(n) ? DBM_STMT_MAY_COMMIT : 0;
    if (strcmp(type, "IndexStmt") == 0 || strcmp(type, "DropStmt") == 0)
        return jbool(n, "concurrent") ? DBM_STMT_NO_TX : 0;
    if (strcmp(type, "VacuumStmt") == 0)
        return jbool(n, "is_vacuumcmd") ? DBM_STMT_NO_TX : 0;
    if (strcmp(type, "ClusterStmt") == 0)
        return json_object_get(n, "relation") ? 0 : DBM_STMT_NO_TX;
    if (strcmp(type, "ReindexStmt") == 0) {
        const char *kind = jstr(n, "kind");
        if (defelem_bool(json_object_get(n, "params"), "concurrently", false, NULL))
            return DBM_STMT_NO_TX;
        if (kind && (strcmp(kind, "REINDEX_OBJECT_SCHEMA") == 0 ||
                     strcmp(kind, "REINDEX_OBJECT_SYSTEM") == 0 ||
                     strcmp(kind, "REINDEX_OBJECT_DATABASE") == 0))
            return DBM_STMT_NO_TX;
        return 0;
    }
    if (strcmp(type, "AlterDatabaseStmt") == 0)
        return defelem_present(json_object_get(n, "options"), "tablespace") ? DBM_STMT_NO_TX : 0;
    if (strcmp(type, "AlterTableStmt") == 0)
        return alter_table_detaches_concurrently(n) ? DBM_STMT_NO_TX : 0;
    if (strcmp(type, "DiscardStmt") == 0)
        return jstr_is(n, "target", "DISCARD_ALL") ? DBM_STMT_NO_TX : 0;
    if (strcmp(type, "CreateSubscriptionStmt") == 0) {
        bool given;
        opts = json_object_get(n, "options");
        bool connect = defelem_bool(opts, "connect", true, NULL);
        bool slot = defelem_bool(opts, "create_slot", connect, &given);
        return (given ? slot : connect) ? DBM_STMT_NO_TX : 0;
    }
    if (strcmp(type, "AlterSubscriptionStmt") == 0) {
        const char *kind = jstr(n, "kind");
        opts = json_object_get(n, "options");
        if (!kind)
            return 0;
        if (strcmp(kind, "ALTER_SUBSCRIPTION_REFRESH") == 0)
            return DBM_STMT_NO_TX;
        if (strcmp(kind, "ALTER_SUBSCRIPTION_SET_PUBLICATION") == 0 ||
            strcmp(kind, "ALTER_SUBSCRIPTION_ADD_PUBLICATION") == 0 ||
            strcmp(kind, "ALTER_SUBSCRIPTION_DROP_PUBLICATION") == 0)
            return defelem_bool(opts, "refresh", true, NULL) ? DBM_STMT_NO_TX : 0;
    }
    return 0;
}

/* Whether statement s is transaction control tagged a (or b, when not NULL). */
static bool is_tx(const dbm_stmt *s, const char *a, const char *b)
{
    return (s->flags & DBM_STMT_TX_CONTROL) && s->tag &&
           (strcmp(s->tag, a) == 0 || (b && strcmp(s->tag, b) == 0));
}

size_t dbm_sql_misplaced_tx_control(const dbm_stmt_list *list)
{
    size_t n = list ? list->count : 0;
    bool begins = n >= 1 && is_tx(&list->items[0], "BEGIN", "START TRANSACTION");
    bool ends = begins && n >= 2 && is_tx(&list->items[n - 1], "COMMIT", NULL);

    if (!list || !list->manages_transaction)
        return n;
    for (size_t i = 0; i < n; i++) {
        if (!(list->items[i].flags & DBM_STMT_TX_CONTROL) || (i == 0 && begins) ||
            (i == n - 1 && ends))
            continue;
        return i;
    }
    return begins && !ends ? 0 : n;
}
