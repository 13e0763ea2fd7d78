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
 * The run lock (DESIGN section 5): the lease row in the history schema, taken
 * and renewed in short transactions so that it holds through a
 * transaction-mode pooler, plus the session advisory lock of earlier releases
 * on a direct connection. lease.c's banner says how each kind of connection
 * is told and kept alive.
 */
typedef struct dbm_db_lock dbm_db_lock;

/* Who is taking the lock, named to the runs that wait for it (strings borrowed). */
typedef struct {
    const char *schema;
    long long wait_ms; /* 0: do not wait */
    const char *command, *actor, *git_sha, *run_url;
} dbm_lock_opts;

/*
 * Take the run lock for opts->schema, creating the history tables first when
 * they are missing (dbm_history_ensure), waiting up to wait_ms by trying
 * again from an idle session, so a waiting run holds no snapshot. A lease
 * left by a dead run is taken over (logged, naming it). DBM_ELOCKED when
 * another run holds it past that, naming the run (run id, command, actor,
 * host, since, commit, run URL), or for a run of an earlier release its
 * session in this database (pid, user, application, client, since).
 *
 * `then_sql` (another module's statements, such as the history reads, which
 * should see the database as it is once the lock is held; NULL for none) is
 * sent in the same round trip when the lock is free. On success *lock is
 * held until dbm_db_lock_release, and *res holds then_sql's results in order
 * (*n of them; fewer than its statements when one failed and ended the
 * query); free them with dbm_db_results_free. On a lock failure nothing is
 * returned (then_sql may have run: reads only belong there).
 */
int dbm_db_lock_with(dbm_db_lock **lock, PGresult ***res, int *n, PGconn *conn,
                     const dbm_lock_opts *opts, const char *then_sql);

/* The lease's token, which the run's `runs` row is linked with; NULL for NULL. */
const char *dbm_db_lock_token(const dbm_db_lock *lock);

/* Whether the run holds the lock on a direct connection (not through a pooler). */
bool dbm_db_lock_direct(const dbm_db_lock *lock);

/*
 * Whether the lease was found taken by another run since it was taken (the
 * heartbeat could not renew it in time): the run must stop before its next
 * migration.
 */
bool dbm_db_lock_lost(const dbm_db_lock *lock);

/*
 * Release the lock: stop the heartbeat, delete the lease row, and on a direct
 * session drop its advisory lock, so nothing stays behind on a pooled server
 * connection. Accepts NULL; conn may be lost already (the lease then expires).
 */
void dbm_db_lock_release(dbm_db_lock *lock, PGconn *conn);
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
    const char *search_path; /* search_path for the file's statements, as a value ("\"t\", public");
                                NULL: the session's own */
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
