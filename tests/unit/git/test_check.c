#include "unit.h"

#include "common/error.h"
#include "git/check.h"
#include "gitfixture.h"
#include "common/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The tests build the migration set and the history by hand, as plain
 * structs: native names only (<digits>_<name>.sql), checksum over the whole
 * file. That is all gitcheck reads from them.
 */
static int mig_cmp(const void *a, const void *b)
{
    return strcmp(((const dbm_migration *)a)->version, ((const dbm_migration *)b)->version);
}

static dbm_migration_set *set_from_disk(const char *dir)
{
    dbm_migration_set *set = dbm_xcalloc(1, sizeof(*set));
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    set->dir = dbm_xstrdup(dir);
    set->format = DBM_FORMAT_NATIVE;
    while (d && (e = readdir(d))) {
        size_t digits = strspn(e->d_name, "0123456789");
        dbm_migration *m;
        char *path, hex[65];

        if (!digits || e->d_name[digits] != '_' || !strstr(e->d_name, ".sql"))
            continue;
        dbm_array_grow((void **)&set->items, &cap, set->count + 1, sizeof(*set->items));
        m = &set->items[set->count++];
        memset(m, 0, sizeof(*m));
        m->version = dbm_xstrndup(e->d_name, digits);
        m->name = dbm_xstrndup(e->d_name + digits + 1, strlen(e->d_name) - digits - 5);
        m->path = dbm_xstrdup(e->d_name);
        path = dbm_xasprintf("%s/%s", dir, e->d_name);
        assert_int_equal(dbm_read_file(&m->up, &m->up_len, path), 0);
        dbm_sha256_hex(hex, m->up, m->up_len);
        snprintf(m->checksum, sizeof(m->checksum), "sha256:%s", hex);
        free(path);
    }
    if (d)
        closedir(d);
    if (set->count)
        qsort(set->items, set->count, sizeof(*set->items), mig_cmp);
    return set;
}

static void set_free(dbm_migration_set *set)
{
    for (size_t i = 0; set && i < set->count; i++) {
        free(set->items[i].version);
        free(set->items[i].name);
        free(set->items[i].path);
        free(set->items[i].up);
    }
    if (set) {
        free(set->items);
        free(set->dir);
    }
    free(set);
}

static const char *checksum_of(const dbm_migration_set *set, const char *version)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcmp(set->items[i].version, version) == 0)
            return set->items[i].checksum;
    return "sha256:0000";
}

/* History rows "version=checksum" (checksum "*" = the file's at head), all applied. */
static dbm_history *history_of(const dbm_migration_set *set, const char *last_sha, ...)
{
    dbm_history *h = dbm_xcalloc(1, sizeof(*h));
    const char *spec;
    va_list ap;

    h->exists = true;
    h->last_apply_sha = dbm_xstrdup(last_sha);
    h->rows = dbm_xcalloc(16, sizeof(*h->rows));
    va_start(ap, last_sha);
    while ((spec = va_arg(ap, const char *))) {
        dbm_history_row *r = &h->rows[h->count++];
        const char *eq = strchr(spec, '=');
        r->version = dbm_xstrndup(spec, (size_t)(eq - spec));
        r->name = dbm_xstrdup("x");
        r->checksum = dbm_xstrdup(strcmp(eq + 1, "*") == 0 ? checksum_of(set, r->version) : eq + 1);
        r->status = dbm_xstrdup("applied");
        r->git_sha = dbm_xstrdup(last_sha);
    }
    va_end(ap);
    return h;
}

static void history_free(dbm_history *h)
{
    for (size_t i = 0; h && i < h->count; i++) {
        free(h->rows[i].version);
        free(h->rows[i].name);
        free(h->rows[i].checksum);
        free(h->rows[i].status);
        free(h->rows[i].git_sha);
    }
    if (h) {
        free(h->rows);
        free(h->last_apply_sha);
    }
    free(h);
}

