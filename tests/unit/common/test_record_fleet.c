#include "unit.h"

#include "common/error.h"
#include "common/record.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static void rank_puts_a_failed_migration_above_down_and_locked(void **state)
{
    /* exit status -> rank: signal, usage, failed, connect, lock, done */
    static const int order[] = {143, 2, 1, 3, 4, 0};

    for (size_t i = 0; i + 1 < sizeof(order) / sizeof(order[0]); i++)
        assert_true(dbm_fleet_rank(order[i]) > dbm_fleet_rank(order[i + 1]));
    assert_int_equal(dbm_fleet_rank(130), dbm_fleet_rank(143));
    assert_int_equal(dbm_fleet_rank(0), 0);
}

static void outcome_comes_from_the_exit_status_then_the_status(void **state)
{
    static const struct {
        int exit_status;
        const char *status, *want;
    } cases[] = {
        {0, "applied", "applied"}, {0, NULL, "up-to-date"},   {0, "pending", "pending"},
        {1, "failed", "failed"},   {1, "blocked", "blocked"}, {2, "failed", "error"},
        {3, NULL, "unreachable"},  {4, "failed", "locked"},   {143, "failed", "cancelled"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_string_equal(dbm_target_outcome(cases[i].exit_status, cases[i].status),
                            cases[i].want);
}

static void add(dbm_report *r, const char *name, int exit_code, const char *outcome, size_t stage,
                size_t position, int applied)
{
    dbm_target_result *t = dbm_report_add_target(r, name, NULL);

    t->exit_code = exit_code;
    t->outcome = dbm_xstrdup(outcome);
    t->stage = stage;
    t->position = position;
    t->applied_count = applied;
}

static char *names(const dbm_report *r)
{
    dbm_buf b = DBM_BUF_INIT;

    for (size_t i = 0; i < r->ntargets; i++)
        dbm_buf_printf(&b, "%s%s", i ? " " : "", r->targets[i].name);
    return dbm_buf_detach(&b);
}

static void close_orders_failures_first_then_stage_position_and_name(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *order;

    /* added in no particular order, as shards' reports arrive */
    add(r, "us-2", 0, "applied", 2, 4, 2);
    add(r, "down", 3, "unreachable", 1, 3, 0);
    add(r, "late", 0, "skipped", 2, 5, 0);
    add(r, "canary", 0, "applied", 0, 0, 2);
    add(r, "eu-b", 0, "applied", 1, 1, 1);
    add(r, "eu-a", 0, "applied", 1, 1, 1); /* same position (a schema of one target): by name */
    add(r, "broken", 1, "failed", 1, 2, 1);
    assert_int_equal(dbm_report_fleet_close(r), DBM_EFAILED);
    order = names(r);
    assert_string_equal(order, "broken down late canary eu-a eu-b us-2");
    assert_string_equal(r->status, "failed");
    assert_int_equal(r->applied_count, 7);
    assert_string_equal(dbm_error_message(),
                        "2 of 7 targets did not succeed: broken (failed), down (unreachable)");
    free(order);
    dbm_report_free(r);
}

static void close_of_a_fleet_that_went_well_is_ok(void **state)
{
    dbm_report *r = dbm_report_new("status");

    assert_int_equal(dbm_report_fleet_close(r), DBM_OK); /* a shard with no target */
    assert_string_equal(r->status, "up-to-date");
    add(r, "a", 0, "up-to-date", 0, 0, 0);
    add(r, "b", 0, "pending", 0, 1, 0);
    assert_int_equal(dbm_report_fleet_close(r), DBM_OK);
    assert_string_equal(r->status, "pending");
    add(r, "c", 4, "locked", 0, 2, 0);
    assert_int_equal(dbm_report_fleet_close(r), DBM_ELOCKED);
    assert_string_equal(r->targets[0].name, "c");
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rank_puts_a_failed_migration_above_down_and_locked),
        cmocka_unit_test(outcome_comes_from_the_exit_status_then_the_status),
        cmocka_unit_test(close_orders_failures_first_then_stage_position_and_name),
        cmocka_unit_test(close_of_a_fleet_that_went_well_is_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
