/*
 * destructive.h - the statements of a section that destroy data or objects:
 * DROP TABLE and its kin, ALTER TABLE ... DROP COLUMN, TRUNCATE, DELETE.
 *
 * Read from the parse trees sql/parse.h produced, not from the text, so a
 * DROP inside a string or a comment is none. rollback lists them before it
 * runs a down section. How many rows a table holds is the caller's to ask the
 * server (postgres/); nothing here talks to one.
 */
#ifndef DBM_SQL_DESTRUCTIVE_H
#define DBM_SQL_DESTRUCTIVE_H

#include "sql/parse.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *what; /* static: "DROP TABLE", "DROP COLUMN", "TRUNCATE", "DELETE", ... */
    char *object;     /* what it names, as written ("app.accounts", "accounts.email",
                         "schema app"); never NULL */
    char *schema;     /* with table: the table's schema as written, NULL when unqualified */
    char *table;      /* the table whose rows go (DROP TABLE, TRUNCATE, DELETE), else NULL */
    bool all_rows;    /* every row of `table` goes (DROP TABLE, TRUNCATE, DELETE without WHERE) */
    bool cascade;     /* CASCADE: dependent objects go too */
    int line;         /* 1-based line of the statement in the section */
} dbm_destructive;

typedef struct {
    dbm_destructive *items;
    size_t count;
} dbm_destructive_list;

/*
 * The destructive statements of `stmts`, in order (one entry per object a
 * statement names: DROP TABLE a, b gives two). Always succeeds; statements
 * whose trees were dropped are skipped. *out belongs to the caller.
 */
void dbm_sql_destructive(dbm_destructive_list **out, const dbm_stmt_list *stmts);
void dbm_destructive_list_free(dbm_destructive_list *list);

#endif
