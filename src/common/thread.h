/*
 * thread.h - the run's only threads: work done ahead on a second thread, and
 * one job run beside the main thread.
 *
 * Two patterns, both short-lived and joined before their caller returns:
 *
 * - dbm_thread_every_other: items 0..count-1 split between the calling thread
 *   (even k) and one worker (odd k), for reading and parsing files ahead. The
 *   function must be safe to run on two items at once and keeps any failure
 *   in its own per-item state (dbm_error_save): nothing is raised here.
 *
 * - dbm_job: one function run on a worker while the caller does something
 *   else (the connection opens while the files are read). Its error, recorded
 *   with dbm_error_set on the worker, is handed to the joining thread. The
 *   caller may abandon a job that is no longer wanted; the job sees that with
 *   dbm_job_abandoned() at its next convenient point (a retry loop) and gives
 *   up early. Without a thread (pthread_create failed) the job runs at start.
 *
 * Error state itself is per thread (error.h); this module moves it across.
 */
#ifndef DBM_THREAD_H
#define DBM_THREAD_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Call fn(arg, k) for every k in [0, count): even k on this thread, odd k on a
 * second thread, and return once both are done. With count below `min`
 * nothing is called, and when no thread can be started the odd k are left
 * undone: callers work ahead with this, and do what was not done ahead when
 * they need it.
 */
void dbm_thread_every_other(void (*fn)(void *arg, size_t k), void *arg, size_t count, size_t min);

typedef struct dbm_job dbm_job;

/*
 * Start fn(arg) on a worker thread (fn returns 0 or an error code it recorded
 * with dbm_error_set). *out belongs to the caller until dbm_job_join.
 */
void dbm_job_start(dbm_job **out, int (*fn)(void *arg), void *arg);

/* Ask the job to give up at its next check of dbm_job_abandoned(). Accepts NULL. */
void dbm_job_abandon(dbm_job *job);

/*
 * Inside a job: whether its starter abandoned it. False on any thread that is
 * not running a job.
 */
bool dbm_job_abandoned(void);

/*
 * Inside a job: sleep up to `ms` milliseconds, returning early once the job is
 * abandoned. Returns whether it is abandoned; false at once on a thread that
 * is not running a job, and true at once for a job run at start (no thread),
 * whose starter cannot abandon it while it waits.
 */
bool dbm_job_wait(long long ms);

/*
 * Wait for the job and free it. Returns fn's code; when it is an error, the
 * job's message and hint become this thread's (error.h).
 */
int dbm_job_join(dbm_job *job);

#endif
