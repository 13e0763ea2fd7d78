/*
 * cancel.h - SIGTERM and SIGINT while migrations run: stop cleanly.
 *
 * While installed, the signals set the stop flag (common/stop.h) instead of
 * killing the process, and, when armed, also cancel the statement running on
 * the connection (PQcancel, which libpq makes safe to call from a signal
 * handler), so a transactional migration rolls back at once with its history
 * row. Unarmed (a migration outside a transaction), the current statement is
 * left to finish and the run stops before the next one. The run reads the
 * flag and records itself as cancelled; this module only stops the work.
 */
#ifndef DBM_CANCEL_H
#define DBM_CANCEL_H

#include "postgres/pq.h"
#include <stdbool.h>

/*
 * Catch SIGTERM and SIGINT for `conn` (one connection at a time). 0, or
 * DBM_EGENERIC when libpq cannot make a cancel request for it.
 */
int dbm_db_cancel_install(PGconn *conn);

/* Whether a signal cancels the running statement (true) or waits for it (false). */
void dbm_db_cancel_arm(bool on);

/* Restore the signals' previous handlers and free the cancel request. No-op when not installed. */
void dbm_db_cancel_uninstall(void);

#endif
