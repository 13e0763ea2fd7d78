#include "unit.h"

#include "common/error.h"
#include "git/diff.h"
#include "gitfixture.h"
#include "common/util.h"

#include <git2.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_sql(const char *dir, const char *rel, const char *table)
{
    char *sql = fx_sql(table);
    fx_write(dir, rel, sql);
    free(sql);
}

static const dbm_git_change *find_change(const dbm_git_changes *c, const char *path)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->items[i].path, path) == 0)
            return &c->items[i];
    return NULL;
}

/*
 * added, modified, deleted, renamed and renamed-and-edited in one step, with a
 * change outside the directory that must not show; git's own name-status is
 * the oracle for the kinds and paths.
 */
static void diff_classifies_every_kind_of_change(void **state)
{
    char *repo = fx_repo(), *a, *b, *oracle;
    dbm_git *g = NULL;
    dbm_git_changes *c = NULL;
    const dbm_git_change *ch;
    dbm_buf mine = DBM_BUF_INIT;
    char *edited;

    write_sql(repo, "db/migrations/001_users.sql", "users");
    write_sql(repo, "db/migrations/002_orders.sql", "orders");
    write_sql(repo, "db/migrations/003_items.sql", "items");
    write_sql(repo, "db/migrations/004_tags.sql", "tags");
    fx_write(repo, "README.md", "hello\n");
    a = fx_commit(repo, "deployed");

    fx_write(repo, "db/migrations/005_audit.sql",
             "CREATE FUNCTION audit() RETURNS trigger\n"
             "LANGUAGE plpgsql AS $$ BEGIN END $$;\n");
    fx_write(repo, "db/migrations/002_orders.sql", "ALTER TABLE x;\n"); /* modified */
    fx_sh("git -C %s rm -q db/migrations/003_items.sql", repo);         /* deleted */
    fx_sh("git -C %s mv db/migrations/001_users.sql db/migrations/001_accounts.sql", repo);
    fx_sh("git -C %s mv db/migrations/004_tags.sql db/migrations/004_labels.sql", repo);
    edited = fx_sql("tags");
    edited[strlen(edited) - 3] = ' '; /* a one-character edit in the last line */
    fx_write(repo, "db/migrations/004_labels.sql", edited);
    fx_write(repo, "README.md", "changed\n");
    b = fx_commit(repo, "head");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_diff_dir(&c, g, a, b, "db/migrations"), 0);
    assert_int_equal(c->count, 5);

    ch = find_change(c, "db/migrations/005_audit.sql");
    assert_non_null(ch);
    assert_int_equal(ch->kind, DBM_GIT_ADDED);
    assert_null(ch->old_path);
    assert_string_equal(ch->old_blob, "");

    ch = find_change(c, "db/migrations/002_orders.sql");
    assert_non_null(ch);
    assert_int_equal(ch->kind, DBM_GIT_MODIFIED);
    assert_true(ch->edited);

    ch = find_change(c, "db/migrations/003_items.sql");
    assert_non_null(ch);
    assert_int_equal(ch->kind, DBM_GIT_DELETED);
    assert_string_equal(ch->old_path, "db/migrations/003_items.sql");
    assert_string_equal(ch->new_blob, "");

    ch = find_change(c, "db/migrations/001_accounts.sql");
    assert_non_null(ch);
    assert_int_equal(ch->kind, DBM_GIT_RENAMED);
    assert_string_equal(ch->old_path, "db/migrations/001_users.sql");
    assert_false(ch->edited);
    assert_int_equal(ch->similarity, 100);

    ch = find_change(c, "db/migrations/004_labels.sql");
    assert_non_null(ch);
    assert_int_equal(ch->kind, DBM_GIT_RENAMED);
    assert_string_equal(ch->old_path, "db/migrations/004_tags.sql");
    assert_true(ch->edited);
    assert_true(ch->similarity < 100 && ch->similarity >= 50);

    /* The same set as git diff --name-status -M, in the same order. */
    for (size_t i = 0; i < c->count; i++)
        dbm_buf_printf(&mine, "%c%s%s ", "AMDR"[c->items[i].kind],
                       c -> items[i].old_path && c->items[i].kind == DBM_GIT_RENAMED
                                ? c->items[i].old_path
                                : "",
                       c->items[i].path);
    oracle = fx_out("git -C %s diff --name-status -M %s %s -- db/migrations | "
                    "awk '{s=substr($1,1,1); if (s==\"R\") printf \"R%%s%%s \", $2, $3; "
                    "else printf \"%%s%%s \", s, $2}' | tr ' ' '\\n' | sort | tr '\\n' ' '",
                    repo, a, b);
    {
        char *sorted = fx_out("printf '%%s' '%s' | tr ' ' '\\n' | sort | tr '\\n' ' '", mine.ptr);
        assert_string_equal(sorted, oracle);
        free(sorted);
    }

    dbm_buf_free(&mine);
    free(oracle);
    free(edited);
    dbm_git_changes_free(c);
    dbm_git_free(g);
    free(a);
    free(b);
    fx_rm(repo);
}

