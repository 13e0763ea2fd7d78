#include "unit.h"

#include "common/error.h"
#include "common/log.h"
#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/dbm-emit-XXXXXX");
    unsetenv("GITHUB_ACTIONS");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    return rmdir(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* dbm_report_emit with stdout and stderr captured; the stdout text is returned (caller frees). */
static char *emit_quietly(const dbm_report *r, const dbm_emit_opts *o, int want)
{
    capture out, err;
    char *dropped;

    capture_start(&out, 1);
    capture_start(&err, 2);
    assert_int_equal(dbm_report_emit(r, o), want);
    dropped = capture_end(&err);
    free(dropped);
    return capture_end(&out);
}

static void summary_is_appended_and_report_replaced(void **state)
{
    char *summary = dbm_xasprintf("%s/summary", dir);
    char *report = dbm_xasprintf("%s/report.json", dir);
    dbm_emit_opts o = {.summary_path = summary, .report_path = report};
    dbm_report *r = sample_report();
    char *md = dbm_report_markdown(r, &o), *json = dbm_report_json(r);
    char *plain = dbm_report_terminal(r, false), *log = dbm_xasprintf("\n%s", plain);
    char *out, *text, *want;

    write_text(summary, "earlier step\n");
    write_text(report, "old report that is longer than nothing");
    out = emit_quietly(r, &o, 0);
    /* A job summary does not replace the log: the log has the plain text. */
    assert_string_equal(out, log);
    text = sample_read_file(summary);
    want = dbm_xasprintf("earlier step\n%s", md);
    assert_string_equal(text, want);
    free(text);
    text = sample_read_file(report);
    assert_string_equal(text, json);
    free(text);
    unlink(summary);
    unlink(report);
    free(want);
    free(out);
    free(md);
    free(json);
    free(plain);
    free(log);
    free(summary);
    free(report);
    dbm_report_free(r);
}

static void terminal_gets_the_plain_text_unless_quiet(void **state)
{
    dbm_emit_opts o = {0};
    dbm_report *r = sample_report();
    char *md = dbm_report_terminal(r, false);
    char *out = emit_quietly(r, &o, 0), *want = dbm_xasprintf("\n%s", md);

    assert_string_equal(out, want);
    free(out);
    o.quiet_terminal = true;
    out = emit_quietly(r, &o, 0);
    assert_string_equal(out, "");
    free(out);
    free(want);
    free(md);
    dbm_report_free(r);
}

static void run_that_read_nothing_prints_no_summary(void **state)
{
    dbm_emit_opts o = {0};
    dbm_report *r = dbm_report_new("apply");
    char *summary = dbm_xasprintf("%s/summary", dir);
    char *out, *text;

    dbm_report_set(&r->error, "unable to connect");
    out = emit_quietly(r, &o, 0);
    assert_string_equal(out, "");
    free(out);
    /* the job summary still tells the error */
    o.summary_path = summary;
    out = emit_quietly(r, &o, 0);
    free(out);
    text = sample_read_file(summary);
    assert_string_equal(text, "### ❌ db-migrate apply: unknown\n\n"
                              "> **Error:** unable to connect\n\n");
    free(text);
    unlink(summary);
    free(summary);
    dbm_report_free(r);
}

static void unwritable_files_fail_without_stopping_the_others(void **state)
{
    char *report = dbm_xasprintf("%s/report.json", dir);
    dbm_emit_opts o = {.summary_path = "/nonexistent-dir/summary",
                       .output_path = "/nonexistent-dir/output",
                       .report_path = report};
    dbm_report *r = sample_report();
    char *out, *text;

    out = emit_quietly(r, &o, DBM_EGENERIC);
    free(out);
    assert_string_equal(dbm_error_message(),
                        "unable to write the step outputs to '/nonexistent-dir/output': "
                        "No such file or directory");
    text = sample_read_file(report);
    assert_non_null(text);
    assert_true(strncmp(text, "{\n  \"command\": \"apply\"", 22) == 0);
    free(text);
    unlink(report);

    o.output_path = NULL;
    o.report_path = "/nonexistent-dir/report.json";
    out = emit_quietly(r, &o, DBM_EGENERIC);
    free(out);
    assert_string_equal(dbm_error_message(),
                        "unable to write the report to '/nonexistent-dir/report.json': "
                        "No such file or directory");
    /* a report asked for: its failure is the one told, and an error */
    o.output_path = "/nonexistent-dir/output";
    o.report_required = true;
    out = emit_quietly(r, &o, DBM_ECONFIG);
    free(out);
    assert_string_equal(dbm_error_message(),
                        "unable to write the report to '/nonexistent-dir/report.json': "
                        "No such file or directory");
    free(report);
    dbm_report_free(r);
}

static void report_dash_goes_to_stdout_and_the_log_to_stderr(void **state)
{
    dbm_emit_opts o = {.report_path = "-"};
    dbm_report *r = sample_report();
    char *json = dbm_report_json(r), *plain = dbm_report_terminal(r, false);
    char *log = dbm_xasprintf("\n%s", plain), *out, *err;
    capture cout, cerr;

    dbm_log_use_stderr(true);
    capture_start(&cout, 1);
    capture_start(&cerr, 2);
    assert_int_equal(dbm_report_emit(r, &o), 0);
    err = capture_end(&cerr);
    out = capture_end(&cout);
    dbm_log_use_stderr(false);
    assert_string_equal(out, json);
    /* the log alone: outside Actions its report lists the findings, so no annotation lines */
    assert_string_equal(err, log);
    assert_int_equal(access("-", F_OK), -1);
    free(out);
    free(err);
    free(log);
    free(plain);
    free(json);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary_is_appended_and_report_replaced),
        cmocka_unit_test(terminal_gets_the_plain_text_unless_quiet),
        cmocka_unit_test(report_dash_goes_to_stdout_and_the_log_to_stderr),
        cmocka_unit_test(run_that_read_nothing_prints_no_summary),
        cmocka_unit_test(unwritable_files_fail_without_stopping_the_others),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
