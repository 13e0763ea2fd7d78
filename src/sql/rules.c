/*
 * rules.c - safety rules over libpg_query parse trees.
 *
 * One pass over the statements in order. State carried between statements:
 * the tables created so far in the section (changes to them are harmless:
 * nobody else can be using them yet), the tables on which a constraint was
 * validated, the enum types dropped or renamed away, and whether lock_timeout
 * has been set. Ignore comments are found with libpg_query's scanner, which
 * returns comments as tokens, so "--" inside a string is never mistaken for one.
 */
#include "sql/rules.h"

#include "common/error.h"
#include "common/util.h"

#include <jansson.h>
#include <pg_query.h>
#include <stdarg.h>
#include <stdint.h>
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
     "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
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

/* ---- ignore comments ---- */

#define IGNORE_MARK "db-migrate:ignore"

typedef struct {
    size_t offset; /* of the comment */
    int line;
    bool alone;  /* nothing but whitespace before it on its line */
    char *rules; /* the comma/space separated list after the mark */
} ignore_comment;

typedef struct {
    ignore_comment *items;
    size_t count, cap;
    size_t pos; /* comments arrive in text order: lines are counted up to here */
    int line;   /* 1-based line of `pos` */
} ignore_list;

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Skip a field of wire type `wt`; false on malformed input. */
static bool skip_field(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0:
        return read_varint(p, end, &v);
    case 1:
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case 2:
        if (!read_varint(p, end, &v) || v > (uint64_t)(end - *p))
            return false;
        *p += v;
        return true;
    case 5:
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    default:
        return false;
    }
}

static void add_ignore(ignore_list *l, const char *sql, size_t len, size_t start, size_t end)
{
    const char *mark;
    char *text;
    ignore_comment *c;
    size_t i;

    if (end > len || start >= end || end - start < 2)
        return;
    if (!(sql[start] == '-' && sql[start + 1] == '-') &&
        !(sql[start] == '/' && sql[start + 1] == '*'))
        return;
    text = dbm_xstrndup(sql + start, end - start);
    mark = strstr(text, IGNORE_MARK);
    if (!mark) {
        free(text);
        return;
    }
    dbm_array_grow((void **)&l->items, &l->cap, l->count + 1, sizeof(*l->items));
    c = &l->items[l->count++];
    c->offset = start;
    for (; l->pos < start; l->pos++)
        if (sql[l->pos] == '\n')
            l->line++;
    c->line = l->line;
    c->alone = true;
    for (i = start; i > 0 && sql[i - 1] != '\n'; i--)
        if (sql[i - 1] != ' ' && sql[i - 1] != '\t')
            c->alone = false;
    c->rules = dbm_xstrdup(mark + strlen(IGNORE_MARK));
    if (sql[start] == '/') {
        char *close = strstr(c->rules, "*/");
        if (close)
            *close = '\0';
    }
    free(text);
}

/*
 * Comments holding the ignore mark, from libpg_query's scanner. Its result is a
 * protobuf ScanResult { repeated ScanToken tokens = 2 } with ScanToken
 * { int32 start = 1; int32 end = 2; ... }; a comment is a token whose text
 * starts with "--" or a slash-star, which no other token can. If the text does not
 * scan, there are no ignore comments (the statements were split already).
 */
static void find_ignore_comments(ignore_list *l, const char *sql, size_t len)
{
    PgQueryScanResult sr;
    const uint8_t *p, *end;

    if (!strstr(sql, IGNORE_MARK))
        return;
    l->pos = 0;
    l->line = 1;
    sr = pg_query_scan(sql);
    if (sr.error)
        goto done;
    p = (const uint8_t *)sr.pbuf.data;
    end = p + sr.pbuf.len;
    while (p < end) {
        uint64_t key, n;
        if (!read_varint(&p, end, &key))
            break;
        if (key == ((2 << 3) | 2)) {
            const uint8_t *tend;
            uint64_t start = 0, stop = 0;
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
                break;
            tend = p + n;
            while (p < tend) {
                uint64_t k, v;
                if (!read_varint(&p, tend, &k))
                    break;
                if ((k & 7) == 0 && ((k >> 3) == 1 || (k >> 3) == 2)) {
                    if (!read_varint(&p, tend, &v))
                        break;
                    if ((k >> 3) == 1)
                        start = v;
                    else
                        stop = v;
                } else if (!skip_field(&p, tend, (unsigned)(k & 7))) {
                    break;
                }
            }
            p = tend;
            add_ignore(l, sql, len, (size_t)start, (size_t)stop);
        } else if (!skip_field(&p, end, (unsigned)(key & 7))) {
            break;
        }
    }
done:
    pg_query_free_scan_result(sr);
}

