#include "unit.h"

#include "command/run.h"
#include "common/record.h"
#include "common/util.h"
#include "config_file.h"

#include <stdlib.h>
#include <string.h>

/*
 * The set and the history are built by hand, as plain structs on the stack:
 * the classification reads versions, checksums, statuses and the repeatable
 * flag, nothing else. Files are listed in version order, as a set is.
 */
typedef struct {
    const char *version, *checksum;
    bool repeatable;
} file_spec;

typedef struct {
    const char *version, *checksum, *status;
} row_spec;

#define MAXN 8

typedef struct {
    dbm_migration items[MAXN];
    char *display[MAXN];
    dbm_migration_set set;
    dbm_history_row rows[MAXN];
    dbm_history history;
    dbm_run_state state[MAXN];
    bool missing[MAXN];
} fixture;

/* files and rows end with an entry whose version is NULL. */
static void build(fixture *fx, dbm_format format, const file_spec *files, const row_spec *rows)
{
    memset(fx, 0, sizeof(*fx));
    fx->set.items = fx->items;
    fx->set.format = format;
    for (size_t i = 0; files[i].version; i++) {
        dbm_migration *m = &fx->items[fx->set.count++];
        m->version = (char *)files[i].version;
        m->name = (char *)"name";
        m->path = (char *)files[i].version;
        m->repeatable = files[i].repeatable;
        snprintf(m->checksum, sizeof(m->checksum), "%s", files[i].checksum);
        fx->display[i] = (char *)files[i].version;
    }
    fx->history.exists = true;
    fx->history.rows = fx->rows;
    for (size_t i = 0; rows && rows[i].version; i++) {
        dbm_history_row *r = &fx->rows[fx->history.count++];
        r->version = (char *)rows[i].version;
        r->name = (char *)"name";
        r->checksum = (char *)rows[i].checksum;
        r->status = (char *)rows[i].status;
    }
}

static void classify(fixture *fx)
{
    dbm_run_classify_files(fx->state, fx->missing, &fx->set, &fx->history);
}

static void file_with_the_recorded_checksum_is_applied(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:a", false}, {NULL}},
          (row_spec[]){{"001", "sha256:a", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_APPLIED);
    assert_false(fx.missing[0]);
}

static void file_not_recorded_is_pending(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"001", "sha256:a", false}, {"002", "sha256:b", false}, {NULL}},
          (row_spec[]){{"001", "sha256:a", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_APPLIED);
    assert_int_equal(fx.state[1], DBM_RUN_PENDING);
    assert_true(dbm_run_is_pending(fx.state[1]));
    assert_false(dbm_run_is_pending(fx.state[0]));
}

static void without_history_every_file_is_pending(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"001", "sha256:a", false}, {"002", "sha256:b", false}, {NULL}}, NULL);
    dbm_run_classify_files(fx.state, NULL, &fx.set, NULL);
    assert_int_equal(fx.state[0], DBM_RUN_PENDING);
    assert_int_equal(fx.state[1], DBM_RUN_PENDING);
    assert_null(dbm_run_newest_applied(&fx.set, NULL));
}

