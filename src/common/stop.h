/*
 * stop.h - a request to stop the run: SIGTERM (ECS StopTask, a cancelled
 * job's container) or SIGINT (Ctrl-C).
 *
 * The flag is set from a signal handler (postgres/cancel.c installs it while
 * migrations run) and read by the loops that start work, which stop before
 * the next migration or statement. Which signal asked is kept for the exit
 * status (128 + the signal, as a shell reports a process it killed).
 */
#ifndef DBM_STOP_H
#define DBM_STOP_H

#include <signal.h>

/* Record a stop request for `signo`. Async-signal-safe. */
void dbm_stop_request(int signo);

/* The signal that asked the run to stop, or 0. */
int dbm_stop_signal(void);

/* Forget a request (the Lambda runtime between invocations; tests). */
void dbm_stop_reset(void);

/*
 * Set `sa` for SIGTERM, and for SIGINT unless SIGINT is ignored: a process
 * started with SIGINT ignored (a background job of a non-interactive shell)
 * keeps ignoring it throughout, as shells expect; SIGTERM always stops the
 * run. The dispositions before are kept in *old_term and *old_int for
 * dbm_stop_uncatch. (SIGQUIT is never caught, so an ignored one stays so.)
 */
void dbm_stop_catch(const struct sigaction *sa, struct sigaction *old_term,
                    struct sigaction *old_int);

/* Put back the dispositions dbm_stop_catch kept. */
void dbm_stop_uncatch(const struct sigaction *old_term, const struct sigaction *old_int);

/* "SIGTERM", "SIGINT", else "a signal": for messages. */
const char *dbm_stop_signal_name(int signo);

#endif
