/*
 * rules_internal.h - internal to src/sql/: the state of one check of a
 * section's statements, shared by the files of the rules.
 *
 * rules.c is the engine (sql/rules.h): the table of rules, the pass over the
 * statements, the state carried between them, recording hits, and the rules
 * on single statements (indexes, VACUUM FULL, CLUSTER, LOCK, enums, SET
 * lock_timeout). rules_table.c has the rules on ALTER TABLE, DROP and
 * RENAME. rules_ignore.c finds the ignore comments. Nothing outside src/sql/
 * includes this header.
 */
#ifndef DBM_SQL_RULES_INTERNAL_H
#define DBM_SQL_RULES_INTERNAL_H

#include "sql/parse.h"
#include "sql/rules.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* ---- ignore comments (rules_ignore.c) ---- */

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

/*
 * The comments of sql[0..len) that hold the ignore mark, in text order, found
 * with libpg_query's scanner (so "--" inside a string is no comment). Text
 * that does not scan has none. Free with dbm_rules_ignores_free.
 */
void dbm_rules_ignores_find(ignore_list *l, const char *sql, size_t len);
void dbm_rules_ignores_free(ignore_list *l);

/*
 * Whether an ignore comment silences `rule` for statement `i`: a comment alone on
 * the line just above the statement, or a comment on the statement's first line
 * after the statement starts (and before any later statement on that line starts).
 */
bool dbm_rules_ignored(const ignore_list *l, const dbm_stmt_list *stmts, size_t i,
                       const char *rule);

/* ---- the checking state (rules.c) ---- */

typedef struct {
    char *schema; /* NULL when unqualified */
    char *name;
} relname;

typedef struct {
    relname *items;
    size_t count, cap;
} relset;

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

/* Add schema.name (schema NULL when unqualified; nothing when name is NULL). */
void dbm_rules_relset_add(relset *s, const char *schema, const char *name);

/* Names match when the relnames do and, if both are qualified, the schemas too. */
bool dbm_rules_relset_has(const relset *s, const char *schema, const char *name);

/*
 * Whether the table `schema.name` was created earlier in the section, or in
 * the run (dbm_rules_options.table_is_new): changes to it harm no one.
 */
bool dbm_rules_table_is_new(checker *c, const char *schema, const char *name);

/* The same for a RangeVar node. */
bool dbm_rules_relation_is_new(checker *c, const json_t *rv);

/*
 * Record a hit of `rule` for the current statement, unless an ignore comment
 * silences it; takes `message`. The hint is hint_fmt's text, or the rule's
 * safe alternative when hint_fmt is NULL.
 */
void dbm_rules_hit(checker *c, const char *rule, char *message, const char *hint_fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * The statement (`what`, e.g. "ALTER TABLE") takes an ACCESS EXCLUSIVE lock on
 * an existing relation: missing-lock-timeout, once a section, when no
 * lock_timeout is set.
 */
void dbm_rules_strong_lock(checker *c, const char *what);

/* The last String of a list of String nodes (a qualified name's final part), or NULL. */
const char *dbm_rules_last_name(const json_t *list);

/* The String before the last in a list of String nodes (a qualified name's schema), or NULL. */
const char *dbm_rules_schema_name(const json_t *list);

/* "schema.name" or "name" from a list of String nodes. Caller frees. */
char *dbm_rules_qualified_name(const json_t *list);

/* "schema.name" or "name" of a RangeVar node. Caller frees. */
char *dbm_rules_rel_name(const json_t *rv);

/* ---- rules on tables (rules_table.c) ---- */

void dbm_rules_check_alter_table(checker *c, const json_t *n);
void dbm_rules_check_drop(checker *c, const json_t *n);
void dbm_rules_check_rename(checker *c, const json_t *n);

#endif
