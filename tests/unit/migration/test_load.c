/* test_load.c - the loader walking each format's row: files found, order, downs, errors. */

#include "dirfixture.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void native_orders_numbers_of_any_length(void **state)
{
    const char *dir = *state;

    put(dir, "10_c.sql", "select 10;\n");
    put(dir, "2_b.sql", "select 2;\n");
    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "123456789012345678901234567890123_z.sql", "select 33;\n");
    put(dir, "99999999999999999999999999999999_y.sql", "select 32;\n");
    put(dir, "README.md", "not a migration\n");
    put(dir, "SOURCE.txt", "format: flyway\n");
    put(dir, "expected-schema.sql", "-- dump\n");
    assert_order(dir, DBM_FORMAT_NATIVE, DBM_FORMAT_NATIVE,
                 "1_a.sql 2_b.sql 10_c.sql 99999999999999999999999999999999_y.sql "
                 "123456789012345678901234567890123_z.sql");
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_NATIVE,
                 "1_a.sql 2_b.sql 10_c.sql 99999999999999999999999999999999_y.sql "
                 "123456789012345678901234567890123_z.sql");
}

static void native_records_version_and_name(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    const dbm_migration *m;

    put(dir, "0042_add users.sql", "select 1;\n");
    set = load_ok(dir, DBM_FORMAT_NATIVE);
    assert_int_equal(set->count, 1);
    assert_string_equal(set->items[0].version, "0042");
    assert_string_equal(set->items[0].name, "add users");
    assert_string_equal(set->dir, dir);
    m = dbm_migrations_find(set, "42");
    assert_ptr_equal(m, &set->items[0]);
    assert_null(dbm_migrations_find(set, "43"));
    dbm_migrations_free(set);
    dbm_migrations_free(NULL);
}

static void migration_rejects_duplicate_version(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "001_b.sql", "select 1;\n");
    put(dir, "2_c.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "'001_b.sql'", "'1_a.sql'");
    assert_non_null(dbm_error_hint_text());
}

static void golang_migrate_rejects_duplicate_version(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.up.sql", "select 1;\n");
    put(dir, "0001_b.up.sql", "select 1;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "'0001_b.up.sql'", "'1_a.up.sql'");
}

static void dbmate_reads_up_section_and_orders_by_name(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "20240830081828_create_apps_table.sql.sql",
        "-- migrate:up\ncreate table apps ();\n\n-- migrate:down\ndrop table apps;\n");
    put(dir, "20240830075257_roles.sql",
        "-- migrate:up\ninsert into roles values (1)\n-- migrate:down\n");
    put(dir, "20240901000000_idx.sql",
        "-- migrate:up transaction:false\ncreate index concurrently x on apps (id);\n");
    /* auto reads dbmate's files as native: same sections, numeric order */
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_NATIVE);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[0].path, "20240830075257_roles.sql");
    dbm_migrations_free(set);
    set = load_ok(dir, DBM_FORMAT_DBMATE);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[0].path, "20240830075257_roles.sql");
    assert_string_equal(set->items[0].up, "insert into roles values (1)\n");
    assert_string_equal(set->items[0].down, "");
    assert_string_equal(set->items[1].name, "create_apps_table.sql");
    assert_string_equal(set->items[1].up, "create table apps ();\n\n");
    assert_false(set->items[1].no_transaction);
    assert_true(set->items[2].no_transaction);
    dbm_migrations_free(set);
}

static void dbmate_file_without_up_marker_is_an_error(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "-- migrate:up\nselect 1;\n");
    put(dir, "2_b.sql", "select 2;\n");
    /* auto reads a mix of sectioned and plain files as native */
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_NATIVE, "1_a.sql 2_b.sql");
    assert_load_fails(dir, DBM_FORMAT_DBMATE, DBM_ECONFIG, "2_b.sql", "-- migrate:up");
}

