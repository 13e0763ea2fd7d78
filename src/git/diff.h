/*
 * diff.h - the libgit2 layer: open the repository holding a path, resolve
 * commits, and compare one directory between two commits.
 *
 * This module knows git and nothing of migrations: it speaks of paths (always
 * relative to the repository's root, '/'-separated), commits (40-digit hex
 * shas) and blobs. What a change means for a migration is git/check.h's business.
 *
 * Comparisons are tree-to-tree: the subtree of the directory is looked up at
 * both commits and those subtrees are diffed, so the cost depends on the size
 * of the directory and of the change, never on the length of the history.
 * History is walked only by dbm_git_last_change, for the few files that need
 * the commit that changed them.
 *
 * Every function that fails records its message with dbm_error_set and
 * returns the code (error.h). The implementation is in repo.c (opening,
 * resolving, fetching), diff.c, history.c and files.c.
 */
#ifndef DBM_GITDIFF_H
#define DBM_GITDIFF_H

#include <stdbool.h>
#include <stddef.h>

#define DBM_GIT_SHA_LEN 40

typedef struct dbm_git dbm_git;

/*
 * Open the repository whose working tree holds `path` (a file or directory,
 * absolute or relative to the current directory; it need not exist, the
 * nearest existing parent is used), searching upwards as git does.
 *
 * Owner validation: when the process runs as root and the repository (its
 * working tree or git directory) belongs to another uid -- the GitHub Actions
 * container case, a workspace checked out by the runner's user -- libgit2's
 * owner validation is turned off for this open only and restored after.
 * Otherwise it stays on. Threads may open at once (a fleet's workers do):
 * the opens take turns, so none sees the setting another one chose.
 *
 * Returns 0; DBM_ENOTFOUND when `path` is in no repository (message recorded);
 * DBM_EGENERIC when the repository cannot be opened. Free with dbm_git_free.
 */
int dbm_git_open(dbm_git **out, const char *path);
void dbm_git_free(dbm_git *g); /* accepts NULL */

/*
 * Keep libgit2 started from here to dbm_git_release, when `path` is inside a
 * repository (true; false and nothing done when it is not). Each start of
 * libgit2 loads the system's CA certificates, milliseconds of CPU: a fleet,
 * which opens the repository once per target, holds it for all of them.
 */
bool dbm_git_hold(const char *path);
void dbm_git_release(bool held);

/* The working tree's absolute path, ending in '/' (NULL for a bare repository). */
const char *dbm_git_workdir(const dbm_git *g);

/* True when the repository is a shallow clone. */
bool dbm_git_is_shallow(const dbm_git *g);

/*
 * `path` (absolute or relative to the current directory) relative to the root
 * of the working tree, without a trailing '/'; "" for the root itself. Works
 * for a path that does not exist yet. Caller frees *out. DBM_ENOTFOUND when
 * the path is outside the working tree.
 */
int dbm_git_relpath(char **out, const dbm_git *g, const char *path);

/*
 * Resolve `spec` (a sha, a unique prefix of at least 4 hex digits, a ref
 * name, or any git revision expression) to the full sha of a commit, peeling
 * tags. `what` names the option for messages ("deployed-ref").
 *
 * Returns 0; DBM_ENOTFOUND when `spec` is a full 40-digit sha that is not in
 * the repository (a shallow clone, or history rewritten and collected);
 * DBM_ECONFIG when `spec` is an ambiguous prefix, names something that is not
 * a commit (a tree or blob), or matches nothing. Each message quotes `spec`
 * and has a hint.
 */
int dbm_git_resolve(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *spec, const char *what);

/* HEAD's commit. DBM_ENOTFOUND when HEAD is unborn (a repository without commits). */
int dbm_git_head(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g);

typedef enum { DBM_GIT_ADDED = 0, DBM_GIT_MODIFIED, DBM_GIT_DELETED, DBM_GIT_RENAMED } dbm_git_kind;

