#include "unit.h"

#include "common/error.h"
#include "migration/applied.h"
#include "migration/migration.h"

#include <string.h>

/* A history of the given versions, all applied (not indexed: lookups scan). */
static dbm_history make_history(dbm_history_row *rows, const char *const *versions, size_t n)
{
    dbm_history h;

    memset(&h, 0, sizeof(h));
    memset(rows, 0, n * sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        rows[i].version = (char *)versions[i];
        rows[i].status = (char *)"applied";
    }
    h.rows = rows;
    h.count = n;
    h.exists = true;
    return h;
}

static void rollback_boundary_without_target_undoes_the_newest_alone(void **state)
{
    /* Recorded out of version order (out-of-order: allow), and a repeatable. */
    static const char *const v[] = {"20251204212540", "20251205093000", "R__views", "20251201"};
    dbm_history_row rows[4];
    dbm_history h = make_history(rows, v, 4);
    const char *b = NULL;

    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, NULL), 0);
    assert_string_equal(b, "20251204212540");
    /* 0 undoes every one; a recorded version is a boundary as it is. */
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, "0"), 0);
    assert_null(b);
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, "20251201"), 0);
    assert_string_equal(b, "20251201");
    /* One recorded version: no target undoes it. */
    h.count = 1;
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, NULL), 0);
    assert_null(b);
    /* None: nothing to undo, and no message. */
    h.count = 0;
    dbm_error_clear();
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, NULL), DBM_ENOTFOUND);
    assert_string_equal(dbm_error_message(), "");
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, "0"), DBM_ENOTFOUND);
}

static void rollback_boundary_names_the_nearest_versions_of_a_bad_target(void **state)
{
    static const char *const v[] = {"20251204212540", "20251205093000", "20251206000000"};
    static const struct {
        const char *target, *message, *hint;
    } cases[] = {
        /* A typo of the oldest, but newer than every one: no version undoes less than it,
         * so none is offered (the oldest would undo two more). */
        {"20261204212540",
         "target-version 20261204212540 is newer than every applied version (the newest is "
         "20251206000000): there is nothing to roll back",
         "rollback undoes the migrations newer than --target-version; run 'db-migrate status' to "
         "see which are applied"},
        {"20251204999999", "target-version 20251204999999 is not an applied version",
         "the applied versions nearest to it are 20251204212540 and 20251205093000; 0 rolls back "
         "every one"},
        {"1", "target-version 1 is not an applied version",
         "it is older than every applied version; the oldest is 20251204212540; 0 rolls back "
         "every one"},
        {"abc", "target-version abc is not an applied version",
         "the newest applied versions are 20251206000000, 20251205093000, 20251204212540; 0 "
         "rolls back every one"},
    };
    dbm_history_row rows[3];
    dbm_history h = make_history(rows, v, 3);
    const char *b = "unchanged";

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, cases[i].target),
                         DBM_ECONFIG);
        assert_null(b);
        assert_non_null(strstr(dbm_error_message(), cases[i].message));
        assert_string_equal(dbm_error_hint_text(), cases[i].hint);
    }
}

static void rollback_boundary_never_offers_a_version_that_undoes_more(void **state)
{
    static const char *const v[] = {"1", "2", "3"};
    dbm_history_row rows[3];
    dbm_history h = make_history(rows, v, 3);
    const char *b = "unchanged";

    /* 5 undoes nothing; "did you mean 1?" would undo 2 and 3. */
    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_NATIVE, "5"), DBM_ECONFIG);
    assert_null(b);
    assert_string_equal(dbm_error_message(),
                        "target-version 5 is newer than every applied version (the newest is 3): "
                        "there is nothing to roll back; nothing was rolled back");
    assert_null(strstr(dbm_error_hint_text(), "did you mean"));
}

static void rollback_boundary_compares_in_the_format_order(void **state)
{
    /* golang-migrate versions are numbers: 1 is 001. */
    static const char *const v[] = {"001", "002", "003"};
    dbm_history_row rows[3];
    dbm_history h = make_history(rows, v, 3);
    const char *b = NULL;

    assert_int_equal(dbm_history_rollback_boundary(&b, &h, DBM_FORMAT_GOLANG_MIGRATE, "1"), 0);
    assert_string_equal(b, "001");
}

static void was_rolled_back_reads_the_audit(void **state)
{
    char *versions[] = {(char *)"002"};
    dbm_history h;

    memset(&h, 0, sizeof(h));
    h.rolled_back = versions;
    h.nrolled_back = 1;
    assert_true(dbm_history_was_rolled_back(&h, "002"));
    assert_false(dbm_history_was_rolled_back(&h, "001"));
    assert_false(dbm_history_was_rolled_back(NULL, "002"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rollback_boundary_without_target_undoes_the_newest_alone),
        cmocka_unit_test(rollback_boundary_names_the_nearest_versions_of_a_bad_target),
        cmocka_unit_test(rollback_boundary_never_offers_a_version_that_undoes_more),
        cmocka_unit_test(rollback_boundary_compares_in_the_format_order),
        cmocka_unit_test(was_rolled_back_reads_the_audit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
