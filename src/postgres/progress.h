/*
 * progress.h - what a long migration is doing, told while it runs.
 *
 * A watcher thread (common/thread.h) opens a second connection to the same
 * server, with the same parameters as the run's (application_name
 * "db-migrate progress"), once a piece of work has run for 50 ms (most
 * migrations are done before: a fleet of quick ones costs the servers no
 * second session), and looks at the run's session in
 * pg_stat_activity while work is under way: PostgreSQL's progress views
 * (pg_stat_progress_create_index, _cluster, _vacuum) and, when the session
 * waits for a lock, the session holding it (pg_blocking_pids). Work that
 * lasts longer than 5 s gets a log line then and every 10 s after; in JSON
 * log mode the line carries a "progress" object.
 *
 * The watcher looks often in the first seconds of each piece of work (every
 * 50 ms) so that the holder of a lock is seen even under a short
 * lock-timeout; a lock timeout then names that holder (dbm_progress_blame).
 * Without the second connection the lines still tell the elapsed time.
 * Every function accepts a NULL watcher and then does nothing.
 */
#ifndef DBM_PROGRESS_H
#define DBM_PROGRESS_H

#include "common/record.h"
#include "postgres/pq.h"

typedef struct dbm_progress dbm_progress;

/*
 * Start watching `conn`'s session. Its pid is libpq's when `direct` (the run
 * lock found no pooler between: the connection's backend is the session);
 * else the server is asked for it (one round trip on conn). The second
 * connection opens on the watcher thread. *out is NULL when the pid cannot be
 * read (then nothing is told).
 */
void dbm_progress_start(dbm_progress **out, PGconn *conn, bool direct);

/*
 * Work `what` starts now (a migration file as users see it; copied): the
 * clock of its lines starts, and the holder seen for earlier work is
 * forgotten.
 */
void dbm_progress_begin(dbm_progress *p, const char *what);

/* The work ended: no more lines until the next dbm_progress_begin. */
void dbm_progress_end(dbm_progress *p);

/*
 * The holder of the lock the current (or last) work waited for, as last
 * seen: true and *out filled (its strings the caller's: dbm_blocker_clear),
 * or false when it never waited for a lock the watcher saw.
 */
bool dbm_progress_blocker(dbm_progress *p, dbm_blocker *out);

/*
 * When r failed on a lock timeout (SQLSTATE 55P03) and the watcher saw who
 * held the lock: that session is named in the error's message and hint and
 * kept in r->error->blocker.
 */
void dbm_progress_blame(dbm_progress *p, dbm_mig_result *r);

/* Stop the watcher, close its connection and free it. Accepts NULL. */
void dbm_progress_free(dbm_progress *p);

#endif
