/*
 * sqlparse.c - statement splitting and classification with libpg_query.
 *
 * The section is parsed once with pg_query_parse (the full PostgreSQL 15
 * grammar, so dollar quotes, nested comments, E'' strings and CREATE RULE
 * bodies holding ';' are handled by the real scanner) and its JSON is read
 * element by element with Jansson. Each element of its "stmts" array is a
 * RawStmt: the statement node under "stmt", and "stmt_location" / "stmt_len"
 * in bytes (each omitted when 0; a length of 0 means "to the end of the text",
 * as for a last statement without ';'). The location starts right after the
 * previous ';', so leading whitespace and comments are skipped to find the
 * first token. Each element is loaded on its own and walked for the tag and
 * the flags. A section of ordinary size keeps the loaded trees for the rules;
 * a large one keeps only each statement's span of JSON text in the parser's
 * output, and the rules load them one at a time: all of its trees at once, as
 * Jansson nodes, would cost about a hundred times the SQL's size (2 GB for a
 * 20 MB data migration). A large section is also parsed in pieces (see
 * parse_in_pieces). "location" fields are byte offsets in the parsed text.
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
 * DBM_STMT_TX_CONTROL marks the statements by which a file runs its own
 * transaction: BEGIN, START TRANSACTION, COMMIT / END, ROLLBACK / ABORT and
 * PREPARE TRANSACTION. SAVEPOINT, RELEASE and ROLLBACK TO SAVEPOINT do not set
 * it: they only work inside a transaction that is already open, so a file using
 * them either has its own BEGIN (which sets the flag) or relies on the
 * transaction the runner opens. COMMIT PREPARED and ROLLBACK PREPARED act on
 * another, prepared transaction; they are DBM_STMT_NO_TX instead.
 */
#include "sql/parse.h"

#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A byte that starts a character (not a UTF-8 continuation byte). */
static bool is_char_start(unsigned char c)
{
    return (c & 0xC0) != 0x80;
}

size_t dbm_sql_charpos_to_offset(const char *text, size_t len, long charpos)
{
    long chars = 0;

    if (charpos <= 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (is_char_start((unsigned char)text[i]) && ++chars == charpos)
            return i;
    }
    return len;
}

/* Line/column cursor that only moves forward, so that many statements in a
 * large section cost one pass over it. */
typedef struct {
    size_t pos;
    int line;
    int col;
} linecol_cursor;

static void cursor_advance(linecol_cursor *c, const char *text, size_t len, size_t offset)
{
    if (offset > len)
        offset = len;
    for (; c->pos < offset; c->pos++) {
        unsigned char ch = (unsigned char)text[c->pos];
        if (ch == '\n') {
            c->line++;
            c->col = 1;
        } else if (is_char_start(ch)) {
            c->col++;
        }
    }
}

void dbm_sql_linecol(const char *text, size_t len, size_t offset, int *line, int *col)
{
    linecol_cursor c = {0, 1, 1};

    cursor_advance(&c, text, len, offset);
    *line = c.line;
    *col = c.col;
}

/*
 * The first token at or after `pos`, before `end`. What libpg_query reports as
 * a statement's location starts right after the previous ';', so it may hold
 * whitespace and comments (PostgreSQL's scanner: "--" to end of line, and
 * nested slash-star comments) before the statement proper.
 */
static size_t skip_space_and_comments(const char *s, size_t pos, size_t end)
{
    while (pos < end) {
        char c = s[pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            pos++;
        } else if (c == '-' && pos + 1 < end && s[pos + 1] == '-') {
            while (pos < end && s[pos] != '\n')
                pos++;
        } else if (c == '/' && pos + 1 < end && s[pos + 1] == '*') {
            int depth = 1;
            pos += 2;
            while (pos < end && depth > 0) {
                if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*') {
                    depth++;
                    pos += 2;
                } else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/') {
                    depth--;
                    pos += 2;
                } else {
                    pos++;
                }
            }
        } else {
            break;
        }
    }
    return pos;
}

/* ---- small readers over libpg_query's JSON (absent false/0 fields are omitted) ---- */