static bool list_has_rule(const char *list, const char *rule)
{
    size_t n = strlen(rule);
    const char *p = list;

    while (*p) {
        size_t w;
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        w = strcspn(p, " ,\t\r\n");
        if (w == n && strncmp(p, rule, n) == 0)
            return true;
        p += w;
    }
    return false;
}

/*
 * Whether an ignore comment silences `rule` for statement `i`: a comment alone on
 * the line just above the statement, or a comment on the statement's first line
 * after the statement starts (and before any later statement on that line starts).
 */
static bool ignored(const ignore_list *l, const dbm_stmt_list *stmts, size_t i, const char *rule)
{
    const dbm_stmt *st = &stmts->items[i];
    size_t next = i + 1 < stmts->count ? stmts->items[i + 1].offset : SIZE_MAX;
    size_t lo = 0, hi = l->count;

    /* The comments are in text order: find the first on the line above the statement. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].line < st->line - 1)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < l->count && l->items[k].line <= st->line; k++) {
        const ignore_comment *c = &l->items[k];
        bool mine = (c->alone && c->line == st->line - 1) ||
                    (c->line == st->line && c->offset > st->offset && c->offset < next);
        if (mine && list_has_rule(c->rules, rule))
            return true;
    }
    return false;
}

/* ---- JSON helpers ---- */

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static bool jstr_is(const json_t *o, const char *k, const char *want)
{
    const char *v = jstr(o, k);
    return v && strcmp(v, want) == 0;
}

static bool jbool(const json_t *o, const char *k)
{
    return json_is_true(json_object_get(o, k));
}

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

/* The last String of a list of String nodes (a qualified name's final part). */
static const char *last_name(const json_t *list)
{
    size_t n = json_array_size(list);
    return n ? jstr(json_object_get(json_array_get(list, n - 1), "String"), "sval") : NULL;
}

/* "schema.name" or "name" from a list of String nodes. Caller frees. */
static char *qualified_name(const json_t *list)
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

static char *rel_name(const json_t *rv)
{
    const char *schema = jstr(rv, "schemaname"), *name = jstr(rv, "relname");
    return schema ? dbm_xasprintf("%s.%s", schema, name ?: "?") : dbm_xstrdup(name ?: "?");
}

/* ---- checking state ---- */

typedef struct {
    char *schema; /* NULL when unqualified */
    char *name;
} relname;

typedef struct {
    relname *items;
    size_t count, cap;
} relset;

static void relset_add(relset *s, const char *schema, const char *name)
{
    if (!name)
        return;
    dbm_array_grow((void **)&s->items, &s->cap, s->count + 1, sizeof(*s->items));
    s->items[s->count].schema = dbm_xstrdup(schema);
    s->items[s->count].name = dbm_xstrdup(name);
    s->count++;
}

/* Names match when the relnames do and, if both are qualified, the schemas too. */
static bool relset_has(const relset *s, const char *schema, const char *name)
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

typedef struct {
    const dbm_stmt_list *stmts;
    const dbm_rules_options *opts;
    ignore_list ignores;
    relset new_tables;
    relset validated; /* tables with a VALIDATE CONSTRAINT so far */
    relset old_types; /* types dropped or renamed away so far */
    bool lock_timeout_set;
    bool lock_timeout_reported;
    dbm_rule_hits *hits;
    size_t hits_cap; /* allocated items of hits */
    size_t stmt;     /* the statement being checked */
} checker;

static bool table_is_new(checker *c, const json_t *rv)
{
    const char *schema = jstr(rv, "schemaname"), *name = jstr(rv, "relname");

    if (relset_has(&c->new_tables, schema, name))
        return true;
    return c->opts && c->opts->table_is_new &&
           c->opts->table_is_new(c->opts->table_is_new_ctx, schema, name);
}

static void hit(checker *c, const char *rule, char *message, const char *hint_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Record a hit for the current statement; takes `message`. */
static void hit(checker *c, const char *rule, char *message, const char *hint_fmt, ...)
{
    dbm_rule_hits *h = c->hits;
    dbm_rule_hit *it;
    dbm_buf hint = DBM_BUF_INIT;
    va_list ap;

    if (ignored(&c->ignores, c->stmts, c->stmt, rule)) {
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

/* The statement takes an ACCESS EXCLUSIVE lock on an existing relation. */
static void strong_lock(checker *c, const char *what)
{
    if (c->lock_timeout_reported || c->lock_timeout_set ||
        (c->opts && c->opts->lock_timeout_configured))
        return;
    c->lock_timeout_reported = true;
    hit(c, "missing-lock-timeout",
        dbm_xasprintf("%s takes an ACCESS EXCLUSIVE lock and no lock_timeout is set", what), NULL);
}

/* ---- the rules ---- */

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
        if (fc && is_volatile_function(last_name(json_object_get(fc, "funcname"))))
            return last_name(json_object_get(fc, "funcname"));
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
    const char *type = last_name(json_object_get(json_object_get(coldef, "typeName"), "names"));
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
            generates = true;
            volatile_what = volatile_what ?: "a stored generated expression";
        }
    }
    if (volatile_what)
        hit(c, "volatile-default",
            dbm_xasprintf("column \"%s\" added to \"%s\" with %s%s: the table is rewritten",
                          col ?: "?", table, volatile_what,
                          strchr(volatile_what, ' ') ? "" : (generates ? " type" : "()")),
            NULL);
    else if (not_null && !has_default && !generates)
        hit(c, "not-null-column-without-default",
            dbm_xasprintf("column \"%s\" added to \"%s\" as NOT NULL without a default: this "
                          "fails if the table has rows",
                          col ?: "?", table),
            NULL);
}

static void check_alter_table(checker *c, const json_t *n)
{
    const json_t *rv = json_object_get(n, "relation");
    const char *objtype = jstr(n, "objtype");
    char *table;
    bool strong = false;
    size_t i;
    json_t *item;

    if (!objtype || strcmp(objtype, "OBJECT_TABLE") != 0 || table_is_new(c, rv))
        return;
    table = rel_name(rv);
    json_array_foreach(json_object_get(n, "cmds"), i, item)
    {
        const json_t *cmd = json_object_get(item, "AlterTableCmd");
        const char *sub = jstr(cmd, "subtype");
        const char *col = jstr(cmd, "name");
        const json_t *def = json_object_get(cmd, "def");
        const json_t *con = json_object_get(def, "Constraint");

        if (!sub)
            continue;
        if (strcmp(sub, "AT_ValidateConstraint") == 0) {
            relset_add(&c->validated, jstr(rv, "schemaname"), jstr(rv, "relname"));
            continue;
        }
        /* Subcommands taking less than ACCESS EXCLUSIVE (PostgreSQL 15 AlterTableGetLockLevel). */
        if (!(strcmp(sub, "AT_SetStatistics") == 0 || strcmp(sub, "AT_ClusterOn") == 0 ||
              strcmp(sub, "AT_DropCluster") == 0 || strcmp(sub, "AT_AttachPartition") == 0 ||
              strcmp(sub, "AT_DetachPartitionFinalize") == 0 ||
              dbm_starts_with(sub, "AT_EnableTrig") || dbm_starts_with(sub, "AT_DisableTrig") ||
              (strcmp(sub, "AT_AddConstraint") == 0 && jstr_is(con, "contype", "CONSTR_FOREIGN"))))
            strong = true;

        if (strcmp(sub, "AT_AddColumn") == 0) {
            check_add_column(c, table, json_object_get(def, "ColumnDef"));
        } else if (strcmp(sub, "AT_SetNotNull") == 0) {
            if (!relset_has(&c->validated, jstr(rv, "schemaname"), jstr(rv, "relname")))
                hit(c, "set-not-null",
                    dbm_xasprintf("SET NOT NULL on \"%s\".\"%s\" scans the table under an ACCESS "
                                  "EXCLUSIVE lock",
                                  table, col ?: "?"),
                    "first ADD CONSTRAINT %s_%s_not_null CHECK (%s IS NOT NULL) NOT VALID and "
                    "VALIDATE CONSTRAINT it; SET NOT NULL then skips the scan",
                    jstr(rv, "relname") ?: "t", col ?: "col", col ?: "col");
        } else if (strcmp(sub, "AT_AddConstraint") == 0 && con) {
            const char *ct = jstr(con, "contype");
            const char *name = jstr(con, "conname");
            if (ct && (strcmp(ct, "CONSTR_CHECK") == 0 || strcmp(ct, "CONSTR_FOREIGN") == 0) &&
                !jbool(con, "skip_validation"))
                hit(c, "constraint-without-not-valid",
                    dbm_xasprintf("%s constraint %s%s%son \"%s\" is validated while its lock is "
                                  "held",
                                  strcmp(ct, "CONSTR_CHECK") == 0 ? "CHECK" : "FOREIGN KEY",
                                  name ? "\"" : "", name ?: "", name ? "\" " : "", table),
                    NULL);
            else if (ct &&
                     (strcmp(ct, "CONSTR_UNIQUE") == 0 || strcmp(ct, "CONSTR_PRIMARY") == 0) &&
                     !json_object_get(con, "indexname"))
                hit(c, "unique-without-using-index",
                    dbm_xasprintf("%s constraint %s%s%son \"%s\" builds its index under an ACCESS "
                                  "EXCLUSIVE lock",
                                  strcmp(ct, "CONSTR_UNIQUE") == 0 ? "UNIQUE" : "PRIMARY KEY",
                                  name ? "\"" : "", name ?: "", name ? "\" " : "", table),
                    NULL);
        } else if (strcmp(sub, "AT_AlterColumnType") == 0) {
            hit(c, "alter-column-type",
                dbm_xasprintf("changing the type of \"%s\".\"%s\" rewrites the table unless the "
                              "change is binary-compatible",
                              table, col ?: "?"),
                "if this only widens a varchar or turns varchar into text, no rewrite happens: "
                "add `-- db-migrate:ignore alter-column-type` above it; otherwise add a new "
                "column, backfill it, switch the application, then drop the old one");
        } else if (strcmp(sub, "AT_DropColumn") == 0) {
            hit(c, "drop-column",
                dbm_xasprintf("column \"%s\".\"%s\" is dropped", table, col ?: "?"), NULL);
        }
    }
    if (strong)
        strong_lock(c, "ALTER TABLE");
    free(table);
}

static void check_drop(checker *c, const json_t *n)
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
            relset_add(&c->old_types, schema, last_name(tnames));
        } else if (strcmp(type, "OBJECT_TABLE") == 0) {
            size_t k = json_array_size(names);
            const char *name = last_name(names);
            const char *schema =
                k > 1 ? jstr(json_object_get(json_array_get(names, k - 2), "String"), "sval")
                      : NULL;
            if (relset_has(&c->new_tables, schema, name) ||
                (c->opts && c->opts->table_is_new &&
                 c->opts->table_is_new(c->opts->table_is_new_ctx, schema, name)))
                continue;
            char *q = qualified_name(names);
            hit(c, "drop-table", dbm_xasprintf("table \"%s\" is dropped", q), NULL);
            free(q);
        }
    }
    if ((strcmp(type, "OBJECT_TABLE") == 0 || strcmp(type, "OBJECT_INDEX") == 0 ||
         strcmp(type, "OBJECT_MATVIEW") == 0 || strcmp(type, "OBJECT_TRIGGER") == 0) &&
        !jbool(n, "concurrent"))
        strong_lock(c, strcmp(type, "OBJECT_TABLE") == 0     ? "DROP TABLE"
                       : strcmp(type, "OBJECT_INDEX") == 0   ? "DROP INDEX"
                       : strcmp(type, "OBJECT_MATVIEW") == 0 ? "DROP MATERIALIZED VIEW"
                                                             : "DROP TRIGGER");
}