typedef struct {
    char *repo;
    char *dir; /* repo/db/migrations */
    dbm_gitcheck_opts cfg;
    dbm_report *report;
    dbm_migration_set *set;
} fixture;

static fixture *fixture_new(void)
{
    fixture *f = dbm_xcalloc(1, sizeof(*f));
    f->repo = fx_repo();
    f->dir = dbm_xasprintf("%s/db/migrations", f->repo);
    f->cfg.migrations_dir = f->dir;
    f->report = dbm_report_new("plan");
    return f;
}

static void fixture_free(fixture *f)
{
    dbm_report_free(f->report);
    set_free(f->set);
    free(f->dir);
    fx_rm(f->repo);
    free(f);
}

static void load_set(fixture *f)
{
    set_free(f->set);
    f->set = set_from_disk(f->dir);
}

static void write_sql(fixture *f, const char *file, const char *table)
{
    char *sql = fx_sql(table), *rel = dbm_xasprintf("db/migrations/%s", file);
    fx_write(f->repo, rel, sql);
    free(sql);
    free(rel);
}

static const dbm_finding *finding(const dbm_report *r, const char *rule, const char *file)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0 &&
            (!file || (r->findings[i].file && strcmp(r->findings[i].file, file) == 0)))
            return &r->findings[i];
    return NULL;
}

static size_t count_rule(const dbm_report *r, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += strcmp(r->findings[i].rule, rule) == 0;
    return n;
}

static const dbm_mig_result *row(const dbm_report *r, const char *version)
{
    for (size_t i = 0; i < r->nmigs; i++)
        if (strcmp(r->migs[i].version, version) == 0)
            return &r->migs[i];
    return NULL;
}

static const dbm_git_change_info *change(const dbm_report *r, const char *path)
{
    for (size_t i = 0; i < r->git.nchanges; i++)
        if (strcmp(r->git.changes[i].path, path) == 0)
            return &r->git.changes[i];
    return NULL;
}