static bool jbool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

static const char *jstr(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static bool jstr_is(const json_t *obj, const char *key, const char *want)
{
    const char *v = jstr(obj, key);
    return v && strcmp(v, want) == 0;
}

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

/* ---- classification ---- */

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

/* Flags for one statement node: `type` is the node name, `n` its fields. */
static unsigned classify(const char *type, const json_t *n)
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

/* ---- command tags ---- */

/* "OBJECT_MATVIEW" -> "MATERIALIZED VIEW", as PostgreSQL names the object in its tags. */
static char *object_name(const char *objtype)
{
    static const struct {
        const char *type, *name;
    } names[] = {
        {"OBJECT_MATVIEW", "MATERIALIZED VIEW"},
        {"OBJECT_FOREIGN_TABLE", "FOREIGN TABLE"},
        {"OBJECT_STATISTIC_EXT", "STATISTICS"},
        {"OBJECT_EVENT_TRIGGER", "EVENT TRIGGER"},
        {"OBJECT_FDW", "FOREIGN DATA WRAPPER"},
        {"OBJECT_FOREIGN_SERVER", "SERVER"},
        {"OBJECT_OPCLASS", "OPERATOR CLASS"},
        {"OBJECT_OPFAMILY", "OPERATOR FAMILY"},
        {"OBJECT_ACCESS_METHOD", "ACCESS METHOD"},
        {"OBJECT_TSCONFIGURATION", "TEXT SEARCH CONFIGURATION"},
        {"OBJECT_TSDICTIONARY", "TEXT SEARCH DICTIONARY"},
        {"OBJECT_TSPARSER", "TEXT SEARCH PARSER"},
        {"OBJECT_TSTEMPLATE", "TEXT SEARCH TEMPLATE"},
        {"OBJECT_COLUMN", "TABLE"},
        {"OBJECT_TABCONSTRAINT", "TABLE"},
        {"OBJECT_DOMCONSTRAINT", "DOMAIN"},
        {"OBJECT_ATTRIBUTE", "TYPE"},
        {"OBJECT_LARGEOBJECT", "LARGE OBJECT"},
        {"OBJECT_USER_MAPPING", "USER MAPPING"},
        {"OBJECT_DEFACL", "DEFAULT PRIVILEGES"},
    };
    char *out, *p;

    if (!objtype)
        return dbm_xstrdup("OBJECT");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(objtype, names[i].type) == 0)
            return dbm_xstrdup(names[i].name);
    out = dbm_xstrdup(dbm_starts_with(objtype, "OBJECT_") ? objtype + 7 : objtype);
    for (p = out; *p; p++)
        if (*p == '_')
            *p = ' ';
    return out;
}

static char *tag_with_object(const char *verb, const char *objtype)
{
    char *obj = object_name(objtype);
    char *tag = dbm_xasprintf("%s %s", verb, obj);
    free(obj);
    return tag;
}

/* "CreateForeignServerStmt" -> "CREATE FOREIGN SERVER": the fallback for node types
 * without an entry below. */
static char *tag_from_node_name(const char *type)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t n = strlen(type);

    if (n > 4 && strcmp(type + n - 4, "Stmt") == 0)
        n -= 4;
    for (size_t i = 0; i < n; i++) {
        char c = type[i];
        if (i > 0 && c >= 'A' && c <= 'Z' && !(type[i - 1] >= 'A' && type[i - 1] <= 'Z'))
            dbm_buf_putc(&b, ' ');
        dbm_buf_putc(&b, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
    }
    return dbm_buf_detach(&b);
}

static const char *transaction_tag(const char *kind)
{
    static const struct {
        const char *kind, *tag;
    } tags[] = {
        {"TRANS_STMT_BEGIN", "BEGIN"},
        {"TRANS_STMT_START", "START TRANSACTION"},
        {"TRANS_STMT_COMMIT", "COMMIT"},
        {"TRANS_STMT_ROLLBACK", "ROLLBACK"},
        {"TRANS_STMT_SAVEPOINT", "SAVEPOINT"},
        {"TRANS_STMT_RELEASE", "RELEASE"},
        {"TRANS_STMT_ROLLBACK_TO", "ROLLBACK"},
        {"TRANS_STMT_PREPARE", "PREPARE TRANSACTION"},
        {"TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED"},
        {"TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED"},
    };
    for (size_t i = 0; kind && i < sizeof(tags) / sizeof(tags[0]); i++)
        if (strcmp(kind, tags[i].kind) == 0)
            return tags[i].tag;
    return "TRANSACTION";
}