static void check_rename(checker *c, const json_t *n)
{
    const char *type = jstr(n, "renameType");
    const json_t *rv = json_object_get(n, "relation");
    char *table;

    if (!type)
        return;
    if (strcmp(type, "OBJECT_TYPE") == 0) {
        const json_t *names =
            json_object_get(json_object_get(json_object_get(n, "object"), "List"), "items");
        size_t k = json_array_size(names);
        relset_add(&c->old_types,
                   k > 1 ? jstr(json_object_get(json_array_get(names, k - 2), "String"), "sval")
                         : NULL,
                   last_name(names));
        return;
    }
    if (!(strcmp(type, "OBJECT_TABLE") == 0 ||
          (strcmp(type, "OBJECT_COLUMN") == 0 && jstr_is(n, "relationType", "OBJECT_TABLE"))) ||
        table_is_new(c, rv))
        return;
    table = rel_name(rv);
    if (strcmp(type, "OBJECT_TABLE") == 0)
        hit(c, "rename-table",
            dbm_xasprintf("table \"%s\" is renamed to \"%s\"", table, jstr(n, "newname") ?: "?"),
            NULL);
    else
        hit(c, "rename-column",
            dbm_xasprintf("column \"%s\".\"%s\" is renamed to \"%s\"", table,
                          jstr(n, "subname") ?: "?", jstr(n, "newname") ?: "?"),
            NULL);
    strong_lock(c, strcmp(type, "OBJECT_TABLE") == 0 ? "ALTER TABLE ... RENAME" : "RENAME COLUMN");
    free(table);
}

