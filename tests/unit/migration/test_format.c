/* test_format.c - format names, the formats table, version order, auto-detection. */

#include "dirfixture.h"

#include "migration/format.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void format_names_round_trip(void **state)
{
    static const char *names[] = {"auto",  "native", "golang-migrate", "dbmate",
                                  "goose", "flyway", "diesel",         "prisma"};
    dbm_format f;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(dbm_format_parse(&f, names[i]), 0);
        assert_string_equal(dbm_format_name(f), names[i]);
    }
    assert_int_equal(dbm_format_parse(&f, "liquibase"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "liquibase"));
    assert_non_null(strstr(dbm_error_hint_text(), "golang-migrate"));
}

static int sign(int x)
{
    return x < 0 ? -1 : x > 0;
}

static void version_cmp_orders_each_format(void **state)
{
    static const struct {
        dbm_format format;
        const char *a, *b;
        int want;
    } rows[] = {
        {DBM_FORMAT_NATIVE, "1", "2", -1},
        {DBM_FORMAT_NATIVE, "2", "10", -1},
        {DBM_FORMAT_NATIVE, "001", "1", 0},
        {DBM_FORMAT_NATIVE, "0", "000", 0},
        {DBM_FORMAT_NATIVE, "20240101120000", "9", 1},
        {DBM_FORMAT_NATIVE, "123456789012345678901234567890", "123456789012345678901234567891", -1},
        {DBM_FORMAT_NATIVE, "99999999999999999999999999999999", "100000000000000000000000000000000",
         -1},
        {DBM_FORMAT_NATIVE, "000000000000000000000000000000000000005", "5", 0},
        {DBM_FORMAT_GOLANG_MIGRATE, "0010", "0002", 1},
        {DBM_FORMAT_GOOSE, "006", "6", 0},
        {DBM_FORMAT_FLYWAY, "2", "2.1", -1},
        {DBM_FORMAT_FLYWAY, "2.1", "10", -1},
        {DBM_FORMAT_FLYWAY, "17.2", "17.10", -1},
        {DBM_FORMAT_FLYWAY, "1.0", "1", 0},
        {DBM_FORMAT_FLYWAY, "01.02", "1.2", 0},
        {DBM_FORMAT_FLYWAY, "999", "R__A", -1},
        {DBM_FORMAT_FLYWAY, "R__Runs_view", "R__Datasets_view", 1},
        {DBM_FORMAT_DIESEL, "20260527120000", "202605271200000000", -1},
        {DBM_FORMAT_DIESEL, "2018-01-18-172821", "20180118172821", 0},
        {DBM_FORMAT_DIESEL, "00000000000000", "20140924113530", -1},
        {DBM_FORMAT_DBMATE, "10", "2", -1},
        {DBM_FORMAT_DBMATE, "10", "1", -1}, /* file name order: "10_" < "1_" */
        {DBM_FORMAT_DBMATE, "20240830075257", "20240830080137", -1},
        {DBM_FORMAT_DBMATE, "5", "5", 0},
        {DBM_FORMAT_PRISMA, "10_x", "2_x", -1},
        {DBM_FORMAT_PRISMA, "01_init", "01_init", 0},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int got = sign(dbm_version_cmp(rows[i].format, rows[i].a, rows[i].b));
        int back = sign(dbm_version_cmp(rows[i].format, rows[i].b, rows[i].a));
        if (got != rows[i].want || back != -rows[i].want)
            fail_msg("row %zu: %s cmp(%s, %s) = %d / %d, want %d", i,
                     dbm_format_name(rows[i].format), rows[i].a, rows[i].b, got, back,
                     rows[i].want);
    }
}

static void auto_rejects_mixed_layouts(void **state)
{
    const char *dir = *state;
    char *sub = dbm_xasprintf("%s/goose", dir);

    put(dir, "V1__flyway.sql", "select 1;\n");
    put(dir, "2_golang.up.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "V1__flyway.sql", "2_golang.up.sql");
    assert_non_null(dbm_error_hint_text());
    /* an explicit format reads its own files only */
    assert_order(dir, DBM_FORMAT_FLYWAY, DBM_FORMAT_FLYWAY, "V1__flyway.sql");

    put(dir, "goose/1_a.sql", "-- +goose Up\nselect 1;\n");
    put(dir, "goose/2_b.sql", "-- migrate:up\nselect 2;\n");
    assert_load_fails(sub, DBM_FORMAT_AUTO, DBM_ECONFIG, "1_a.sql", "2_b.sql");
    put(dir, "goose/3_c/up.sql", "select 3;\n");
    assert_load_fails(sub, DBM_FORMAT_AUTO, DBM_ECONFIG, "3_c/up.sql", "mixes layouts");
    free(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(version_cmp_orders_each_format),
        cmocka_unit_test_setup_teardown(auto_rejects_mixed_layouts, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