static void diff_treats_a_missing_directory_as_empty(void **state)
{
    char *repo = fx_repo(), *a, *b;
    dbm_git *g = NULL;
    dbm_git_changes *c = NULL;

    fx_write(repo, "README.md", "no migrations yet\n");
    a = fx_commit(repo, "before");
    write_sql(repo, "migrations/001_users.sql", "users");
    write_sql(repo, "migrations/002_orders.sql", "orders");
    b = fx_commit(repo, "after");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_diff_dir(&c, g, a, b, "migrations"), 0);
    assert_int_equal(c->count, 2);
    assert_int_equal(c->items[0].kind, DBM_GIT_ADDED);
    assert_string_equal(c->items[0].path, "migrations/001_users.sql");
    assert_int_equal(c->items[1].kind, DBM_GIT_ADDED);
    dbm_git_changes_free(c);

    /* Backwards: everything deleted. The same commit twice: nothing. */
    assert_int_equal(dbm_git_diff_dir(&c, g, b, a, "migrations"), 0);
    assert_int_equal(c->count, 2);
    assert_int_equal(c->items[0].kind, DBM_GIT_DELETED);
    dbm_git_changes_free(c);
    assert_int_equal(dbm_git_diff_dir(&c, g, a, a, "migrations"), 0);
    assert_int_equal(c->count, 0);
    dbm_git_changes_free(c);

    dbm_git_free(g);
    free(a);
    free(b);
    fx_rm(repo);
}

/* Two blobs whose ids share their first 4 hex digits, so that prefix is ambiguous. */
static void make_ambiguous_prefix(char prefix[5], const char *repo)
{
    git_repository *r = NULL;
    static bool used[65536];

    memset(used, 0, sizeof(used));
    git_libgit2_init();
    assert_int_equal(git_repository_open(&r, repo), 0);
    for (unsigned i = 0;; i++) {
        char text[32], hex[GIT_OID_HEXSZ + 1];
        git_oid oid;
        unsigned long key;

        snprintf(text, sizeof(text), "blob %u\n", i);
        assert_int_equal(git_blob_create_from_buffer(&oid, r, text, strlen(text)), 0);
        git_oid_tostr(hex, sizeof(hex), &oid);
        key = strtoul((char[]){hex[0], hex[1], hex[2], hex[3], 0}, NULL, 16);
        if (used[key]) {
            memcpy(prefix, hex, 4);
            prefix[4] = '\0';
            break;
        }
        used[key] = true;
    }
    git_repository_free(r);
    git_libgit2_shutdown();
}

