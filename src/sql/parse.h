/*
 * parse.h - the real PostgreSQL parser (libpg_query) over migration text.
 *
 * Splits a section into statements, classifies the ones PostgreSQL refuses
 * inside a transaction block and the transaction-control ones, and maps
 * PostgreSQL's error positions (1-based characters) to lines and columns.
 * Nothing here talks to a server, and nothing searches SQL text by pattern:
 * dollar quotes, comments and semicolons in strings are the parser's business.
 */
#ifndef DBM_SQLPARSE_H
#define DBM_SQLPARSE_H

#include <stdbool.h>
#include <stddef.h>

struct json_t; /* Jansson's json_t */

#define DBM_SQL_TREE_MAX (128u << 10)

#define DBM_STMT_NO_TX      0x1 /* refused in a transaction block (CREATE INDEX CONCURRENTLY, ...) */
#define DBM_STMT_TX_CONTROL 0x2 /* BEGIN, START TRANSACTION, COMMIT, ROLLBACK, END, ... */
/* May end the transaction it runs in: a DO block whose body commits or rolls back, or a CALL
 * (a procedure may). Allowed in a transactional file, where the server refuses it if it does. */
#define DBM_STMT_MAY_COMMIT 0x4
/* Changes the session beyond its transaction: SET, RESET, SET ROLE, SET SESSION AUTHORIZATION
 * without LOCAL, or a SELECT calling set_config() (pg_dump's search_path). */
#define DBM_STMT_SETS_SESSION 0x8

/* A relation lock PostgreSQL's documentation gives a statement, on a relation it names. */
typedef struct {
    char *schema;     /* as written; NULL when the name is unqualified */
    char *name;       /* the relation, as the parser folded it */
    const char *mode; /* "ShareLock", ... as pg_locks says (static) */
    int level;        /* 1 (AccessShareLock) .. 8 (AccessExclusiveLock) */
} dbm_stmt_lock;

typedef struct {
    size_t offset; /* byte offset of the statement's first token in the section */
    size_t len;    /* bytes up to and excluding the terminating ';' */
    int line;      /* 1-based line of `offset` within the section */
    int col;       /* 1-based column (characters) of `offset` */
    unsigned flags;
    char *tag; /* command tag, e.g. "CREATE INDEX", "ALTER TABLE" */
    /* The documented locks (sql/locks.c): what the statement takes on the relations it
     * names, strongest per relation; none for statement types the table does not list.
     * Kept when the trees are dropped. */
    dbm_stmt_lock *locks;
    size_t nlocks;
    /* The statement's parse tree: a libpg_query RawStmt whose "stmt" member is the
     * statement node ({"stmt": {"IndexStmt": {...}}, ...}); "location" fields inside are
     * byte offsets in the text the parser was given: the section, or for a large one the
     * piece of it parsed at a time (use offset, line and col). As Jansson nodes (`tree`, one
     * reference owned by the list) for sections up to DBM_SQL_TREE_MAX bytes; for larger ones only
     * as JSON text
     * (`json`, json_len bytes, not NUL-terminated, pointing into the list's copy of the
     * parser's output), to be loaded one statement at a time: Jansson nodes cost about a
     * hundred times the SQL's size, 2 GB for a 20 MB data migration. Both NULL once
     * dbm_stmt_list_drop_trees() ran. dbm_stmt_tree() gives the tree either way. */
    struct json_t *tree;
    const char *json;
    size_t json_len;
} dbm_stmt;

typedef struct {
    dbm_stmt *items;
    size_t count;
    bool manages_transaction; /* some statement has DBM_STMT_TX_CONTROL */
    bool has_no_tx;           /* some statement has DBM_STMT_NO_TX */
    bool sets_session;        /* some statement has DBM_STMT_SETS_SESSION */
    void *parsed;             /* the parser's output the statements' json point into */
} dbm_stmt_list;

/*
 * Split `sql` (len bytes, NUL-terminated) into statements. A section with only
 * comments or whitespace gives count == 0. On a syntax error returns
 * DBM_EFAILED with the parser's message and *err_line / *err_col set (1-based,
 * within the section; 0 when unknown); *out is NULL then.
 */
int dbm_sql_split(dbm_stmt_list **out, int *err_line, int *err_col, const char *sql, size_t len);
void dbm_stmt_list_free(dbm_stmt_list *list);

/*
 * Free the statements' parse trees (json = NULL) once the checks that read
 * them are done; offsets, lines, flags and tags stay. A run over a thousand
 * pending migrations would otherwise hold every tree until it ends.
 */
void dbm_stmt_list_drop_trees(dbm_stmt_list *list);

/*
 * Statement i's RawStmt tree, with a reference the caller drops (json_decref):
 * the kept tree, or one loaded from its text. NULL once the trees were dropped.
 */
struct json_t *dbm_stmt_tree(const dbm_stmt_list *list, size_t i);

/*
 * In a section meant to run as one transaction: the first transaction-control statement that
 * would end that transaction before the section does, or list->count when none. The one
 * shape allowed is a leading BEGIN or START TRANSACTION closed by a COMMIT or END as the
 * last statement (the whole section in one transaction); any other BEGIN, START
 * TRANSACTION, COMMIT, END, ROLLBACK, ABORT or PREPARE TRANSACTION is returned.
 * SAVEPOINT, RELEASE and ROLLBACK TO stay inside the transaction and are never returned.
 */
size_t dbm_sql_misplaced_tx_control(const dbm_stmt_list *list);

/* Byte offset of PostgreSQL's 1-based character position `charpos` in text. */
size_t dbm_sql_charpos_to_offset(const char *text, size_t len, long charpos);

/* 1-based line and column (in characters) of byte `offset` in text. */
void dbm_sql_linecol(const char *text, size_t len, size_t offset, int *line, int *col);

/* The PostgreSQL version of libpg_query's parser ("18.4"), for --version. Static. */
const char *dbm_sql_parser_version(void);

#endif
