#include "unit.h"

#include "common/error.h"
#include "migration/migration.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixtures: every test gets a fresh directory under mkdtemp ---------------------------- */

static int setup_dir(void **state)
{
    char tmpl[] = "/tmp/dbm-migration-XXXXXX";
    char *d = mkdtemp(tmpl);

    if (!d)
        return -1;
    *state = dbm_xstrdup(d);
    dbm_error_clear();
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown_dir(void **state)
{
    nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

/* Write `len` bytes of `text` to dir/rel, creating the folders on the way. */
static void put_bytes(const char *dir, const char *rel, const char *text, size_t len)
{
    char *path = dbm_xasprintf("%s/%s", dir, rel);
    FILE *f;

    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void put(const char *dir, const char *rel, const char *text)
{
    put_bytes(dir, rel, text, strlen(text));
}

static dbm_migration_set *load_ok(const char *dir, dbm_format format)
{
    dbm_migration_set *set = NULL;
    int rc = dbm_migrations_load(&set, dir, format);

    if (rc != 0)
        fail_msg("load failed: %s", dbm_error_message());
    assert_non_null(set);
    return set;
}

/* The paths of a set in order, joined with spaces. */
static char *order_of(const dbm_migration_set *set)
{
    dbm_buf b = DBM_BUF_INIT;

    for (size_t i = 0; i < set->count; i++) {
        if (i)
            dbm_buf_putc(&b, ' ');
        dbm_buf_puts(&b, set->items[i].path);
    }
    return dbm_buf_detach(&b);
}

static void assert_order(const char *dir, dbm_format format, dbm_format expect_format,
                         const char *expect)
{
    dbm_migration_set *set = load_ok(dir, format);
    char *got = order_of(set);

    assert_string_equal(got, expect);
    assert_int_equal(set->format, expect_format);
    free(got);
    dbm_migrations_free(set);
}

static void assert_load_fails(const char *dir, dbm_format format, int code, const char *needle1,
                              const char *needle2)
{
    dbm_migration_set *set = (dbm_migration_set *)1;

    assert_int_equal(dbm_migrations_load(&set, dir, format), code);
    assert_null(set);
    if (needle1 && !strstr(dbm_error_message(), needle1))
        fail_msg("'%s' not in '%s'", needle1, dbm_error_message());
    if (needle2 && !strstr(dbm_error_message(), needle2))
        fail_msg("'%s' not in '%s'", needle2, dbm_error_message());
}

/* ---- formats and version order ---------------------------------------------------------- */

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

/* ---- sections and directives ------------------------------------------------------------ */

static void native_splits_sections_and_reads_directives(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    const dbm_migration *m;

    put(dir, "1_plain.sql", "create table a (id int);\n");
    put(dir, "2_sections.sql",
        "-- a header comment\n"
        "-- migrate:up\n"
        "create table b (id int);\n"
        "-- migrate:down\n"
        "drop table b;\n");
    put(dir, "3_dbmate_opt.sql",
        "-- migrate:up transaction:false\n"
        "create index concurrently i on b (id);\n"
        "\n"
        "-- migrate:down\n"
        "drop index i;\n");
    put(dir, "4_directive.sql",
        "-- migrate:no-transaction\n"
        "create index concurrently j on b (id);\n");
    put(dir, "5_down_only.sql", "create table c ();\n-- migrate:down\ndrop table c;\n");
    set = load_ok(dir, DBM_FORMAT_NATIVE);
    assert_int_equal(set->count, 5);

    m = &set->items[0];
    assert_string_equal(m->up, "create table a (id int);\n");
    assert_int_equal(m->up_line, 1);
    assert_null(m->down);
    assert_null(m->down_path);
    assert_false(m->no_transaction);

    m = &set->items[1];
    assert_string_equal(m->up, "create table b (id int);\n");
    assert_int_equal(m->up_len, strlen(m->up));
    assert_int_equal(m->up_line, 3);
    assert_string_equal(m->down, "drop table b;\n");
    assert_int_equal(m->down_line, 5);
    assert_string_equal(m->down_path, "2_sections.sql");
    assert_false(m->no_transaction);

    m = &set->items[2];
    assert_string_equal(m->up, "create index concurrently i on b (id);\n\n");
    assert_int_equal(m->up_line, 2);
    assert_true(m->no_transaction);

    m = &set->items[3];
    assert_true(m->no_transaction);
    assert_int_equal(m->up_line, 1);

    m = &set->items[4];
    assert_string_equal(m->up, "create table c ();\n");
    assert_string_equal(m->down, "drop table c;\n");
    assert_int_equal(m->down_line, 3);
    dbm_migrations_free(set);
}

static void empty_and_comment_only_files_load(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "1_empty.sql", "");
    put(dir, "2_comment.sql", "-- nothing to do yet\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 2);
    assert_int_equal(set->items[0].up_len, 0);
    assert_string_equal(set->items[0].up, "");
    assert_string_equal(set->items[0].checksum,
                        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(set->items[1].up, "-- nothing to do yet\n");
    dbm_migrations_free(set);
}

static void empty_directory_is_an_empty_set(void **state)
{
    dbm_migration_set *set = load_ok(*state, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 0);
    assert_null(dbm_migrations_find(set, "1"));
    dbm_migrations_free(set);
}

static void missing_directory_is_a_config_error(void **state)
{
    char *missing = dbm_xasprintf("%s/nope", (char *)*state);

    assert_load_fails(missing, DBM_FORMAT_AUTO, DBM_ECONFIG, "nope", "does not exist");
    free(missing);
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

static void goose_annotations_any_case_with_trailing_blanks(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    const dbm_migration *m;

    put(dir, "001_init.sql",
        "-- a comment before\n"
        "-- +goose Up   \n"
        "-- +goose StatementBegin\n"
        "create function f() returns int language sql as $$ select 1; $$;\n"
        "-- +goose StatementEnd\n"
        "--  +goose DOWN\t\n"
        "drop function f();\n");
    put(dir, "002_idx.sql",
        "-- +goose NO TRANSACTION \n"
        "--+goose up\n"
        "create index concurrently i on t (id);\n");
    put(dir, "003_code.go", "package migrations\n");
    put(dir, "010_ten.sql", "-- +goose Up\nselect 10;\n-- +goose Down\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->format, DBM_FORMAT_GOOSE);
    assert_int_equal(set->count, 3);

    m = &set->items[0];
    assert_string_equal(m->version, "001");
    assert_string_equal(m->up, "-- +goose StatementBegin\n"
                               "create function f() returns int language sql as $$ select 1; $$;\n"
                               "-- +goose StatementEnd\n");
    assert_int_equal(m->up_line, 3);
    assert_string_equal(m->down, "drop function f();\n");
    assert_int_equal(m->down_line, 7);
    assert_false(m->no_transaction);

    m = &set->items[1];
    assert_string_equal(m->up, "create index concurrently i on t (id);\n");
    assert_true(m->no_transaction);
    assert_string_equal(set->items[2].path, "010_ten.sql");
    dbm_migrations_free(set);

    /* a goose file with SQL but no Up annotation */
    put(dir, "011_bad.sql", "select 11;\n");
    assert_load_fails(dir, DBM_FORMAT_GOOSE, DBM_ECONFIG, "011_bad.sql", "+goose Up");
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

static void native_refuses_golang_migrate_names(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "2_b.down.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "2_b.down.sql", "golang-migrate");
}

/* ---- text: normalization, checksum, encoding -------------------------------------------- */

static void checksum_known_answer(void **state)
{
    char sum[72];

    dbm_checksum(sum, "SELECT 1;\n", 10);
    assert_string_equal(sum,
                        "sha256:b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd");
}

static void crlf_and_bom_do_not_change_the_checksum(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "1_lf.sql", "SELECT 1;\n");
    put(dir, "2_crlf.sql", "\xef\xbb\xbfSELECT 1;\r\n");
    put(dir, "3_sections.sql", "-- migrate:up\r\nSELECT 1;\r\n-- migrate:down\r\nSELECT 2;\r\n");
    put(dir, "4_lone_cr.sql", "SELECT 1;\r");
    set = load_ok(dir, DBM_FORMAT_NATIVE);
    assert_int_equal(set->count, 4);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(set->items[i].up, "SELECT 1;\n");
        assert_string_equal(
            set->items[i].checksum,
            "sha256:b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd");
    }
    assert_string_equal(set->items[2].down, "SELECT 2;\n");
    assert_int_equal(set->items[2].down_line, 4);
    /* a lone CR is content, not a line ending */
    assert_string_equal(set->items[3].up, "SELECT 1;\r");
    assert_string_not_equal(set->items[3].checksum, set->items[0].checksum);
    dbm_migrations_free(set);
}

static void invalid_utf8_names_file_and_line(void **state)
{
    const char *dir = *state;

    put(dir, "1_ok.sql", "select 'é';\n");
    put(dir, "2_latin1.sql", "select 1;\r\nselect 2;\ninsert into t values ('caf\xe9');\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "2_latin1.sql", "line 3");
    assert_non_null(strstr(dbm_error_message(), "UTF-8"));
}

static void nul_byte_is_rejected_with_line(void **state)
{
    const char *dir = *state;

    put_bytes(dir, "1_nul.sql", "select 1;\nselect\0 2;\n", 20);
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "1_nul.sql", "line 2");
}

static void names_with_spaces_and_percent_load(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "1_add 100% users %s%n.sql", "select 1;\n");
    put(dir, "2_ spaced .sql", "select 2;\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 2);
    assert_string_equal(set->items[0].name, "add 100% users %s%n");
    assert_string_equal(set->items[1].path, "2_ spaced .sql");
    dbm_migrations_free(set);

    /* and in error messages */
    put(dir, "01_dup %s.sql", "select 1;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "'01_dup %s.sql'", "100% users %s%n");
}

static void newline_in_name_is_a_clear_error(void **state)
{
    const char *dir = *state;

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "2_new\nline.sql", "select 2;\n");
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "2_new?line.sql", "control character");
    assert_null(strchr(dbm_error_message(), '\n'));
}

static void symlinked_files_and_folders_are_followed(void **state)
{
    const char *dir = *state;
    char *target = dbm_xasprintf("%s/elsewhere", dir);
    char *sub = dbm_xasprintf("%s/set", dir);
    char *link1 = dbm_xasprintf("%s/set/2_linked.sql", dir);
    char *link2 = dbm_xasprintf("%s/set/3_dangling.sql", dir);
    dbm_migration_set *set;

    put(dir, "elsewhere", "select 'linked';\n");
    put(dir, "set/1_a.sql", "select 1;\n");
    assert_int_equal(symlink(target, link1), 0);
    assert_int_equal(symlink("/nonexistent/x", link2), 0);
    set = load_ok(sub, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 2);
    assert_string_equal(set->items[1].up, "select 'linked';\n");
    dbm_migrations_free(set);
    free(target);
    free(sub);
    free(link1);
    free(link2);
}

static void huge_file_loads(void **state)
{
    const char *dir = *state;
    size_t line_len = 64, lines = 50u * 1024 * 1024 / 64;
    char *big = dbm_xmalloc(line_len * lines + 1);
    dbm_migration_set *set;

    for (size_t i = 0; i < lines; i++) {
        memset(big + i * line_len, 'x', line_len);
        memcpy(big + i * line_len, "insert into t values (1); --", 28);
        big[i * line_len + line_len - 2] = '\r';
        big[i * line_len + line_len - 1] = '\n';
    }
    put_bytes(dir, "1_big.sql", big, line_len * lines);
    set = load_ok(dir, DBM_FORMAT_NATIVE);
    assert_int_equal(set->items[0].up_len, (line_len - 1) * lines);
    assert_int_equal(set->items[0].up[line_len - 2], '\n');
    dbm_migrations_free(set);
    free(big);
}

/* Load speed is measured by `make bench` (formats-bench.sh); this checks the result. */
static void five_thousand_files_load_in_order(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set = NULL;

    for (int i = 0; i < 5000; i++) {
        char name[64], text[96];
        long long v = 20240101000000LL + i * 7 % 5000;
        snprintf(name, sizeof(name), "%lld_migration_%d.sql", v, i);
        snprintf(text, sizeof(text), "-- migrate:up\ncreate table t%d (id int);\n", i);
        put(dir, name, text);
    }
    assert_int_equal(dbm_migrations_load(&set, dir, DBM_FORMAT_AUTO), 0);
    assert_int_equal(set->count, 5000);
    for (size_t i = 1; i < set->count; i++)
        assert_true(strcmp(set->items[i - 1].version, set->items[i].version) < 0);
    for (size_t i = 0; i < set->count; i++) {
        char want[64];
        long n = strtol(strrchr(set->items[i].path, '_') + 1, NULL, 10);
        snprintf(want, sizeof(want), "create table t%ld (id int);\n", n);
        assert_non_null(strstr(set->items[i].up, want));
    }
    dbm_migrations_free(set);
}

/*
 * Large directories are read by two threads, every other file each. A bad file
 * read by either must fail the load with the same words as when read alone,
 * and the first bad one in load order is the one named.
 */
static void read_ahead_keeps_the_first_error_in_order(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set = NULL;

    for (int i = 0; i < 400; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%04d_m.sql", i);
        if (i == 301)
            put_bytes(dir, name, "select 1;\nselect\0 2;\n", 20);
        else if (i == 302)
            put(dir, name, "select 1;\nselect 'caf\xe9';\n");
        else
            put(dir, name, "select 1;\n");
    }
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "0301_m.sql' holds a NUL byte",
                      "line 2");
    assert_non_null(strstr(dbm_error_hint_text(), "NUL"));

    put(dir, "0301_m.sql", "select 1;\n");
    assert_load_fails(dir, DBM_FORMAT_NATIVE, DBM_ECONFIG, "0302_m.sql' is not valid UTF-8",
                      "line 2");
    assert_non_null(strstr(dbm_error_hint_text(), "iconv"));

    put(dir, "0302_m.sql", "select 2;\n");
    assert_int_equal(dbm_migrations_load(&set, dir, DBM_FORMAT_NATIVE), 0);
    assert_int_equal(set->count, 400);
    assert_string_equal(set->items[302].up, "select 2;\n");
    dbm_migrations_free(set);
}

/* ---- new -------------------------------------------------------------------------------- */

static void new_file_names_reduced_and_refuses_overwrite(void **state)
{
    const char *dir = *state;
    char *path = NULL, *text = NULL, *expect;
    size_t len;
    time_t now = 1704164645; /* 2024-01-02 03:04:05 UTC */
    dbm_migration_set *set;

    assert_int_equal(dbm_migration_new_file(&path, dir, "  Add Users-Table  ", now), 0);
    expect = dbm_xasprintf("%s/20240102030405_add_users_table.sql", dir);
    assert_string_equal(path, expect);
    assert_int_equal(dbm_read_file(&text, &len, path), 0);
    assert_non_null(strstr(text, "-- migrate:up\n"));
    assert_non_null(strstr(text, "-- migrate:down\n"));
    assert_true(strstr(text, "-- migrate:up") < strstr(text, "-- migrate:down"));
    free(text);
    free(path);
    free(expect);

    /* the new file loads as a migration */
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 1);
    assert_string_equal(set->items[0].version, "20240102030405");
    assert_string_equal(set->items[0].name, "add_users_table");
    dbm_migrations_free(set);

    /* same second: refused, the first file untouched */
    path = (char *)1;
    assert_int_equal(dbm_migration_new_file(&path, dir, "add users table", now), DBM_ECONFIG);
    assert_null(path);
    assert_int_equal(dbm_migration_new_file(&path, dir, "other", now), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "20240102030405"));

    assert_int_equal(dbm_migration_new_file(&path, dir, "Weird%s name\n100%", now + 1), 0);
    assert_non_null(strstr(path, "/20240102030406_weird_s_name_100.sql"));
    free(path);
}

static void new_file_rejects_empty_name_and_creates_nothing(void **state)
{
    const char *dir = *state;
    char *path = NULL, *missing = dbm_xasprintf("%s/missing", dir);
    DIR *d;
    struct dirent *de;
    int n = 0;

    assert_int_equal(dbm_migration_new_file(&path, dir, "--- !!", 0), DBM_ECONFIG);
    assert_null(path);
    assert_int_equal(dbm_migration_new_file(&path, dir, "", 0), DBM_ECONFIG);
    assert_int_equal(dbm_migration_new_file(&path, missing, "x", 0), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "missing"));
    d = opendir(dir);
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 0);
    free(missing);
}

