#include "unit.h"

#include "common/suggest.h"

#include <string.h>

static void edit_distance_counts_edits_and_transpositions(void **state)
{
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"apply", "apply", 0}, {"aply", "apply", 1},     {"aplpy", "apply", 1},
        {"", "abc", 3},        {"kitten", "sitting", 3}, {"20261204212540", "20251204212540", 1},
        {"plan", "status", 5},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(dbm_edit_distance(cases[i].a, cases[i].b, 10), cases[i].d);
    /* Past the limit the answer is limit + 1, however far. */
    assert_int_equal(dbm_edit_distance("plan", "status", 2), 3);
    assert_int_equal(dbm_edit_distance("a", "abcdefgh", 2), 3);
}

static void suggest_finds_a_typo_and_nothing_else(void **state)
{
    static const char *const commands[] = {"plan",     "apply", "dry-run", "status",
                                           "rollback", NULL,    "new"};
    static const char *const options[] = {"migrations-dir", "format", "wait"};
    size_t nc = sizeof(commands) / sizeof(commands[0]);

    assert_string_equal(dbm_suggest("aply", commands, nc), "apply");
    assert_string_equal(dbm_suggest("rollbakc", commands, nc), "rollback");
    assert_string_equal(dbm_suggest("dryrun", commands, nc), "dry-run");
    assert_string_equal(dbm_suggest("migration-dir", options, 3), "migrations-dir");
    /* Too far from every candidate, or a candidate itself: no suggestion. */
    assert_null(dbm_suggest("frobnicate", commands, nc));
    assert_null(dbm_suggest("x", options, 3));
    assert_null(dbm_suggest("apply", commands, nc));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(edit_distance_counts_edits_and_transpositions),
        cmocka_unit_test(suggest_finds_a_typo_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