/* The command tag PostgreSQL would report for the statement (CreateCommandTag). */
static char *command_tag(const char *type, const json_t *n)
{
    static const struct {
        const char *type, *tag;
    } fixed[] = {
        {"CreateStmt", "CREATE TABLE"},
        {"IndexStmt", "CREATE INDEX"},
        {"InsertStmt", "INSERT"},
        {"UpdateStmt", "UPDATE"},
        {"DeleteStmt", "DELETE"},
        {"MergeStmt", "MERGE"},
        {"DoStmt", "DO"},
        {"CreateTrigStmt", "CREATE TRIGGER"},
        {"CreateSeqStmt", "CREATE SEQUENCE"},
        {"AlterSeqStmt", "ALTER SEQUENCE"},
        {"ViewStmt", "CREATE VIEW"},
        {"CreateSchemaStmt", "CREATE SCHEMA"},
        {"CreateEnumStmt", "CREATE TYPE"},
        {"CompositeTypeStmt", "CREATE TYPE"},
        {"CreateRangeStmt", "CREATE TYPE"},
        {"AlterEnumStmt", "ALTER TYPE"},
        {"AlterTypeStmt", "ALTER TYPE"},
        {"CreateDomainStmt", "CREATE DOMAIN"},
        {"AlterDomainStmt", "ALTER DOMAIN"},
        {"CreateExtensionStmt", "CREATE EXTENSION"},
        {"AlterExtensionStmt", "ALTER EXTENSION"},
        {"AlterExtensionContentsStmt", "ALTER EXTENSION"},
        {"CommentStmt", "COMMENT"},
        {"AlterRoleStmt", "ALTER ROLE"},
        {"AlterRoleSetStmt", "ALTER ROLE"},
        {"DropRoleStmt", "DROP ROLE"},
        {"VariableShowStmt", "SHOW"},
        {"ClusterStmt", "CLUSTER"},
        {"ReindexStmt", "REINDEX"},
        {"LockStmt", "LOCK TABLE"},
        {"TruncateStmt", "TRUNCATE TABLE"},
        {"CopyStmt", "COPY"},
        {"ExplainStmt", "EXPLAIN"},
        {"CreatedbStmt", "CREATE DATABASE"},
        {"DropdbStmt", "DROP DATABASE"},
        {"AlterDatabaseStmt", "ALTER DATABASE"},
        {"AlterDatabaseSetStmt", "ALTER DATABASE"},
        {"AlterDatabaseRefreshCollStmt", "ALTER DATABASE"},
        {"AlterSystemStmt", "ALTER SYSTEM"},
        {"CreateTableSpaceStmt", "CREATE TABLESPACE"},
        {"DropTableSpaceStmt", "DROP TABLESPACE"},
        {"AlterTableSpaceOptionsStmt", "ALTER TABLESPACE"},
        {"AlterTableMoveAllStmt", "ALTER TABLE"},
        {"CreateSubscriptionStmt", "CREATE SUBSCRIPTION"},
        {"AlterSubscriptionStmt", "ALTER SUBSCRIPTION"},
        {"DropSubscriptionStmt", "DROP SUBSCRIPTION"},
        {"CreatePublicationStmt", "CREATE PUBLICATION"},
        {"AlterPublicationStmt", "ALTER PUBLICATION"},
        {"RuleStmt", "CREATE RULE"},
        {"CreatePolicyStmt", "CREATE POLICY"},
        {"AlterPolicyStmt", "ALTER POLICY"},
        {"CreateCastStmt", "CREATE CAST"},
        {"CreateStatsStmt", "CREATE STATISTICS"},
        {"AlterStatsStmt", "ALTER STATISTICS"},
        {"RefreshMatViewStmt", "REFRESH MATERIALIZED VIEW"},
        {"CallStmt", "CALL"},
        {"NotifyStmt", "NOTIFY"},
        {"ListenStmt", "LISTEN"},
        {"UnlistenStmt", "UNLISTEN"},
        {"CreateEventTrigStmt", "CREATE EVENT TRIGGER"},
        {"AlterEventTrigStmt", "ALTER EVENT TRIGGER"},
        {"CreateForeignTableStmt", "CREATE FOREIGN TABLE"},
        {"CreateFdwStmt", "CREATE FOREIGN DATA WRAPPER"},
        {"AlterFdwStmt", "ALTER FOREIGN DATA WRAPPER"},
        {"CreateForeignServerStmt", "CREATE SERVER"},
        {"AlterForeignServerStmt", "ALTER SERVER"},
        {"CreateUserMappingStmt", "CREATE USER MAPPING"},
        {"AlterUserMappingStmt", "ALTER USER MAPPING"},
        {"DropUserMappingStmt", "DROP USER MAPPING"},
        {"ImportForeignSchemaStmt", "IMPORT FOREIGN SCHEMA"},
        {"AlterDefaultPrivilegesStmt", "ALTER DEFAULT PRIVILEGES"},
        {"CreateConversionStmt", "CREATE CONVERSION"},
        {"CreateOpClassStmt", "CREATE OPERATOR CLASS"},
        {"CreateOpFamilyStmt", "CREATE OPERATOR FAMILY"},
        {"AlterOpFamilyStmt", "ALTER OPERATOR FAMILY"},
        {"AlterOperatorStmt", "ALTER OPERATOR"},
        {"CreatePLangStmt", "CREATE LANGUAGE"},
        {"CreateTransformStmt", "CREATE TRANSFORM"},
        {"CreateAmStmt", "CREATE ACCESS METHOD"},
        {"SecLabelStmt", "SECURITY LABEL"},
        {"PrepareStmt", "PREPARE"},
        {"ExecuteStmt", "EXECUTE"},
        {"DeclareCursorStmt", "DECLARE CURSOR"},
        {"ClosePortalStmt", "CLOSE CURSOR"},
        {"CheckPointStmt", "CHECKPOINT"},
        {"LoadStmt", "LOAD"},
        {"ConstraintsSetStmt", "SET CONSTRAINTS"},
        {"DropOwnedStmt", "DROP OWNED"},
        {"ReassignOwnedStmt", "REASSIGN OWNED"},
        {"AlterCollationStmt", "ALTER COLLATION"},
        {"AlterTSDictionaryStmt", "ALTER TEXT SEARCH DICTIONARY"},
        {"AlterTSConfigurationStmt", "ALTER TEXT SEARCH CONFIGURATION"},
    };
    const char *s;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (strcmp(type, fixed[i].type) == 0)
            return dbm_xstrdup(fixed[i].tag);

    if (strcmp(type, "SelectStmt") == 0)
        return dbm_xstrdup(json_object_get(n, "intoClause") ? "SELECT INTO" : "SELECT");
    if (strcmp(type, "CreateTableAsStmt") == 0) {
        if (jstr_is(n, "objtype", "OBJECT_MATVIEW"))
            return dbm_xstrdup("CREATE MATERIALIZED VIEW");
        return dbm_xstrdup(jbool(n, "is_select_into") ? "SELECT INTO" : "CREATE TABLE AS");
    }
    if (strcmp(type, "AlterTableStmt") == 0)
        return tag_with_object("ALTER", jstr(n, "objtype"));
    if (strcmp(type, "DropStmt") == 0)
        return tag_with_object("DROP", jstr(n, "removeType"));
    if (strcmp(type, "RenameStmt") == 0)
        return tag_with_object("ALTER", jstr_is(n, "renameType", "OBJECT_COLUMN")
                                            ? jstr(n, "relationType")
                                            : jstr(n, "renameType"));
    if (strcmp(type, "AlterOwnerStmt") == 0 || strcmp(type, "AlterObjectSchemaStmt") == 0 ||
        strcmp(type, "AlterObjectDependsStmt") == 0)
        return tag_with_object("ALTER", jstr(n, "objectType"));
    if (strcmp(type, "DefineStmt") == 0)
        return tag_with_object("CREATE", jstr(n, "kind"));
    if (strcmp(type, "CreateFunctionStmt") == 0)
        return dbm_xstrdup(jbool(n, "is_procedure") ? "CREATE PROCEDURE" : "CREATE FUNCTION");
    if (strcmp(type, "AlterFunctionStmt") == 0)
        return tag_with_object("ALTER", jstr(n, "objtype"));
    if (strcmp(type, "GrantStmt") == 0 || strcmp(type, "GrantRoleStmt") == 0)
        return dbm_xstrdup(jbool(n, "is_grant") ? "GRANT" : "REVOKE");
    if (strcmp(type, "CreateRoleStmt") == 0) {
        s = jstr(n, "stmt_type");
        if (s && strcmp(s, "ROLESTMT_USER") == 0)
            return dbm_xstrdup("CREATE USER");
        if (s && strcmp(s, "ROLESTMT_GROUP") == 0)
            return dbm_xstrdup("CREATE GROUP");
        return dbm_xstrdup("CREATE ROLE");
    }
    if (strcmp(type, "TransactionStmt") == 0)
        return dbm_xstrdup(transaction_tag(jstr(n, "kind")));
    if (strcmp(type, "VariableSetStmt") == 0) {
        s = jstr(n, "kind");
        return dbm_xstrdup(s && dbm_starts_with(s, "VAR_RESET") ? "RESET" : "SET");
    }
    if (strcmp(type, "VacuumStmt") == 0)
        return dbm_xstrdup(jbool(n, "is_vacuumcmd") ? "VACUUM" : "ANALYZE");
    if (strcmp(type, "DiscardStmt") == 0) {
        s = jstr(n, "target");
        return dbm_xasprintf("DISCARD %s", s && dbm_starts_with(s, "DISCARD_") ? s + 8 : "ALL");
    }
    if (strcmp(type, "FetchStmt") == 0)
        return dbm_xstrdup(jbool(n, "ismove") ? "MOVE" : "FETCH");
    if (strcmp(type, "DeallocateStmt") == 0)
        return dbm_xstrdup(json_object_get(n, "name") ? "DEALLOCATE" : "DEALLOCATE ALL");
    return tag_from_node_name(type);
}

