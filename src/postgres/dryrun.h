/*
 * dryrun.h - run pending migrations inside one transaction, measure what each
 * statement does, and roll everything back.
 *
 * A dry-run session opens a transaction with the run's lock_timeout and
 * statement_timeout (SET LOCAL), then runs migrations statement by statement.
 * Around each statement it reads pg_locks for this backend (the relation
 * locks the statement added) and the relfilenode of every user table and
 * materialized view (a change is a rewrite, sized with
 * pg_total_relation_size). Freeing the session rolls the transaction back, so
 * nothing survives, history included: this module never writes history and
 * never creates its tables. Deciding which migrations are pending is the
 * caller's business, as is turning the measurements into findings.
 *
 * Locks on relations created earlier in the same migration are left out:
 * nobody else can see those relations until the migration commits. Locks on
 * the system catalogs (pg_catalog, pg_toast, information_schema) are left out
 * too: every DDL statement takes them and they say nothing about the tables.
 *
 * In production each migration is its own transaction; here a lock an earlier
 * migration took is still held, and pg_locks cannot show a later one taking it
 * again. So at each migration's start the locks held are noted, and a statement
 * that names one of those relations gets the lock PostgreSQL's documentation
 * gives its statement type (dbm_stmt.locks) when it is among them, marked
 * held_earlier. (Rolling back to a savepoint before the earlier migration would
 * release its locks, and its effects with them.)
 */
#ifndef DBM_DRYRUN_H
#define DBM_DRYRUN_H

#include "migration/migration.h"
#include "common/record.h"
#include "sql/parse.h"

#include "postgres/pq.h"

typedef struct dbm_dryrun dbm_dryrun;

/*
 * BEGIN and set the timeouts (0: none) and, when not NULL, the search_path
 * (a value such as "\"t\", public") on `conn`, which must be idle and is
 * borrowed until dbm_dryrun_free. Returns 0 or DBM_EGENERIC.
 */
int dbm_dryrun_begin(dbm_dryrun **out, PGconn *conn, long long lock_timeout_ms,
                     long long statement_timeout_ms, const char *search_path);

/*
 * Run one migration's up statements in the session, filling `result`: one
 * dbm_stmt_result per statement that ran (in order, so statement k of `stmts`
 * is result->stmts[k]) with its duration, new locks and rewrites; duration
 * and statement_count of the migration. The status stays DBM_MIG_PENDING on
 * success. A migration that must run outside a transaction, or that manages
 * its own transaction, is not run: every statement gets a note saying why,
 * result->note too, and 0 is returned.
 *
 * Returns 0; DBM_EFAILED when a statement failed (result->status is
 * DBM_MIG_FAILED, result->error names the file line and column; the session
 * is then unusable and should be freed); DBM_EGENERIC when a measurement
 * query failed.
 */
int dbm_dryrun_migration(dbm_dryrun *dr, dbm_mig_result *result, const dbm_migration *m,
                         const dbm_stmt_list *stmts, const char *display_path);

/* Roll back and free. Accepts NULL. */
void dbm_dryrun_free(dbm_dryrun *dr);

#endif
