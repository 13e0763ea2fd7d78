/*
 * history.h - the history tables (DESIGN section 5); the only file with their SQL.
 *
 * `runs` audits every run that reached the database; `migrations` has one row
 * per applied (or failed non-transactional) migration, keyed by version, so
 * the primary key refuses a second record of one version even when the run
 * lock is defeated (a transaction-mode pooler). Schema names are quoted with
 * PQescapeIdentifier; values go through parameters or PQescapeLiteral.
 *
 * This header is what the commands call. The statements the session's jobs
 * send inside their own messages (the history row of a transactional
 * migration, its delete), the progress record of a non-transactional one and
 * the run lock's key are in history_internal.h, internal to postgres/.
 */
#ifndef DBM_HISTORY_H
#define DBM_HISTORY_H

#include "migration/applied.h"
#include "migration/migration.h"
#include "common/util.h"

#include "postgres/pq.h"
#include <stdbool.h>

/*
 * Read the history in one round trip (nothing is created: a missing schema or
 * table gives exists == false).
 */
int dbm_history_load(dbm_history **out, PGconn *conn, const char *schema);
/*
 * The same reads as one multi-statement query, for a caller that sends it
 * after other statements in the same round trip (dbm_db_lock_with), and the
 * history from its results (n of them, in order; fewer than the statements
 * when an error ended the query). Caller frees the SQL.
 */
char *dbm_history_read_sql(PGconn *conn, const char *schema);
int dbm_history_from_results(dbm_history **out, PGconn *conn, PGresult *const *res, int n);

/*
 * Create the schema and tables when missing, and add to a history of an
 * earlier release what this one needs (runs.detail, the lease and statements
 * tables). Safe for concurrent first runs, through a transaction-mode pooler
 * too: one creates them, the others find them. wait_ms bounds the wait for
 * another run creating them (DBM_ELOCKED past it).
 */
int dbm_history_ensure(PGconn *conn, const char *schema, long long wait_ms);

typedef struct {
    const char *command, *git_sha, *deployed_sha, *actor, *event, *run_url;
    const char *outcome;     /* set: the run is recorded as already finished with it */
    const char *lease_token; /* the run lock's lease, which is linked to the run's id */
} dbm_run_info;

/*
 * Insert a `runs` row (finished at once when info->outcome is set); *run_id is
 * its id, which the lease of info->lease_token names from then on. Call with
 * the run lock held: every other run still open ended without recording its
 * end (killed, or its connection lost) and is closed as abandoned, unless a
 * live lease names it.
 */
int dbm_history_run_start(long long *run_id, PGconn *conn, const char *schema,
                          const dbm_run_info *info);
/* Set finished_at and outcome (applied | up-to-date | failed). */
int dbm_history_run_finish(PGconn *conn, const char *schema, long long run_id, const char *outcome);

/*
 * Delete a migration's row and its statements' claims (rollback, repair). Returns
 * DBM_ENOTFOUND when the row is absent.
 */
int dbm_history_delete(PGconn *conn, const char *schema, const char *version);

/*
 * Delete the statement claims of `version` (all, or only those a run left
 * unfinished): repair, and a repeatable migration run again. *cleared (when
 * not NULL) is the first statement cleared, 0 for none.
 */
int dbm_history_claims_clear(int *cleared, PGconn *conn, const char *schema, const char *version,
                             bool unfinished_only);

/*
 * Record `m` as applied without running it (baseline), by run_id. `note` is
 * kept in the row's error column prefixed "baseline: " so the origin of the
 * row stays visible (e.g. "adopted from dbmate"). Existing rows are kept.
 */
int dbm_history_baseline(PGconn *conn, const char *schema, const dbm_migration *m, long long run_id,
                         const char *git_sha, const char *note);

/*
 * repair --accept-edit: set the recorded checksum of `version` from old_checksum
 * to new_checksum, and record both in run_id's detail, in one transaction.
 * DBM_ENOTFOUND (no message) when the row no longer has old_checksum: another
 * run changed it meanwhile.
 */
int dbm_history_accept_edit(PGconn *conn, const char *schema, long long run_id, const char *version,
                            const char *old_checksum, const char *new_checksum);

/* A row of `runs` as the history command shows it; strings are "" when NULL in the table. */
typedef struct dbm_run_row {
    long long id, duration_ms; /* duration_ms: -1 while unfinished */
    char *command, *started_at, *outcome, *git_sha, *deployed_sha, *actor, *event, *run_url,
        *db_user;
    long long napplied; /* migrations still recorded as applied by this run */
    char *applied;      /* their versions, comma-separated, up to the first ten */
} dbm_run_row;

/*
 * The newest `limit` runs, newest first (*n of them; 0 and *out NULL when the
 * history tables do not exist). Free with dbm_history_runs_free.
 */
int dbm_history_runs(dbm_run_row **out, size_t *n, PGconn *conn, const char *schema, long limit);
void dbm_history_runs_free(dbm_run_row *rows, size_t n);

#endif
