/*
 * db_internal.h - internal to postgres/: what the files behind db.h share.
 *
 * db.h's jobs live in one file each: session.c (what every job needs of the
 * session), lock.c (the run lock), errors.c (a server error as the file's
 * line and column), transaction.c (a section in one transaction, a query per
 * statement), apply.c (one migration), batch.c (many migrations to a
 * message) and rollback.c (a down section). Nothing here is part of db.h's
 * contract: callers outside postgres/ include db.h, and unit tests include
 * this header to reach the pure parts (positions, the batch message).
 */
#ifndef DBM_DB_INTERNAL_H
#define DBM_DB_INTERNAL_H

#include "postgres/db.h"
#include "common/util.h"

#include <stdbool.h>
#include <stddef.h>

#define DBM_LOCK_TIMEOUT_SQLSTATE "55P03"

/* --- session.c --- */

/* The result's SQLSTATE; "" when it has none or res is NULL. Static or res's memory. */
const char *dbm_db_sqlstate(const PGresult *res);

/*
 * Run `sql` alone. 0, or DBM_EGENERIC with "unable to run '<sql>': <the
 * server's message>" recorded.
 */
int dbm_db_exec_simple(PGconn *conn, const char *sql);

/* Sleep before retry `attempt` (0-based): 0.5 s doubling, capped at 8 s, with jitter. */
void dbm_db_backoff(int attempt);

/*
 * The SETs of opts' lock and statement timeouts (and search_path, when opts
 * has one) for the session, for work outside a transaction; undone by
 * dbm_db_session_reset. Caller frees.
 */
char *dbm_db_session_timeouts(const dbm_apply_opts *opts);
void dbm_db_session_reset(PGconn *conn, const dbm_apply_opts *opts);

/* Statement `s` of `text` as its own string. Caller frees. */
char *dbm_db_stmt_text(const char *text, const dbm_stmt *s);

/* --- lease.c --- */

/* What the lease row says of the run taking it (borrowed). */
typedef struct {
    const char *command, *actor, *git_sha, *run_url, *host;
} dbm_lease_who;

/* One try at the lease, as dbm_lease_read found it. */
typedef struct {
    bool missing;           /* the lease table does not exist yet (a new or older history) */
    bool adv_ok;            /* the advisory lock was had (for the session, or the transaction) */
    bool got;               /* the lease is this run's */
    char *took_over;        /* got, from a dead run: "run 3 (apply by ... UTC) after it expired" */
    char *holder;           /* not got, held by a live run: "run 4: apply by ..." */
    int holder_pid;         /* its backend when it is direct, else 0 */
    long long expires_in_s; /* its lease's time left when it is not direct */
} dbm_lease_try;

/* A new lock for `schema` with a fresh token (not taken yet). */
dbm_db_lock *dbm_lease_new(PGconn *conn, const char *schema);
long long dbm_lease_key(const dbm_db_lock *lock);

/* The take: the advisory lock and the lease in one statement. Caller frees. */
char *dbm_lease_take_sql(PGconn *conn, const dbm_db_lock *lock, const dbm_lease_who *who);

/*
 * The read of the live holder when it is another run, sent only after a take that did
 * not get the lease (on a fresh session its planning costs the server about a millisecond,
 * which a run that gets the lock need not pay). Caller frees.
 */
char *dbm_lease_holder_sql(PGconn *conn, const dbm_db_lock *lock);

/*
 * Their results into *t (freeing what it held; holder may be NULL); lock learns whether
 * the connection is direct. DBM_EGENERIC for a failure other than a missing table.
 */
int dbm_lease_read(dbm_lease_try *t, PGconn *conn, dbm_db_lock *lock, const PGresult *take,
                   const PGresult *holder);
void dbm_lease_try_free(dbm_lease_try *t);

/* The release: the lease row deleted, and on a direct session the advisory lock. Caller frees. */
char *dbm_lease_release_sql(PGconn *conn, const dbm_db_lock *lock);

/* Through a pooler: renew the lease from a second connection until released. */
void dbm_lease_heartbeat_start(dbm_db_lock *lock, PGconn *conn);

/* --- errors.c --- */

/*
 * Byte offset in `text` where a server error position points. `position` is
 * PG_DIAG_STATEMENT_POSITION (characters, 1-based, counted from the statement
 * at byte `stmt_offset`); NULL, or a statement past the text, gives
 * stmt_offset.
 */
size_t dbm_db_position_offset(const char *text, size_t text_len, size_t stmt_offset,
                              const char *position);

/* The same, with the position read from `res`. */
size_t dbm_db_error_offset(const PGresult *res, const char *text, size_t text_len,
                           size_t stmt_offset);

