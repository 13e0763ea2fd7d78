/*
 * check.h - git-aware checks for plan and apply (libgit2 through git/diff.h).
 *
 * Compares the migrations directory at the deployed commit (deployed-ref, else
 * the history's last successful apply) with head (GITHUB_SHA, else HEAD); on
 * pull_request events with the base from the event payload. Adds to the
 * report: the git facts, the changes, findings (an edited or deleted deployed
 * migration is an error; version collisions and versions older than the base
 * branch's newest are errors on pull requests) and, for an edited deployed
 * migration, its diff and the commit that changed it.
 */
#ifndef DBM_GITCHECK_H
#define DBM_GITCHECK_H

#include "common/record.h"
#include "migration/applied.h"
#include "migration/migration.h"

#include <stdbool.h>

/* What the checks need of the configuration and the event; every string is borrowed. */
typedef struct {
    const char *migrations_dir;          /* the directory read; NULL: the set's */
    const char *deployed_ref;            /* NULL: the history's last successful apply */
    const char *expect_deployed;         /* compare-and-swap commit, or NULL */
    bool expect_blocks;                  /* a mismatch of expect-deployed is an error (apply) */
    bool out_of_order_allow;             /* a version older than the base's newest is a warning */
    const char *head_sha;                /* GITHUB_SHA, or NULL for HEAD */
    const char *event_name, *event_path; /* GITHUB_EVENT_NAME and its payload (pull requests) */
    const char *server_url, *repository; /* for the compare link; may be NULL */
} dbm_gitcheck_opts;

/*
 * Run the checks. `history` is NULL when there is no database (offline plan).
 * Returns 0 whether or not findings block (callers use
 * dbm_report_has_blocking); DBM_ECONFIG for a bad deployed-ref or
 * expect-deployed value; a migrations directory outside any git repository
 * is not an error (a notice finding says git checks were skipped).
 */
int dbm_gitcheck(dbm_report *report, const dbm_gitcheck_opts *opts, const dbm_migration_set *set,
                 const dbm_history *history);

#endif