static void edited_and_deleted_deployed_migrations_block(void **state)
{
    fixture *f = fixture_new();
    char *a, *b, *url, *short_a;
    const dbm_finding *fi;
    const dbm_mig_result *m;

    write_sql(f, "001_users.sql", "users");
    write_sql(f, "002_orders.sql", "orders");
    write_sql(f, "003_items.sql", "items");
    a = fx_commit(f->repo, "deployed");
    fx_write(f->repo, "db/migrations/001_users.sql", "CREATE TABLE users (id bigint);\n");
    fx_sh("git -C %s rm -q db/migrations/003_items.sql", f->repo);
    fx_sh("git -C %s mv db/migrations/002_orders.sql db/migrations/002_purchases.sql", f->repo);
    fx_write(f->repo, "db/migrations/004_audit.sql", "CREATE SCHEMA audit;\n");
    b = fx_commit(f->repo, "head");
    load_set(f);

    short_a = dbm_xstrndup(a, 10);
    f->cfg.deployed_ref = short_a;
    f->cfg.server_url = "https://github.com";
    f->cfg.repository = "acme/shop";
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);

    assert_string_equal(f->report->git.head, b);
    assert_string_equal(f->report->git.deployed, a);
    assert_null(f->report->git.base);
    url = dbm_xasprintf("https://github.com/acme/shop/compare/%s...%s", a, b);
    assert_string_equal(f->report->git.compare_url, url);

    assert_int_equal(f->report->git.nchanges, 4);
    assert_string_equal(change(f->report, "db/migrations/004_audit.sql")->kind, "added");
    assert_string_equal(change(f->report, "db/migrations/002_purchases.sql")->kind, "renamed");
    assert_string_equal(change(f->report, "db/migrations/001_users.sql")->commit, b);

    fi = finding(f->report, "edited-deployed", "db/migrations/001_users.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    assert_non_null(strstr(fi->message, "version 001"));
    assert_non_null(fi->hint);
    fi = finding(f->report, "deleted-deployed", "db/migrations/003_items.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    /* A move without edits is neither new nor edited. */
    assert_int_equal(f->report->nfindings, 2);
    assert_true(dbm_report_has_blocking(f->report));

    m = row(f->report, "001");
    assert_non_null(m);
    assert_int_equal(m->status, DBM_MIG_EDITED);
    assert_non_null(strstr(m->diff, "+CREATE TABLE users (id bigint);\n"));
    assert_non_null(strstr(m->diff, "-CREATE TABLE users (\n"));
    assert_string_equal(m->changed_by, b);
    m = row(f->report, "003");
    assert_non_null(m);
    assert_int_equal(m->status, DBM_MIG_MISSING);
    assert_string_equal(m->changed_by, b);

    free(url);
    free(short_a);
    free(a);
    free(b);
    fixture_free(f);
}

static void renamed_and_edited_counts_as_edited(void **state)
{
    fixture *f = fixture_new();
    char *a, *b, *sql, *edited;
    const dbm_finding *fi;

    write_sql(f, "001_users.sql", "users");
    a = fx_commit(f->repo, "deployed");
    fx_write(f->repo, "db/migrations/seed.txt", "not a migration\n");
    free(fx_commit(f->repo, "unrelated"));
    sql = fx_sql("users");
    edited = dbm_xasprintf("%sCOMMENT ON TABLE users IS 'people';\n", sql);
    fx_sh("git -C %s mv db/migrations/001_users.sql db/migrations/001_accounts.sql", f->repo);
    fx_write(f->repo, "db/migrations/001_accounts.sql", edited);
    b = fx_commit(f->repo, "rename and edit");
    fx_write(f->repo, "db/migrations/seed.txt", "still not a migration\n");
    free(fx_commit(f->repo, "later"));
    load_set(f);

    f->cfg.deployed_ref = a;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    fi = finding(f->report, "edited-deployed", "db/migrations/001_accounts.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    assert_string_equal(row(f->report, "001")->changed_by, b);
    assert_non_null(strstr(row(f->report, "001")->diff, "+COMMENT ON TABLE users"));
    assert_string_equal(change(f->report, "db/migrations/001_accounts.sql")->old_path,
                        "db/migrations/001_users.sql");
    /* The edited text file is a change but not a migration. */
    assert_non_null(change(f->report, "db/migrations/seed.txt"));
    assert_int_equal(f->report->nfindings, 1);

    free(sql);
    free(edited);
    free(a);
    free(b);
    fixture_free(f);
}

static void line_ending_change_is_not_an_edit(void **state)
{
    fixture *f = fixture_new();
    char *a;

    fx_write(f->repo, "db/migrations/001_users.sql", "CREATE TABLE users (\n    id int\n);\n");
    a = fx_commit(f->repo, "deployed");
    fx_write(f->repo, "db/migrations/001_users.sql",
             "\xEF\xBB\xBF"
             "CREATE TABLE users (\r\n    id int\r\n);\r\n");
    free(fx_commit(f->repo, "crlf"));
    load_set(f);

    f->cfg.deployed_ref = a;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_string_equal(change(f->report, "db/migrations/001_users.sql")->kind, "modified");
    assert_int_equal(f->report->nfindings, 0);

    free(a);
    fixture_free(f);
}

static void migrations_dir_missing_at_deployed_commit(void **state)
{
    fixture *f = fixture_new();
    char *a;

    fx_write(f->repo, "README.md", "app\n");
    a = fx_commit(f->repo, "before migrations existed");
    write_sql(f, "001_users.sql", "users");
    write_sql(f, "002_orders.sql", "orders");
    free(fx_commit(f->repo, "first migrations"));
    load_set(f);

    f->cfg.deployed_ref = a;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_int_equal(f->report->git.nchanges, 2);
    assert_string_equal(f->report->git.changes[0].kind, "added");
    assert_string_equal(f->report->git.changes[1].kind, "added");
    assert_int_equal(f->report->nfindings, 0);

    free(a);
    fixture_free(f);
}

/*
 * Deployed commit from the history; the database says 001 and 000 were
 * applied. 000 has no file (applied-file-missing); 002 was in the deployed
 * commit but never recorded (deployed-not-recorded); 003 is simply new.
 */
static void history_is_checked_against_git(void **state)
{
    fixture *f = fixture_new();
    char *a;
    dbm_history *h;
    const dbm_finding *fi;

    write_sql(f, "001_users.sql", "users");
    write_sql(f, "002_orders.sql", "orders");
    a = fx_commit(f->repo, "deployed");
    write_sql(f, "003_items.sql", "items");
    free(fx_commit(f->repo, "new"));
    load_set(f);
    h = history_of(f->set, a, "000=sha256:abc", "001=*", NULL);

    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), 0);
    assert_string_equal(f->report->git.deployed, a);
    fi = finding(f->report, "applied-file-missing", NULL);
    assert_non_null(fi);
    assert_non_null(strstr(fi->message, "version 000"));
    fi = finding(f->report, "deployed-not-recorded", "db/migrations/002_orders.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_WARNING);
    assert_int_equal(count_rule(f->report, "deployed-not-recorded"), 1);
    assert_int_equal(f->report->nfindings, 2);
    assert_false(dbm_report_has_blocking(f->report));

    history_free(h);
    free(a);
    fixture_free(f);
}

/* With a database: an edit to an applied file blocks; the deleted file is reported once. */
static void history_confirms_edits_and_deletions(void **state)
{
    fixture *f = fixture_new();
    char *a;
    dbm_history *h;

    write_sql(f, "001_users.sql", "users");
    write_sql(f, "002_orders.sql", "orders");
    a = fx_commit(f->repo, "deployed");
    load_set(f);
    h = history_of(f->set, a, "001=*", "002=*", NULL);
    fx_write(f->repo, "db/migrations/001_users.sql", "CREATE TABLE users (id bigint);\n");
    fx_sh("git -C %s rm -q db/migrations/002_orders.sql", f->repo);
    free(fx_commit(f->repo, "edit and delete"));
    load_set(f);

    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), 0);
    assert_non_null(finding(f->report, "edited-deployed", "db/migrations/001_users.sql"));
    assert_non_null(finding(f->report, "deleted-deployed", "db/migrations/002_orders.sql"));
    assert_null(finding(f->report, "applied-file-missing", NULL));
    assert_int_equal(f->report->nfindings, 2);

    history_free(h);
    free(a);
    fixture_free(f);
}

