/*
 * rules.h - static safety checks over a migration's parse trees.
 *
 * Walks the libpg_query JSON of each statement that sql/parse.h produced and
 * reports statements that lock or rewrite a busy table for long, or break the
 * application that is still running during a deploy: an index built without
 * CONCURRENTLY, a constraint validated while holding its lock, a column type
 * change that rewrites the table, a dropped column, and so on (docs/rules.md).
 *
 * The module only finds; it neither prints nor decides whether a hit blocks a
 * run. The caller turns hits into findings in the report. Nothing here talks
 * to a server, so what depends on the catalog (a column's current type, the
 * size of a table) is judged from the migration's own text, conservatively.
 */
#ifndef DBM_RULES_H
#define DBM_RULES_H

#include "sql/parse.h"

#include <stdbool.h>
#include <stddef.h>

/* One rule: a stable id (used in findings and ignore comments), what it finds, and the safe
 * way to do the same thing. */
struct dbm_rule_info {
    const char *id;
    const char *summary;
    const char *safe_alternative;
};

/* Every rule, ending with an entry whose id is NULL. For docs and the README table. */
extern const struct dbm_rule_info dbm_rules[];

/* The rule with this id, or NULL. */
const struct dbm_rule_info *dbm_rule_find(const char *id);

typedef struct {
    const char *rule; /* static: one of dbm_rules[].id */
    size_t stmt;      /* index of the statement in the dbm_stmt_list */
    int line, col;    /* 1-based position of the statement in the section */
    char *message;    /* one line, names the relation or column */
    char *hint;       /* the safe alternative for this case; never NULL */
} dbm_rule_hit;

typedef struct {
    dbm_rule_hit *items;
    size_t count;
} dbm_rule_hits;

typedef struct {
    /* The runner sets lock_timeout itself (config lock-timeout is not 0); when false,
     * "missing-lock-timeout" fires unless the section sets it before its first
     * statement that takes an ACCESS EXCLUSIVE lock. */
    bool lock_timeout_configured;
    /* Optional: whether `schema.name` (schema NULL when unqualified) is a table created
     * earlier in the same run, e.g. by a previous pending migration. Tables created
     * earlier in the same section are known without it. */
    bool (*table_is_new)(void *ctx, const char *schema, const char *name);
    void *table_is_new_ctx;
} dbm_rules_options;

/*
 * Check the statements of one section. `section` (len bytes) is the text the
 * statements were split from; it is scanned for ignore comments:
 *
 *     -- db-migrate:ignore RULE[,RULE...]
 *
 * on the line just above a statement, or at the end of its first line,
 * silences those rules for that statement. `opts` may be NULL (all false).
 *
 * *out (never NULL on success, possibly with count 0) belongs to the caller:
 * free it with dbm_rule_hits_free(). Returns 0, or DBM_EGENERIC when a
 * statement's JSON cannot be read (a message is recorded).
 */
int dbm_rules_check(dbm_rule_hits **out, const dbm_stmt_list *stmts, const char *section,
                    size_t len, const dbm_rules_options *opts);

void dbm_rule_hits_free(dbm_rule_hits *hits);

#endif
