/*
 * gitdiff.c - libgit2: repository discovery, commit resolution, directory diffs.
 */
#include "git/diff.h"
#include "common/error.h"
#include "common/util.h"

#include <git2.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dbm_git {
    git_repository *repo;
    char *workdir; /* realpath of the working tree, with a trailing '/' */
};

static const char *git_msg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

static void oid_hex(char out[DBM_GIT_SHA_LEN + 1], const git_oid *oid)
{
    git_oid_tostr(out, DBM_GIT_SHA_LEN + 1, oid);
}

/* `path` made absolute and canonical; components that do not exist yet are appended as given. */
static char *absolute_path(const char *path)
{
    dbm_buf abs = DBM_BUF_INIT;
    char *resolved = NULL, *out = NULL;
    char cwd[PATH_MAX];
    size_t cut;

    if (path[0] != '/') {
        if (!getcwd(cwd, sizeof(cwd)))
            return NULL;
        dbm_buf_printf(&abs, "%s/", cwd);
    }
    dbm_buf_puts(&abs, path);
    while (abs.len > 1 && abs.ptr[abs.len - 1] == '/')
        dbm_buf_truncate(&abs, abs.len - 1);

    /* Canonicalize the longest existing prefix abs[0, cut); keep abs[cut, len) as written. */
    cut = abs.len;
    for (;;) {
        char saved = abs.ptr[cut];
        abs.ptr[cut] = '\0';
        resolved = realpath(cut ? abs.ptr : "/", NULL);
        abs.ptr[cut] = saved;
        if (resolved || cut == 0)
            break;
        while (cut > 0 && abs.ptr[cut - 1] != '/')
            cut--;
        if (cut > 0)
            cut--;
    }
    if (resolved)
        out = dbm_xasprintf("%s%s", strcmp(resolved, "/") == 0 ? "" : resolved, abs.ptr + cut);
    if (out && !*out) {
        free(out);
        out = dbm_xstrdup("/");
    }
    free(resolved);
    dbm_buf_free(&abs);
    return out;
}

static bool owned_by_other(const char *path, uid_t me)
{
    struct stat st;
    return path && stat(path, &st) == 0 && st.st_uid != me;
}

/* Whether `dir` or a parent holds a .git (a directory, or a worktree's file). */
static bool dotgit_above(const char *dir)
{
    char *p = dbm_xstrdup(dir);
    bool found = false;
    struct stat st;

    for (;;) {
        char *probe = dbm_xasprintf("%s/.git", strcmp(p, "/") == 0 ? "" : p);
        char *slash;
        found = stat(probe, &st) == 0;
        free(probe);
        if (found || !(slash = strrchr(p, '/')))
            break;
        if (slash == p) {
            if (p[1] == '\0')
                break;
            p[1] = '\0';
        } else {
            *slash = '\0';
        }
    }
    free(p);
    return found;
}

