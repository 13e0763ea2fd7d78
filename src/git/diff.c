/*
 * diff.c - one directory compared between two commits, and the patch of a change.
 *
 * Tree to tree: the directory's subtree is looked up at both commits and only
 * those are diffed, with git's rename detection, so the cost follows the size
 * of the directory and of the change, not the length of the history.
 */
#include "git/diff_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <git2.h>

#include <stdlib.h>
#include <string.h>
const char *dbm_git_kind_name(dbm_git_kind kind)
{
    switch (kind) {
    case DBM_GIT_MODIFIED:
        return "modified";
    case DBM_GIT_DELETED:
        return "deleted";
    case DBM_GIT_RENAMED:
        return "renamed";
    case DBM_GIT_ADDED:
    default:
        return "added";
    }
}

/* The tree of `dir` in the tree `root`; *out NULL when there is no such directory. */
static int subtree(git_tree **out, dbm_git *g, git_tree *root, const char *dir)
{
    git_tree_entry *e = NULL;
    int err, rc = 0;

    *out = NULL;
    if (!*dir)
        return git_tree_dup(out, root) < 0 ? dbm_error_set(DBM_EGENERIC, "%s", dbm_git_errmsg())
                                           : 0;
    err = git_tree_entry_bypath(&e, root, dir);
    if (err == GIT_ENOTFOUND)
        return 0;
    if (err < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read '%s': %s", dir, dbm_git_errmsg());
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE &&
        git_tree_lookup(out, g->repo, git_tree_entry_id(e)) < 0)
        rc = dbm_error_set(DBM_EGENERIC, "cannot read tree '%s': %s", dir, dbm_git_errmsg());
    git_tree_entry_free(e);
    return rc;
}

int dbm_git_commit_subtree(git_tree **out, dbm_git *g, const char *sha, const char *dir)
{
    git_commit *c = NULL;
    git_tree *root = NULL;
    int rc;

    *out = NULL;
    rc = dbm_git_lookup_commit(&c, g, sha);
    if (rc < 0)
        goto done;
    if (git_commit_tree(&root, c) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot read the tree of '%s': %s", sha, dbm_git_errmsg());
        goto done;
    }
    rc = subtree(out, g, root, dir);
done:
    git_tree_free(root);
    git_commit_free(c);
    return rc;
}

char *dbm_git_join_path(const char *dir, const char *path)
{
    return *dir ? dbm_xasprintf("%s/%s", dir, path) : dbm_xstrdup(path);
}

static int change_cmp(const void *a, const void *b)
{
    return strcmp(((const dbm_git_change *)a)->path, ((const dbm_git_change *)b)->path);
}

/*
 * The changes of `old_tree` to `new_tree` (either may be NULL: empty), with
 * renames found; dir and the shas name them in messages.
 */
static int tree_diff(git_diff **out, dbm_git *g, git_tree *old_tree, git_tree *new_tree,
                     const char *dir, const char *old_sha, const char *new_sha)
{
    git_diff_options opts;
    git_diff_find_options find;

    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
    opts.flags = GIT_DIFF_IGNORE_SUBMODULES;
    if (git_diff_tree_to_tree(out, g->repo, old_tree, new_tree, &opts) < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot compare '%s' between %.12s and %.12s: %s", dir,
                             old_sha, new_sha, dbm_git_errmsg());
    /* git's own default limit; libgit2's is lower and would miss renames in big moves. */
    find.flags = GIT_DIFF_FIND_RENAMES;
    find.rename_limit = 1000;
    if (git_diff_find_similar(*out, &find) < 0)
        return dbm_error_set(DBM_EGENERIC, "rename detection failed: %s", dbm_git_errmsg());
    return 0;
}

/* Whether a delta is a change to a file (not unmodified, ignored, untracked...). */
static bool delta_is_change(git_delta_t status)
{
    switch (status) {
    case GIT_DELTA_ADDED:
    case GIT_DELTA_DELETED:
    case GIT_DELTA_MODIFIED:
    case GIT_DELTA_RENAMED:
    case GIT_DELTA_TYPECHANGE:
        return true;
    default:
        return false;
    }
}