static void bad_deployed_ref_is_a_configuration_error(void **state)
{
    fixture *f = fixture_new();
    char *tree;

    write_sql(f, "001_users.sql", "users");
    free(fx_commit(f->repo, "one"));
    load_set(f);
    tree = fx_out("git -C %s rev-parse HEAD^{tree}", f->repo);

    f->cfg.deployed_ref = "v9.9-does-not-exist";
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "deployed-ref 'v9.9-does-not-exist'"));
    f->cfg.deployed_ref = tree;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "not a commit"));

    free(tree);
    fixture_free(f);
}

static void write_event(const char *path, const char *base_sha)
{
    char *json = dbm_xasprintf("{\"action\":\"synchronize\",\"number\":7,\"pull_request\":"
                               "{\"head\":{\"sha\":\"ffff\"},\"base\":{\"ref\":\"main\","
                               "\"sha\":\"%s\"}}}",
                               base_sha);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
    free(json);
}

/*
 * A shallow clone (what actions/checkout fetches by default) lacks both the
 * deployed commit and the PR base: one warning, no git classification, no error.
 */
static void shallow_clone_warns_once_and_skips_git_checks(void **state)
{
    fixture *f = fixture_new();
    char *a, *clone, *clone_dir, *event;
    dbm_history *h;
    const dbm_finding *fi;

    write_sql(f, "001_users.sql", "users");
    a = fx_commit(f->repo, "deployed");
    fx_write(f->repo, "db/migrations/001_users.sql", "CREATE TABLE users (id bigint);\n");
    free(fx_commit(f->repo, "edit"));
    clone = dbm_xasprintf("%s/clone", f->repo);
    clone_dir = dbm_xasprintf("%s/db/migrations", clone);
    fx_sh("git clone -q --depth 1 file://%s %s", f->repo, clone);
    f->cfg.migrations_dir = clone_dir;
    f->set = set_from_disk(clone_dir);
    h = history_of(f->set, a, "001=sha256:old", NULL);
    event = dbm_xasprintf("%s/event.json", f->repo);
    write_event(event, a);
    f->cfg.event_name = "pull_request";
    f->cfg.event_path = event;

    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), 0);
    assert_int_equal(count_rule(f->report, "shallow-clone"), 1);
    fi = finding(f->report, "shallow-clone", NULL);
    assert_int_equal(fi->severity, DBM_SEV_WARNING);
    assert_non_null(strstr(fi->hint, "fetch-depth: 0"));
    assert_non_null(strstr(fi->message, "shallow clone"));
    assert_null(finding(f->report, "edited-deployed", NULL));
    assert_false(dbm_report_has_blocking(f->report));
    assert_non_null(f->report->git.head);
    assert_null(f->report->git.deployed);
    assert_null(f->report->git.base);

    history_free(h);
    free(event);
    free(clone);
    free(clone_dir);
    free(a);
    fixture_free(f);
}

