/* test_format_sqlx.c - sqlx's rules: i64 version order, byte-0 no-transaction, reversible pairs. */

#include "dirfixture.h"

#include <stdlib.h>
#include <string.h>

static void sqlx_orders_by_version_and_pairs_downs(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "10_c.sql", "select 10;\n");
    put(dir, "2_add_users.up.sql", "create table u (id int);\n");
    put(dir, "2_add_users.down.sql", "drop table u;\n");
    put(dir, "1_a-b.sql", "select 1;\n");
    put(dir, "README.md", "not a migration\n");
    put(dir, "notes.sql", "-- no '_': sqlx ignores it\n");
    set = load_ok(dir, DBM_FORMAT_SQLX);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[0].path, "1_a-b.sql");
    assert_string_equal(set->items[0].name, "a-b");
    assert_string_equal(set->items[1].path, "2_add_users.up.sql");
    assert_string_equal(set->items[1].version, "2");
    assert_string_equal(set->items[1].name, "add_users");
    assert_string_equal(set->items[1].down_path, "2_add_users.down.sql");
    assert_string_equal(set->items[1].down, "drop table u;\n");
    assert_null(set->items[0].down);
    assert_string_equal(set->items[2].path, "10_c.sql");
    dbm_migrations_free(set);
}

static void sqlx_no_transaction_only_at_the_first_byte(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "1_a.sql", "-- no-transaction\ncreate index concurrently i on t (a);\n");
    put(dir, "2_b.sql", "\n-- no-transaction\ncreate index concurrently j on t (a);\n");
    put(dir, "3_c.sql", "select 1; -- no-transaction\n");
    set = load_ok(dir, DBM_FORMAT_SQLX);
    assert_true(set->items[0].no_transaction);
    assert_false(set->items[1].no_transaction);
    assert_false(set->items[2].no_transaction);
    dbm_migrations_free(set);
}

static void sqlx_refuses_a_version_that_is_no_i64(void **state)
{
    const char *dir = *state;

    put(dir, "9223372036854775807_max.sql", "select 1;\n");
    dbm_migrations_free(load_ok(dir, DBM_FORMAT_SQLX));
    put(dir, "9223372036854775808_over.sql", "select 1;\n");
    assert_load_fails(dir, DBM_FORMAT_SQLX, DBM_ECONFIG, "9223372036854775808_over.sql",
                      "64-bit integer");
    assert_non_null(strstr(dbm_error_hint_text(), "<version>_<description>.sql"));
}

static void sqlx_refuses_a_name_sqlx_cannot_parse(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "v2_b.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_SQLX, DBM_ECONFIG, "v2_b.sql", "64-bit integer");
}

static void auto_reads_a_no_transaction_file_as_sqlx(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "2_b.sql", "-- no-transaction\ncreate index concurrently i on t (a);\n");
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_SQLX, "1_a.sql 2_b.sql");
    /* a dbmate file beside it: two tools, auto asks */
    put(dir, "3_c.sql", "-- migrate:up\nselect 3;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "2_b.sql", "3_c.sql");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sqlx_orders_by_version_and_pairs_downs, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(sqlx_no_transaction_only_at_the_first_byte, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(sqlx_refuses_a_version_that_is_no_i64, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(sqlx_refuses_a_name_sqlx_cannot_parse, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(auto_reads_a_no_transaction_file_as_sqlx, setup_dir,
                                        teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