static void resolve_explains_bad_values(void **state)
{
    char *repo = fx_repo(), *a, *tree, *short_sha;
    dbm_git *g = NULL;
    char out[DBM_GIT_SHA_LEN + 1], prefix[5];

    write_sql(repo, "migrations/001_users.sql", "users");
    a = fx_commit(repo, "one");
    fx_sh("git -C %s tag -a v1 -m release", repo);
    tree = fx_out("git -C %s rev-parse HEAD^{tree}", repo);
    short_sha = dbm_xstrndup(a, 9);
    make_ambiguous_prefix(prefix, repo);
    assert_int_equal(dbm_git_open(&g, repo), 0);

    /* Good values: full sha, prefix, branch, annotated tag (peeled), expression. */
    assert_int_equal(dbm_git_resolve(out, g, a, "deployed-ref"), 0);
    assert_string_equal(out, a);
    assert_int_equal(dbm_git_resolve(out, g, short_sha, "deployed-ref"), 0);
    assert_string_equal(out, a);
    assert_int_equal(dbm_git_resolve(out, g, "main", "deployed-ref"), 0);
    assert_string_equal(out, a);
    assert_int_equal(dbm_git_resolve(out, g, "v1", "deployed-ref"), 0);
    assert_string_equal(out, a);

    /* Not a commit. */
    assert_int_equal(dbm_git_resolve(out, g, tree, "deployed-ref"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "names a tree"));
    assert_non_null(strstr(dbm_error_message(), "not a commit"));
    assert_non_null(strstr(dbm_error_message(), "deployed-ref"));
    assert_non_null(dbm_error_hint_text());
    assert_string_equal(out, "");

    /* Ambiguous prefix. */
    assert_int_equal(dbm_git_resolve(out, g, prefix, "deployed-ref"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "ambiguous"));
    assert_non_null(strstr(dbm_error_message(), prefix));
    assert_non_null(strstr(dbm_error_hint_text(), "more hex digits"));

    /* Garbage and unknown names. */
    assert_int_equal(dbm_git_resolve(out, g, "no such ref^^~", "deployed-ref"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "'no such ref^^~'"));
    assert_int_equal(dbm_git_resolve(out, g, "release-2020", "deployed-ref"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "is not a commit, branch or tag"));
    assert_int_equal(dbm_git_resolve(out, g, "", "deployed-ref"), DBM_ECONFIG);

    /* A well-formed sha that is not here: missing history, not a typo. */
    assert_int_equal(
        dbm_git_resolve(out, g, "0123456789abcdef0123456789abcdef01234567", "deployed-ref"),
        DBM_ENOTFOUND);
    assert_non_null(strstr(dbm_error_hint_text(), "fetch-depth: 0"));

    dbm_git_free(g);
    free(a);
    free(tree);
    free(short_sha);
    fx_rm(repo);
}

/*
 * main:    A --- B ------- M --- D(head)
 *                 \       /
 * feature:         C(edit)
 * The file was changed in C; the merge M only took it from C, and D touches
 * something else.
 */
static void last_change_sees_through_merges(void **state)
{
    char *repo = fx_repo(), *a, *b, *c, *m, *d, *x;
    dbm_git *g = NULL;
    char out[DBM_GIT_SHA_LEN + 1];

    write_sql(repo, "m/001_users.sql", "users");
    a = fx_commit(repo, "A");
    write_sql(repo, "m/002_orders.sql", "orders");
    b = fx_commit(repo, "B");
    fx_sh("git -C %s checkout -q -b feature", repo);
    fx_write(repo, "m/001_users.sql", "CREATE TABLE users (id int);\n");
    c = fx_commit(repo, "C");
    fx_sh("git -C %s checkout -q main && git -C %s commit -q --allow-empty -m side", repo, repo);
    fx_sh("git -C %s merge -q --no-ff -m M feature", repo);
    m = fx_out("git -C %s rev-parse HEAD", repo);
    write_sql(repo, "m/003_items.sql", "items");
    d = fx_commit(repo, "D");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_last_change(out, g, d, a, "m/001_users.sql"), 0);
    assert_string_equal(out, c);
    assert_int_equal(dbm_git_last_change(out, g, d, NULL, "m/003_items.sql"), 0);
    assert_string_equal(out, d);
    /* Added in A: outside A..D, found with the whole history. */
    assert_int_equal(dbm_git_last_change(out, g, d, b, "m/002_orders.sql"), DBM_ENOTFOUND);
    assert_int_equal(dbm_git_last_change(out, g, d, NULL, "m/002_orders.sql"), 0);
    assert_string_equal(out, b);

    /* A deletion is a change too. */
    fx_sh("git -C %s rm -q m/002_orders.sql", repo);
    x = fx_commit(repo, "X");
    assert_int_equal(dbm_git_last_change(out, g, x, a, "m/002_orders.sql"), 0);
    assert_string_equal(out, x);

    dbm_git_free(g);
    free(a);
    free(b);
    free(c);
    free(m);
    free(d);
    free(x);
    fx_rm(repo);
}