static void outside_a_repository_is_a_notice(void **state)
{
    char tmpl[] = "/tmp/dbm-git-test-XXXXXX";
    dbm_gitcheck_opts cfg = {0};
    dbm_report *r = dbm_report_new("plan");
    dbm_history *h;
    dbm_migration_set set = {0};

    assert_non_null(mkdtemp(tmpl));
    cfg.migrations_dir = tmpl;
    assert_int_equal(dbm_gitcheck(r, &cfg, &set, NULL), 0);
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].rule, "not-a-git-repo");
    assert_int_equal(r->findings[0].severity, DBM_SEV_NOTICE);
    assert_null(r->git.head);

    /* expect-deployed still works on full shas without a repository. */
    h = history_of(&set, "0123456789abcdef0123456789abcdef01234567", NULL);
    cfg.expect_blocks = true;
    cfg.expect_deployed = "0123456789abcdef0123456789abcdef01234567";
    assert_int_equal(dbm_gitcheck(r, &cfg, &set, h), 0);
    assert_false(dbm_report_has_blocking(r));
    cfg.expect_deployed = "fedcba9876543210fedcba9876543210fedcba98";
    assert_int_equal(dbm_gitcheck(r, &cfg, &set, h), 0);
    assert_true(dbm_report_has_blocking(r));
    cfg.expect_deployed = "main";
    assert_int_equal(dbm_gitcheck(r, &cfg, &set, h), DBM_ECONFIG);

    history_free(h);
    dbm_report_free(r);
    fx_sh("rm -rf %s", tmpl);
}

/*
 * main:     C0 (a, b) --- C1 (+ 20240105_main)         <- base
 *              \
 * feature:      F (+ 20240105_feat, + 20240103_late, + 20240110_new, edit a)  <- head
 */
