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

/* Record a stop request for `signo`. Async-signal-safe. */
void dbm_stop_request(int signo);

/* The signal that asked the run to stop, or 0. */
int dbm_stop_signal(void);

/* Forget a request (the Lambda runtime between invocations; tests). */
void dbm_stop_reset(void);

/* "SIGTERM", "SIGINT", else "a signal": for messages. */
const char *dbm_stop_signal_name(int signo);

#endif