int dbm_git_open(dbm_git **out, const char *path)
{
    dbm_git *g = NULL;
    git_buf gitdir = {0};
    char *abs = NULL, *workdir_parent = NULL;
    int rc = 0, validation = 1;
    bool restore = false, inited = false;

    *out = NULL;
    abs = absolute_path(path);
    if (!abs) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot resolve '%s': %s", path, strerror(errno));
        goto done;
    }
    /*
     * libgit2's start-up loads the system's CA certificates (its TLS stream is
     * set up then): a few milliseconds that a directory outside any repository
     * need not pay.
     */
    if (!dbm_getenv("GIT_DIR") && !dotgit_above(abs)) {
        rc = dbm_error_set(DBM_ENOTFOUND, "'%s' is not inside a git repository", path);
        goto done;
    }
    git_libgit2_init();
    inited = true;
    /*
     * Objects are read from the local repository only, as git reads them: without
     * re-hashing each one, which costs more than the diff itself for big trees.
     */
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
    if (git_repository_discover(&gitdir, abs, 0, NULL) < 0) {
        rc = dbm_error_set(DBM_ENOTFOUND, "'%s' is not inside a git repository", path);
        goto done;
    }

    /*
     * The runner checks the workspace out as its own user and the action's
     * container runs as root: only then is another owner expected and safe.
     */
    if (geteuid() == 0) {
        size_t n = strlen(gitdir.ptr);
        workdir_parent = dbm_xstrdup(gitdir.ptr);
        while (n > 1 && workdir_parent[n - 1] == '/')
            workdir_parent[--n] = '\0';
        if (n >= 5 && strcmp(workdir_parent + n - 5, "/.git") == 0)
            workdir_parent[n - 5] = '\0';
        if (owned_by_other(gitdir.ptr, 0) || owned_by_other(workdir_parent, 0)) {
            git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &validation);
            git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
            restore = true;
        }
    }

    g = dbm_xcalloc(1, sizeof(*g));
    if (git_repository_open_ext(&g->repo, gitdir.ptr, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot open the git repository at '%s': %s", gitdir.ptr,
                           git_msg());
        if (strstr(git_msg(), "owner") || strstr(git_msg(), "safe.directory"))
            dbm_error_hint("run as the owner of the repository, or mark it safe with "
                           "git config --global --add safe.directory '%s'",
                           workdir_parent ? workdir_parent : gitdir.ptr);
        goto done;
    }
    if (git_repository_workdir(g->repo)) {
        char *real = realpath(git_repository_workdir(g->repo), NULL);
        if (real) {
            g->workdir = dbm_xasprintf("%s%s", real, strcmp(real, "/") == 0 ? "" : "/");
            free(real);
        } else {
            g->workdir = dbm_xstrdup(git_repository_workdir(g->repo));
        }
    }
    *out = g;
    g = NULL;
done:
    if (restore)
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, validation);
    dbm_git_free(g);
    git_buf_dispose(&gitdir);
    free(abs);
    free(workdir_parent);
    if (rc < 0 && inited)
        git_libgit2_shutdown();
    return rc;
}

void dbm_git_free(dbm_git *g)
{
    if (!g)
        return;
    git_repository_free(g->repo);
    free(g->workdir);
    free(g);
    git_libgit2_shutdown();
}

const char *dbm_git_workdir(const dbm_git *g)
{
    return g->workdir;
}

bool dbm_git_is_shallow(const dbm_git *g)
{
    return git_repository_is_shallow(g->repo) == 1;
}

int dbm_git_relpath(char **out, const dbm_git *g, const char *path)
{
    char *abs = absolute_path(path);
    size_t n;
    int rc = 0;

    *out = NULL;
    if (!abs || !g->workdir) {
        rc = dbm_error_set(DBM_ENOTFOUND, "'%s' is not in the working tree of a git repository",
                           path);
        goto done;
    }
    n = strlen(g->workdir);
    if (strncmp(abs, g->workdir, n) == 0) {
        *out = dbm_xstrdup(abs + n);
    } else if (strlen(abs) + 1 == n && strncmp(abs, g->workdir, n - 1) == 0) {
        *out = dbm_xstrdup("");
    } else {
        rc =
            dbm_error_set(DBM_ENOTFOUND, "'%s' is outside the working tree '%s'", path, g->workdir);
    }
done:
    free(abs);
    return rc;
}

static bool is_hex(const char *s, size_t min)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
              (s[n] >= 'A' && s[n] <= 'F')))
            return false;
    return n >= min;
}