/*
 * Point `e` at byte `offset` of `text` (clamped to text_len), a section that
 * starts at line first_line of `file`: its line and column (characters) in the
 * file and a few numbered lines around that line as context. `detail` and
 * `hint` (may be NULL) are copied. Replaces what e held in those fields.
 */
void dbm_db_error_at(dbm_error_info *e, const char *detail, const char *hint, const char *text,
                     size_t text_len, size_t offset, int first_line, const char *file);

/*
 * Record the server's error `res` as result's error (the message from res,
 * else the connection's first line, else "connection lost"), pointing at byte
 * `offset` of `text`.
 */
/*
 * apply_verify.c: run m's verify script after its up was applied and recorded;
 * when it fails, run its down (Sqitch's revert), record the migration as
 * failed and fill result. 0, DBM_EFAILED, or the history's error.
 */
int dbm_db_verify(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                  const dbm_apply_opts *opts, int64_t started);

void dbm_db_record_error(dbm_mig_result *result, const PGresult *res, PGconn *conn,
                         const char *text, size_t len, size_t offset, int first_line,
                         const char *file);

/*
 * The hints for a failed transactional migration that the server's error does
 * not give: a duplicate history row (`in_history`: the failing query wrote
 * it), a lock timeout left after the retries. result->error must be set.
 */
void dbm_db_transactional_hint(dbm_mig_result *result, const PGresult *res, bool in_history);

/* --- transaction.c --- */

/*
 * The first statement of a migration's transaction: its timeouts, and the
 * mark its history row measures the duration from. As one SELECT for opts;
 * prepared once under `name` (for a batch); and the EXECUTE of that for opts.
 * Caller frees.
 */
char *dbm_db_tx_settings_sql(const dbm_apply_opts *opts);
char *dbm_db_tx_settings_prepare(const char *name, bool search_path);
char *dbm_db_tx_settings_execute(const char *name, const dbm_apply_opts *opts);

/*
 * Run a section transactionally, one extended-protocol query per statement
 * (pipelined unless very large): BEGIN, the settings, the statements, the
 * suffix queries (history), COMMIT. Retries lock timeouts. 0, or
 * DBM_EFAILED with result's error pointing into `text`.
 */
int dbm_db_run_transactional(dbm_mig_result *result, PGconn *conn, const char *text, size_t len,
                             int first_line, const dbm_stmt_list *stmts, char *const *suffix,
                             size_t nsuffix, const dbm_apply_opts *opts);

/* --- apply.c --- */

/*
 * A transactional migration and its history row, one extended-protocol query
 * per statement (dbm_db_run_transactional). 0 or DBM_EFAILED.
 */
int dbm_db_run_statements(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                          const dbm_stmt_list *stmts, const dbm_apply_opts *opts);

/* --- batch.c --- */

/* An item's results: DO (batch.c's flush), BEGIN, its settings, the statements, [DELETE],
 * INSERT, COMMIT. */
#define DBM_BATCH_ITEM_PREFIX 3
/* The notice of that flush, which the notice processor drops. */
#define DBM_DB_FLUSH_NOTICE "db-migrate: next migration"

size_t dbm_db_batch_item_results(const dbm_batch_item *it);

/* A COPY result of a message whose text holds no COPY data: COPY FROM STDIN
 * is ended with an error, COPY TO STDOUT's rows are read and dropped. true
 * when st was one of them. */
bool dbm_db_skip_copy(PGconn *conn, ExecStatusType st);

/*
 * One message: items [first, end), with where each of their statements starts
 * in it. For a larger batch it opens by preparing the history and settings
 * statements (`pre` results before the first item) and ends by dropping them.
 */
typedef struct {
    dbm_buf sql;
    size_t first, end;
    size_t pre;
    char name[64];     /* the prepared history statement, or "" */
    char settings[64]; /* the prepared settings statement, or "" */
    size_t *at;        /* message offset of each statement, item after item */
    size_t *base;      /* per item (k - first): its first entry in `at` */
} dbm_batch_msg;

/*
 * Build the message for items[first..n): as many as fit in max_items and the
 * byte budget (at least one). `conn` quotes names and values; nothing is
 * sent. Free with dbm_db_batch_free.
 */
void dbm_db_batch_build(dbm_batch_msg *b, PGconn *conn, const dbm_batch_item *items, size_t first,
                        size_t n, size_t max_items);
void dbm_db_batch_free(dbm_batch_msg *b);

/*
 * Item k of message `b` failed at its result `pos` with the server's error
 * position `position` (NULL: none), which counts from the message's start:
 * the byte offset in the item's up section it points at. That is inside the
 * failing statement when the position falls in it, else the statement's
 * start; 0 when the failing result was not one of the statements.
 */
size_t dbm_db_batch_error_offset(const dbm_batch_msg *b, const dbm_batch_item *items, size_t k,
                                 size_t pos, const char *position);

#endif
