/*
 * tags.c - the command tag of a statement node, as PostgreSQL's
 * CreateCommandTag names it ("CREATE INDEX", "ALTER TABLE", "DROP VIEW").
 *
 * Most node types have one tag (the table below); the others depend on a
 * field (the object type of ALTER, DROP and RENAME, SELECT INTO, GRANT or
 * REVOKE...). A node type found in neither gets its name spelled as a tag.
 */
#include "sql/node.h"
#include "sql/parse_internal.h"

#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

/* Node types whose tag does not depend on their fields. */
static const struct {
    const char *type, *tag;
} fixed_tags[] = {
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

char *dbm_sql_command_tag(const char *type, const json_t *n)
{
    const char *s;

    for (size_t i = 0; i < sizeof(fixed_tags) / sizeof(fixed_tags[0]); i++)
        if (strcmp(type, fixed_tags[i].type) == 0)
            return dbm_xstrdup(fixed_tags[i].tag);

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