/* ---- the corpora: same order and transaction flags as the reference script -------------- */

/* Whether PostgreSQL's parser finds a CONCURRENTLY statement in `sql` (Flyway's own rule). */
static bool parser_finds_concurrently(const char *sql)
{
    PgQueryParseResult r = pg_query_parse(sql);
    bool found = !r.error && r.parse_tree && strstr(r.parse_tree, "\"concurrent\":true");

    pg_query_free_parse_result(r);
    return found;
}

static char *shell_quote(const char *s)
{
    dbm_buf b = DBM_BUF_INIT;

    dbm_buf_putc(&b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            dbm_buf_puts(&b, "'\\''");
        else
            dbm_buf_putc(&b, *s);
    }
    dbm_buf_putc(&b, '\'');
    return dbm_buf_detach(&b);
}

/*
 * Whether db-migrate reads the format that a corpus's SOURCE.txt names on its
 * "format:" line. Sets in formats not yet read are skipped, with a line saying so.
 */
static bool source_format_is_read(const char *dir)
{
    char *path = dbm_xasprintf("%s/SOURCE.txt", dir);
    FILE *f = fopen(path, "r");
    char line[512];
    bool known = false, named = false;

    free(path);
    if (!f)
        return true; /* no SOURCE.txt: let the loader decide */
    while (fgets(line, sizeof(line), f)) {
        dbm_format fmt;

        if (strncmp(line, "format:", 7) != 0)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        named = true;
        known = dbm_format_parse(&fmt, line + 7 + strspn(line + 7, " \t")) == 0;
        if (!known)
            print_message("%-28s %-15s format not read yet: skipped\n", strrchr(dir, '/') + 1,
                          line + 7 + strspn(line + 7, " \t"));
        break;
    }
    fclose(f);
    dbm_error_clear();
    return known || !named;
}

