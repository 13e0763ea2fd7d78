/*
 * parse_internal.h - internal to src/sql/: what a statement node is, for parse.c.
 *
 * parse.c splits a section into statements (sql/parse.h); for each statement
 * node ({"IndexStmt": {...}}: `type` is the node name, `n` its fields) it
 * asks tags.c for the command tag and classify.c for the transaction flags.
 * Nothing outside src/sql/ includes this header.
 */
#ifndef DBM_SQL_PARSE_INTERNAL_H
#define DBM_SQL_PARSE_INTERNAL_H

#include "sql/parse.h"

#include <jansson.h>

/* The command tag PostgreSQL would report for the statement (CreateCommandTag). Caller frees. */
char *dbm_sql_command_tag(const char *type, const json_t *n);

/* DBM_STMT_NO_TX and DBM_STMT_TX_CONTROL (sql/parse.h) for the statement, or 0. */
unsigned dbm_sql_classify(const char *type, const json_t *n);

/*
 * Fill st->locks from the statement node: the locks PostgreSQL's documentation gives
 * its type on the relations it names (locks.c). dbm_stmt_locks_free frees them.
 */
void dbm_sql_documented_locks(dbm_stmt *st, const char *type, const json_t *n);
void dbm_stmt_locks_free(dbm_stmt *st);

#endif
