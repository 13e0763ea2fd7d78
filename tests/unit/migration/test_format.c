/* test_format.c - format names, the formats table, version order, auto-detection. */

#include "dirfixture.h"

#include "migration/format.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void format_names_round_trip(void **state)
{
    /* clang-format off */
    static const char *names[] = {
        "auto",
        "native",
        "golang-migrate",
        "dbmate",
        "goose",
        "flyway",
        "diesel",
        "prisma",
        "sqlx",
        "drizzle",
        "supabase",
        "atlas",
        "sqitch",
        "graphile-migrate",
    };
    /* clang-format on */
    dbm_format f;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(dbm_format_parse(&f, names[i]), 0);
        assert_string_equal(dbm_format_name(f), names[i]);
    }
    /* The list --format completes from (and --help shows) is the same, in the same order. */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(dbm_format_names[i], names[i]);
    assert_null(dbm_format_names[sizeof(names) / sizeof(names[0])]);
    assert_int_equal(dbm_format_parse(&f, "liquibase"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "liquibase"));
    assert_non_null(strstr(dbm_error_hint_text(), "golang-migrate"));
    /* a value pasted with its line end is named on one line (found by fuzz/duration) */
    assert_int_equal(dbm_format_parse(&f, "flyway\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "unknown format 'flyway?'");
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

/* Every format has one row, found by its value and named as users name it. */
static void every_format_has_one_row(void **state)
{
    static const dbm_format all[] = {
        DBM_FORMAT_NATIVE,  DBM_FORMAT_GOLANG_MIGRATE, DBM_FORMAT_DBMATE, DBM_FORMAT_GOOSE,
        DBM_FORMAT_FLYWAY,  DBM_FORMAT_DIESEL,         DBM_FORMAT_PRISMA, DBM_FORMAT_SQLX,
        DBM_FORMAT_DRIZZLE, DBM_FORMAT_SUPABASE,       DBM_FORMAT_ATLAS};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        const mig_format *f = mig_format_of(all[i]);

        assert_non_null(f);
        assert_int_equal(f->format, all[i]);
        assert_string_equal(f->name, dbm_format_name(all[i]));
        assert_non_null(f->syntax);
        assert_non_null(f->cmp);
        assert_non_null(f->up);
        assert_true(f->layout != MIG_LAYOUT_NONE);
    }
    assert_null(mig_format_of(DBM_FORMAT_AUTO));
    assert_null(mig_format_of((dbm_format)99));
    assert_string_equal(dbm_format_name((dbm_format)99), "unknown");
}

/* Walking the table by index gives every row once, in dbm_format order, then NULL. */
static void table_walk_gives_every_row(void **state)
{
    size_t n = 0;

    for (const mig_format *f; (f = mig_format_at(n)); n++) {
        assert_ptr_equal(f, mig_format_of(f->format));
        assert_int_equal(f->format, DBM_FORMAT_NATIVE + (int)n);
    }
    size_t names = 0;
    while (dbm_format_names[names])
        names++;
    assert_int_equal(n, names - 1); /* every name but "auto" */
    assert_null(mig_format_at(n + 1));
}

/* A layout is read as the first row that uses it: flat files as native. */
static void layout_is_read_as_its_first_row(void **state)
{
    static const struct {
        mig_layout layout;
        int format; /* -1: no row */
    } rows[] = {
        {MIG_LAYOUT_NONE, -1},
        {MIG_LAYOUT_FLAT, DBM_FORMAT_NATIVE},
        {MIG_LAYOUT_GOOSE_GO, -1},
        {MIG_LAYOUT_GOLANG, DBM_FORMAT_GOLANG_MIGRATE},
        {MIG_LAYOUT_FLYWAY, DBM_FORMAT_FLYWAY},
        {MIG_LAYOUT_DIESEL, DBM_FORMAT_DIESEL},
        {MIG_LAYOUT_PRISMA, DBM_FORMAT_PRISMA},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const mig_format *f = mig_format_of_layout(rows[i].layout);
        if (rows[i].format < 0)
            assert_null(f);
        else if (!f || (int)f->format != rows[i].format)
            fail_msg("layout %s: got %s", mig_layout_name(rows[i].layout), f ? f->name : "no row");
    }
}

/* Each row's version syntax: what an entry is to the format, its version and its name. */
static void each_row_reads_role_version_and_name(void **state)
{
    static const struct {
        dbm_format format;
        const char *entry;
        mig_role role;
        const char *version, *name; /* name NULL: not read (a down) */
    } rows[] = {
        {DBM_FORMAT_NATIVE, "0042_add users.sql", MIG_ROLE_UP, "0042", "add users"},
        {DBM_FORMAT_NATIVE, "1_a.sql.sql", MIG_ROLE_UP, "1", "a.sql"},
        {DBM_FORMAT_NATIVE, "a_1.sql", MIG_ROLE_NONE, NULL, NULL},
        {DBM_FORMAT_DBMATE, "20240830075257_roles.sql", MIG_ROLE_UP, "20240830075257", "roles"},
        {DBM_FORMAT_GOOSE, "001_init.sql", MIG_ROLE_UP, "001", "init"},
        {DBM_FORMAT_GOLANG_MIGRATE, "0002_second.up.sql", MIG_ROLE_UP, "0002", "second"},
        {DBM_FORMAT_GOLANG_MIGRATE, "0002_second.down.sql", MIG_ROLE_DOWN, "0002", NULL},
        {DBM_FORMAT_GOLANG_MIGRATE, "1_.up.sql", MIG_ROLE_UP, "1", ""},
        {DBM_FORMAT_GOLANG_MIGRATE, "2_b.sql", MIG_ROLE_NONE, NULL, NULL},
        {DBM_FORMAT_FLYWAY, "V1_1__under_scored.sql", MIG_ROLE_UP, "1.1", "under scored"},
        {DBM_FORMAT_FLYWAY, "V2.1__two_one.sql", MIG_ROLE_UP, "2.1", "two one"},
        {DBM_FORMAT_FLYWAY, "R__Runs_view.sql", MIG_ROLE_REPEATABLE, "R__Runs_view", "Runs view"},
        {DBM_FORMAT_FLYWAY, "U2__two.sql", MIG_ROLE_DOWN, "2", NULL},
        {DBM_FORMAT_FLYWAY, "Vx__y.sql", MIG_ROLE_NONE, NULL, NULL},
        {DBM_FORMAT_DIESEL, "2019-11-15-182353_Add email", MIG_ROLE_UP, "20191115182353",
         "Add email"},
        {DBM_FORMAT_DIESEL, "2026-05-27-120000-0000_semver", MIG_ROLE_UP, "202605271200000000",
         "semver"},
        {DBM_FORMAT_DIESEL, "no-underscore", MIG_ROLE_UP, "nounderscore", "no-underscore"},
        {DBM_FORMAT_PRISMA, "01_init", MIG_ROLE_UP, "01_init", "init"},
        {DBM_FORMAT_PRISMA, "init", MIG_ROLE_UP, "init", "init"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const mig_format *f = mig_format_of(rows[i].format);
        mig_role role = f->syntax->role(f, rows[i].entry);
        char *version, *name;

        if (role != rows[i].role)
            fail_msg("%s '%s': role %d, want %d", f->name, rows[i].entry, role, rows[i].role);
        if (role == MIG_ROLE_NONE)
            continue;
        version = f->syntax->version(f, rows[i].entry);
        assert_string_equal(version, rows[i].version);
        free(version);
        if (!rows[i].name)
            continue;
        name = f->syntax->name(f, rows[i].entry);
        assert_string_equal(name, rows[i].name);
        free(name);
    }
}

/* auto: the layout of the names decides, and for flat files the text. */
static void auto_detects_each_layout(void **state)
{
    static const struct {
        const char *files[3]; /* path, then text for the first two; NULL-ended */
        const char *texts[3];
        dbm_format want;
    } rows[] = {
        {{NULL}, {NULL}, DBM_FORMAT_NATIVE},
        {{"README.md", NULL}, {"docs\n"}, DBM_FORMAT_NATIVE},
        {{"1_a.sql", NULL}, {"select 1;\n"}, DBM_FORMAT_NATIVE},
        {{"1_a.sql", NULL}, {"-- migrate:up\nselect 1;\n"}, DBM_FORMAT_NATIVE},
        {{"1_a.sql", NULL}, {"-- +goose Up\nselect 1;\n"}, DBM_FORMAT_GOOSE},
        {{"1_a.sql", "2_b.go", NULL}, {"", "package m\n"}, DBM_FORMAT_GOOSE},
        {{"1_a.up.sql", "1_a.down.sql", NULL},
         {"select 1;\n", "select 2;\n"},
         DBM_FORMAT_GOLANG_MIGRATE},
        {{"V1__a.sql", "R__b.sql", NULL}, {"select 1;\n", "select 2;\n"}, DBM_FORMAT_FLYWAY},
        {{"1_a/up.sql", NULL}, {"select 1;\n"}, DBM_FORMAT_DIESEL},
        {{"1_a/migration.sql", "1_a/up.sql", NULL},
         {"select 1;\n", "select 2;\n"},
         DBM_FORMAT_PRISMA},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *dir = dbm_xasprintf("%s/%zu", (char *)*state, i);
        dbm_migration_set *set;

        mkdir(dir, 0755);
        for (size_t k = 0; rows[i].files[k]; k++)
            put(dir, rows[i].files[k], rows[i].texts[k]);
        set = load_ok(dir, DBM_FORMAT_AUTO);
        if (set->format != rows[i].want)
            fail_msg("row %zu: read as %s, want %s", i, dbm_format_name(set->format),
                     dbm_format_name(rows[i].want));
        dbm_migrations_free(set);
        free(dir);
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

/* File names are quoted on one line, whatever they hold (found by fuzz/migration_dir). */
static void mixed_layouts_names_files_on_one_line(void **state)
{
    const char *dir = *state;

    put(dir, "1_a\n::warning::x.up.sql", "select 1;\n");
    put(dir, "2_b\f.sql", "-- migrate:up\nselect 2;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "'1_a?::warning::x.up.sql'", "'2_b?.sql'");
    assert_null(strchr(dbm_error_message(), '\n'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(version_cmp_orders_each_format),
        cmocka_unit_test(every_format_has_one_row),
        cmocka_unit_test(table_walk_gives_every_row),
        cmocka_unit_test(layout_is_read_as_its_first_row),
        cmocka_unit_test(each_row_reads_role_version_and_name),
        cmocka_unit_test_setup_teardown(auto_detects_each_layout, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(auto_rejects_mixed_layouts, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(mixed_layouts_names_files_on_one_line, setup_dir,
                                        teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