/* ---- splitting ---- */

/* Record a parser error at PostgreSQL's 1-based character `cursorpos` in the section. */
static int parse_error(int *err_line, int *err_col, const char *sql, size_t len,
                       const PgQueryError *e)
{
    if (e->cursorpos > 0)
        dbm_sql_linecol(sql, len, dbm_sql_charpos_to_offset(sql, len, e->cursorpos), err_line,
                        err_col);
    return dbm_error_set(DBM_EFAILED, "%s", e->message ? e->message : "syntax error");
}

/* Take statement node `node` ({"IndexStmt": {...}}): its tag and flags. */
static int read_stmt(dbm_stmt *st, int *err_line, int *err_col, const json_t *node)
{
    void *it = json_object_iter((json_t *)node);
    const char *type = it ? json_object_iter_key(it) : NULL;
    const json_t *fields = it ? json_object_iter_value(it) : NULL;

    if (!type || !json_is_object(fields) || json_object_size(node) != 1) {
        *err_line = st->line;
        *err_col = st->col;
        return dbm_error_set(DBM_EFAILED, "unexpected parse tree for the statement at line %d",
                             st->line);
    }
    st->tag = command_tag(type, fields);
    st->flags = classify(type, fields);
    return 0;
}

/* A RawStmt's byte field (omitted when 0). */
static size_t raw_field(const json_t *raw, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(raw, key));
    return v > 0 ? (size_t)v : 0;
}