static void file_recorded_with_another_checksum_is_edited(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:new", false}, {NULL}},
          (row_spec[]){{"001", "sha256:old", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_EDITED);
    assert_false(dbm_run_is_pending(fx.state[0]));
}

static void repeatable_file_with_another_checksum_is_pending_again(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_FLYWAY,
          (file_spec[]){{"1", "sha256:a", false}, {"R__view", "sha256:new", true}, {NULL}},
          (row_spec[]){{"1", "sha256:a", "applied"}, {"R__view", "sha256:old", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_APPLIED);
    assert_int_equal(fx.state[1], DBM_RUN_PENDING);
}

static void file_recorded_as_failed_is_resumed(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:a", false}, {NULL}},
          (row_spec[]){{"001", "sha256:a", "failed"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_RESUME);
    assert_true(dbm_run_is_pending(fx.state[0]));
}

static void file_older_than_the_newest_applied_is_out_of_order(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"001", "sha256:a", false},
                        {"002", "sha256:b", false},
                        {"003", "sha256:c", false},
                        {"004", "sha256:d", false},
                        {NULL}},
          (row_spec[]){{"001", "sha256:a", "applied"}, {"003", "sha256:c", "applied"}, {NULL}});
    classify(&fx);
    assert_string_equal(dbm_run_newest_applied(&fx.set, &fx.history), "003");
    assert_int_equal(fx.state[1], DBM_RUN_OUT_OF_ORDER);
    assert_true(dbm_run_is_pending(fx.state[1]));
    assert_int_equal(fx.state[3], DBM_RUN_PENDING);
}

static void versions_compare_as_numbers_for_out_of_order(void **state)
{
    fixture fx;
    /* "9" < "10" as numbers; as strings "9" would be the newer one. */
    build(&fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"9", "sha256:a", false}, {"10", "sha256:b", false}, {NULL}},
          (row_spec[]){{"10", "sha256:b", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[0], DBM_RUN_OUT_OF_ORDER);
    assert_int_equal(fx.state[1], DBM_RUN_APPLIED);
}

static void failed_and_repeatable_rows_are_not_the_newest_applied(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_FLYWAY,
          (file_spec[]){{"1", "sha256:a", false},
                        {"2", "sha256:b", false},
                        {"3", "sha256:c", false},
                        {"R__view", "sha256:v", true},
                        {NULL}},
          (row_spec[]){{"1", "sha256:a", "applied"},
                       {"3", "sha256:c", "failed"},
                       {"R__view", "sha256:v", "applied"},
                       {NULL}});
    classify(&fx);
    assert_string_equal(dbm_run_newest_applied(&fx.set, &fx.history), "1");
    assert_int_equal(fx.state[1], DBM_RUN_PENDING);
    assert_int_equal(fx.state[2], DBM_RUN_RESUME);
    assert_int_equal(fx.state[3], DBM_RUN_APPLIED);
}

static void repeatable_file_is_never_out_of_order(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_FLYWAY,
          (file_spec[]){{"5", "sha256:a", false}, {"R__view", "sha256:v", true}, {NULL}},
          (row_spec[]){{"5", "sha256:a", "applied"}, {NULL}});
    classify(&fx);
    assert_int_equal(fx.state[1], DBM_RUN_PENDING);
}

static void history_row_without_a_file_is_missing(void **state)
{
    fixture fx;
    build(&fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:a", false}, {NULL}},
          (row_spec[]){{"001", "sha256:a", "applied"},
                       {"002", "sha256:b", "applied"},
                       {"003", "sha256:c", "failed"},
                       {NULL}});
    classify(&fx);
    assert_false(fx.missing[0]);
    assert_true(fx.missing[1]);
    assert_true(fx.missing[2]);
}

/* ---- the findings dbm_run_classify adds for the states ---------------------------------- */

typedef struct {
    fixture fx;
    dbm_config cfg;
    dbm_run_ctx ctx;
} run_fixture;

static void run_classify(run_fixture *rf, bool out_of_order_allow, bool missing_blocks)
{
    memset(&rf->cfg, 0, sizeof(rf->cfg));
    rf->cfg.migrations_dir = (char *)"migrations";
    rf->cfg.out_of_order_allow = out_of_order_allow;
    memset(&rf->ctx, 0, sizeof(rf->ctx));
    rf->ctx.cfg = &rf->cfg;
    rf->ctx.report = dbm_report_new("plan");
    rf->ctx.set = &rf->fx.set;
    rf->ctx.history = &rf->fx.history;
    rf->ctx.state = rf->fx.state;
    rf->ctx.display = rf->fx.display;
    dbm_run_classify(&rf->ctx, missing_blocks);
}

