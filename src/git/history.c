/*
 * history.c - walks of the history: the commit that last changed a file,
 * ancestry, and the merge base of two commits.
 */
#include "git/diff_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <git2.h>

#include <string.h>

/* The id of `path` in a commit's tree; zero when absent. */
int dbm_git_path_id(git_oid *out, git_commit *c, const char *path)
{
    git_tree *root = NULL;
    git_tree_entry *e = NULL;
    int err, rc = 0;

    memset(out, 0, sizeof(*out));
    if (git_commit_tree(&root, c) < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read a commit's tree: %s", dbm_git_errmsg());
    err = git_tree_entry_bypath(&e, root, path);
    if (err == 0)
        git_oid_cpy(out, git_tree_entry_id(e));
    else if (err != GIT_ENOTFOUND)
        rc = dbm_error_set(DBM_EGENERIC, "cannot read '%s': %s", path, dbm_git_errmsg());
    git_tree_entry_free(e);
    git_tree_free(root);
    return rc;
}

int dbm_git_last_change(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *head,
                        const char *since, const char *path)
{
    git_revwalk *walk = NULL;
    git_oid oid, mine, theirs;
    int rc = 0, err;

    out[0] = '\0';
    if (git_revwalk_new(&walk, g->repo) < 0 ||
        git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME) < 0 ||
        git_oid_fromstr(&oid, head) < 0 || git_revwalk_push(walk, &oid) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot walk the history from '%s': %s", head,
                           dbm_git_errmsg());
        goto done;
    }
    /* A `since` that is not here (shallow clone) only makes the walk longer. */
    if (since && git_oid_fromstr(&oid, since) == 0)
        git_revwalk_hide(walk, &oid);

    while ((err = git_revwalk_next(&oid, walk)) == 0) {
        git_commit *c = NULL;
        unsigned int nparents;
        bool same = false;

        if (git_commit_lookup(&c, g->repo, &oid) < 0)
            break; /* the edge of a shallow clone */
        rc = dbm_git_path_id(&mine, c, path);
        nparents = git_commit_parentcount(c);
        for (unsigned int i = 0; rc == 0 && i < nparents && !same; i++) {
            git_commit *p = NULL;
            if (git_commit_parent(&p, c, i) < 0) {
                same = true; /* parent not fetched: cannot say this commit changed it */
                break;
            }
            rc = dbm_git_path_id(&theirs, p, path);
            same = rc == 0 && git_oid_equal(&mine, &theirs);
            git_commit_free(p);
        }
        if (rc == 0 && !same && (nparents > 0 || !git_oid_is_zero(&mine)))
            dbm_git_oid_hex(out, &oid);
        git_commit_free(c);
        if (rc < 0 || out[0])
            goto done;
    }
    if (err < 0 && err != GIT_ITEROVER) {
        /* This libgit2 may not know shallow boundaries: the walk fails on the first cut. */
        if (dbm_git_is_shallow(g))
            rc = dbm_error_set(DBM_ENOTFOUND, "the history of '%s' is cut off by a shallow clone",
                               path);
        else
            rc = dbm_error_set(DBM_EGENERIC, "cannot walk the history from '%s': %s", head,
                               dbm_git_errmsg());
        goto done;
    }
    if (!out[0])
        rc = dbm_error_set(DBM_ENOTFOUND, "no commit changed '%s'", path);
done:
    git_revwalk_free(walk);
    return rc;
}

int dbm_git_is_ancestor(bool *out, dbm_git *g, const char *ancestor, const char *descendant)
{
    git_oid a, d;
    int r;

    *out = false;
    if (git_oid_fromstr(&a, ancestor) < 0 || git_oid_fromstr(&d, descendant) < 0)
        return dbm_error_set(DBM_EGENERIC, "not a commit sha: '%s' or '%s'", ancestor, descendant);
    if (git_oid_equal(&a, &d)) {
        *out = true;
        return 0;
    }
    r = git_graph_descendant_of(g->repo, &d, &a);
    if (r < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot compare the history of %.12s and %.12s: %s",
                             ancestor, descendant, dbm_git_errmsg());
    *out = r == 1;
    return 0;
}

int dbm_git_merge_base(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *a, const char *b)
{
    git_oid oa, ob, base;
    int err;

    out[0] = '\0';
    if (git_oid_fromstr(&oa, a) < 0 || git_oid_fromstr(&ob, b) < 0)
        return dbm_error_set(DBM_EGENERIC, "not a commit sha: '%s' or '%s'", a, b);
    err = git_merge_base(&base, g->repo, &oa, &ob);
    if (err == GIT_ENOTFOUND)
        return dbm_error_set(DBM_ENOTFOUND, "%.12s and %.12s have no common ancestor here", a, b);
    if (err < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot find the merge base of %.12s and %.12s: %s", a,
                             b, dbm_git_errmsg());
    dbm_git_oid_hex(out, &base);
    return 0;
}
