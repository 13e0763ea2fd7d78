/*
 * check_internal.h - internal to src/git/: one run of the git checks, shared
 * by the files that make it.
 *
 * check.c runs the checks (dbm_gitcheck, git/check.h): the deployed commit
 * against head, expect-deployed, the history against git. pr.c adds the
 * checks of a pull request against its base branch. versions.c says which
 * migration version a file of the repository is. Only they include this
 * header. Functions that fail record their message and return the code.
 */
#ifndef DBM_GIT_CHECK_INTERNAL_H
#define DBM_GIT_CHECK_INTERNAL_H

#include "git/check.h"
#include "git/diff.h"

#include <stdbool.h>
#include <stddef.h>

/* An entry of a sorted index: a key and the position of what it names. */
typedef struct {
    const char *key;
    size_t index;
} gitcheck_key;

typedef struct {
    dbm_report *report;
    const dbm_gitcheck_opts *cfg;
    const dbm_migration_set *set;
    const dbm_history *history;
    dbm_git *g;
    char *dir; /* migrations dir relative to the repository root, "" for the root */
    char head[DBM_GIT_SHA_LEN + 1];
    char deployed[DBM_GIT_SHA_LEN + 1];
    char base[DBM_GIT_SHA_LEN + 1];
    bool shallow_warned;
    gitcheck_key *by_path;    /* set items by path, sorted */
    gitcheck_key *by_version; /* set items by version, sorted */
    gitcheck_key *hist;       /* history rows by version, sorted */
    char **gone_versions; /* versions reported deleted, so applied-file-missing is not repeated */
    size_t ngone, capgone;
} gitcheck_state;

/* ---- versions.c ---- */

/* qsort/bsearch order of gitcheck_key: by key, strcmp. */
int dbm_gitcheck_key_cmp(const void *a, const void *b);

/* The entry for `key` in idx[0..n) sorted by dbm_gitcheck_key_cmp, or NULL (also for NULL key). */
const gitcheck_key *dbm_gitcheck_key_find(const gitcheck_key *idx, size_t n, const char *key);

/* A repository path relative to the migrations directory, or NULL when outside it. */
const char *dbm_gitcheck_in_dir(const gitcheck_state *c, const char *repo_path);

/* The migration of the set at head whose up file is `repo_path`, or NULL. */
const dbm_migration *dbm_gitcheck_mig_by_path(gitcheck_state *c, const char *repo_path);

/* The migration of the set at head with this version, or NULL. */
const dbm_migration *dbm_gitcheck_mig_by_version(gitcheck_state *c, const char *version);

/* The history row of this version, or NULL (also without a history). */
const dbm_history_row *dbm_gitcheck_hist_find(gitcheck_state *c, const char *version);

/* Whether the file is the separate down file of a migration at head. */
bool dbm_gitcheck_is_down_file(const gitcheck_state *c, const char *repo_path);

/*
 * The version a file would have, from its name alone, in the set's format;
 * NULL when the name is not a migration's (README.md, a down file) or the file
 * is outside the migrations directory. Caller frees.
 */
char *dbm_gitcheck_version_from_name(const gitcheck_state *c, const char *repo_path);

/* The version of a file: from the set when it is there at head, else from its name. */
char *dbm_gitcheck_version_of(gitcheck_state *c, const char *repo_path);

/* ---- check.c ---- */

/*
 * Resolve a commit that the checks compare with. A commit that is not here
 * (after trying to fetch it), or, unless user_given, a value that names no
 * commit, is a warning that git checks were skipped: 0 with out[0] == '\0'.
 */
int dbm_gitcheck_resolve_or_fetch(gitcheck_state *c, char out[DBM_GIT_SHA_LEN + 1],
                                  const char *spec, const char *what, bool user_given);

/*
 * The changes from `from` to head under the migrations directory, with a
 * finding for each edit or deletion of a file that existed at `from`
 * (on_base: at the base branch of a pull request). record: add each change
 * to the report. *out (may be NULL) gets the changes on success.
 */
int dbm_gitcheck_changes(gitcheck_state *c, dbm_git_changes **out, const char *from, bool on_base,
                         bool record);

/* ---- pr.c ---- */

/*
 * On a pull_request event, the base commit from the event payload into
 * c->base ('\0' when not a pull request, or when it cannot be read: a
 * warning then).
 */
int dbm_gitcheck_pr_base(gitcheck_state *c);

/*
 * The pull request's checks against c->base: edits to files on the base
 * branch, version collisions, and versions older than the base's newest.
 */
int dbm_gitcheck_pr(gitcheck_state *c);

#endif