static const dbm_finding *find_rule(const dbm_report *r, const char *rule)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0)
            return &r->findings[i];
    return NULL;
}

static void build_out_of_order(fixture *fx)
{
    build(fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"001", "sha256:a", false}, {"002", "sha256:b", false}, {NULL}},
          (row_spec[]){{"002", "sha256:b", "applied"}, {NULL}});
}

static void out_of_order_file_blocks_by_default(void **state)
{
    run_fixture rf;
    const dbm_finding *f;

    build_out_of_order(&rf.fx);
    run_classify(&rf, false, false);
    assert_int_equal(rf.fx.state[0], DBM_RUN_OUT_OF_ORDER);
    assert_non_null(f = find_rule(rf.ctx.report, "out-of-order"));
    assert_int_equal(f->severity, DBM_SEV_ERROR);
    assert_string_equal(f->file, "001");
    assert_non_null(strstr(f->message, "newest applied version 002"));
    assert_non_null(f->hint);
    assert_true(dbm_report_has_blocking(rf.ctx.report));
    dbm_report_free(rf.ctx.report);
}

static void out_of_order_allow_keeps_the_state_without_a_finding(void **state)
{
    run_fixture rf;

    build_out_of_order(&rf.fx);
    run_classify(&rf, true, false);
    assert_int_equal(rf.fx.state[0], DBM_RUN_OUT_OF_ORDER);
    assert_int_equal(rf.ctx.report->nfindings, 0);
    assert_false(dbm_report_has_blocking(rf.ctx.report));
    dbm_report_free(rf.ctx.report);
}

static void edited_applied_file_blocks_naming_both_checksums(void **state)
{
    run_fixture rf;
    const dbm_finding *f;

    build(&rf.fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:new", false}, {NULL}},
          (row_spec[]){{"001", "sha256:old", "applied"}, {NULL}});
    run_classify(&rf, true, false);
    assert_non_null(f = find_rule(rf.ctx.report, "edited-applied"));
    assert_int_equal(f->severity, DBM_SEV_ERROR);
    assert_non_null(strstr(f->message, "history sha256:old, file sha256:new"));
    assert_int_equal(rf.ctx.report->nfindings, 1);
    dbm_report_free(rf.ctx.report);
}

static void missing_file_warns_and_blocks_only_when_asked(void **state)
{
    run_fixture rf;
    const dbm_finding *f;

    for (int blocks = 0; blocks <= 1; blocks++) {
        build(&rf.fx, DBM_FORMAT_NATIVE, (file_spec[]){{"001", "sha256:a", false}, {NULL}},
              (row_spec[]){{"001", "sha256:a", "applied"}, {"000", "sha256:z", "applied"}, {NULL}});
        run_classify(&rf, false, blocks);
        assert_non_null(f = find_rule(rf.ctx.report, "applied-file-missing"));
        assert_int_equal(f->severity, blocks ? DBM_SEV_ERROR : DBM_SEV_WARNING);
        assert_non_null(strstr(f->message, "version 000"));
        assert_non_null(strstr(f->message, "'migrations'"));
        assert_int_equal(rf.ctx.report->nfindings, 1);
        dbm_report_free(rf.ctx.report);
    }
}

static void applied_pending_and_resumed_files_add_no_finding(void **state)
{
    run_fixture rf;

    build(&rf.fx, DBM_FORMAT_NATIVE,
          (file_spec[]){{"001", "sha256:a", false},
                        {"002", "sha256:b", false},
                        {"003", "sha256:c", false},
                        {NULL}},
          (row_spec[]){{"001", "sha256:a", "applied"}, {"002", "sha256:b", "failed"}, {NULL}});
    run_classify(&rf, false, true);
    assert_int_equal(rf.fx.state[0], DBM_RUN_APPLIED);
    assert_int_equal(rf.fx.state[1], DBM_RUN_RESUME);
    assert_int_equal(rf.fx.state[2], DBM_RUN_PENDING);
    assert_int_equal(rf.ctx.report->nfindings, 0);
    dbm_report_free(rf.ctx.report);
}