static void ancestry_detects_rewritten_history(void **state)
{
    char *repo = fx_repo(), *a, *b, *c, *base;
    dbm_git *g = NULL;
    bool yes;
    char out[DBM_GIT_SHA_LEN + 1];

    write_sql(repo, "m/001_users.sql", "users");
    a = fx_commit(repo, "A");
    write_sql(repo, "m/002_orders.sql", "orders");
    b = fx_commit(repo, "B (deployed, then force-pushed away)");
    fx_sh("git -C %s reset -q --hard HEAD~1", repo);
    write_sql(repo, "m/002_other.sql", "other");
    c = fx_commit(repo, "C");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_is_ancestor(&yes, g, a, c), 0);
    assert_true(yes);
    assert_int_equal(dbm_git_is_ancestor(&yes, g, c, c), 0);
    assert_true(yes);
    assert_int_equal(dbm_git_is_ancestor(&yes, g, b, c), 0);
    assert_false(yes);
    assert_int_equal(dbm_git_is_ancestor(&yes, g, c, a), 0);
    assert_false(yes);
    assert_int_equal(dbm_git_merge_base(out, g, b, c), 0);
    assert_string_equal(out, a);
    base = fx_out("git -C %s merge-base %s %s", repo, b, c);
    assert_string_equal(out, base);

    dbm_git_free(g);
    free(a);
    free(b);
    free(c);
    free(base);
    fx_rm(repo);
}

static void patch_is_a_unified_diff(void **state)
{
    char *repo = fx_repo(), *a, *b, *patch = NULL;
    dbm_git *g = NULL;
    dbm_git_changes *c = NULL;

    fx_write(repo, "m/001_users.sql", "CREATE TABLE users (\n    id int\n);\n");
    a = fx_commit(repo, "A");
    fx_write(repo, "m/001_users.sql", "CREATE TABLE users (\n    id bigint\n);\n");
    b = fx_commit(repo, "B");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_diff_dir(&c, g, a, b, "m"), 0);
    assert_int_equal(c->count, 1);
    assert_int_equal(dbm_git_patch(&patch, g, &c->items[0]), 0);
    assert_non_null(strstr(patch, "diff --git a/m/001_users.sql b/m/001_users.sql\n"));
    assert_non_null(strstr(patch, "\n-    id int\n+    id bigint\n"));
    assert_non_null(strstr(patch, "@@ -1,3 +1,3 @@"));

    free(patch);
    dbm_git_changes_free(c);
    dbm_git_free(g);
    free(a);
    free(b);
    fx_rm(repo);
}

/* How many times libgit2 is started now (git_libgit2_init returns the new count). */
static int libgit2_starts(void)
{
    int n = git_libgit2_init();
    git_libgit2_shutdown();
    return n - 1;
}

/*
 * A fleet holds libgit2 started across its targets' opens: each start loads the
 * system's CA certificates. Outside a repository nothing is started.
 */
static void hold_keeps_libgit2_started_between_opens(void **state)
{
    char *repo = fx_repo();
    char tmpl[] = "/tmp/dbm-git-test-XXXXXX";
    char *outside = mkdtemp(tmpl);
    int before = libgit2_starts();
    dbm_git *g = NULL;
    bool held;

    (void)state;
    assert_non_null(outside);
    assert_false(dbm_git_hold(outside));
    assert_int_equal(libgit2_starts(), before);
    free(fx_commit(repo, "A"));
    held = dbm_git_hold(repo);
    assert_true(held);
    assert_int_equal(libgit2_starts(), before + 1);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(dbm_git_open(&g, repo), 0);
        assert_int_equal(libgit2_starts(), before + 2);
        dbm_git_free(g);
        /* still started: the next open does not start libgit2 again */
        assert_int_equal(libgit2_starts(), before + 1);
    }
    dbm_git_release(held);
    assert_int_equal(libgit2_starts(), before);
    rmdir(outside);
    fx_rm(repo);
}

static void open_discovers_from_a_subdirectory(void **state)
{
    char *repo = fx_repo(), *a, *rel = NULL, *sub, *cwd;
    dbm_git *g = NULL;
    char tmpl[] = "/tmp/dbm-git-test-XXXXXX";
    char out[DBM_GIT_SHA_LEN + 1];

    write_sql(repo, "db/migrations/001_users.sql", "users");
    a = fx_commit(repo, "A");
    sub = dbm_xasprintf("%s/db/migrations", repo);

    assert_int_equal(dbm_git_open(&g, sub), 0);
    assert_int_equal(dbm_git_relpath(&rel, g, sub), 0);
    assert_string_equal(rel, "db/migrations");
    free(rel);
    assert_int_equal(dbm_git_relpath(&rel, g, repo), 0);
    assert_string_equal(rel, "");
    free(rel);
    /* A directory that does not exist yet, given relative to the current directory. */
    cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(repo), 0);
    assert_int_equal(dbm_git_relpath(&rel, g, "db/new/dir/"), 0);
    assert_string_equal(rel, "db/new/dir");
    free(rel);
    assert_int_equal(dbm_git_relpath(&rel, g, "/etc"), DBM_ENOTFOUND);
    assert_int_equal(chdir(cwd), 0);
    free(cwd);
    assert_int_equal(dbm_git_head(out, g), 0);
    assert_string_equal(out, a);
    assert_false(dbm_git_is_shallow(g));
    dbm_git_free(g);

    /* Outside any repository. */
    assert_non_null(mkdtemp(tmpl));
    assert_int_equal(dbm_git_open(&g, tmpl), DBM_ENOTFOUND);
    assert_null(g);
    assert_non_null(strstr(dbm_error_message(), "not inside a git repository"));
    rmdir(tmpl);

    free(sub);
    free(a);
    fx_rm(repo);
}