static void dbmate_orders_versions_as_strings(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "-- migrate:up\nselect 1;\n");
    put(dir, "2_b.sql", "-- migrate:up\nselect 2;\n");
    put(dir, "10_c.sql", "-- migrate:up\nselect 10;\n");
    assert_order(dir, DBM_FORMAT_DBMATE, DBM_FORMAT_DBMATE, "10_c.sql 1_a.sql 2_b.sql");
    assert_order(dir, DBM_FORMAT_NATIVE, DBM_FORMAT_NATIVE, "1_a.sql 2_b.sql 10_c.sql");
    /* the native-only directive makes auto read the set as native */
    put(dir, "3_d.sql", "-- migrate:no-transaction\n-- migrate:up\nselect 3;\n");
    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_NATIVE, "1_a.sql 2_b.sql 3_d.sql 10_c.sql");
}

static void golang_migrate_pairs_up_and_down(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "0010_third.up.sql", "select 10;\n");
    put(dir, "0002_second.up.sql", "select 2;\n");
    put(dir, "0002_second.down.sql", "select -2;\n");
    put(dir, "0001_first.up.sql", "select 1;\n");
    put(dir, "0003_orphan.down.sql", "select -3;\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_GOLANG_MIGRATE);
    assert_int_equal(set->count, 3);
    assert_string_equal(set->items[0].name, "first");
    assert_null(set->items[0].down);
    assert_string_equal(set->items[1].path, "0002_second.up.sql");
    assert_string_equal(set->items[1].down, "select -2;\n");
    assert_string_equal(set->items[1].down_path, "0002_second.down.sql");
    assert_string_equal(set->items[2].version, "0010");
    dbm_migrations_free(set);
}

