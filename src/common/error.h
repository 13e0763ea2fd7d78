/*
 * error.h - the last error, recorded once where it is understood.
 *
 * A function that fails records a message (and optionally a hint) with
 * dbm_error_set() and returns the code it was given; callers pass the code up
 * unchanged. main.c is the only place that turns codes into exit statuses and
 * prints the message. Messages are in git's style: lowercase, no full stop,
 * the subject quoted; the hint says what to change. Messages never contain a
 * secret: redact before recording.
 *
 * The state is per thread: a worker that fails hands its error to the thread
 * that reports it with dbm_error_save / dbm_error_raise (common/thread.h: the
 * connection opens while files load; files are read and parsed ahead).
 */
#ifndef DBM_ERROR_H
#define DBM_ERROR_H

enum dbm_error_code {
    DBM_OK = 0,
    DBM_EGENERIC = -1,  /* internal or I/O failure: exit 1 */
    DBM_ECONFIG = -2,   /* usage or configuration error: exit 2 */
    DBM_ECONNECT = -3,  /* cannot connect or authenticate: exit 3 */
    DBM_ELOCKED = -4,   /* the run lock was not acquired in time, or lost: exit 4 */
    DBM_EFAILED = -5,   /* a migration failed: exit 1 */
    DBM_EBLOCKED = -6,  /* plan/verify/apply found a blocking problem: exit 1 */
    DBM_ENOTFOUND = -7, /* a looked-up thing does not exist (callers decide) */
    DBM_ECANCELLED = -8 /* stopped by SIGTERM or SIGINT (common/stop.h): exit 128 + signal */
};

/* Record a message for `code` and return `code`. Replaces any earlier error and hint. */
int dbm_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Attach a hint (what the user should change) to the current error. */
void dbm_error_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The current message, hint (NULL when none) and code. Message is "" when none. */
const char *dbm_error_message(void);
const char *dbm_error_hint_text(void);

void dbm_error_clear(void);

/*
 * An error carried from one thread to another: saved where it happened (the
 * current code, message and hint, copied), raised again where it is reported.
 * code is DBM_OK while nothing was saved.
 */
typedef struct {
    int code;
    char *message, *hint;
} dbm_saved_error;

void dbm_error_save(dbm_saved_error *out);
/* Record the saved error as the current one and return its code. */
int dbm_error_raise(const dbm_saved_error *e);
void dbm_saved_error_free(dbm_saved_error *e); /* the strings; code back to DBM_OK */

/*
 * The exit status for a code: 0, 1, 2, 3 or 4 (DESIGN section 7); a run
 * stopped by a signal exits 128 + the signal (143 for SIGTERM, 130 for SIGINT).
 */
int dbm_error_exit_status(int code);

#endif