static void corpora_match_the_reference_order(void **state)
{
    const char *root = getenv("DBM_CORPORA");
    DIR *d;

    /* default: beside the repository; a worktree under wt/ sits one level deeper */
    if (!root)
        root =
            access("../shared/corpora", F_OK) == 0 ? "../shared/corpora" : "../../shared/corpora";
    d = opendir(root);
    struct dirent *de;
    int sets = 0;

    if (!d) {
        /* the corpora sit beside the clone; a clone alone has none to walk */
        print_message("corpora not found at '%s' (set DBM_CORPORA): skipped\n", root);
        skip();
    }
    while ((de = readdir(d)) != NULL) {
        char *dir, *q, *script, *cmd;
        dbm_migration_set *set = NULL;
        dbm_buf want = DBM_BUF_INIT, got = DBM_BUF_INIT;
        char line[4096];
        FILE *p;
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        dir = dbm_xasprintf("%s/%s", root, de->d_name);
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            free(dir);
            continue;
        }
        if (!source_format_is_read(dir)) {
            free(dir);
            continue;
        }
        script = dbm_xasprintf("%s/apply-with-psql.sh", root);
        q = shell_quote(dir);
        {
            char *qs = shell_quote(script);
            cmd = dbm_xasprintf("%s --list %s 2>/dev/null", qs, q);
            free(qs);
        }
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p))
            dbm_buf_puts(&want, line);
        assert_int_equal(pclose(p), 0);

        if (dbm_migrations_load(&set, dir, DBM_FORMAT_AUTO) != 0)
            fail_msg("%s: %s", dir, dbm_error_message());
        for (size_t i = 0; i < set->count; i++) {
            const dbm_migration *m = &set->items[i];
            bool no_tx = m->no_transaction;
            /* Flyway runs a migration holding CONCURRENTLY outside a transaction by itself */
            if (set->format == DBM_FORMAT_FLYWAY)
                no_tx = no_tx || parser_finds_concurrently(m->up);
            dbm_buf_printf(&got, "%s%s\n", m->path, no_tx ? "\t[no-transaction]" : "");
        }
        if (strcmp(dbm_buf_cstr(&want), dbm_buf_cstr(&got)) != 0)
            fail_msg("%s (%s): order differs\n--- reference\n%s--- db-migrate\n%s", dir,
                     dbm_format_name(set->format), dbm_buf_cstr(&want), dbm_buf_cstr(&got));
        assert_true(set->count > 0);
        print_message("%-28s %-15s %zu migrations match\n", de->d_name,
                      dbm_format_name(set->format), set->count);
        sets++;
        dbm_migrations_free(set);
        dbm_buf_free(&want);
        dbm_buf_free(&got);
        free(cmd);
        free(q);
        free(script);
        free(dir);
    }
    closedir(d);
    assert_true(sets >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_names_round_trip),
        cmocka_unit_test(version_cmp_orders_each_format),
        cmocka_unit_test_setup_teardown(native_orders_numbers_of_any_length, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(native_records_version_and_name, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(migration_rejects_duplicate_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(golang_migrate_rejects_duplicate_version, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(native_splits_sections_and_reads_directives, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(empty_and_comment_only_files_load, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(empty_directory_is_an_empty_set, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(missing_directory_is_a_config_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_reads_up_section_and_orders_by_name, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_file_without_up_marker_is_an_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(dbmate_orders_versions_as_strings, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(goose_annotations_any_case_with_trailing_blanks, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(golang_migrate_pairs_up_and_down, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(flyway_orders_dotted_versions_then_repeatables, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(diesel_orders_without_dashes_and_reads_metadata, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(prisma_orders_folders_bytewise, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(auto_rejects_mixed_layouts, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(native_refuses_golang_migrate_names, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(checksum_known_answer),
        cmocka_unit_test_setup_teardown(crlf_and_bom_do_not_change_the_checksum, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(invalid_utf8_names_file_and_line, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(nul_byte_is_rejected_with_line, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(names_with_spaces_and_percent_load, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(newline_in_name_is_a_clear_error, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(symlinked_files_and_folders_are_followed, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(huge_file_loads, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(five_thousand_files_load_in_order, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(read_ahead_keeps_the_first_error_in_order, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_names_reduced_and_refuses_overwrite, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_rejects_empty_name_and_creates_nothing, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(corpora_match_the_reference_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