static void check_enum(checker *c, const char *type, const json_t *n)
{
    const json_t *names = json_object_get(n, "typeName");
    size_t k = json_array_size(names);
    const char *schema =
        k > 1 ? jstr(json_object_get(json_array_get(names, k - 2), "String"), "sval") : NULL;
    char *q = qualified_name(names);

    if (strcmp(type, "AlterEnumStmt") == 0 && jstr(n, "oldVal"))
        hit(c, "enum-value-change",
            dbm_xasprintf("value '%s' of enum \"%s\" is renamed to '%s'", jstr(n, "oldVal"), q,
                          jstr(n, "newVal") ?: "?"),
            NULL);
    else if (strcmp(type, "CreateEnumStmt") == 0 &&
             relset_has(&c->old_types, schema, last_name(names)))
        hit(c, "enum-value-change",
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
        relset_add(&c->new_tables, jstr(rv, "schemaname"), jstr(rv, "relname"));
    } else if (strcmp(type, "CreateTableAsStmt") == 0 || strcmp(type, "SelectStmt") == 0) {
        const json_t *into =
            json_object_get(n, strcmp(type, "SelectStmt") == 0 ? "intoClause" : "into");
        const json_t *r = json_object_get(into, "rel");
        if (r)
            relset_add(&c->new_tables, jstr(r, "schemaname"), jstr(r, "relname"));
    } else if (strcmp(type, "IndexStmt") == 0) {
        if (!jbool(n, "concurrent") && !table_is_new(c, rv)) {
            char *table = rel_name(rv);
            const char *idx = jstr(n, "idxname");
            hit(c, "index-without-concurrently",
                dbm_xasprintf("index %s%s%son existing table \"%s\" is built without "
                              "CONCURRENTLY: writes to the table wait until it is built",
                              idx ? "\"" : "", idx ?: "", idx ? "\" " : "", table),
                NULL);
            free(table);
        }
    } else if (strcmp(type, "AlterTableStmt") == 0) {
        check_alter_table(c, n);
    } else if (strcmp(type, "DropStmt") == 0) {
        check_drop(c, n);
    } else if (strcmp(type, "RenameStmt") == 0) {
        check_rename(c, n);
    } else if (strcmp(type, "AlterEnumStmt") == 0 || strcmp(type, "CreateEnumStmt") == 0) {
        check_enum(c, type, n);
    } else if (strcmp(type, "VacuumStmt") == 0) {
        size_t i;
        json_t *item;
        json_array_foreach(json_object_get(n, "options"), i, item)
        {
            const json_t *de = json_object_get(item, "DefElem");
            if (jstr_is(de, "defname", "full") && defelem_true(de)) {
                hit(c, "vacuum-full",
                    dbm_xstrdup("VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock"),
                    NULL);
                strong_lock(c, "VACUUM FULL");
                break;
            }
        }
    } else if (strcmp(type, "ClusterStmt") == 0) {
        char *table = rv ? rel_name(rv) : dbm_xstrdup("every clustered table");
        hit(c, "cluster",
            dbm_xasprintf("CLUSTER rewrites \"%s\" under an ACCESS EXCLUSIVE lock", table), NULL);
        strong_lock(c, "CLUSTER");
        free(table);
    } else if (strcmp(type, "LockStmt") == 0) {
        hit(c, "lock-table", dbm_xstrdup("LOCK TABLE holds its lock until the transaction ends"),
            NULL);
        if (json_integer_value(json_object_get(n, "mode")) == 8)
            strong_lock(c, "LOCK TABLE");
    } else if (strcmp(type, "TruncateStmt") == 0) {
        strong_lock(c, "TRUNCATE");
    } else if (strcmp(type, "RefreshMatViewStmt") == 0) {
        if (!jbool(n, "concurrent"))
            strong_lock(c, "REFRESH MATERIALIZED VIEW");
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
    find_ignore_comments(&c.ignores, section, len);

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
    for (size_t i = 0; i < c.ignores.count; i++)
        free(c.ignores.items[i].rules);
    free(c.ignores.items);
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