static void flyway_orders_dotted_versions_then_repeatables(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    const dbm_migration *m;

    put(dir, "V10__ten.sql", "select 10;\n");
    put(dir, "V2__two.sql", "select 2;\n");
    put(dir, "V2.1__two_one.sql", "select 21;\n");
    put(dir, "V1_1__underscored.sql", "select 11;\n");
    put(dir, "V1__one.sql", "select 1;\n");
    put(dir, "R__Runs_view.sql", "create or replace view r as select 1;\n");
    put(dir, "R__Datasets_view.sql", "create or replace view d as select 1;\n");
    put(dir, "U2__two.sql", "select -2;\n");
    put(dir, "V3__idx.sql", "create index concurrently i on t (id);\n");
    put(dir, "V3__idx.sql.conf", "# script config\n  executeInTransaction = false  \n");
    put(dir, "V4__tx.sql", "select 4;\n");
    put(dir, "V4__tx.sql.conf", "executeInTransaction=true\n");
    put(dir, "V57__readme.md", "docs\n");
    put(dir, "expected-schema.sql", "-- dump\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_FLYWAY);
    {
        char *got = order_of(set);
        assert_string_equal(got, "V1__one.sql V1_1__underscored.sql V2__two.sql V2.1__two_one.sql "
                                 "V3__idx.sql V4__tx.sql V10__ten.sql R__Datasets_view.sql "
                                 "R__Runs_view.sql");
        free(got);
    }
    assert_string_equal(set->items[1].version, "1.1");
    assert_string_equal(set->items[3].version, "2.1");
    assert_string_equal(set->items[3].name, "two one");
    m = &set->items[2];
    assert_string_equal(m->down, "select -2;\n");
    assert_string_equal(m->down_path, "U2__two.sql");
    assert_true(set->items[4].no_transaction);
    assert_false(set->items[5].no_transaction);
    m = &set->items[7];
    assert_string_equal(m->version, "R__Datasets_view");
    assert_string_equal(m->name, "Datasets view");
    assert_true(m->repeatable);
    assert_false(set->items[0].repeatable);
    assert_ptr_equal(dbm_migrations_find(set, "R__Runs_view"), &set->items[8]);
    assert_ptr_equal(dbm_migrations_find(set, "2.1"), &set->items[3]);
    dbm_migrations_free(set);
}

static void diesel_orders_without_dashes_and_reads_metadata(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "00000000000000_diesel_initial_setup/up.sql", "select 0;\n");
    put(dir, "00000000000000_diesel_initial_setup/down.sql", "select -0;\n");
    put(dir, "2026-05-27-120000-0000_semver/up.sql", "select 2;\n");
    put(dir, "2026-05-27-120000_add_username/up.sql", "select 1;\n");
    put(dir, "2019-11-15-182353_Add email notifications/up.sql", "select 's';\n");
    put(dir, "2024-02-12-120203_remove_index/up.sql", "drop index concurrently x;\n");
    put(dir, "2024-02-12-120203_remove_index/metadata.toml",
        "# diesel\nrun_in_transaction = false # outside\n");
    put(dir, "2024-03-05-120032_commented/up.sql", "select 3;\n");
    put(dir, "2024-03-05-120032_commented/metadata.toml", "# run_in_transaction = false\n");
    put(dir, "2024-03-06-120032_in_table/up.sql", "select 4;\n");
    put(dir, "2024-03-06-120032_in_table/metadata.toml", "[other]\nrun_in_transaction = false\n");
    put(dir, ".hidden_migration/up.sql", "select 'hidden';\n");
    put(dir, "no_up_here/down.sql", "select 'x';\n");
    put(dir, "README.md", "docs\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_DIESEL);
    {
        char *got = order_of(set);
        assert_string_equal(got, "00000000000000_diesel_initial_setup/up.sql "
                                 "2019-11-15-182353_Add email notifications/up.sql "
                                 "2024-02-12-120203_remove_index/up.sql "
                                 "2024-03-05-120032_commented/up.sql "
                                 "2024-03-06-120032_in_table/up.sql "
                                 "2026-05-27-120000_add_username/up.sql "
                                 "2026-05-27-120000-0000_semver/up.sql");
        free(got);
    }
    assert_string_equal(set->items[0].version, "00000000000000");
    assert_string_equal(set->items[0].down, "select -0;\n");
    assert_string_equal(set->items[0].down_path, "00000000000000_diesel_initial_setup/down.sql");
    assert_string_equal(set->items[1].name, "Add email notifications");
    assert_true(set->items[2].no_transaction);
    assert_false(set->items[3].no_transaction);
    assert_false(set->items[4].no_transaction);
    assert_string_equal(set->items[6].version, "202605271200000000");
    assert_ptr_equal(dbm_migrations_find(set, "2026-05-27-120000"), &set->items[5]);
    dbm_migrations_free(set);
}

static void prisma_orders_folders_bytewise(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "02_b/migration.sql", "select 2;\n");
    put(dir, "10_c/migration.sql", "select 10;\n");
    put(dir, "01_init/migration.sql", "select 1;\n");
    put(dir, "Z_upper/migration.sql", "select 'z';\n");
    put(dir, "migration_lock.toml", "provider = \"postgresql\"\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_PRISMA);
    {
        char *got = order_of(set);
        assert_string_equal(got, "01_init/migration.sql 02_b/migration.sql 10_c/migration.sql "
                                 "Z_upper/migration.sql");
        free(got);
    }
    assert_string_equal(set->items[0].version, "01_init");
    assert_string_equal(set->items[0].name, "init");
    dbm_migrations_free(set);
}

static void native_refuses_golang_migrate_names(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "2_b.down.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "2_b.down.sql", "golang-migrate");
}

/* Versions, down paths ("-" for none) and no-transaction flags of a set, each joined. */
static void describe(const dbm_migration_set *set, char **versions, char **downs, char **no_tx)
{
    dbm_buf v = DBM_BUF_INIT, d = DBM_BUF_INIT, t = DBM_BUF_INIT;

    for (size_t i = 0; i < set->count; i++) {
        const dbm_migration *m = &set->items[i];
        dbm_buf_printf(&v, "%s%s", i ? " " : "", m->version);
        dbm_buf_printf(&d, "%s%s", i ? " " : "", m->down_path ? m->down_path : "-");
        dbm_buf_putc(&t, m->no_transaction ? '1' : '0');
    }
    *versions = dbm_buf_detach(&v);
    *downs = dbm_buf_detach(&d);
    *no_tx = dbm_buf_detach(&t);
}

#define ROW_FILES 10

typedef struct {
    const char *path, *text;
} file;

/*
 * Each format's row on a small directory: it finds its own migrations (and
 * their downs and transaction settings) in its order, and leaves the files of
 * the other layouts alone.
 */
static void each_format_row_finds_its_files_in_order(void **state)
{
    static const struct {
        dbm_format format;
        file files[ROW_FILES];
        const char *order, *versions, *downs, *no_tx;
    } rows[] = {
        {DBM_FORMAT_NATIVE,
         {{"10_c.sql", "-- migrate:no-transaction\nselect 10;\n"},
          {"2_b.sql", "-- migrate:up\nselect 2;\n-- migrate:down\nselect -2;\n"},
          {"1_a.sql", "select 1;\n"},
          {"V1__flyway.sql", "select 1;\n"},
          {"3_c/up.sql", "select 3;\n"},
          {"4_d/migration.sql", "select 4;\n"},
          {"5_e.go", "package m\n"},
          {"README.md", "docs\n"}},
         "1_a.sql 2_b.sql 10_c.sql",
         "1 2 10",
         "- 2_b.sql -",
         "001"},
        {DBM_FORMAT_DBMATE,
         {{"10_c.sql", "-- migrate:up transaction:false\nselect 10;\n"},
          {"2_b.sql", "-- migrate:up\nselect 2;\n-- migrate:down\nselect -2;\n"},
          {"1_a.up.sql", "select 1;\n"},
          {"V1__flyway.sql", "select 1;\n"},
          {"3_c/up.sql", "select 3;\n"}},
         "10_c.sql 2_b.sql",
         "10 2",
         "- 2_b.sql",
         "10"},
        {DBM_FORMAT_GOOSE,
         {{"010_c.sql", "-- +goose Up\n-- +goose NO TRANSACTION\nselect 10;\n"},
          {"002_b.sql", "-- +goose Up\nselect 2;\n-- +goose Down\nselect -2;\n"},
          {"003_go.go", "package m\n"},
          {"1_a.up.sql", "select 1;\n"},
          {"V1__flyway.sql", "select 1;\n"}},
         "002_b.sql 010_c.sql",
         "002 010",
         "002_b.sql -",
         "01"},
        {DBM_FORMAT_GOLANG_MIGRATE,
         {{"10_c.up.sql", "select 10;\n"},
          {"2_b.up.sql", "select 2;\n"},
          {"2_b.down.sql", "select -2;\n"},
          {"1_a.up.sql", "select 1;\n"},
          {"3_orphan.down.sql", "select -3;\n"},
          {"4_flat.sql", "select 4;\n"},
          {"V1__flyway.sql", "select 1;\n"},
          {"5_e/up.sql", "select 5;\n"}},
         "1_a.up.sql 2_b.up.sql 10_c.up.sql",
         "1 2 10",
         "- 2_b.down.sql -",
         "000"},
        {DBM_FORMAT_FLYWAY,
         {{"V10__c.sql", "select 10;\n"},
          {"V2__b.sql", "select 2;\n"},
          {"V2__b.sql.conf", "flyway.executeInTransaction=false\n"},
          {"U2__b.sql", "select -2;\n"},
          {"V1__a.sql", "select 1;\n"},
          {"R__r.sql", "select 'r';\n"},
          {"1_a.sql", "select 1;\n"},
          {"2_b.up.sql", "select 2;\n"},
          {"3_c/up.sql", "select 3;\n"}},
         "V1__a.sql V2__b.sql V10__c.sql R__r.sql",
         "1 2 10 R__r",
         "- U2__b.sql - -",
         "0100"},
        {DBM_FORMAT_DIESEL,
         {{"2_b/up.sql", "select 2;\n"},
          {"2_b/down.sql", "select -2;\n"},
          {"10_c/up.sql", "select 10;\n"},
          {"10_c/metadata.toml", "run_in_transaction = false\n"},
          {"1_a/up.sql", "select 1;\n"},
          {"3_both/migration.sql", "select 3;\n"},
          {"3_both/up.sql", "select 3;\n"},
          {"4_prisma/migration.sql", "select 4;\n"},
          {"5_flat.sql", "select 5;\n"},
          {"V1__flyway.sql", "select 1;\n"}},
         "1_a/up.sql 10_c/up.sql 2_b/up.sql 3_both/up.sql",
         "1 10 2 3",
         "- - 2_b/down.sql -",
         "0100"},
        {DBM_FORMAT_PRISMA,
         {{"2_b/migration.sql", "select 2;\n"},
          {"10_c/migration.sql", "select 10;\n"},
          {"3_diesel/up.sql", "select 3;\n"},
          {"3_both/migration.sql", "select 3;\n"},
          {"3_both/up.sql", "select 3;\n"},
          {"3_both/down.sql", "select -3;\n"},
          {"1_a.sql", "select 1;\n"},
          {"V1__flyway.sql", "select 1;\n"}},
         "10_c/migration.sql 2_b/migration.sql 3_both/migration.sql",
         "10_c 2_b 3_both",
         "- - -",
         "000"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *dir = dbm_xasprintf("%s/%s", (char *)*state, dbm_format_name(rows[i].format));
        char *order, *versions, *downs, *no_tx;
        dbm_migration_set *set;

        mkdir(dir, 0755);
        for (size_t k = 0; k < ROW_FILES && rows[i].files[k].path; k++)
            put(dir, rows[i].files[k].path, rows[i].files[k].text);
        set = load_ok(dir, rows[i].format);
        order = order_of(set);
        describe(set, &versions, &downs, &no_tx);
        if (strcmp(order, rows[i].order) != 0 || strcmp(versions, rows[i].versions) != 0 ||
            strcmp(downs, rows[i].downs) != 0 || strcmp(no_tx, rows[i].no_tx) != 0)
            fail_msg("%s: got [%s] [%s] [%s] [%s], want [%s] [%s] [%s] [%s]",
                     dbm_format_name(rows[i].format), order, versions, downs, no_tx, rows[i].order,
                     rows[i].versions, rows[i].downs, rows[i].no_tx);
        assert_int_equal(set->format, rows[i].format);
        free(order);
        free(versions);
        free(downs);
        free(no_tx);
        dbm_migrations_free(set);
        free(dir);
    }
}

/*
 * A file the format cannot take is an error of one line that names it: a
 * golang-migrate name among native files, a file without its format's up
 * marker, and in every format a migration whose name holds a newline.
 */
static void misnamed_file_is_a_one_line_error_naming_it(void **state)
{
    static const struct {
        dbm_format format;
        const char *good, *good_text, *bad, *bad_text;
        const char *needle;
    } rows[] = {
        {DBM_FORMAT_NATIVE, "1_a.sql", "select 1;\n", "2_b.up.sql", "select 2;\n",
         "'2_b.up.sql' is named like a golang-migrate file"},
        {DBM_FORMAT_NATIVE, "1_a.sql", "select 1;\n", "2_new\nline.sql", "select 2;\n",
         "migration name '2_new?line.sql' in '"},
        {DBM_FORMAT_DBMATE, "1_a.sql", "-- migrate:up\n", "2_new\nline.sql", "-- migrate:up\n",
         "migration name '2_new?line.sql' in '"},
        {DBM_FORMAT_DBMATE, "1_a.sql", "-- migrate:up\n", "2_b.sql", "select 2;\n",
         "/2_b.sql' has no '-- migrate:up' line"},
        {DBM_FORMAT_GOOSE, "1_a.sql", "-- +goose Up\n", "2_new\nline.sql", "-- +goose Up\n",
         "migration name '2_new?line.sql' in '"},
        {DBM_FORMAT_GOOSE, "1_a.sql", "-- +goose Up\n", "2_b.sql", "select 2;\n",
         "/2_b.sql' has no '-- +goose Up' line"},
        {DBM_FORMAT_GOLANG_MIGRATE, "1_a.up.sql", "select 1;\n", "2_new\nline.up.sql",
         "select 2;\n", "migration name '2_new?line.up.sql' in '"},
        {DBM_FORMAT_FLYWAY, "V1__a.sql", "select 1;\n", "V2__new\nline.sql", "select 2;\n",
         "migration name 'V2__new?line.sql' in '"},
        {DBM_FORMAT_DIESEL, "1_a/up.sql", "select 1;\n", "2_new\nline/up.sql", "select 2;\n",
         "migration name '2_new?line' in '"},
        {DBM_FORMAT_PRISMA, "1_a/migration.sql", "select 1;\n", "2_new\nline/migration.sql",
         "select 2;\n", "migration name '2_new?line' in '"},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *dir = dbm_xasprintf("%s/%zu", (char *)*state, i);

        mkdir(dir, 0755);
        put(dir, rows[i].good, rows[i].good_text);
        put(dir, rows[i].bad, rows[i].bad_text);
        assert_load_fails(dir, rows[i].format, DBM_ECONFIG, rows[i].needle, NULL);
        if (strchr(dbm_error_message(), '\n'))
            fail_msg("%s: message of more than one line: %s", dbm_format_name(rows[i].format),
                     dbm_error_message());
        assert_non_null(dbm_error_hint_text());
        free(dir);
    }
}

/* Two down files of one version are an error naming both, for both formats with down files. */
static void two_downs_of_one_version_are_an_error(void **state)
{
    const char *dir = *state;
    char *golang = dbm_xasprintf("%s/golang", dir), *flyway = dbm_xasprintf("%s/flyway", dir);

    put(dir, "golang/1_a.up.sql", "select 1;\n");
    put(dir, "golang/1_a.down.sql", "select -1;\n");
    put(dir, "golang/01_b.down.sql", "select -1;\n");
    assert_load_fails(golang, DBM_FORMAT_GOLANG_MIGRATE, DBM_ECONFIG,
                      "'01_b.down.sql' and '1_a.down.sql' in '",
                      "are both the down of version '1'");
    put(dir, "flyway/V1__a.sql", "select 1;\n");
    put(dir, "flyway/U1__a.sql", "select -1;\n");
    put(dir, "flyway/U01__b.sql", "select -1;\n");
    assert_load_fails(flyway, DBM_FORMAT_FLYWAY, DBM_ECONFIG, "'U01__b.sql' and 'U1__a.sql' in '",
                      "are both the down of version '1'");
    free(golang);
    free(flyway);
}

/* The rows' hooks: files skipped with a warning, and dbmate's string order pointed out. */
static void format_hooks_warn_about_skipped_files_and_order(void **state)
{
    static const struct {
        dbm_format format;
        file files[3];
        const char *warning; /* "": none */
        size_t count;
    } rows[] = {
        {DBM_FORMAT_GOOSE,
         {{"1_a.sql", "-- +goose Up\nselect 1;\n"}, {"2_b.go", "package m\n"}},
         "warning: skipping Go migration '2_b.go': only SQL migrations are run\n",
         1},
        {DBM_FORMAT_NATIVE,
         {{"1_a.sql", "select 1;\n"}, {"2-b.sql", "select 2;\n"}},
         "warning: skipping '2-b.sql': not named <version>_<name>.sql\n",
         1},
        {DBM_FORMAT_DBMATE,
         {{"1_a.sql", "-- migrate:up\n"}, {"10_b.sql", "-- migrate:up\n"}},
         "warning: dbmate order runs '10_b.sql' before '1_a.sql' (versions compare as strings); "
         "set format: native for numeric order\n",
         2},
        {DBM_FORMAT_NATIVE,
         {{"1_a.sql", "-- migrate:up\n"}, {"10_b.sql", "-- migrate:up\n"}},
         "",
         2},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *dir = dbm_xasprintf("%s/%zu", (char *)*state, i);
        dbm_migration_set *set;
        stderr_capture cap;
        char *got;

        mkdir(dir, 0755);
        for (size_t k = 0; k < 3 && rows[i].files[k].path; k++)
            put(dir, rows[i].files[k].path, rows[i].files[k].text);
        capture_start(&cap);
        set = load_ok(dir, rows[i].format);
        got = capture_end(&cap);
        assert_string_equal(got, rows[i].warning);
        assert_int_equal(set->count, rows[i].count);
        free(got);
        dbm_migrations_free(set);
        free(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(native_orders_numbers_of_any_length, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(native_records_version_and_name, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(migration_rejects_duplicate_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(golang_migrate_rejects_duplicate_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_reads_up_section_and_orders_by_name, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_file_without_up_marker_is_an_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_orders_versions_as_strings, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(golang_migrate_pairs_up_and_down, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(flyway_orders_dotted_versions_then_repeatables, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(diesel_orders_without_dashes_and_reads_metadata, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(prisma_orders_folders_bytewise, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(native_refuses_golang_migrate_names, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(each_format_row_finds_its_files_in_order, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(misnamed_file_is_a_one_line_error_naming_it, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(two_downs_of_one_version_are_an_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(format_hooks_warn_about_skipped_files_and_order, setup_dir,
                                        teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
