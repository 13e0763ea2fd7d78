/*
 * diff_internal.h - internal to src/git/: what the files of the libgit2 layer share.
 *
 * The layer's API is git/diff.h. repo.c opens the repository and resolves
 * commits; diff.c compares a directory between two commits; history.c walks
 * the history (last change, ancestry, merge base); files.c reads blobs and
 * lists a directory at a commit. Only those files include this header.
 * Functions that fail record their message (error.h) and return the code.
 */
#ifndef DBM_GIT_DIFF_INTERNAL_H
#define DBM_GIT_DIFF_INTERNAL_H

#include "git/diff.h"

#include <git2.h>

struct dbm_git {
    git_repository *repo;
    char *workdir; /* realpath of the working tree, with a trailing '/' */
};

/* libgit2's last error message, for messages ("unknown libgit2 error" when none). */
const char *dbm_git_errmsg(void);

/* The 40-digit hex of an object id. */
void dbm_git_oid_hex(char out[DBM_GIT_SHA_LEN + 1], const git_oid *oid);

/* The commit `sha` (full hex); DBM_ENOTFOUND when it is not in the repository. */
int dbm_git_lookup_commit(git_commit **out, dbm_git *g, const char *sha);

/* The tree of `dir` ("" for the root) at commit `sha`; *out NULL when there is no such directory.
 */
int dbm_git_commit_subtree(git_tree **out, dbm_git *g, const char *sha, const char *dir);

/* "dir/path", or path when dir is "". Caller frees. */
char *dbm_git_join_path(const char *dir, const char *path);

/* The id of `path` in a commit's tree; all zero when there is no such entry. */
int dbm_git_path_id(git_oid *out, git_commit *c, const char *path);

/* The blob `sha`; *out NULL when sha is NULL or "" (no file on that side). */
int dbm_git_lookup_blob(git_blob **out, dbm_git *g, const char *sha);

#endif
