/* test_format_atlas.c - Atlas's rules: name order, versions, leading directives, atlas.sum. */

#include "dirfixture.h"

#include <stdlib.h>
#include <string.h>

/* atlas.sum for the two files below, as 'atlas migrate hash' writes it (sql/migrate/dir.go). */
#define SUM                                                                                        \
    "h1:UQMSgsSBKOxBIK+GtYnqmDWJlJMZEuEvdb/+Dy3IzIk=\n"                                            \
    "1_a.sql h1:0xoiBEBByCn3Qg4/3ZN3bzJGTBHXJNbUIxA6ZttFvio=\n"                                    \
    "2.sql h1:5O3mArRRYSeiWr1qbHZgGbbIMOT/GxeVFOQP4AvTc64=\n"
#define FILE2 "-- atlas:txmode none\n\ncreate index concurrently i on t (a);\n"

static void atlas_reads_every_listed_file_in_name_order(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    stderr_capture c;
    char *err;

    put(dir, "atlas.sum", SUM);
    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "2.sql", FILE2);
    put(dir, "schema.sql", "-- a dump kept beside them, not in atlas.sum\n");
    capture_start(&c);
    set = load_ok(dir, DBM_FORMAT_AUTO);
    err = capture_end(&c);
    assert_int_equal(set->format, DBM_FORMAT_ATLAS);
    assert_int_equal(set->count, 2);
    assert_string_equal(set->items[0].version, "1");
    assert_string_equal(set->items[0].name, "a");
    assert_false(set->items[0].no_transaction);
    assert_string_equal(set->items[1].version, "2");
    assert_string_equal(set->items[1].name, "");
    assert_true(set->items[1].no_transaction);
    assert_non_null(strstr(err, "skipping 'schema.sql': not listed in atlas.sum"));
    assert_null(set->tool_check);
    free(err);
    dbm_migrations_free(set);
}

static void unlink_or_fail(const char *dir, const char *rel)
{
    char *path = dbm_xasprintf("%s/%s", dir, rel);
    assert_int_equal(unlink(path), 0);
    free(path);
}

static void atlas_sum_finds_an_edited_file(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "atlas.sum", SUM);
    put(dir, "1_a.sql", "select 1; -- edited\n");
    put(dir, "2.sql", FILE2);
    set = load_ok(dir, DBM_FORMAT_ATLAS);
    assert_int_equal(set->count, 2);
    assert_non_null(set->tool_check);
    assert_non_null(strstr(set->tool_check, "atlas.sum' does not match the files (first at "
                                            "'1_a.sql')"));
    dbm_migrations_free(set);
    /* a file removed: the sum lists more files than there are */
    put(dir, "1_a.sql", "select 1;\n");
    unlink_or_fail(dir, "2.sql");
    set = load_ok(dir, DBM_FORMAT_ATLAS);
    assert_non_null(set->tool_check);
    dbm_migrations_free(set);
}

static void atlas_directives_count_only_in_the_leading_block(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    /* no blank line after the comments: they belong to the statement, not the file */
    put(dir, "1_a.sql", "-- atlas:txmode none\ncreate index concurrently i on t (a);\n");
    /* the directive after a statement is no directive */
    put(dir, "2_b.sql", "select 1;\n-- atlas:txmode none\n\nselect 2;\n");
    /* a longer block, '#' comments too */
    put(dir, "3_c.sql", "# generated\n-- atlas:nolint\n-- atlas:txmode none\n\nselect 3;\n");
    put(dir, "4-d.sql", "select 4;\n");
    set = load_ok(dir, DBM_FORMAT_ATLAS);
    assert_int_equal(set->count, 4);
    assert_false(set->items[0].no_transaction);
    assert_false(set->items[1].no_transaction);
    assert_true(set->items[2].no_transaction);
    assert_string_equal(set->items[3].version, "4-d");
    dbm_migrations_free(set);
    put(dir, "5_e.sql", "-- atlas:txmode sometimes\n\nselect 5;\n");
    assert_load_fails(dir, DBM_FORMAT_ATLAS, DBM_ECONFIG, "5_e.sql", "txmode");
    put(dir, "5_e.sql", "-- atlas:delimiter //\n\nselect 5//\n");
    assert_load_fails(dir, DBM_FORMAT_ATLAS, DBM_ECONFIG, "5_e.sql", "delimiter");
}

static void auto_asks_when_two_tools_files_are_there(void **state)
{
    const char *dir = *state;

    put(dir, "atlas.sum", SUM);
    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "meta/_journal.json", "{\"entries\": []}");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "meta/_journal.json", "atlas.sum");
    assert_non_null(strstr(dbm_error_hint_text(), "--format drizzle or --format atlas"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(atlas_reads_every_listed_file_in_name_order, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(atlas_sum_finds_an_edited_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(auto_asks_when_two_tools_files_are_there, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(atlas_directives_count_only_in_the_leading_block, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