/*
 * The container case: root opening a checkout owned by the runner's uid.
 * libgit2 refuses it with owner validation on; dbm_git_open turns validation
 * off for that open only.
 */
static void open_accepts_a_repository_owned_by_another_uid(void **state)
{
    char *repo = fx_repo(), *a;
    dbm_git *g = NULL;
    git_repository *raw = NULL;
    char out[DBM_GIT_SHA_LEN + 1];
    int validation = -1;

    if (geteuid() != 0)
        skip();
    write_sql(repo, "migrations/001_users.sql", "users");
    a = fx_commit(repo, "A");
    fx_sh("chown -R 1234:1234 %s", repo);

    git_libgit2_init();
    /* What libgit2 does unaided (1.5 words it as a missing safe.directory). */
    assert_true(git_repository_open(&raw, repo) < 0);

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_head(out, g), 0);
    assert_string_equal(out, a);
    git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &validation);
    assert_int_equal(validation, 1); /* restored */
    dbm_git_free(g);
    git_libgit2_shutdown();

    /* Owned by root: validation is left on and the open works. */
    fx_sh("chown -R 0:0 %s", repo);
    assert_int_equal(dbm_git_open(&g, repo), 0);
    dbm_git_free(g);

    free(a);
    fx_rm(repo);
}

#define OPENERS    8  /* a fleet's parallel: 8 */
#define OPENS_EACH 40 /* opens per thread */

typedef struct {
    const char *repo, *head;
    int failed; /* opens that failed, or found another head */
} opener;

static void *open_many(void *arg)
{
    opener *o = arg;

    for (int i = 0; i < OPENS_EACH; i++) {
        dbm_git *g = NULL;
        char out[DBM_GIT_SHA_LEN + 1];
        if (dbm_git_open(&g, o->repo) < 0 || dbm_git_head(out, g) < 0 || strcmp(out, o->head))
            o->failed++;
        dbm_git_free(g);
        dbm_error_clear();
    }
    return NULL;
}

/*
 * A fleet's workers open the repository at once (parallel: N), each as root
 * on the runner's checkout: no open may see the owner validation another one
 * restored, and validation is on again once they are all done.
 */
static void concurrent_opens_of_another_uids_repository_all_succeed(void **state)
{
    char *repo = fx_repo(), *a;
    pthread_t threads[OPENERS];
    opener o[OPENERS];
    int validation = -1, failed = 0;

    if (geteuid() != 0)
        skip();
    write_sql(repo, "migrations/001_users.sql", "users");
    a = fx_commit(repo, "A");
    fx_sh("chown -R 1234:1234 %s", repo);

    git_libgit2_init(); /* held, as a fleet holds it (dbm_git_hold) */
    for (int i = 0; i < OPENERS; i++) {
        o[i] = (opener){repo, a, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, open_many, &o[i]), 0);
    }
    for (int i = 0; i < OPENERS; i++) {
        pthread_join(threads[i], NULL);
        failed += o[i].failed;
    }
    git_libgit2_opts(GIT_OPT_GET_OWNER_VALIDATION, &validation);
    git_libgit2_shutdown();
    assert_int_equal(failed, 0);
    assert_int_equal(validation, 1);

    free(a);
    fx_rm(repo);
}