static void pull_request_is_checked_against_its_base(void **state)
{
    fixture *f = fixture_new();
    char *c1, *head, *event, *merge;
    const dbm_finding *fi;

    write_sql(f, "20240101000000_a.sql", "a");
    write_sql(f, "20240102000000_b.sql", "b");
    free(fx_commit(f->repo, "C0"));
    fx_sh("git -C %s branch feature", f->repo);
    write_sql(f, "20240105000000_main.sql", "main_table");
    c1 = fx_commit(f->repo, "C1");
    fx_sh("git -C %s checkout -q feature", f->repo);
    write_sql(f, "20240105000000_feat.sql", "feat");
    write_sql(f, "20240103000000_late.sql", "late");
    write_sql(f, "20240110000000_new.sql", "new_table");
    fx_write(f->repo, "db/migrations/20240101000000_a.sql", "CREATE TABLE a (id int);\n");
    head = fx_commit(f->repo, "F");
    load_set(f);

    event = dbm_xasprintf("%s/.git/event.json", f->repo);
    write_event(event, c1);
    f->cfg.event_name = "pull_request";
    f->cfg.event_path = event;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);

    assert_string_equal(f->report->git.base, c1);
    assert_string_equal(f->report->git.head, head);
    assert_null(f->report->git.deployed);
    fi = finding(f->report, "version-collision", "db/migrations/20240105000000_feat.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    assert_non_null(strstr(fi->message, "db/migrations/20240105000000_main.sql"));
    fi = finding(f->report, "older-than-base", "db/migrations/20240103000000_late.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    assert_non_null(strstr(fi->message, "20240105000000"));
    fi = finding(f->report, "edited-deployed", "db/migrations/20240101000000_a.sql");
    assert_non_null(fi);
    assert_non_null(strstr(fi->message, "base branch"));
    /* main's newer file is not the PR's deletion: changes are base...head. */
    assert_null(finding(f->report, "deleted-deployed", NULL));
    assert_int_equal(f->report->nfindings, 3);
    assert_int_equal(f->report->git.nchanges, 4);
    assert_string_equal(change(f->report, "db/migrations/20240110000000_new.sql")->kind, "added");

    /* The merge commit GITHUB_SHA names on pull_request events; out-of-order allowed. */
    fx_sh("git -C %s checkout -q --detach %s && git -C %s merge -q --no-ff -m merge feature",
          f->repo, c1, f->repo);
    merge = fx_out("git -C %s rev-parse HEAD", f->repo);
    fx_sh("git -C %s checkout -q main", f->repo); /* HEAD elsewhere: GITHUB_SHA wins */
    fx_sh("git -C %s checkout -q %s -- db", f->repo, merge);
    load_set(f);
    dbm_report_free(f->report);
    f->report = dbm_report_new("plan");
    f->cfg.head_sha = merge;
    f->cfg.out_of_order_allow = true;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_string_equal(f->report->git.head, merge);
    assert_non_null(
        finding(f->report, "version-collision", "db/migrations/20240105000000_feat.sql"));
    fi = finding(f->report, "older-than-base", "db/migrations/20240103000000_late.sql");
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_WARNING);
    assert_non_null(finding(f->report, "edited-deployed", "db/migrations/20240101000000_a.sql"));
    assert_int_equal(f->report->nfindings, 3);

    free(merge);
    free(event);
    free(c1);
    free(head);
    fixture_free(f);
}

static void expect_deployed_is_a_compare_and_swap(void **state)
{
    fixture *f = fixture_new();
    char *a, *b, *short_b;
    dbm_history *h, *empty;
    const dbm_finding *fi;

    write_sql(f, "001_users.sql", "users");
    a = fx_commit(f->repo, "A");
    write_sql(f, "002_orders.sql", "orders");
    b = fx_commit(f->repo, "B");
    load_set(f);
    h = history_of(f->set, a, "001=*", NULL);
    short_b = dbm_xstrndup(b, 8);
    f->cfg.expect_blocks = true;

    /* Someone deployed A; this run expected B: refuse. */
    f->cfg.expect_deployed = short_b;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), 0);
    fi = finding(f->report, "expect-deployed", NULL);
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_ERROR);
    assert_true(dbm_report_has_blocking(f->report));

    /* The right commit, spelled as a ref expression. */
    dbm_report_free(f->report);
    f->report = dbm_report_new("apply");
    f->cfg.expect_deployed = "main~1";
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), 0);
    assert_null(finding(f->report, "expect-deployed", NULL));
    assert_false(dbm_report_has_blocking(f->report));

    /* Nothing applied yet. */
    empty = history_of(f->set, NULL, NULL);
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, empty), 0);
    assert_non_null(finding(f->report, "expect-deployed", NULL));

    /* A value that is not a commit. */
    f->cfg.expect_deployed = "no-such-branch";
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, h), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "expect-deployed 'no-such-branch'"));

    history_free(h);
    history_free(empty);
    free(short_b);
    free(a);
    free(b);
    fixture_free(f);
}