static const char *skip_json_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/*
 * The first element of the top-level "stmts" array in libpg_query's output
 * ({"version":150001,"stmts":[...]}; no "stmts" when there is no statement),
 * or NULL. Nothing before "stmts" is a string, so the first match is the key.
 */
static const char *stmts_array(const char *json, const char *end)
{
    const char *p = strstr(json, "\"stmts\"");

    if (!p)
        return NULL;
    p = skip_json_space(p + 7, end);
    if (p >= end || *p != ':')
        return NULL;
    p = skip_json_space(p + 1, end);
    return p < end && *p == '[' ? p + 1 : NULL;
}

/* The parser's outputs the statements' JSON spans point into (dbm_stmt_list.parsed). */
typedef struct {
    PgQueryParseResult *items;
    size_t count, cap;
} parse_outputs;

static void outputs_free(parse_outputs *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++)
        pg_query_free_parse_result(o->items[i]);
    free(o->items);
    free(o);
}

#define PIECE_FAILED 1 /* a piece of a large section did not parse: parse it whole */

/*
 * Parse the piece [from, to) of the section and append its statements. `text`
 * is that piece, NUL-terminated; positions in the parser's output are
 * relative to it. A syntax error is recorded with its section position when
 * the piece is the whole section; a piece of a large one returns PIECE_FAILED
 * without a message, and the caller parses the whole section instead.
 */
