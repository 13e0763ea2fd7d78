/*
 * history_internal.h - internal to postgres/: the history statements that
 * the session's jobs (apply.c, batch.c, rollback.c, transaction.c) splice
 * into their own queries and messages, the progress record of a
 * non-transactional migration, and the run lock's key.
 *
 * Still history.c's SQL, kept out of history.h so that history.h is what the
 * commands call. Schema names are quoted with PQescapeIdentifier, values in
 * statement text with PQescapeLiteral, both through `conn`.
 */
#ifndef DBM_HISTORY_INTERNAL_H
#define DBM_HISTORY_INTERNAL_H

#include "postgres/history.h"

#include <stdbool.h>

/*
 * An expression that marks when a migration's transaction began, for its
 * history row: the first statement of the transaction selects it. now()
 * cannot serve, because every transaction of one simple-protocol message
 * shares the time the message arrived.
 */
#define DBM_HISTORY_MARK_START                                                                     \
    "set_config('db_migrate.started_at', extract(epoch FROM clock_timestamp())::text, true)"

/*
 * The statement that records `m` as applied by run_id, for a transactional
 * migration: sent in the same transaction as its body, it takes applied_at
 * from DBM_HISTORY_MARK_START (the transaction's start without it) and
 * duration_ms as the time since, and returns duration_ms. A plain INSERT, so
 * the primary key refuses a second record: to replace a row (a failed earlier
 * attempt, or a Flyway repeatable run again), send dbm_history_sql_delete's
 * statement before it. Caller frees.
 */
char *dbm_history_sql_applied(PGconn *conn, const char *schema, const dbm_migration *m,
                              long long run_id, const char *git_sha);

/*
 * The same statement prepared once under `name` for many migrations (the
 * server then plans it once), and the EXECUTE that records one of them.
 * Caller frees.
 */
char *dbm_history_sql_prepare(PGconn *conn, const char *schema, const char *name);
char *dbm_history_sql_execute(PGconn *conn, const char *name, const dbm_migration *m,
                              long long run_id, const char *git_sha);

/* Record (upsert) a non-transactional migration's state after it ran or failed. */
int dbm_history_record(PGconn *conn, const char *schema, const dbm_migration *m, long long run_id,
                       const char *git_sha, bool transactional, const char *status,
                       long long duration_ms, int failed_statement, const char *error);

/* The SQL that deletes a row (rollback sends it with the down section). Caller frees. */
char *dbm_history_sql_delete(PGconn *conn, const char *schema, const char *version);

/* ---- claim.c: the statements of non-transactional migrations ---- */

typedef enum {
    DBM_CLAIM_MINE,       /* claimed for this run: run it */
    DBM_CLAIM_DONE,       /* another run ran it to its end: skip it */
    DBM_CLAIM_BUSY,       /* another run claimed it and has not ended it: it may be running */
    DBM_CLAIM_INTERRUPTED /* a run claimed it and ended without its outcome */
} dbm_claim_state;

/*
 * Claim statement n (1-based) of `version` for run_id, in a statement of its
 * own. A claim that ended in failure is taken again; an unfinished one of
 * another run only when `retake` (the statement runs in a transaction with
 * dbm_history_sql_claim_done, so it cannot have taken effect without ending
 * its claim). *who: for any state but MINE, "run 5 at 2026-... UTC" (caller
 * frees; may stay NULL).
 */
int dbm_history_claim(dbm_claim_state *state, char **who, PGconn *conn, const char *schema,
                      const char *version, int n, long long run_id, bool retake);
/*
 * The statement that ends claim n as done inside the statement's own
 * transaction; it fails, rolling the transaction back, when the claim is no
 * longer run_id's. Caller frees.
 */
char *dbm_history_sql_claim_done(PGconn *conn, const char *schema, const char *version, int n,
                                 long long run_id);
/* End claim n outside a transaction: outcome 'done' or 'failed'. */
int dbm_history_claim_end(PGconn *conn, const char *schema, const char *version, int n,
                          long long run_id, const char *outcome);

/* ---- history_audit.c: runs.detail, what a rollback or a repair did ---- */

/*
 * The query (one row) that says whether runs has the columns of this release,
 * and lists the versions rollback runs undid, and those whose edits repair
 * accepted, since the last successful apply (read through to_jsonb, so a
 * history from before the detail column reads as none). schema_q is quoted
 * already. Caller frees.
 */
char *dbm_history_sql_read_rolled_back(PGconn *conn, const char *schema_q);
/* Its result into h->current, h->rolled_back and h->accepted_edits. */
void dbm_history_read_rolled_back(dbm_history *h, const PGresult *res);
/*
 * The statement that adds `version` to the rolled_back list of run_id's
 * detail: sent in the transaction that deletes the version's row, so the
 * audit and the history agree. Caller frees.
 */
char *dbm_history_sql_rolled_back(PGconn *conn, const char *schema, long long run_id,
                                  const char *version);

/* The advisory-lock key for a history schema (stable across versions of this tool). */
long long dbm_history_lock_key(const char *schema);
/* The key of the transaction-level advisory lock that serializes creating the tables. */
long long dbm_history_ddl_key(const char *schema);

/*
 * DBM_ECONFIG, with a hint, when `schema` holds a table named like a history
 * table (runs, migrations, lease, statements) without the columns of one: an
 * application's table, not to be built on. 0 when they are all the
 * history's, absent, or the check itself could not run.
 */
int dbm_history_check_shape(PGconn *conn, const char *schema);

#endif
