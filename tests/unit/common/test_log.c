#include "unit.h"

#include "common/log.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run fn with stdout and stderr sent to files; *out and *err get their text (caller frees). */
static void captured(void (*fn)(void), char **out, char **err)
{
    FILE *tmp[2] = {tmpfile(), tmpfile()};
    int saved[2];
    char **text[2] = {out, err};

    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        saved[i] = dup(i + 1);
        dup2(fileno(tmp[i]), i + 1);
    }
    fn();
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        dbm_buf b = DBM_BUF_INIT;
        char chunk[1024];
        size_t n;
        dup2(saved[i], i + 1);
        close(saved[i]);
        rewind(tmp[i]);
        while ((n = fread(chunk, 1, sizeof(chunk), tmp[i])) > 0)
            dbm_buf_put(&b, chunk, n);
        fclose(tmp[i]);
        *text[i] = dbm_buf_detach(&b);
    }
}

static void annotate_every_form(void)
{
    dbm_annotate("error", "a.sql", 3, 0, "T", "at line");
    dbm_annotate("warning", "a.sql", 0, 0, NULL, "file only");
    dbm_annotate("notice", NULL, 0, 0, "Title: x", "no file");
    dbm_annotate("error", NULL, 0, 0, NULL, "bare");
}

static void annotations_under_actions_are_workflow_commands(void **state)
{
    char *out, *err;

    setenv("GITHUB_ACTIONS", "true", 1);
    captured(annotate_every_form, &out, &err);
    unsetenv("GITHUB_ACTIONS");
    assert_string_equal(out, "::error file=a.sql,line=3,title=T::at line\n"
                             "::warning file=a.sql::file only\n"
                             "::notice title=Title%3A x::no file\n"
                             "::error::bare\n");
    assert_string_equal(err, "");
    free(out);
    free(err);
}

static void annotations_elsewhere_are_compiler_style_lines(void **state)
{
    char *out, *err;

    unsetenv("GITHUB_ACTIONS");
    captured(annotate_every_form, &out, &err);
    assert_string_equal(out, "");
    assert_string_equal(err, "error: a.sql:3:1: at line\n"
                             "warning: a.sql: file only\n"
                             "notice: no file\n"
                             "error: bare\n");
    free(out);
    free(err);
}

static void warn_group_and_mask(void)
{
    dbm_log_group("Applying");
    dbm_warn("slow: %d ms", 5);
    dbm_mask("s3cr%t");
    dbm_mask("");
    dbm_log_endgroup();
}

static void groups_warnings_and_masks_follow_the_runner(void **state)
{
    char *out, *err;

    setenv("GITHUB_ACTIONS", "true", 1);
    captured(warn_group_and_mask, &out, &err);
    unsetenv("GITHUB_ACTIONS");
    assert_string_equal(out, "::group::Applying\n"
                             "::warning::slow: 5 ms\n"
                             "::add-mask::s3cr%25t\n"
                             "::endgroup::\n");
    assert_string_equal(err, "");
    free(out);
    free(err);

    captured(warn_group_and_mask, &out, &err);
    assert_string_equal(out, "== Applying\n");
    assert_string_equal(err, "warning: slow: 5 ms\n");
    free(out);
    free(err);
}

static void log_lines_errors_and_reports(void)
{
    dbm_log("applied  %s", "m/1_a \"b\".sql");
    dbm_log("bad \xff byte");
    dbm_log_error("unable to connect", "check the host");
    dbm_log_error("no hint", NULL);
    dbm_log_report("db-migrate plan: 1 pending", "{\"command\": \"plan\"}");
}

/*
 * Each line's leading "timestamp":"YYYY-MM-DDTHH:MM:SS.mmmZ", checked for its
 * shape and taken out, so that the rest compares as text.
 */
static void strip_stamps(char *s)
{
    static const char key[] = "{\"timestamp\":\"";
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    char *p;

    for (p = s; (p = strstr(p, key)) != NULL; p++) {
        char *v = p + strlen(key);

        for (size_t i = 0; shape[i]; i++)
            if (shape[i] == 'd' ? !isdigit((unsigned char)v[i]) : v[i] != shape[i])
                fail_msg("timestamp of the wrong shape: %.40s", p);
        assert_memory_equal(v + strlen(shape), "\",", 2);
        memmove(p + 1, v + strlen(shape) + 2, strlen(v + strlen(shape) + 2) + 1);
    }
}

static void json_log_is_one_object_a_line_and_commands_stay_commands(void **state)
{
    char *out, *err;

    unsetenv("GITHUB_ACTIONS");
    dbm_log_use_json(true);
    captured(log_lines_errors_and_reports, &out, &err);
    strip_stamps(out);
    strip_stamps(err);
    assert_string_equal(out, "{\"level\":\"INFO\",\"message\":\"applied  m/1_a \\\"b\\\".sql\"}\n"
                             "{\"level\":\"INFO\",\"message\":\"bad ? byte\"}\n"
                             "{\"level\":\"INFO\",\"message\":\"db-migrate plan: 1 pending\","
                             "\"report\":{\"command\":\"plan\"}}\n");
    assert_string_equal(err, "{\"level\":\"ERROR\",\"message\":\"unable to connect\","
                             "\"hint\":\"check the host\"}\n"
                             "{\"level\":\"ERROR\",\"message\":\"no hint\"}\n");
    free(out);
    free(err);

    captured(annotate_every_form, &out, &err);
    strip_stamps(err);
    assert_string_equal(err, "{\"level\":\"ERROR\",\"message\":\"at line\",\"file\":\"a.sql\","
                             "\"line\":3}\n"
                             "{\"level\":\"WARN\",\"message\":\"file only\",\"file\":\"a.sql\"}\n"
                             "{\"level\":\"INFO\",\"message\":\"no file\"}\n"
                             "{\"level\":\"ERROR\",\"message\":\"bare\"}\n");
    free(out);
    free(err);

    /* Under Actions, masks, groups and annotations are what the runner reads. */
    setenv("GITHUB_ACTIONS", "true", 1);
    captured(warn_group_and_mask, &out, &err);
    unsetenv("GITHUB_ACTIONS");
    assert_string_equal(out, "::group::Applying\n"
                             "::warning::slow: 5 ms\n"
                             "::add-mask::s3cr%25t\n"
                             "::endgroup::\n");
    free(out);
    free(err);
    dbm_log_use_json(false);
}

static void printable_replaces_control_characters(void **state)
{
    char *p = dbm_printable("a\nb\tc\x7f"
                            "d é");
    assert_string_equal(p, "a?b?c?d é");
    free(p);
    p = dbm_printable("1_caf\xe9.sql\xc3");
    assert_string_equal(p, "1_caf\\xe9.sql\\xc3");
    free(p);
    p = dbm_printable(NULL);
    assert_string_equal(p, "");
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(annotations_under_actions_are_workflow_commands),
        cmocka_unit_test(annotations_elsewhere_are_compiler_style_lines),
        cmocka_unit_test(groups_warnings_and_masks_follow_the_runner),
        cmocka_unit_test(json_log_is_one_object_a_line_and_commands_stay_commands),
        cmocka_unit_test(printable_replaces_control_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