static void deployed_commit_off_the_branch_is_a_warning(void **state)
{
    fixture *f = fixture_new();
    char *b;
    const dbm_finding *fi;

    write_sql(f, "001_users.sql", "users");
    free(fx_commit(f->repo, "A"));
    write_sql(f, "002_orders.sql", "orders");
    b = fx_commit(f->repo, "B, deployed then force-pushed away");
    fx_sh("git -C %s reset -q --hard HEAD~1", f->repo);
    fx_write(f->repo, "db/migrations/002_orders.sql", "CREATE TABLE orders (id int);\n");
    free(fx_commit(f->repo, "C"));
    load_set(f);

    f->cfg.deployed_ref = b;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    fi = finding(f->report, "deployed-not-ancestor", NULL);
    assert_non_null(fi);
    assert_int_equal(fi->severity, DBM_SEV_WARNING);
    /* The trees are still compared: 002 differs from what was deployed. */
    assert_non_null(finding(f->report, "edited-deployed", "db/migrations/002_orders.sql"));

    free(b);
    fixture_free(f);
}

static void repository_owned_by_another_uid_is_checked(void **state)
{
    fixture *f = fixture_new();
    char *a, *b;

    if (geteuid() != 0)
        skip();
    write_sql(f, "001_users.sql", "users");
    a = fx_commit(f->repo, "A");
    write_sql(f, "002_orders.sql", "orders");
    b = fx_commit(f->repo, "B");
    load_set(f);
    fx_sh("chown -R 1234:1234 %s", f->repo);

    f->cfg.deployed_ref = a;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_string_equal(f->report->git.head, b);
    assert_int_equal(f->report->git.nchanges, 1);
    assert_null(finding(f->report, "not-a-git-repo", NULL));

    free(a);
    free(b);
    fixture_free(f);
}

/* Head is GITHUB_SHA when it names a commit of the repository, else HEAD. */
static void head_is_github_sha_when_it_is_a_commit(void **state)
{
    fixture *f = fixture_new();
    char *a, *b;

    write_sql(f, "001_users.sql", "users");
    a = fx_commit(f->repo, "A");
    write_sql(f, "002_orders.sql", "orders");
    b = fx_commit(f->repo, "B");
    load_set(f);

    f->cfg.head_sha = a;
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_string_equal(f->report->git.head, a);

    dbm_report_free(f->report);
    f->report = dbm_report_new("plan");
    f->cfg.head_sha = "0123456789abcdef0123456789abcdef01234567";
    assert_int_equal(dbm_gitcheck(f->report, &f->cfg, f->set, NULL), 0);
    assert_string_equal(f->report->git.head, b);

    free(a);
    free(b);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edited_and_deleted_deployed_migrations_block),
        cmocka_unit_test(renamed_and_edited_counts_as_edited),
        cmocka_unit_test(line_ending_change_is_not_an_edit),
        cmocka_unit_test(migrations_dir_missing_at_deployed_commit),
        cmocka_unit_test(history_is_checked_against_git),
        cmocka_unit_test(history_confirms_edits_and_deletions),
        cmocka_unit_test(bad_deployed_ref_is_a_configuration_error),
        cmocka_unit_test(shallow_clone_warns_once_and_skips_git_checks),
        cmocka_unit_test(outside_a_repository_is_a_notice),
        cmocka_unit_test(pull_request_is_checked_against_its_base),
        cmocka_unit_test(expect_deployed_is_a_compare_and_swap),
        cmocka_unit_test(deployed_commit_off_the_branch_is_a_warning),
        cmocka_unit_test(repository_owned_by_another_uid_is_checked),
        cmocka_unit_test(head_is_github_sha_when_it_is_a_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