/* "added", "modified", "deleted", "renamed". */
const char *dbm_git_kind_name(dbm_git_kind kind);

typedef struct {
    dbm_git_kind kind;
    char *path;     /* the file at the new commit; for deleted, the file that was removed */
    char *old_path; /* the file at the old commit; NULL for added */
    bool edited;    /* the content differs: modified, or renamed with changes */
    int similarity; /* for renamed: 0-100 as git reports it; else 0 */
    char old_blob[DBM_GIT_SHA_LEN + 1]; /* "" when there is no old file */
    char new_blob[DBM_GIT_SHA_LEN + 1]; /* "" when there is no new file */
} dbm_git_change;

typedef struct {
    dbm_git_change *items; /* sorted by path */
    size_t count;
} dbm_git_changes;

/*
 * The changes to files under `dir` (relative to the root; "" for everything)
 * from commit `old_sha` to commit `new_sha`, with rename detection (git's
 * default 50% similarity; an unchanged file that moved is one renamed change,
 * not a deletion and an addition). A directory missing at either commit counts
 * as empty. Files only: submodules are ignored. Caller frees with
 * dbm_git_changes_free.
 */
int dbm_git_diff_dir(dbm_git_changes **out, dbm_git *g, const char *old_sha, const char *new_sha,
                     const char *dir);
void dbm_git_changes_free(dbm_git_changes *c); /* accepts NULL */

/*
 * The unified diff (git's format, "diff --git a/... b/..." header, 3 lines of
 * context) of one change. Caller frees *out.
 */
int dbm_git_patch(char **out, dbm_git *g, const dbm_git_change *c);

/*
 * The newest commit reachable from `head` and not from `since` (NULL: the
 * whole history) whose version of `path` differs from each of its parents'
 * (git log's default: a merge that took the file from one side did not change
 * it). Finds the commit that edited, added or deleted the file. DBM_ENOTFOUND
 * when no commit in that range touched it.
 */
int dbm_git_last_change(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *head,
                        const char *since, const char *path);

/* *out = whether `ancestor` is `descendant` or one of its ancestors. */
int dbm_git_is_ancestor(bool *out, dbm_git *g, const char *ancestor, const char *descendant);

/*
 * The best common ancestor of two commits (git merge-base). DBM_ENOTFOUND
 * when they share no history here (unrelated, or cut off by a shallow clone).
 */
int dbm_git_merge_base(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *a, const char *b);

/* The blob id of `path` at `commit`. DBM_ENOTFOUND when there is no such file. */
int dbm_git_blob_at(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *commit,
                    const char *path);

/* A blob's bytes (NUL-terminated, *len without the NUL). Caller frees *out. */
int dbm_git_blob_read(char **out, size_t *len, dbm_git *g, const char *blob);

typedef struct {
    char **paths; /* in git's tree order (not strcmp's) */
    char **blobs; /* blob ids, parallel to paths */
    size_t count;
} dbm_git_files;

/* Every file under `dir` at `commit`, recursively. A missing dir gives an empty list. */
int dbm_git_list_dir(dbm_git_files **out, dbm_git *g, const char *commit, const char *dir);
void dbm_git_files_free(dbm_git_files *f); /* accepts NULL */

/*
 * Fetch one missing commit from the remote `remote` ("origin") with depth 1,
 * into refs/db-migrate/fetched, using the extra HTTP header that
 * actions/checkout leaves in the repository's config for credentials.
 * Needs libgit2 1.7 or later (shallow fetch); with an older libgit2 it
 * returns DBM_ENOTFOUND without trying. DBM_EGENERIC when the fetch failed.
 */
int dbm_git_fetch_commit(dbm_git *g, const char *remote, const char *sha);

/* Whether this build can fetch a missing commit (libgit2 >= 1.7). */
bool dbm_git_can_fetch_shallow(void);

/* The linked libgit2's version ("1.5.1"), for --version. The caller frees it. */
char *dbm_git_library_version(void);

#endif
