/* test_format_drizzle.c - Drizzle's rules: the journal's order and membership. */

#include "dirfixture.h"

#include <stdlib.h>
#include <string.h>

#define ENTRY(idx, when, tag)                                                                      \
    "{\"idx\": " #idx ", \"version\": \"7\", \"when\": " #when ", \"tag\": \"" tag                 \
    "\", \"breakpoints\": true}"

static void drizzle_runs_the_journal_in_its_order_and_nothing_else(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    stderr_capture c;
    char *err;

    put(dir, "meta/_journal.json",
        "{\"version\": \"7\", \"dialect\": \"postgresql\", \"entries\": [" ENTRY(
            0, 1700000000000,
            "0000_first") ", " ENTRY(1, 1700000000100,
                                     "0001_second") ", " ENTRY(2, 1700000000200,
                                                               "0002_third") "]}");
    put(dir, "0000_first.sql", "create table a (id int);\n--> statement-breakpoint\nselect 1;\n");
    put(dir, "0001_second.sql", "select 2;\n");
    put(dir, "0001_abandoned.sql", "select 'never';\n");
    put(dir, "0002_third.sql", "select 3;\n");
    capture_start(&c);
    set = load_ok(dir, DBM_FORMAT_AUTO);
    err = capture_end(&c);
    assert_int_equal(set->format, DBM_FORMAT_DRIZZLE);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[0].path, "0000_first.sql");
    assert_string_equal(set->items[1].path, "0001_second.sql");
    assert_string_equal(set->items[1].version, "0001");
    assert_string_equal(set->items[1].name, "second");
    assert_string_equal(set->items[2].path, "0002_third.sql");
    assert_non_null(strstr(err, "skipping '0001_abandoned.sql': not in meta/_journal.json"));
    free(err);
    dbm_migrations_free(set);
}

static void drizzle_warns_when_the_journal_goes_back_in_time(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    stderr_capture c;
    char *err;

    put(dir, "meta/_journal.json",
        "{\"entries\": [" ENTRY(0, 1700000000000, "0000_a") ", " ENTRY(
            1, 1800000000000, "0001_b") ", " ENTRY(2, 1750000000000, "0002_c") "]}");
    put(dir, "0000_a.sql", "select 1;\n");
    put(dir, "0001_b.sql", "select 2;\n");
    put(dir, "0002_c.sql", "select 3;\n");
    capture_start(&c);
    set = load_ok(dir, DBM_FORMAT_DRIZZLE);
    err = capture_end(&c);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[2].path, "0002_c.sql");
    assert_non_null(strstr(err, "'0002_c'"));
    assert_non_null(strstr(err, "'0001_b'"));
    free(err);
    dbm_migrations_free(set);
}

static void drizzle_refuses_a_journal_entry_without_its_file(void **state)
{
    const char *dir = *state;

    put(dir, "meta/_journal.json",
        "{\"entries\": [" ENTRY(0, 1, "0000_a") ", " ENTRY(1, 2, "0001_gone") "]}");
    put(dir, "0000_a.sql", "select 1;\n");
    assert_load_fails(dir, DBM_FORMAT_DRIZZLE, DBM_ECONFIG, "0001_gone", "missing");
    put(dir, "meta/_journal.json", "{\"entries\": 3}");
    assert_load_fails(dir, DBM_FORMAT_DRIZZLE, DBM_ECONFIG, "entries", NULL);
    put(dir, "meta/_journal.json", "{\"entries\": [");
    assert_load_fails(dir, DBM_FORMAT_DRIZZLE, DBM_ECONFIG, "not JSON", NULL);
    assert_non_null(strstr(dbm_error_hint_text(), "drizzle-kit"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(drizzle_runs_the_journal_in_its_order_and_nothing_else,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(drizzle_warns_when_the_journal_goes_back_in_time, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(drizzle_refuses_a_journal_entry_without_its_file, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
