#include "unit.h"

#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

/* What dbm_report_emit writes on fd 1 or 2 when it writes nothing else; the other fd's
 * output is dropped. */
static char *annotations_on(int fd, const dbm_report *r)
{
    dbm_emit_opts o = {.quiet_terminal = true};
    capture c, other;
    char *dropped;

    capture_start(&c, fd);
    capture_start(&other, fd == 1 ? 2 : 1);
    assert_int_equal(dbm_report_emit(r, &o), 0);
    dropped = capture_end(&other);
    free(dropped);
    return capture_end(&c);
}

static void failures_and_findings_become_workflow_commands(void **state)
{
    dbm_report *r = sample_report();
    char *out;

    setenv("GITHUB_ACTIONS", "true", 1);
    out = annotations_on(1, r);
    assert_string_equal(
        out, "::error file=db/migrations/2_b.sql,line=4,col=14,title=Migration failed::relation "
             "\"users\" already exists%0Asecond line%0Ahint: drop it: first, 100%25 sure\n"
             "::error file=db/migrations/4_d.sql,line=1,title=db-migrate%3A edited-applied::"
             "'4_d.sql' was edited after deploy%0Ahint: add a new migration instead\n"
             "::warning file=db/migrations/3_c.sql,line=2,col=5,title=db-migrate%3A "
             "require-concurrent-index::CREATE INDEX blocks writes\n"
             "::notice title=db-migrate%3A info_rule::note #1 with `ticks` and 50%25\n");
    free(out);
    unsetenv("GITHUB_ACTIONS");
    dbm_report_free(r);
}

static void a_finding_the_dry_run_refuted_is_a_notice(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_finding *f = dbm_report_add_finding(r, DBM_SEV_WARNING, "alter-column-type", "m/1.sql", 3,
                                            1, "rewrites the table");
    char *out;

    dbm_report_set(&f->status, "refuted");
    setenv("GITHUB_ACTIONS", "true", 1);
    out = annotations_on(1, r);
    assert_string_equal(out, "::notice file=m/1.sql,line=3,col=1,title=db-migrate%3A "
                             "alter-column-type::rewrites the table\n");
    free(out);
    dbm_report_set(&f->status, "confirmed");
    out = annotations_on(1, r);
    assert_string_equal(out, "::warning file=m/1.sql,line=3,col=1,title=db-migrate%3A "
                             "alter-column-type::rewrites the table\n");
    free(out);
    unsetenv("GITHUB_ACTIONS");
    dbm_report_free(r);
}

static void properties_escape_percent_cr_lf_colon_and_comma(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "m/1,a:b%\r\n.sql", DBM_MIG_FAILED);
    char *out;

    dbm_report_set_error(m, "x: 1, y\r\n100%", NULL);
    dbm_report_add_finding(r, DBM_SEV_WARNING, "r,u:le%", "d:\\f,1.sql", 3, 0, "m%%\r\n:,");
    setenv("GITHUB_ACTIONS", "true", 1);
    out = annotations_on(1, r);
    assert_string_equal(out, "::error file=m/1%2Ca%3Ab%25%0D%0A.sql,title=Migration failed::"
                             "x: 1, y%0D%0A100%25\n"
                             "::warning file=d%3A\\f%2C1.sql,line=3,title=db-migrate%3A "
                             "r%2Cu%3Ale%25::m%25%0D%0A:,\n");
    free(out);
    unsetenv("GITHUB_ACTIONS");
    dbm_report_free(r);
}

static void error_position_comes_from_the_error_or_the_row(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "m/1_a.sql", DBM_MIG_FAILED);
    dbm_error_info *e = dbm_report_set_error(m, "boom", "XX000");
    char *out;

    e->line = 7;
    setenv("GITHUB_ACTIONS", "true", 1);
    out = annotations_on(1, r);
    /* no column: the line alone */
    assert_string_equal(out, "::error file=m/1_a.sql,line=7,title=Migration failed::boom\n");
    free(out);
    dbm_report_set(&e->file, "m/other.sql");
    out = annotations_on(1, r);
    assert_string_equal(out, "::error file=m/other.sql,line=7,title=Migration failed::boom\n");
    free(out);
    unsetenv("GITHUB_ACTIONS");
    dbm_report_free(r);
}

static void outside_actions_annotations_are_stderr_lines(void **state)
{
    dbm_report *r = sample_report();
    char *out;

    unsetenv("GITHUB_ACTIONS");
    out = annotations_on(2, r);
    assert_string_equal(out, "error: db/migrations/2_b.sql:4:14: relation \"users\" already "
                             "exists\nsecond line\nhint: drop it: first, 100% sure\n"
                             "error: db/migrations/4_d.sql:1:1: '4_d.sql' was edited after "
                             "deploy\nhint: add a new migration instead\n"
                             "warning: db/migrations/3_c.sql:2:5: CREATE INDEX blocks writes\n"
                             "notice: note #1 with `ticks` and 50%\n");
    free(out);
    /* and nothing on stdout */
    out = annotations_on(1, r);
    assert_string_equal(out, "");
    free(out);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failures_and_findings_become_workflow_commands),
        cmocka_unit_test(a_finding_the_dry_run_refuted_is_a_notice),
        cmocka_unit_test(properties_escape_percent_cr_lf_colon_and_comma),
        cmocka_unit_test(error_position_comes_from_the_error_or_the_row),
        cmocka_unit_test(outside_actions_annotations_are_stderr_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
