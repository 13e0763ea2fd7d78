/* test_format_supabase.c - the Supabase CLI's rules: file name order, its place, old init. */

#include "dirfixture.h"

#include <stdlib.h>
#include <string.h>

static char *project_dir(const char *dir)
{
    char *mig = dbm_xasprintf("%s/supabase/migrations", dir);
    char *sup = dbm_xasprintf("%s/supabase", dir);

    mkdir(sup, 0755);
    mkdir(mig, 0755);
    free(sup);
    return mig;
}

static void supabase_is_detected_by_its_place_and_ordered_by_name(void **state)
{
    char *dir = project_dir(*state);

    put(dir, "20240101000000_b.sql", "select 2;\n");
    put(dir, "2024010100000_a.sql", "select 1;\n");
    put(dir, "20230101000000_add identity tables.sql", "select 0;\n");
    put(dir, "expected-schema.sql", "-- not a migration\n");
    /* file name order, as the CLI lists them: "20240101000000_" < "2024010100000_" */
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_SUPABASE,
                 "20230101000000_add identity tables.sql 20240101000000_b.sql "
                 "2024010100000_a.sql");
    /* the same files elsewhere read as native, in numeric order */
    assert_order(dir, DBM_FORMAT_NATIVE, DBM_FORMAT_NATIVE,
                 "2024010100000_a.sql 20230101000000_add identity tables.sql "
                 "20240101000000_b.sql");
    free(dir);
}

static void supabase_skips_the_old_initial_schema(void **state)
{
    char *dir = project_dir(*state);
    dbm_migration_set *set;
    stderr_capture c;
    char *err;

    put(dir, "20211208000000_init.sql", "select 0;\n");
    put(dir, "20220101000000_next.sql", "select 1;\n");
    capture_start(&c);
    set = load_ok(dir, DBM_FORMAT_SUPABASE);
    err = capture_end(&c);
    assert_int_equal(set->count, 1);
    assert_string_equal(set->items[0].path, "20220101000000_next.sql");
    assert_non_null(strstr(err, "skipping '20211208000000_init.sql'"));
    free(err);
    dbm_migrations_free(set);
    /* from 20211209000000 on, an init file is a migration like any other */
    {
        char *a = dbm_xasprintf("%s/20211208000000_init.sql", dir);
        char *b = dbm_xasprintf("%s/20211209000000_init.sql", dir);
        assert_int_equal(rename(a, b), 0);
        free(a);
        free(b);
    }
    set = load_ok(dir, DBM_FORMAT_SUPABASE);
    assert_int_equal(set->count, 2);
    dbm_migrations_free(set);
    free(dir);
}

static void auto_asks_when_a_supabase_folder_holds_another_tools_files(void **state)
{
    char *dir = project_dir(*state);

    put(dir, "1_a.sql", "-- no-transaction\ncreate index concurrently i on t (a);\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "sqlx", "supabase");
    assert_non_null(strstr(dbm_error_hint_text(), "--format sqlx or --format supabase"));
    put(dir, "1_a.sql", "-- migrate:up\nselect 1;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "supabase", "dbmate");
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(supabase_is_detected_by_its_place_and_ordered_by_name,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(supabase_skips_the_old_initial_schema, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(auto_asks_when_a_supabase_folder_holds_another_tools_files,
                                        setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