static int parse_piece(dbm_stmt_list *list, size_t *cap, linecol_cursor *cur, int *err_line,
                       int *err_col, const char *sql, size_t len, const char *text, size_t from,
                       size_t to)
{
    parse_outputs *outs = list->parsed;
    PgQueryParseResult *pr;
    json_t *raw = NULL;
    json_error_t jerr;
    const char *p, *end;
    int rc = 0;

    dbm_array_grow((void **)&outs->items, &outs->cap, outs->count + 1, sizeof(*outs->items));
    pr = &outs->items[outs->count++];
    *pr = pg_query_parse(text);
    if (pr->error) {
        if (from > 0 || to < len)
            return PIECE_FAILED;
        return parse_error(err_line, err_col, sql, len, pr->error);
    }
    end = pr->parse_tree + strlen(pr->parse_tree);
    p = stmts_array(pr->parse_tree, end);
    while (p && (p = skip_json_space(p, end)) < end && *p != ']') {
        size_t loc, n, stop, start, used;
        dbm_stmt *st;

        raw = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, &jerr);
        used = raw ? (size_t)jerr.position : 0;
        if (!raw || used == 0 || p[used - 1] != '}') {
            rc = dbm_error_set(DBM_EFAILED, "unable to read the parse tree: %s",
                               raw ? "unexpected statement list" : jerr.text);
            goto done;
        }
        loc = from + raw_field(raw, "stmt_location");
        n = raw_field(raw, "stmt_len");
        stop = n == 0 || loc > to || n > to - loc ? to : loc + n;
        start = skip_space_and_comments(sql, loc, stop);
        if (start < stop) {
            dbm_array_grow((void **)&list->items, cap, list->count + 1, sizeof(*list->items));
            st = &list->items[list->count++];
            memset(st, 0, sizeof(*st));
            st->offset = start;
            st->len = stop - start;
            cursor_advance(cur, sql, len, start);
            st->line = cur->line;
            st->col = cur->col;
            if ((rc = read_stmt(st, err_line, err_col, json_object_get(raw, "stmt"))) < 0)
                goto done;
            if (len <= DBM_SQL_TREE_MAX) {
                st->tree = raw;
                raw = NULL;
            } else {
                st->json = p;
                st->json_len = used;
            }
            if (st->flags & DBM_STMT_NO_TX)
                list->has_no_tx = true;
            if (st->flags & DBM_STMT_TX_CONTROL)
                list->manages_transaction = true;
        }
        json_decref(raw);
        raw = NULL;
        p = skip_json_space(p + used, end);
        if (p < end && *p == ',')
            p++;
    }
done:
    json_decref(raw);
    return rc;
}

