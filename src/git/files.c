/*
 * files.c - files at a commit: a path's blob, a blob's bytes, a directory's list.
 */
#include "git/diff_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <git2.h>

#include <stdlib.h>
#include <string.h>

int dbm_git_lookup_blob(git_blob **out, dbm_git *g, const char *sha)
{
    git_oid oid;

    *out = NULL;
    if (!sha || !*sha)
        return 0;
    if (git_oid_fromstr(&oid, sha) < 0 || git_blob_lookup(out, g->repo, &oid) < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read blob '%s': %s", sha, dbm_git_errmsg());
    return 0;
}

int dbm_git_blob_at(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *commit, const char *path)
{
    git_commit *c = NULL;
    git_oid id;
    int rc;

    out[0] = '\0';
    rc = dbm_git_lookup_commit(&c, g, commit);
    if (rc == 0)
        rc = dbm_git_path_id(&id, c, path);
    if (rc == 0 && git_oid_is_zero(&id))
        rc = dbm_error_set(DBM_ENOTFOUND, "'%s' does not exist at %.12s", path, commit);
    if (rc == 0)
        dbm_git_oid_hex(out, &id);
    git_commit_free(c);
    return rc;
}

int dbm_git_blob_read(char **out, size_t *len, dbm_git *g, const char *blob)
{
    git_blob *b = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    rc = dbm_git_lookup_blob(&b, g, blob);
    if (rc < 0 || !b)
        return rc < 0 ? rc : dbm_error_set(DBM_EGENERIC, "no blob given");
    *len = (size_t)git_blob_rawsize(b);
    *out = dbm_xmalloc(*len + 1);
    memcpy(*out, git_blob_rawcontent(b), *len);
    (*out)[*len] = '\0';
    git_blob_free(b);
    return 0;
}

typedef struct {
    dbm_git_files *files;
    size_t cap_paths, cap_blobs;
    const char *dir;
} list_ctx;

static int list_cb(const char *root, const git_tree_entry *e, void *payload)
{
    list_ctx *ctx = payload;
    dbm_git_files *f = ctx->files;
    char sha[DBM_GIT_SHA_LEN + 1];
    char *rel;

    if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
        return 0;
    rel = dbm_xasprintf("%s%s", root, git_tree_entry_name(e));
    dbm_array_grow((void **)&f->paths, &ctx->cap_paths, f->count + 1, sizeof(*f->paths));
    dbm_array_grow((void **)&f->blobs, &ctx->cap_blobs, f->count + 1, sizeof(*f->blobs));
    dbm_git_oid_hex(sha, git_tree_entry_id(e));
    f->paths[f->count] = dbm_git_join_path(ctx->dir, rel);
    f->blobs[f->count] = dbm_xstrdup(sha);
    f->count++;
    free(rel);
    return 0;
}

int dbm_git_list_dir(dbm_git_files **out, dbm_git *g, const char *commit, const char *dir)
{
    git_tree *t = NULL;
    list_ctx ctx = {dbm_xcalloc(1, sizeof(dbm_git_files)), 0, 0, dir};
    int rc;

    *out = NULL;
    rc = dbm_git_commit_subtree(&t, g, commit, dir);
    if (rc < 0)
        goto done;
    /* The walk yields git's order, not strcmp's: callers must not bsearch the result. */
    if (t && git_tree_walk(t, GIT_TREEWALK_PRE, list_cb, &ctx) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot list '%s' at %.12s: %s", dir, commit,
                           dbm_git_errmsg());
        goto done;
    }
    *out = ctx.files;
    ctx.files = NULL;
done:
    dbm_git_files_free(ctx.files);
    git_tree_free(t);
    return rc;
}

void dbm_git_files_free(dbm_git_files *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->count; i++) {
        free(f->paths[i]);
        free(f->blobs[i]);
    }
    free(f->paths);
    free(f->blobs);
    free(f);
}
