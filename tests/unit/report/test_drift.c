#include "unit.h"

#include "report/render.h"
#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

/*
 * A target whose record has a row per word of spec, "VERSION:STATE": a applied,
 * p pending, e edited, m missing (applied, no file), f pending and failed before.
 */
static void target(dbm_report *r, const char *name, const char *outcome, int exit_code,
                   const char *spec)
{
    dbm_target_result *t = dbm_report_add_target(r, name, NULL);
    char *copy = dbm_xstrdup(spec), *save = NULL;

    t->outcome = dbm_xstrdup(outcome);
    t->exit_code = exit_code;
    t->detail = dbm_report_new(r->command);
    dbm_report_set(&t->detail->format, "native");
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(w, ':');
        dbm_mig_status st;
        *colon = '\0';
        st = colon[1] == 'a'   ? DBM_MIG_APPLIED
             : colon[1] == 'e' ? DBM_MIG_EDITED
             : colon[1] == 'm' ? DBM_MIG_MISSING
                               : DBM_MIG_PENDING;
        dbm_report_add_migration(t->detail, w, "x", NULL, st)->failed_before = colon[1] == 'f';
    }
    free(copy);
}

static const report_drift_row *row_of(const report_drift *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->rows[i].target->name, name))
            return &d->rows[i];
    fail_msg("no row for %s", name);
    return NULL;
}

static void each_kind_of_drift_is_named_with_its_versions(void **state)
{
    dbm_report *r = dbm_report_new("status");
    report_drift *d;

    target(r, "clean", "up-to-date", 0, "001:a 002:a 003:a");
    target(r, "behind", "pending", 0, "001:a 002:p 003:p");
    target(r, "edited", "blocked", 1, "001:a 002:e 003:a");
    target(r, "missing", "blocked", 1, "001:a 002:a 003:a 004:m");
    target(r, "failed", "pending", 0, "001:a 002:a 003:f");
    target(r, "down", "unreachable", 3, "");
    d = report_drift_compute(r);
    assert_non_null(d);
    assert_int_equal(d->compared, 5);
    assert_false(d->same);
    assert_string_equal(d->newest, "004");
    assert_int_equal(row_of(d, "clean")->state, REPORT_DRIFT_CLEAN);
    assert_string_equal(row_of(d, "clean")->differs, "");
    assert_int_equal(row_of(d, "behind")->state, REPORT_DRIFT_BEHIND);
    assert_string_equal(row_of(d, "behind")->newest, "001");
    assert_string_equal(row_of(d, "behind")->differs, "behind by 2: 002, 003");
    assert_int_equal(row_of(d, "edited")->state, REPORT_DRIFT_EDITED);
    assert_string_equal(row_of(d, "edited")->differs, "edited after it was applied: 002");
    assert_int_equal(row_of(d, "missing")->state, REPORT_DRIFT_MISSING);
    assert_string_equal(row_of(d, "missing")->differs, "applied, file missing: 004");
    /* the failed version is pending, but it is told as failed, not as behind */
    assert_int_equal(row_of(d, "failed")->state, REPORT_DRIFT_FAILED);
    assert_string_equal(row_of(d, "failed")->differs, "failed before, not finished: 003");
    assert_int_equal(row_of(d, "down")->state, REPORT_DRIFT_NOT_COMPARED);
    assert_string_equal(row_of(d, "down")->differs, "not compared: unreachable");
    report_drift_free(d);
    dbm_report_free(r);
}

static void a_canary_is_ahead_and_the_rest_behind_it(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    report_drift *d;
    dbm_buf b = DBM_BUF_INIT;

    target(r, "canary", "up-to-date", 0, "001:a 002:a");
    target(r, "eu", "pending", 0, "001:a 002:p");
    target(r, "us", "pending", 0, "001:a 002:p");
    d = report_drift_compute(r);
    assert_int_equal(row_of(d, "canary")->state, REPORT_DRIFT_AHEAD);
    assert_string_equal(row_of(d, "canary")->differs, "ahead by 1: 002 (pending elsewhere)");
    assert_int_equal(row_of(d, "eu")->state, REPORT_DRIFT_BEHIND);
    report_drift_terminal(&b, d);
    assert_string_equal(dbm_buf_cstr(&b),
                        "Drift between targets: 2 behind, 1 ahead (3 of 3 targets compared)\n\n"
                        "  state         at   targets    what differs\n"
                        "  behind        001  2 targets  behind by 1: 002 — eu, us\n"
                        "  ahead         002  canary     ahead by 1: 002 (pending elsewhere)\n");
    dbm_buf_free(&b);
    report_drift_free(d);
    dbm_report_free(r);
}