/* ---- dbm_run_fail_on: fail-on, the config file's rule levels, a dry-run's verdict -------- */

static void rule_levels_and_fail_on_decide_what_fails(void **state)
{
    static const struct {
        const char *level; /* the rule's level in db-migrate.yml, NULL when not named */
        int fail_on;
        bool refuted;
        dbm_severity want;
    } cases[] = {
        {NULL, DBM_FAIL_ON_ERROR, false, DBM_SEV_WARNING},
        {NULL, DBM_FAIL_ON_WARNING, false, DBM_SEV_ERROR},
        {NULL, DBM_FAIL_ON_WARNING, true, DBM_SEV_WARNING},
        {"warning", DBM_FAIL_ON_ERROR, false, DBM_SEV_WARNING},
        {"warning", DBM_FAIL_ON_WARNING, false, DBM_SEV_ERROR},
        {"error", DBM_FAIL_ON_ERROR, false, DBM_SEV_ERROR},
        {"error", DBM_FAIL_ON_ERROR, true, DBM_SEV_WARNING},
        {"error", DBM_FAIL_ON_NEVER, false, DBM_SEV_WARNING},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_config cfg;
        dbm_run_ctx ctx;
        dbm_finding *f;
        char *yaml = dbm_xasprintf("rules:\n  drop-column: %s\n",
                                   cases[i].level ? cases[i].level : "warning");

        memset(&cfg, 0, sizeof(cfg));
        memset(&ctx, 0, sizeof(ctx));
        cfg.fail_on = cases[i].fail_on;
        if (cases[i].level)
            assert_int_equal(dbm_config_file_parse(&cfg.file, "db-migrate.yml", yaml, strlen(yaml)),
                             0);
        ctx.cfg = &cfg;
        ctx.report = dbm_report_new("plan");
        f = dbm_report_add_finding(ctx.report, DBM_SEV_WARNING, "drop-column", "m.sql", 1, 1,
                                   "column dropped");
        if (cases[i].refuted)
            dbm_report_set(&f->status, "refuted");
        dbm_run_fail_on(&ctx);
        if (ctx.report->findings[0].severity != cases[i].want)
            fail_msg("case %zu: severity %d, want %d", i, (int)ctx.report->findings[0].severity,
                     (int)cases[i].want);
        dbm_report_free(ctx.report);
        dbm_config_file_free(cfg.file);
        free(yaml);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_with_the_recorded_checksum_is_applied),
        cmocka_unit_test(file_not_recorded_is_pending),
        cmocka_unit_test(without_history_every_file_is_pending),
        cmocka_unit_test(file_recorded_with_another_checksum_is_edited),
        cmocka_unit_test(repeatable_file_with_another_checksum_is_pending_again),
        cmocka_unit_test(file_recorded_as_failed_is_resumed),
        cmocka_unit_test(file_older_than_the_newest_applied_is_out_of_order),
        cmocka_unit_test(versions_compare_as_numbers_for_out_of_order),
        cmocka_unit_test(failed_and_repeatable_rows_are_not_the_newest_applied),
        cmocka_unit_test(repeatable_file_is_never_out_of_order),
        cmocka_unit_test(history_row_without_a_file_is_missing),
        cmocka_unit_test(out_of_order_file_blocks_by_default),
        cmocka_unit_test(out_of_order_allow_keeps_the_state_without_a_finding),
        cmocka_unit_test(edited_applied_file_blocks_naming_both_checksums),
        cmocka_unit_test(missing_file_warns_and_blocks_only_when_asked),
        cmocka_unit_test(applied_pending_and_resumed_files_add_no_finding),
        cmocka_unit_test(rule_levels_and_fail_on_decide_what_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
