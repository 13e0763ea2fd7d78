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

#include "migration/migration.h"

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
    bool current;          /* ... with every column of this release (else ensure adds them) */
    dbm_history_row *rows; /* in applied order */
    size_t count;
    char *last_apply_sha; /* git_sha of the newest successful apply run, or NULL */
    char **rolled_back;   /* versions rollback undid since that apply (runs.detail) */
    size_t nrolled_back;
    char **accepted_edits; /* versions repair --accept-edit recorded since that apply */
    size_t naccepted_edits;
    dbm_history_row **by_version; /* rows sorted by version for lookups; NULL: scan */
} dbm_history;

/*
 * Index the rows by version for dbm_history_find. Without it (a history built
 * by hand) dbm_history_find scans.
 */
void dbm_history_index(dbm_history *h);

/* Whether a rollback since the last successful apply undid this version on purpose. */
bool dbm_history_was_rolled_back(const dbm_history *h, const char *version);

/* Whether repair --accept-edit recorded this version's edited file since that apply. */
bool dbm_history_edit_accepted(const dbm_history *h, const char *version);

/* The row recorded for exactly this version, or NULL. */
const dbm_history_row *dbm_history_find(const dbm_history *h, const char *version);

/*
 * rollback's boundary: every recorded migration newer than *out is undone
 * (*out NULL: all of them). `target` is --target-version: NULL undoes the
 * newest recorded version alone, "0" all of them; any other value must be a
 * recorded version (compared in `format`'s order), else DBM_ECONFIG with a
 * message naming the nearest recorded versions (and the likely one when the
 * target looks like a typo of it). DBM_ENOTFOUND, without a message, when
 * nothing is recorded and the target is NULL or "0": nothing to undo.
 * Repeatable migrations (R__) are never a boundary. *out is borrowed from h.
 */
int dbm_history_rollback_boundary(const char **out, const dbm_history *h, dbm_format format,
                                  const char *target);

/* Free the history and its rows. Accepts NULL. */
void dbm_history_free(dbm_history *h);

#endif
