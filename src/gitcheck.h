/*
 * gitcheck.h - git-aware checks for plan and apply (libgit2 through gitdiff).
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

#include "config.h"
#include "history.h"
#include "migration.h"
#include "report.h"

/*
 * Run the checks. `history` is NULL when there is no database (offline plan).
 * Returns 0 whether or not findings block (callers use
 * dbm_report_has_blocking); DBM_ECONFIG for a bad deployed-ref or
 * expect-deployed value; a migrations directory outside any git repository
 * is not an error (a notice finding says git checks were skipped).
 */
int dbm_gitcheck(dbm_report *report, const dbm_config *cfg, const dbm_migration_set *set,
                 const dbm_history *history);

/*
 * The head commit's full sha for `cfg`: GITHUB_SHA when set (even outside a
 * repository: it is what the workflow deploys), else HEAD of the repository
 * holding migrations-dir, else NULL. Caller frees.
 */
char *dbm_git_head_sha(const dbm_config *cfg);

#endif
