#include "unit.h"

#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/dbm-outputs-XXXXXX");
    unsetenv("GITHUB_ACTIONS");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    return rmdir(dir);
}

/* The step outputs file written for r (with report_path as the report file). Caller frees. */
static char *outputs_of(const dbm_report *r, const char *report_path)
{
    char *path = dbm_xasprintf("%s/output", dir);
    dbm_emit_opts o = {.output_path = path, .quiet_terminal = true};
    capture err;
    char *text, *dropped;

    if (report_path) {
        o.report_path = report_path;
        unlink(report_path);
    }
    capture_start(&err, 2);
    assert_int_equal(dbm_report_emit(r, &o), 0);
    dropped = capture_end(&err);
    free(dropped);
    text = sample_read_file(path);
    assert_non_null(text);
    unlink(path);
    free(path);
    if (report_path)
        unlink(report_path);
    return text;
}

static void outputs_say_status_counts_and_deployed_commit(void **state)
{
    dbm_report *r = sample_report();
    char *out = outputs_of(r, NULL);

    /* a failed run leaves the deployed commit where it was */
    assert_string_equal(out, "status=failed\n"
                             "applied-count=1\n"
                             "pending-count=2\n"
                             "applied-versions=1\n"
                             "deployed-sha=" SAMPLE_DEPLOYED "\n"
                             "report-file=\n");
    free(out);
    dbm_report_free(r);
}

static void successful_apply_moves_the_deployed_commit_to_head(void **state)
{
    dbm_report *r = sample_report();
    char *report = dbm_xasprintf("%s/report.json", dir);
    char *out;

    dbm_report_set(&r->status, "applied");
    out = outputs_of(r, report);
    assert_non_null(strstr(out, "\ndeployed-sha=" SAMPLE_HEAD "\nreport-file="));
    assert_non_null(strstr(out, "\nreport-file=/tmp/dbm-outputs-"));
    free(out);

    dbm_report_set(&r->status, "up-to-date");
    out = outputs_of(r, NULL);
    assert_non_null(strstr(out, "\ndeployed-sha=" SAMPLE_HEAD "\n"));
    free(out);

    /* a plan deploys nothing */
    dbm_report_set(&r->command, "plan");
    out = outputs_of(r, NULL);
    assert_non_null(strstr(out, "\ndeployed-sha=" SAMPLE_DEPLOYED "\n"));
    free(out);

    dbm_report_set(&r->git.deployed, NULL);
    out = outputs_of(r, NULL);
    assert_non_null(strstr(out, "\ndeployed-sha=\n"));
    free(out);
    free(report);
    dbm_report_free(r);
}

static void applied_versions_list_only_rows_applied_in_full(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *out;

    dbm_report_add_migration(r, "1", "a", "a.sql", DBM_MIG_APPLIED);
    dbm_report_add_migration(r, "2", "b", "b.sql", DBM_MIG_PENDING);
    dbm_report_set(&dbm_report_add_migration(r, "3", "c", "c.sql", DBM_MIG_APPLIED)->note,
                   "already applied");
    dbm_report_add_migration(r, "4", "d", "d.sql", DBM_MIG_APPLIED);
    out = outputs_of(r, NULL);
    /* no status recorded: the outputs say failed */
    assert_string_equal(out, "status=failed\n"
                             "applied-count=0\n"
                             "pending-count=0\n"
                             "applied-versions=1,4\n"
                             "deployed-sha=\n"
                             "report-file=\n");
    free(out);
    dbm_report_free(r);
}

static void multi_line_values_use_the_delimiter_form(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *out, *delim, *end;
    size_t n;

    dbm_report_set(&r->status, "two\nlines");
    out = outputs_of(r, NULL);
    assert_true(strncmp(out, "status<<dbm_EOF_", 16) == 0);
    end = strchr(out, '\n');
    n = (size_t)(end - (out + 8));
    delim = dbm_xstrndup(out + 8, n);
    assert_true(strncmp(end, "\ntwo\nlines\n", 11) == 0);
    assert_true(strncmp(end + 11, delim, n) == 0);
    assert_true(strncmp(end + 11 + n, "\napplied-count=0\n", 17) == 0);
    free(delim);
    free(out);
    dbm_report_free(r);
}

static void outputs_are_appended_to_the_file(void **state)
{
    char *path = dbm_xasprintf("%s/output", dir);
    dbm_report *r = dbm_report_new("apply");
    dbm_emit_opts o = {.output_path = path, .quiet_terminal = true};
    FILE *f = fopen(path, "w");
    char *text;

    fputs("earlier=1\n", f);
    fclose(f);
    dbm_report_set(&r->status, "up-to-date");
    assert_int_equal(dbm_report_emit(r, &o), 0);
    text = sample_read_file(path);
    assert_true(strncmp(text, "earlier=1\nstatus=up-to-date\n", 28) == 0);
    free(text);
    unlink(path);
    free(path);
    dbm_report_free(r);
}

/* A fleet's target row with its own report, holding the migrations given "version:status". */
static void add_target(dbm_report *r, const char *name, const char *const *migs, size_t n)
{
    dbm_target_result *t = dbm_report_add_target(r, name, NULL);
    int applied = 0;

    t->outcome = dbm_xstrdup("applied");
    t->detail = dbm_report_new("apply");
    dbm_report_set(&t->detail->format, "native");
    for (size_t i = 0; i < n; i++) {
        bool now = strchr(migs[i], 'A') != NULL;
        char *v = dbm_xstrndup(migs[i], strcspn(migs[i], ":"));
        dbm_report_add_migration(t->detail, v, "m", "m.sql",
                                 now ? DBM_MIG_APPLIED : DBM_MIG_PENDING);
        applied += now;
        free(v);
    }
    t->applied_count = t->detail->applied_count = applied;
}

static void fleet_applied_versions_are_the_union_over_targets_in_version_order(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    const char *const a[] = {"9:A", "10:A"}, *const b[] = {"2:A", "9:A", "10:A", "11:P"};
    const char *const c[] = {"10:P"};
    char *out;

    r->parallel = 4;
    add_target(r, "a", a, 2);
    add_target(r, "b", b, 4);
    add_target(r, "c", c, 1);
    assert_int_equal(dbm_report_fleet_close(r), 0);
    out = outputs_of(r, NULL);
    /* 10 after 9: versions compare as numbers; each version once however many applied it */
    assert_non_null(strstr(out, "\napplied-count=5\n"));
    assert_non_null(strstr(out, "\napplied-versions=2,9,10\n"));
    assert_non_null(strstr(out, "\ntargets-count=3\n"));
    free(out);
    dbm_report_free(r);
}

static void an_empty_shard_writes_targets_count_zero(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *out;

    r->parallel = 4;
    r->shard.index = 3;
    r->shard.count = 100;
    assert_int_equal(dbm_report_fleet_close(r), 0);
    out = outputs_of(r, NULL);
    assert_non_null(strstr(out, "status=up-to-date\n"));
    assert_non_null(strstr(out, "\napplied-versions=\n"));
    assert_non_null(strstr(out, "\ntargets-count=0\n"));
    free(out);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outputs_say_status_counts_and_deployed_commit),
        cmocka_unit_test(successful_apply_moves_the_deployed_commit_to_head),
        cmocka_unit_test(applied_versions_list_only_rows_applied_in_full),
        cmocka_unit_test(multi_line_values_use_the_delimiter_form),
        cmocka_unit_test(outputs_are_appended_to_the_file),
        cmocka_unit_test(fleet_applied_versions_are_the_union_over_targets_in_version_order),
        cmocka_unit_test(an_empty_shard_writes_targets_count_zero),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