/*
 * A large section in pieces of about PIECE_BYTES, cut after a ';' that
 * libpg_query's scanner finds: the parser's peak memory is then that of one
 * piece, not of the whole section (about 28 times its size). The scanner can
 * misplace a boundary inside CREATE RULE or BEGIN ATOMIC bodies; a piece cut
 * there does not parse, and then the whole section is parsed instead.
 */
#define PIECE_BYTES (256u << 10)

static int parse_in_pieces(dbm_stmt_list *list, size_t *cap, linecol_cursor *cur, int *err_line,
                           int *err_col, const char *sql, size_t len)
{
    PgQuerySplitResult sr = pg_query_split_with_scanner(sql);
    size_t from = 0;
    int rc = 0;

    if (sr.error) {
        rc = PIECE_FAILED;
        goto done;
    }
    for (int i = 0; i < sr.n_stmts && rc == 0; i++) {
        size_t next = i + 1 < sr.n_stmts ? (size_t)sr.stmts[i + 1]->stmt_location : len;
        char *text;

        if (next > len || next < from)
            next = len;
        if (next < len && next - from < PIECE_BYTES)
            continue;
        text = dbm_xstrndup(sql + from, next - from);
        rc = parse_piece(list, cap, cur, err_line, err_col, sql, len, text, from, next);
        free(text);
        from = next;
    }
    if (rc == 0 && from < len) {
        char *text = dbm_xstrndup(sql + from, len - from);
        rc = parse_piece(list, cap, cur, err_line, err_col, sql, len, text, from, len);
        free(text);
    }
done:
    pg_query_free_split_result(sr);
    return rc;
}

static dbm_stmt_list *list_new(void)
{
    dbm_stmt_list *list = dbm_xcalloc(1, sizeof(*list));
    list->parsed = dbm_xcalloc(1, sizeof(parse_outputs));
    return list;
}

int dbm_sql_split(dbm_stmt_list **out, int *err_line, int *err_col, const char *sql, size_t len)
{
    dbm_stmt_list *list = NULL;
    linecol_cursor cur = {0, 1, 1};
    const char *nul;
    size_t cap = 0;
    int rc = 0;

    *out = NULL;
    *err_line = 0;
    *err_col = 0;

    /* The parser reads up to the first NUL: one inside the text would hide the rest. */
    nul = memchr(sql, '\0', len);
    if (nul) {
        dbm_sql_linecol(sql, len, (size_t)(nul - sql), err_line, err_col);
        return dbm_error_set(DBM_EFAILED, "the SQL text contains a NUL byte");
    }

    list = list_new();
    rc = len > DBM_SQL_TREE_MAX ? parse_in_pieces(list, &cap, &cur, err_line, err_col, sql, len)
                                : PIECE_FAILED;
    if (rc == PIECE_FAILED) {
        /* small, or a piece did not parse: the whole section, from an empty list */
        if (len > DBM_SQL_TREE_MAX) {
            dbm_stmt_list_free(list);
            list = list_new();
            cap = 0;
            cur = (linecol_cursor){0, 1, 1};
        }
        rc = parse_piece(list, &cap, &cur, err_line, err_col, sql, len, sql, 0, len);
    }
    if (rc < 0)
        goto done;
    *out = list;
    list = NULL;

done:
    dbm_stmt_list_free(list);
    return rc;
}

void dbm_stmt_list_free(dbm_stmt_list *list)
{
    if (!list)
        return;
    dbm_stmt_list_drop_trees(list);
    for (size_t i = 0; i < list->count; i++)
        free(list->items[i].tag);
    free(list->items);
    free(list);
}

void dbm_stmt_list_drop_trees(dbm_stmt_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++) {
        json_decref(list->items[i].tree);
        list->items[i].tree = NULL;
        list->items[i].json = NULL;
        list->items[i].json_len = 0;
    }
    outputs_free(list->parsed);
    list->parsed = NULL;
}

json_t *dbm_stmt_tree(const dbm_stmt_list *list, size_t i)
{
    const dbm_stmt *st = &list->items[i];

    if (st->tree)
        return json_incref(st->tree);
    return st->json ? json_loadb(st->json, st->json_len, 0, NULL) : NULL;
}
