#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

/* Feed text's lines to the reader; returns how many it did not take (log lines). */
static int feed(dbm_frame_reader *fr, const char *text)
{
    char *copy = dbm_xstrdup(text), *save = NULL;
    int shown = 0;

    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        shown += !dbm_frame_reader_line(fr, line);
    free(copy);
    return shown;
}

/* The JSON report read back renders the same JSON and the same job summary. */
static void report_survives_the_trip_through_json(void **state)
{
    dbm_report *r = sample_report(), *back = dbm_report_new("apply");
    dbm_emit_opts opts = {0};
    char *json = dbm_report_json(r), *again, *md1, *md2;

    assert_int_equal(dbm_report_from_json(back, json, strlen(json)), 0);
    again = dbm_report_json(back);
    assert_string_equal(again, json);
    md1 = dbm_report_markdown(r, &opts);
    md2 = dbm_report_markdown(back, &opts);
    assert_string_equal(md2, md1);
    free(md1);
    free(md2);
    free(again);
    free(json);
    dbm_report_free(back);
    dbm_report_free(r);
}

/* A fleet's report (a shard in an ECS task, or one merged) read back: every row, its detail. */
static void fleet_report_survives_the_trip_through_json(void **state)
{
    dbm_report *r = dbm_report_new("apply"), *back = dbm_report_new(NULL);
    dbm_target_result *t;
    char *json, *again;

    r->parallel = 3;
    t = dbm_report_add_target(r, "eu-1", "eu");
    t->outcome = dbm_xstrdup("failed");
    t->exit_code = 1;
    t->error = dbm_xstrdup("unable to apply '2_b.sql'");
    t->stage = 1;
    t->position = 4;
    t->detail = sample_report();
    t = dbm_report_add_target(r, "us-1", NULL);
    t->outcome = dbm_xstrdup("skipped");
    dbm_report_fleet_close(r);
    dbm_error_clear();
    r->exit_code = 1;
    json = dbm_report_json(r);
    assert_int_equal(dbm_report_from_json(back, json, strlen(json)), 0);
    assert_int_equal(back->ntargets, 2);
    assert_int_equal(back->parallel, 3);
    assert_int_equal(back->targets[0].position, 4);
    assert_non_null(back->targets[0].detail);
    assert_null(back->targets[1].detail);
    again = dbm_report_json(back);
    assert_string_equal(again, json);
    free(again);
    free(json);
    dbm_report_free(back);
    dbm_report_free(r);
}

static void from_json_refuses_what_is_not_a_report(void **state)
{
    static const char *const bad[] = {"", "[]", "{\"status\": \"applied\"}", "not json", NULL};

    for (size_t i = 0; bad[i]; i++) {
        dbm_report *r = dbm_report_new("apply");
        assert_int_equal(dbm_report_from_json(r, bad[i], strlen(bad[i])), DBM_EGENERIC);
        dbm_report_free(r);
    }
}

/* A frame among log lines: the lines around it are the log's, the frame gives the JSON. */
static void frame_round_trips_among_log_lines(void **state)
{
    dbm_report *r = sample_report();
    char *json = dbm_report_json(r), *frame = dbm_report_frame(json);
    char *log = dbm_xasprintf("applied  1_a.sql\n%sdone\n", frame);
    dbm_frame_reader *fr = dbm_frame_reader_new();

    assert_int_equal(feed(fr, log), 2);
    assert_non_null(dbm_frame_reader_json(fr));
    assert_string_equal(dbm_frame_reader_json(fr), json);
    assert_false(dbm_frame_reader_broken(fr));
    /* No line of the frame is longer than a log line may safely be. */
    for (char *p = frame; *p; p += strcspn(p, "\n") + 1)
        assert_true(strcspn(p, "\n") <= 100);
    dbm_frame_reader_free(fr);
    free(log);
    free(frame);
    free(json);
    dbm_report_free(r);
}

/* A frame cut short, or with a line changed, gives no JSON and says it is broken. */
static void frame_cut_or_changed_is_broken(void **state)
{
    const char *json = "{\"command\": \"apply\", \"status\": \"applied\", \"x\": \"0123456789\"}";
    char *frame = dbm_report_frame(json), *cut, *changed;
    dbm_frame_reader *fr = dbm_frame_reader_new();

    cut = dbm_xstrndup(frame, strstr(frame, "db-migrate-report-end") - frame);
    feed(fr, cut);
    assert_null(dbm_frame_reader_json(fr));
    assert_true(dbm_frame_reader_broken(fr));
    dbm_frame_reader_free(fr);

    changed = dbm_xstrdup(frame);
    changed[strcspn(changed, "\n") + 3] ^= 0x01; /* a base64 letter of the first data line */
    fr = dbm_frame_reader_new();
    feed(fr, changed);
    assert_null(dbm_frame_reader_json(fr));
    assert_true(dbm_frame_reader_broken(fr));
    dbm_frame_reader_free(fr);

    /* An intact frame after a broken one is taken. */
    fr = dbm_frame_reader_new();
    feed(fr, cut);
    feed(fr, frame);
    assert_string_equal(dbm_frame_reader_json(fr), json);
    assert_false(dbm_frame_reader_broken(fr));
    dbm_frame_reader_free(fr);
    free(changed);
    free(cut);
    free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_survives_the_trip_through_json),
        cmocka_unit_test(fleet_report_survives_the_trip_through_json),
        cmocka_unit_test(from_json_refuses_what_is_not_a_report),
        cmocka_unit_test(frame_round_trips_among_log_lines),
        cmocka_unit_test(frame_cut_or_changed_is_broken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