static void shallow_clone_lacks_the_old_commit(void **state)
{
    char *repo = fx_repo(), *a, *b, *clone;
    dbm_git *g = NULL;
    char out[DBM_GIT_SHA_LEN + 1];

    write_sql(repo, "m/001_users.sql", "users");
    a = fx_commit(repo, "A");
    write_sql(repo, "m/002_orders.sql", "orders");
    b = fx_commit(repo, "B");
    clone = dbm_xasprintf("%s/clone", repo);
    fx_sh("git clone -q --depth 1 file://%s %s", repo, clone);

    assert_int_equal(dbm_git_open(&g, clone), 0);
    assert_true(dbm_git_is_shallow(g));
    assert_int_equal(dbm_git_resolve(out, g, b, "deployed-ref"), 0);
    assert_int_equal(dbm_git_resolve(out, g, a, "deployed-ref"), DBM_ENOTFOUND);
    assert_non_null(strstr(dbm_error_hint_text(), "fetch-depth: 0"));
    /* A short sha of the missing commit: the hint names the shallow clone. */
    {
        char *short_a = dbm_xstrndup(a, 10);
        assert_int_equal(dbm_git_resolve(out, g, short_a, "deployed-ref"), DBM_ECONFIG);
        assert_non_null(strstr(dbm_error_hint_text(), "shallow"));
        free(short_a);
    }
    /* Only an older libgit2 cannot fetch it; this build says which. */
    if (!dbm_git_can_fetch_shallow()) {
        assert_int_equal(dbm_git_fetch_commit(g, "origin", a), DBM_ENOTFOUND);
        assert_non_null(strstr(dbm_error_message(), "1.7"));
    }
    /* The walk stops at the shallow boundary instead of failing. */
    assert_int_equal(dbm_git_last_change(out, g, b, a, "m/002_orders.sql"), DBM_ENOTFOUND);

    dbm_git_free(g);
    free(clone);
    free(a);
    free(b);
    fx_rm(repo);
}

static void list_dir_lists_files_recursively(void **state)
{
    char *repo = fx_repo(), *a, *blob;
    dbm_git *g = NULL;
    dbm_git_files *f = NULL;
    char out[DBM_GIT_SHA_LEN + 1];
    char *text = NULL;
    size_t len;

    fx_write(repo, "prisma/migrations/20240101000000_init/migration.sql", "CREATE TABLE a();\n");
    fx_write(repo, "prisma/migrations/migration_lock.toml", "provider = \"postgresql\"\n");
    fx_write(repo, "other.txt", "x\n");
    a = fx_commit(repo, "A");

    assert_int_equal(dbm_git_open(&g, repo), 0);
    assert_int_equal(dbm_git_list_dir(&f, g, a, "prisma/migrations"), 0);
    assert_int_equal(f->count, 2);
    assert_string_equal(f->paths[0], "prisma/migrations/20240101000000_init/migration.sql");
    assert_string_equal(f->paths[1], "prisma/migrations/migration_lock.toml");
    blob = fx_out("git -C %s rev-parse HEAD:prisma/migrations/migration_lock.toml", repo);
    assert_string_equal(f->blobs[1], blob);
    assert_int_equal(dbm_git_blob_at(out, g, a, "prisma/migrations/migration_lock.toml"), 0);
    assert_string_equal(out, blob);
    assert_int_equal(dbm_git_blob_read(&text, &len, g, out), 0);
    assert_string_equal(text, "provider = \"postgresql\"\n");
    assert_int_equal(dbm_git_blob_at(out, g, a, "prisma/none.sql"), DBM_ENOTFOUND);
    dbm_git_files_free(f);
    assert_int_equal(dbm_git_list_dir(&f, g, a, "no/such/dir"), 0);
    assert_int_equal(f->count, 0);
    dbm_git_files_free(f);

    free(text);
    free(blob);
    dbm_git_free(g);
    free(a);
    fx_rm(repo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(diff_classifies_every_kind_of_change),
        cmocka_unit_test(diff_treats_a_missing_directory_as_empty),
        cmocka_unit_test(resolve_explains_bad_values),
        cmocka_unit_test(last_change_sees_through_merges),
        cmocka_unit_test(ancestry_detects_rewritten_history),
        cmocka_unit_test(patch_is_a_unified_diff),
        cmocka_unit_test(open_discovers_from_a_subdirectory),
        cmocka_unit_test(hold_keeps_libgit2_started_between_opens),
        cmocka_unit_test(open_accepts_a_repository_owned_by_another_uid),
        cmocka_unit_test(concurrent_opens_of_another_uids_repository_all_succeed),
        cmocka_unit_test(shallow_clone_lacks_the_old_commit),
        cmocka_unit_test(list_dir_lists_files_recursively),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
