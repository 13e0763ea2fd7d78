/*
 * db.h - the libpq session of a run: the run lock and applying one migration.
 *
 * No general-purpose query function is exported: callers say what they want
 * done (take the lock, apply this migration) and this module owns the SQL
 * protocol details (pipelining, SET LOCAL, retries on lock timeouts). The
 * history rows themselves are history.c's SQL; this module only sends them at
 * the right moment.
 */
#ifndef DBM_DB_H
#define DBM_DB_H

#include "migration/migration.h"
#include "common/record.h"
#include "sql/parse.h"

#include "postgres/pq.h"
#include <stdbool.h>

/*
 * Take the session advisory lock for `schema`, waiting up to wait_ms (0: do
 * not wait) by trying again from an idle session, so a waiting run holds no
 * snapshot. DBM_ELOCKED when another session holds it past that, naming the
 * holder in this database from pg_stat_activity (pid, user, application,
 * client, since).
 * The lock lasts as long as the session: closing the connection releases it.
 *
 * `then_sql` (another module's statements, such as the history reads, which
 * should see the database as it is once the lock is held; NULL for none) is
 * sent in the same round trip. On success *res holds its results in order (*n
 * of them; fewer than its statements when one failed and ended the query);
 * free them with dbm_db_results_free. On a lock failure nothing is returned
 * (then_sql may have run: reads only belong there).
 */
int dbm_db_lock_with(PGresult ***res, int *n, PGconn *conn, const char *schema, long long wait_ms,
                     const char *then_sql);
void dbm_db_results_free(PGresult **res, int n);

/* Route server NOTICEs to the log (verbose) or drop them. */
void dbm_db_quiet_notices(PGconn *conn, bool verbose);

typedef struct {
    const char *schema;
    long long run_id;
    const char *git_sha;
    long long lock_timeout_ms;
    long long statement_timeout_ms;
    long lock_retries;
    bool replace_existing;    /* a history row exists for this version (failed, or repeatable) */
    int resume_from;          /* non-transactional: 1-based statement to start at (0: first) */
    const char *display_path; /* the file as users see it (relative to the workspace) */
} dbm_apply_opts;

/*
 * Apply one migration and record it, filling `result` (status, duration,
 * statement count, error with file line and column). Transactional
 * migrations and their history row commit together or not at all, in one
 * round trip (a batch of one when dbm_db_batchable); a lock timeout (55P03) is retried up to
 * lock_retries times with exponential backoff and jitter. Non-transactional ones run statement by
 * statement and record their progress, so a rerun resumes at the failed
 * statement. Returns 0, DBM_EFAILED when the migration failed (result says
 * why), DBM_ECANCELLED when a signal (common/stop.h) stopped a
 * non-transactional one between statements (its row says where a rerun
 * resumes), or DBM_EGENERIC when the history could not be written.
 */
int dbm_db_apply(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                 const dbm_stmt_list *stmts, const dbm_apply_opts *opts);

/*
 * Whether `m` can be applied in a batch: it runs in a transaction that it does
 * not manage itself, and is small (large files are sent a statement at a time).
 */
bool dbm_db_batchable(PGconn *conn, const dbm_migration *m, const dbm_stmt_list *stmts);

typedef struct {
    const dbm_migration *m;
    const dbm_stmt_list *stmts;
    dbm_apply_opts opts;
} dbm_batch_item;

typedef struct {
    /* The report row for item k: asked once per item, in order, when its outcome is known. */
    dbm_mig_result *(*row)(void *arg, size_t k);
    /* Item k's outcome is in its row `r`: error 0 (applied) or DBM_EFAILED. */
    void (*done)(void *arg, size_t k, dbm_mig_result *r, int error);
    void *arg;
} dbm_batch_hooks;

/*
 * Apply batchable migrations items[0..n) in order, as dbm_db_apply would, but
 * several to a simple-protocol message: each still in its own transaction with
 * its history row, the server running one after the other without waiting
 * for the client in between, and over a network without a round trip each.
 * Stops at the first that fails (after its done hook; later items are not
 * run) and returns DBM_EFAILED; 0 when all were applied. A lock timeout is
 * retried from the migration that met it.
 */
int dbm_db_apply_batch(PGconn *conn, const dbm_batch_item *items, size_t n,
                       const dbm_batch_hooks *hooks);

/*
 * Run a down section and delete the history row (rollback): in one transaction,
 * or statement by statement (the row deleted after the last one) when the
 * migration runs outside a transaction or its down section holds a statement
 * that cannot run in one.
 */
int dbm_db_rollback_one(dbm_mig_result *result, PGconn *conn, const dbm_migration *m,
                        const dbm_stmt_list *down_stmts, const dbm_apply_opts *opts);

/* Fill error info from a server error result, mapping its position through `text`. */
void dbm_db_fill_error(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                       size_t stmt_offset, int first_line, const char *file);

#endif