static void the_same_versions_everywhere_is_one_line(void **state)
{
    dbm_report *r = dbm_report_new("verify");
    report_drift *d;
    dbm_buf b = DBM_BUF_INIT;

    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "t%d", i);
        /* a migration pending everywhere is the change to come, not drift */
        target(r, name, "pending", 0, "001:a 002:a 003:p");
    }
    d = report_drift_compute(r);
    assert_true(d->same);
    report_drift_terminal(&b, d);
    assert_string_equal(dbm_buf_cstr(&b),
                        "Drift between targets: none; all 3 targets at 002, clean\n");
    dbm_buf_free(&b);
    report_drift_markdown(&b, d, 10000);
    assert_string_equal(dbm_buf_cstr(&b), "### Drift between targets\n\n"
                                          "No drift: all 3 targets at 002, clean\n\n");
    dbm_buf_free(&b);
    report_drift_free(d);
    dbm_report_free(r);
}

static void apply_and_a_single_target_have_no_drift(void **state)
{
    dbm_report *r = dbm_report_new("apply");

    target(r, "a", "applied", 0, "001:a");
    target(r, "b", "pending", 0, "001:p");
    assert_null(report_drift_compute(r));
    dbm_report_free(r);
    r = dbm_report_new("status");
    target(r, "a", "applied", 0, "001:a");
    assert_null(report_drift_compute(r));
    dbm_report_free(r);
}

/* A fleet of 200: 150 clean, 40 behind alike, 8 edited alike, 1 missing, 1 down. */
static dbm_report *fleet_of_200(const char *command)
{
    dbm_report *r = dbm_report_new(command);

    for (int i = 0; i < 200; i++) {
        char name[16];
        snprintf(name, sizeof(name), "tenant-%03d", i);
        if (i < 40)
            target(r, name, "pending", 0, "20240101000000:a 20240301120000:p");
        else if (i < 48)
            target(r, name, "blocked", 1, "20240101000000:e 20240301120000:a");
        else if (i == 48)
            target(r, name, "blocked", 1, "20240101000000:a 20240301120000:a 20240401000000:m");
        else if (i == 49)
            target(r, name, "unreachable", 3, "");
        else
            target(r, name, "up-to-date", 0, "20240101000000:a 20240301120000:a");
    }
    return r;
}

static void two_hundred_targets_are_grouped_by_state(void **state)
{
    dbm_report *r = fleet_of_200("status");
    report_drift *d = report_drift_compute(r);
    dbm_buf b = DBM_BUF_INIT;

    report_drift_terminal(&b, d);
    assert_string_equal(
        dbm_buf_cstr(&b),
        "Drift between targets: 8 edited, 1 missing, 40 behind, 150 clean, 1 not-compared (199 "
        "of 200 targets compared)\n\n"
        "  state         at              targets      what differs\n"
        "  edited        20240301120000  8 targets    edited after it was applied: 20240101000000 "
        "— "
        "tenant-040, tenant-041, tenant-042, tenant-043, tenant-044, tenant-045, tenant-046, "
        "tenant-047\n"
        "  missing       20240401000000  tenant-048   applied, file missing: 20240401000000\n"
        "  behind        20240101000000  40 targets   behind by 1: 20240301120000 — tenant-000, "
        "tenant-001, tenant-002, tenant-003, tenant-004, tenant-005, tenant-006, tenant-007, "
        "tenant-008, tenant-009 and 30 more\n"
        "  clean         20240301120000  150 targets\n"
        "  not-compared  -               tenant-049   not compared: unreachable\n");
    dbm_buf_free(&b);
    report_drift_free(d);
    dbm_report_free(r);
}