int dbm_git_resolve(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *spec, const char *what)
{
    git_object *obj = NULL, *commit = NULL;
    int rc = 0, err;

    out[0] = '\0';
    if (!spec || !*spec) {
        rc = dbm_error_set(DBM_ECONFIG, "%s is empty", what);
        goto done;
    }
    err = git_revparse_single(&obj, g->repo, spec);
    if (err == GIT_EAMBIGUOUS) {
        rc = dbm_error_set(DBM_ECONFIG, "%s '%s' is ambiguous: several objects start with it", what,
                           spec);
        dbm_error_hint("give more hex digits, or the full 40-digit commit sha");
        goto done;
    }
    if (err == GIT_ENOTFOUND && strlen(spec) == DBM_GIT_SHA_LEN && is_hex(spec, DBM_GIT_SHA_LEN)) {
        rc = dbm_error_set(DBM_ENOTFOUND, "commit '%s' (%s) is not in this repository", spec, what);
        dbm_error_hint("fetch the whole history: actions/checkout with fetch-depth: 0");
        goto done;
    }
    if (err < 0) {
        rc = dbm_error_set(DBM_ECONFIG, "%s '%s' is not a commit, branch or tag here: %s", what,
                           spec, git_msg());
        if (is_hex(spec, 4) && dbm_git_is_shallow(g))
            dbm_error_hint("this is a shallow clone: fetch the whole history "
                           "(actions/checkout with fetch-depth: 0)");
        else
            dbm_error_hint("give a commit sha, a branch or a tag (git rev-parse must accept it)");
        goto done;
    }
    if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
        char sha[DBM_GIT_SHA_LEN + 1];
        oid_hex(sha, git_object_id(obj));
        rc = dbm_error_set(DBM_ECONFIG, "%s '%s' names a %s (%.12s), not a commit", what, spec,
                           git_object_type2string(git_object_type(obj)), sha);
        dbm_error_hint("give a commit sha, a branch or a tag");
        goto done;
    }
    oid_hex(out, git_object_id(commit));
done:
    git_object_free(commit);
    git_object_free(obj);
    return rc;
}

int dbm_git_head(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g)
{
    git_oid oid;
    int err;

    out[0] = '\0';
    err = git_reference_name_to_id(&oid, g->repo, "HEAD");
    if (err == GIT_ENOTFOUND || err == GIT_EUNBORNBRANCH)
        return dbm_error_set(DBM_ENOTFOUND, "the repository has no commits yet");
    if (err < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read HEAD: %s", git_msg());
    oid_hex(out, &oid);
    return 0;
}

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

static int lookup_commit(git_commit **out, dbm_git *g, const char *sha)
{
    git_oid oid;

    if (git_oid_fromstr(&oid, sha) < 0)
        return dbm_error_set(DBM_EGENERIC, "'%s' is not a commit sha", sha);
    if (git_commit_lookup(out, g->repo, &oid) < 0)
        return dbm_error_set(DBM_ENOTFOUND, "commit '%s' is not in this repository: %s", sha,
                             git_msg());
    return 0;
}

/* The tree of `dir` in `commit_tree`; *out NULL when there is no such directory. */
static int subtree(git_tree **out, dbm_git *g, git_tree *root, const char *dir)
{
    git_tree_entry *e = NULL;
    int err, rc = 0;

    *out = NULL;
    if (!*dir)
        return git_tree_dup(out, root) < 0 ? dbm_error_set(DBM_EGENERIC, "%s", git_msg()) : 0;
    err = git_tree_entry_bypath(&e, root, dir);
    if (err == GIT_ENOTFOUND)
        return 0;
    if (err < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read '%s': %s", dir, git_msg());
    if (git_tree_entry_type(e) == GIT_OBJECT_TREE &&
        git_tree_lookup(out, g->repo, git_tree_entry_id(e)) < 0)
        rc = dbm_error_set(DBM_EGENERIC, "cannot read tree '%s': %s", dir, git_msg());
    git_tree_entry_free(e);
    return rc;
}

static int commit_subtree(git_tree **out, dbm_git *g, const char *sha, const char *dir)
{
    git_commit *c = NULL;
    git_tree *root = NULL;
    int rc;

    *out = NULL;
    rc = lookup_commit(&c, g, sha);
    if (rc < 0)
        goto done;
    if (git_commit_tree(&root, c) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot read the tree of '%s': %s", sha, git_msg());
        goto done;
    }
    rc = subtree(out, g, root, dir);
done:
    git_tree_free(root);
    git_commit_free(c);
    return rc;
}

static char *join_path(const char *dir, const char *path)
{
    return *dir ? dbm_xasprintf("%s/%s", dir, path) : dbm_xstrdup(path);
}

static int change_cmp(const void *a, const void *b)
{
    return strcmp(((const dbm_git_change *)a)->path, ((const dbm_git_change *)b)->path);
}

int dbm_git_diff_dir(dbm_git_changes **out, dbm_git *g, const char *old_sha, const char *new_sha,
                     const char *dir)
{
    git_tree *old_tree = NULL, *new_tree = NULL;
    git_diff *diff = NULL;
    git_diff_options opts;
    git_diff_find_options find;
    dbm_git_changes *c = dbm_xcalloc(1, sizeof(*c));
    size_t cap = 0, n;
    int rc;

    *out = NULL;
    rc = commit_subtree(&old_tree, g, old_sha, dir);
    if (rc == 0)
        rc = commit_subtree(&new_tree, g, new_sha, dir);
    if (rc < 0)
        goto done;
    if (!old_tree && !new_tree)
        goto found;

    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
    opts.flags = GIT_DIFF_IGNORE_SUBMODULES;
    if (git_diff_tree_to_tree(&diff, g->repo, old_tree, new_tree, &opts) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot compare '%s' between %.12s and %.12s: %s", dir,
                           old_sha, new_sha, git_msg());
        goto done;
    }
    /* git's own default limit; libgit2's is lower and would miss renames in big moves. */
    find.flags = GIT_DIFF_FIND_RENAMES;
    find.rename_limit = 1000;
    if (git_diff_find_similar(diff, &find) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "rename detection failed: %s", git_msg());
        goto done;
    }
    n = git_diff_num_deltas(diff);
    for (size_t i = 0; i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);
        dbm_git_change *ch;

        switch (d->status) {
        case GIT_DELTA_ADDED:
        case GIT_DELTA_DELETED:
        case GIT_DELTA_MODIFIED:
        case GIT_DELTA_RENAMED:
        case GIT_DELTA_TYPECHANGE:
            break;
        default:
            continue;
        }
        dbm_array_grow((void **)&c->items, &cap, c->count + 1, sizeof(*c->items));
        ch = &c->items[c->count++];
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
            ch->old_path = join_path(dir, d->old_file.path);
            oid_hex(ch->old_blob, &d->old_file.id);
        }
        if (d->status != GIT_DELTA_DELETED) {
            oid_hex(ch->new_blob, &d->new_file.id);
            ch->path = join_path(dir, d->new_file.path);
        } else {
            ch->path = dbm_xstrdup(ch->old_path);
        }
        ch->edited = ch->kind == DBM_GIT_MODIFIED ||
                     (ch->kind == DBM_GIT_RENAMED && strcmp(ch->old_blob, ch->new_blob) != 0);
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