/* The change a delta describes; paths are relative to `dir`'s subtree in the delta. */
static void change_from_delta(dbm_git_change *ch, const git_diff_delta *d, const char *dir)
{
    memset(ch, 0, sizeof(*ch));
    if (d->status == GIT_DELTA_ADDED) {
        ch->kind = DBM_GIT_ADDED;
    } else if (d->status == GIT_DELTA_DELETED) {
        ch->kind = DBM_GIT_DELETED;
    } else if (d->status == GIT_DELTA_RENAMED) {
        ch->kind = DBM_GIT_RENAMED;
        ch->similarity = d->similarity;
    } else {
        ch->kind = DBM_GIT_MODIFIED;
    }
    if (d->status != GIT_DELTA_ADDED) {
        ch->old_path = dbm_git_join_path(dir, d->old_file.path);
        dbm_git_oid_hex(ch->old_blob, &d->old_file.id);
    }
    if (d->status != GIT_DELTA_DELETED) {
        dbm_git_oid_hex(ch->new_blob, &d->new_file.id);
        ch->path = dbm_git_join_path(dir, d->new_file.path);
    } else {
        ch->path = dbm_xstrdup(ch->old_path);
    }
    ch->edited = ch->kind == DBM_GIT_MODIFIED ||
                 (ch->kind == DBM_GIT_RENAMED && strcmp(ch->old_blob, ch->new_blob) != 0);
}

int dbm_git_diff_dir(dbm_git_changes **out, dbm_git *g, const char *old_sha, const char *new_sha,
                     const char *dir)
{
    git_tree *old_tree = NULL, *new_tree = NULL;
    git_diff *diff = NULL;
    dbm_git_changes *c = dbm_xcalloc(1, sizeof(*c));
    size_t cap = 0, n;
    int rc;

    *out = NULL;
    rc = dbm_git_commit_subtree(&old_tree, g, old_sha, dir);
    if (rc == 0)
        rc = dbm_git_commit_subtree(&new_tree, g, new_sha, dir);
    if (rc < 0)
        goto done;
    if (!old_tree && !new_tree)
        goto found;
    rc = tree_diff(&diff, g, old_tree, new_tree, dir, old_sha, new_sha);
    if (rc < 0)
        goto done;
    n = git_diff_num_deltas(diff);
    for (size_t i = 0; i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        if (!delta_is_change(d->status))
            continue;
        dbm_array_grow((void **)&c->items, &cap, c->count + 1, sizeof(*c->items));
        change_from_delta(&c->items[c->count++], d, dir);
    }
    if (c->count > 1)
        qsort(c->items, c->count, sizeof(*c->items), change_cmp);
found:
    *out = c;
    c = NULL;
done:
    dbm_git_changes_free(c);
    git_diff_free(diff);
    git_tree_free(old_tree);
    git_tree_free(new_tree);
    return rc;
}

void dbm_git_changes_free(dbm_git_changes *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        free(c->items[i].path);
        free(c->items[i].old_path);
    }
    free(c->items);
    free(c);
}

int dbm_git_patch(char **out, dbm_git *g, const dbm_git_change *c)
{
    git_blob *old_blob = NULL, *new_blob = NULL;
    git_patch *patch = NULL;
    git_buf buf = {0};
    git_diff_options opts;
    int rc;

    *out = NULL;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    rc = dbm_git_lookup_blob(&old_blob, g, c->old_blob);
    if (rc == 0)
        rc = dbm_git_lookup_blob(&new_blob, g, c->new_blob);
    if (rc < 0)
        goto done;
    if (git_patch_from_blobs(&patch, old_blob, c->old_path ? c->old_path : c->path, new_blob,
                             c->path, &opts) < 0 ||
        git_patch_to_buf(&buf, patch) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot diff '%s': %s", c->path, dbm_git_errmsg());
        goto done;
    }
    *out = dbm_xstrndup(buf.ptr ? buf.ptr : "", buf.size);
done:
    git_buf_dispose(&buf);
    git_patch_free(patch);
    git_blob_free(old_blob);
    git_blob_free(new_blob);
    return rc;
}