static void the_json_names_every_target(void **state)
{
    dbm_report *r = fleet_of_200("dry-run");
    char *json = dbm_report_json(r);
    json_t *root = json_loads(json, 0, NULL), *drift = json_object_get(root, "drift");
    json_t *t40 = json_array_get(json_object_get(drift, "targets"), 40);

    assert_non_null(drift);
    assert_false(json_is_true(json_object_get(drift, "same")));
    assert_int_equal(json_integer_value(json_object_get(drift, "compared")), 199);
    assert_int_equal(json_array_size(json_object_get(drift, "targets")), 200);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(drift, "counts"), "behind")), 40);
    assert_string_equal(json_string_value(json_object_get(t40, "name")), "tenant-040");
    assert_string_equal(json_string_value(json_object_get(t40, "state")), "edited");
    assert_string_equal(json_string_value(json_array_get(json_object_get(t40, "edited"), 0)),
                        "20240101000000");
    json_decref(root);
    free(json);
    dbm_report_free(r);
}

static void the_fleet_comment_stays_under_its_bound(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_emit_opts o = {.limit = 60000 - 1024};
    char *md;

    for (int i = 0; i < 2000; i++) {
        char name[40];
        snprintf(name, sizeof(name), "a-rather-long-tenant-name-%04d", i);
        target(r, name, i < 30 ? "failed" : "pending", i < 30 ? 1 : 0,
               i % 3 ? "001:a 002:a 003:p" : "001:a 002:p 003:p");
        if (i < 30)
            dbm_report_set(&r->targets[i].error, "unable to run 'm/003.sql' in the dry-run: boom");
    }
    md = dbm_report_markdown(r, &o);
    assert_true(strlen(md) <= o.limit);
    /* failures first, then the drift, then the table */
    assert_non_null(strstr(md, "### Did not succeed"));
    assert_non_null(strstr(md, "- and 10 more targets (in the table below)"));
    assert_true(strstr(md, "### Did not succeed") < strstr(md, "### Drift between targets"));
    assert_true(strstr(md, "### Drift between targets") < strstr(md, "| outcome | target |"));
    assert_non_null(strstr(md, "more targets in the JSON report"));
    free(md);
    dbm_report_free(r);
}

/* What the annotations of a fleet write on stdout under Actions. */
static char *fleet_annotations(const dbm_report *r)
{
    capture c, other;
    char *dropped;

    setenv("GITHUB_ACTIONS", "true", 1);
    capture_start(&c, 1);
    capture_start(&other, 2);
    report_annotations(r);
    dropped = capture_end(&other);
    free(dropped);
    unsetenv("GITHUB_ACTIONS");
    return capture_end(&c);
}

static void a_failed_target_is_an_error_and_drift_a_warning(void **state)
{
    dbm_report *r = dbm_report_new("verify");
    char *out;

    target(r, "eu, 1", "blocked", 1, "001:e");
    dbm_report_set(&r->targets[0].error, "verify found 1 blocking problem");
    target(r, "us", "up-to-date", 0, "001:a");
    out = fleet_annotations(r);
    assert_string_equal(out, "::error title=db-migrate%3A eu%2C 1::blocked: verify found 1 "
                             "blocking problem\n"
                             "::warning title=db-migrate%3A eu%2C 1::drift: edited at 001: edited "
                             "after it was applied: 001\n");
    free(out);
    dbm_report_free(r);
}

static void a_finding_on_many_targets_is_annotated_once(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    char *out;

    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "t%d", i);
        target(r, name, "pending", 0, "001:p");
        dbm_report_add_finding(r->targets[i].detail, DBM_SEV_WARNING, "index-without-concurrently",
                               "m/001.sql", 1, 1, "CREATE INDEX blocks writes");
    }
    out = fleet_annotations(r);
    assert_string_equal(out, "::warning file=m/001.sql,line=1,col=1,title=db-migrate%3A "
                             "index-without-concurrently::CREATE INDEX blocks writes\n");
    free(out);
    dbm_report_free(r);
}

