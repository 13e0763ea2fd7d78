/*
 * repo.c - the repository: discovery and opening (with the container's owner
 * case), paths in the working tree, resolving revisions, fetching one commit.
 */
#include "git/diff_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <git2.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *dbm_git_errmsg(void)
{
    const git_error *e = git_error_last();
    return e && e->message ? e->message : "unknown libgit2 error";
}

void dbm_git_oid_hex(char out[DBM_GIT_SHA_LEN + 1], const git_oid *oid)
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

/*
 * Whether libgit2's owner validation must be off to open `gitdir`: the runner
 * checks the workspace out as its own user and the action's container runs as
 * root; only then is another owner expected and safe. *workdir_parent is the
 * working tree's directory (for the hint), or NULL when not root.
 */
static bool owner_validation_unneeded(const char *gitdir, char **workdir_parent)
{
    size_t n = strlen(gitdir);
    char *parent;

    *workdir_parent = NULL;
    if (geteuid() != 0)
        return false;
    parent = dbm_xstrdup(gitdir);
    while (n > 1 && parent[n - 1] == '/')
        parent[--n] = '\0';
    if (n >= 5 && strcmp(parent + n - 5, "/.git") == 0)
        parent[n - 5] = '\0';
    *workdir_parent = parent;
    return owned_by_other(gitdir, 0) || owned_by_other(parent, 0);
}

/* The working tree's realpath with a trailing '/', or NULL for a bare repository. */
static char *workdir_of(git_repository *repo)
{
    const char *w = git_repository_workdir(repo);
    char *real, *out;

    if (!w)
        return NULL;
    real = realpath(w, NULL);
    if (!real)
        return dbm_xstrdup(w);
    out = dbm_xasprintf("%s%s", real, strcmp(real, "/") == 0 ? "" : "/");
    free(real);
    return out;
}

/*
 * libgit2's owner validation is one setting for the whole process, read by
 * every open. A fleet's workers open the repository at once (parallel: N):
 * without this lock one would restore validation while another opens with it
 * meant off (an ownership error), or save the other's "off" and restore that
 * (validation off for good). The lock covers the save, the open and the
 * restore, and every open, so none reads a setting meant for another.
 */
static pthread_mutex_t owner_validation_lock = PTHREAD_MUTEX_INITIALIZER;

/* Open the repository at `gitdir` (found by discovery), owner validation as dbm_git_open says. */
static int repo_open(dbm_git **out, const char *gitdir)
{
    dbm_git *g = dbm_xcalloc(1, sizeof(*g));
    char *workdir_parent = NULL;
    int rc = 0, validation = 1;
    bool restore = owner_validation_unneeded(gitdir, &workdir_parent);

    pthread_mutex_lock(&owner_validation_lock);
    if (restore) {
        git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &validation);
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
    }
    if (git_repository_open_ext(&g->repo, gitdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "cannot open the git repository at '%s': %s", gitdir,
                           dbm_git_errmsg());
        if (strstr(dbm_git_errmsg(), "owner") || strstr(dbm_git_errmsg(), "safe.directory"))
            dbm_error_hint("run as the owner of the repository, or mark it safe with "
                           "git config --global --add safe.directory '%s'",
                           workdir_parent ? workdir_parent : gitdir);
        free(g);
        g = NULL;
    } else {
        g->workdir = workdir_of(g->repo);
    }
    if (restore)
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, validation);
    pthread_mutex_unlock(&owner_validation_lock);
    free(workdir_parent);
    *out = g;
    return rc;
}

int dbm_git_open(dbm_git **out, const char *path)
{
    git_buf gitdir = {0};
    char *abs = NULL;
    int rc = 0;
    bool inited = false;

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
    rc = repo_open(out, gitdir.ptr);
done:
    git_buf_dispose(&gitdir);
    free(abs);
    if (rc < 0 && inited)
        git_libgit2_shutdown();
    return rc;
}

bool dbm_git_hold(const char *path)
{
    char *abs = absolute_path(path);
    bool held = abs && (dbm_getenv("GIT_DIR") || dotgit_above(abs));

    free(abs);
    if (held)
        git_libgit2_init();
    return held;
}

void dbm_git_release(bool held)
{
    if (held)
        git_libgit2_shutdown();
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
                           spec, dbm_git_errmsg());
        if (is_hex(spec, 4) && dbm_git_is_shallow(g))
            dbm_error_hint("this is a shallow clone: fetch the whole history "
                           "(actions/checkout with fetch-depth: 0)");
        else
            dbm_error_hint("give a commit sha, a branch or a tag (git rev-parse must accept it)");
        goto done;
    }
    if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
        char sha[DBM_GIT_SHA_LEN + 1];
        dbm_git_oid_hex(sha, git_object_id(obj));
        rc = dbm_error_set(DBM_ECONFIG, "%s '%s' names a %s (%.12s), not a commit", what, spec,
                           git_object_type2string(git_object_type(obj)), sha);
        dbm_error_hint("give a commit sha, a branch or a tag");
        goto done;
    }
    dbm_git_oid_hex(out, git_object_id(commit));
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
        return dbm_error_set(DBM_EGENERIC, "cannot read HEAD: %s", dbm_git_errmsg());
    dbm_git_oid_hex(out, &oid);
    return 0;
}

int dbm_git_lookup_commit(git_commit **out, dbm_git *g, const char *sha)
{
    git_oid oid;

    if (git_oid_fromstr(&oid, sha) < 0)
        return dbm_error_set(DBM_EGENERIC, "'%s' is not a commit sha", sha);
    if (git_commit_lookup(out, g->repo, &oid) < 0)
        return dbm_error_set(DBM_ENOTFOUND, "commit '%s' is not in this repository: %s", sha,
                             dbm_git_errmsg());
    return 0;
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
                           dbm_git_errmsg());
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
                           dbm_git_errmsg());
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

char *dbm_git_library_version(void)
{
    int major = 0, minor = 0, rev = 0;

    git_libgit2_version(&major, &minor, &rev);
    return dbm_xasprintf("%d.%d.%d", major, minor, rev);
}