static int lookup_blob(git_blob **out, dbm_git *g, const char *sha)
{
    git_oid oid;

    *out = NULL;
    if (!sha || !*sha)
        return 0;
    if (git_oid_fromstr(&oid, sha) < 0 || git_blob_lookup(out, g->repo, &oid) < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read blob '%s': %s", sha, git_msg());
    return 0;
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
    rc = lookup_blob(&old_blob, g, c->old_blob);
    if (rc == 0)
        rc = lookup_blob(&new_blob, g, c->new_blob);
    if (rc < 0)
        goto done;
    if (git_patch_from_blobs(&patch, old_blob, c->old_path ? c->old_path : c->path, new_blob,
                             c->path, &opts) < 0 ||
        git_patch_to_buf(&buf, patch) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot diff '%s': %s", c->path, git_msg());
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

/* The id of `path` in a commit's tree; zero when absent. */
static int path_id(git_oid *out, git_commit *c, const char *path)
{
    git_tree *root = NULL;
    git_tree_entry *e = NULL;
    int err, rc = 0;

    memset(out, 0, sizeof(*out));
    if (git_commit_tree(&root, c) < 0)
        return dbm_error_set(DBM_EGENERIC, "cannot read a commit's tree: %s", git_msg());
    err = git_tree_entry_bypath(&e, root, path);
    if (err == 0)
        git_oid_cpy(out, git_tree_entry_id(e));
    else if (err != GIT_ENOTFOUND)
        rc = dbm_error_set(DBM_EGENERIC, "cannot read '%s': %s", path, git_msg());
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
        rc = dbm_error_set(DBM_EGENERIC, "cannot walk the history from '%s': %s", head, git_msg());
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
        rc = path_id(&mine, c, path);
        nparents = git_commit_parentcount(c);
        for (unsigned int i = 0; rc == 0 && i < nparents && !same; i++) {
            git_commit *p = NULL;
            if (git_commit_parent(&p, c, i) < 0) {
                same = true; /* parent not fetched: cannot say this commit changed it */
                break;
            }
            rc = path_id(&theirs, p, path);
            same = rc == 0 && git_oid_equal(&mine, &theirs);
            git_commit_free(p);
        }
        if (rc == 0 && !same && (nparents > 0 || !git_oid_is_zero(&mine)))
            oid_hex(out, &oid);
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
                               git_msg());
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
                             ancestor, descendant, git_msg());
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
                             b, git_msg());
    oid_hex(out, &base);
    return 0;
}