static void annotations_are_capped(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *out, *last;
    size_t lines = 0;

    for (int i = 0; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof(name), "t%02d", i);
        target(r, name, "unreachable", 3, "");
    }
    out = fleet_annotations(r);
    for (const char *p = out; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 11);
    assert_non_null(strstr(out, "::error title=db-migrate%3A t09::unreachable: see the summary\n"));
    last = strstr(out, "::error title=db-migrate::");
    assert_non_null(last);
    assert_string_equal(last, "::error title=db-migrate::and 15 more targets did not succeed (see "
                              "the summary)\n");
    free(out);
    dbm_report_free(r);
}

/*
 * One computation per closed record: the terminal, the summary, the JSON and
 * the annotations all read the drift kept on the record, and tell what a
 * fresh computation tells. A change to the rows drops it.
 */
static void every_rendering_reads_the_drift_computed_once(void **state)
{
    dbm_report *r = dbm_report_new("status");
    const report_drift *d;
    char *term, *md, *js, *ann, *again;
    json_t *j;

    target(r, "behind", "pending", 0, "001:a 002:p");
    target(r, "clean", "up-to-date", 0, "001:a 002:a");
    r->parallel = 2;
    assert_int_equal(dbm_report_fleet_close(r), 0);
    assert_null(r->drift_free); /* not computed before a rendering needs it */

    term = report_fleet_terminal(r);
    d = r->drift;
    assert_non_null(r->drift_free);
    assert_non_null(d);
    assert_string_equal(row_of(d, "behind")->differs, "behind by 1: 002");
    md = report_fleet_markdown(r, 65536);
    j = report_fleet_json(r);
    js = json_dumps(j, JSON_SORT_KEYS);
    ann = fleet_annotations(r);
    assert_ptr_equal(r->drift, d);
    assert_ptr_equal(report_fleet_drift(r), d);
    assert_non_null(strstr(term, "behind by 1: 002"));
    assert_non_null(strstr(md, "behind by 1: 002"));
    assert_non_null(strstr(js, "\"behind by 1: 002\""));
    assert_non_null(strstr(ann, "drift: behind at 001: behind by 1: 002"));

    /* Dropped, it is computed again, and the renderings are byte for byte the same. */
    dbm_report_drop_drift(r);
    assert_null(r->drift_free);
    again = report_fleet_terminal(r);
    assert_string_equal(again, term);
    free(again);
    again = report_fleet_markdown(r, 65536);
    assert_string_equal(again, md);
    free(again);
    json_decref(j);
    j = report_fleet_json(r);
    again = json_dumps(j, JSON_SORT_KEYS);
    assert_string_equal(again, js);
    free(again);

    /* Closing again, or a new target, drops it: the rows it points into move. */
    assert_non_null(r->drift_free);
    assert_int_equal(dbm_report_fleet_close(r), 0);
    assert_null(r->drift_free);
    assert_non_null(report_fleet_drift(r));
    target(r, "new", "pending", 0, "001:p 002:p");
    assert_null(r->drift_free);
    assert_int_equal(report_fleet_drift(r)->n, 3);

    json_decref(j);
    free(term);
    free(md);
    free(js);
    free(ann);
    dbm_report_free(r);
}

/* A record without drift (apply) keeps that answer too. */
static void no_drift_is_kept_as_none(void **state)
{
    dbm_report *r = dbm_report_new("apply");

    target(r, "a", "applied", 0, "001:a");
    target(r, "b", "applied", 0, "001:a");
    assert_null(report_fleet_drift(r));
    assert_non_null(r->drift_free);
    assert_null(r->drift);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_kind_of_drift_is_named_with_its_versions),
        cmocka_unit_test(a_canary_is_ahead_and_the_rest_behind_it),
        cmocka_unit_test(the_same_versions_everywhere_is_one_line),
        cmocka_unit_test(apply_and_a_single_target_have_no_drift),
        cmocka_unit_test(two_hundred_targets_are_grouped_by_state),
        cmocka_unit_test(the_json_names_every_target),
        cmocka_unit_test(the_fleet_comment_stays_under_its_bound),
        cmocka_unit_test(a_failed_target_is_an_error_and_drift_a_warning),
        cmocka_unit_test(a_finding_on_many_targets_is_annotated_once),
        cmocka_unit_test(annotations_are_capped),
        cmocka_unit_test(every_rendering_reads_the_drift_computed_once),
        cmocka_unit_test(no_drift_is_kept_as_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
