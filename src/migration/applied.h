/*
 * applied.h - what the database records as applied: the rows of the history,
 * as plain data.
 *
 * postgres/history.c reads them from the history tables; the commands and the
 * git checks read them here, without a connection. Every string in a row is
 * owned by the dbm_history that holds it.
 */
#ifndef DBM_APPLIED_H
#define DBM_APPLIED_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *version, *name, *checksum, *git_sha, *status; /* status: applied | failed */
    char *applied_at;                                   /* ISO 8601 text */
    char *error;                                        /* NULL unless failed */
    long long duration_ms, run_id;
    bool transactional;
    int failed_statement; /* 1-based; 0 when none */
} dbm_history_row;

typedef struct {
    bool exists;           /* the tables exist */
    dbm_history_row *rows; /* in applied order */
    size_t count;
    char *last_apply_sha;         /* git_sha of the newest successful apply run, or NULL */
    dbm_history_row **by_version; /* rows sorted by version for lookups; NULL: scan */
} dbm_history;

/*
 * Index the rows by version for dbm_history_find. Without it (a history built
 * by hand) dbm_history_find scans.
 */
void dbm_history_index(dbm_history *h);

/* The row recorded for exactly this version, or NULL. */
const dbm_history_row *dbm_history_find(const dbm_history *h, const char *version);

/* Free the history and its rows. Accepts NULL. */
void dbm_history_free(dbm_history *h);

#endif