int dbm_git_blob_at(char out[DBM_GIT_SHA_LEN + 1], dbm_git *g, const char *commit, const char *path)
{
    git_commit *c = NULL;
    git_oid id;
    int rc;

    out[0] = '\0';
    rc = lookup_commit(&c, g, commit);
    if (rc == 0)
        rc = path_id(&id, c, path);
    if (rc == 0 && git_oid_is_zero(&id))
        rc = dbm_error_set(DBM_ENOTFOUND, "'%s' does not exist at %.12s", path, commit);
    if (rc == 0)
        oid_hex(out, &id);
    git_commit_free(c);
    return rc;
}

int dbm_git_blob_read(char **out, size_t *len, dbm_git *g, const char *blob)
{
    git_blob *b = NULL;
    int rc;

    *out = NULL;
    *len = 0;
    rc = lookup_blob(&b, g, blob);
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
    oid_hex(sha, git_tree_entry_id(e));
    f->paths[f->count] = join_path(ctx->dir, rel);
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
    rc = commit_subtree(&t, g, commit, dir);
    if (rc < 0)
        goto done;
    /* The walk yields git's order, not strcmp's: callers must not bsearch the result. */
    if (t && git_tree_walk(t, GIT_TREEWALK_PRE, list_cb, &ctx) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot list '%s' at %.12s: %s", dir, commit, git_msg());
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

bool dbm_git_can_fetch_shallow(void)
{
#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 7)
    return true;
#else
    return false;
#endif
}

#if LIBGIT2_VER_MAJOR > 1 || (LIBGIT2_VER_MAJOR == 1 && LIBGIT2_VER_MINOR >= 7)
/* actions/checkout stores the token as http.<url>.extraheader in the repository's config. */
static int extraheader_cb(const git_config_entry *e, void *payload)
{
    dbm_buf *b = payload;
    if (!b->len)
        dbm_buf_puts(b, e->value);
    return 0;
}

int dbm_git_fetch_commit(dbm_git *g, const char *remote, const char *sha)
{
    git_remote *r = NULL;
    git_config *cfg = NULL;
    git_fetch_options opts;
    dbm_buf header = DBM_BUF_INIT;
    char *refspec = dbm_xasprintf("+%s:refs/db-migrate/fetched", sha);
    char *headers[1];
    git_strarray specs = {&refspec, 1};
    int rc = 0;

    git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
    if (git_remote_lookup(&r, g->repo, remote) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "no remote '%s' to fetch %.12s from: %s", remote, sha,
                           git_msg());
        goto done;
    }
    if (git_repository_config_snapshot(&cfg, g->repo) == 0)
        git_config_foreach_match(cfg, "^http\\..*\\.extraheader$", extraheader_cb, &header);
    if (header.len) {
        headers[0] = header.ptr;
        opts.custom_headers.strings = headers;
        opts.custom_headers.count = 1;
    }
    opts.depth = 1;
    if (git_remote_fetch(r, &specs, &opts, NULL) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot fetch commit %.12s from '%s': %s", sha, remote,
                           git_msg());
        goto done;
    }
done:
    dbm_buf_wipe(&header);
    free(refspec);
    git_config_free(cfg);
    git_remote_free(r);
    return rc;
}
#else
int dbm_git_fetch_commit(dbm_git *g, const char *remote, const char *sha)
{
    return dbm_error_set(DBM_ENOTFOUND,
                         "fetching one commit into a shallow clone needs libgit2 "
                         "1.7 or later (this build has %s)",
                         LIBGIT2_VERSION);
}
#endif
