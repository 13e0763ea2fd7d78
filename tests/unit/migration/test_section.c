/* test_section.c - up and down sections, directives, transaction settings. */

#include "dirfixture.h"

#include "migration/section.h"

#include <stdlib.h>
#include <string.h>

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

/* Splitting at each format's markers: the first up and down, their lines, the directives. */
static void sections_split_at_the_first_markers(void **state)
{
    static const struct {
        const mig_sections *syntax;
        const char *text;
        int rc;
        const char *up;
        int up_line;
        const char *down; /* NULL: none */
        int down_line;
        bool no_tx;
    } rows[] = {
        {&mig_sections_native, "select 1;\n", 0, "select 1;\n", 1, NULL, 0, false},
        {&mig_sections_native, "a\n-- migrate:down\nb\n", 0, "a\n", 1, "b\n", 3, false},
        {&mig_sections_native, "-- migrate:no-transaction\n-- migrate:up\na\n", 0, "a\n", 3, NULL,
         0, true},
        {&mig_sections_dbmate, "-- migrate:no-transaction\n-- migrate:up\na\n", 0, "a\n", 3, NULL,
         0, false},
        {&mig_sections_dbmate, "select 1;\n", DBM_ENOTFOUND, NULL, 0, NULL, 0, false},
        {&mig_sections_dbmate, "-- migrate:down\nb\n-- migrate:up transaction:false\na\n", 0, "a\n",
         4, "b\n", 2, true},
        {&mig_sections_dbmate, "-- migrate:up\na\n-- migrate:up transaction:false\n", 0,
         "a\n-- migrate:up transaction:false\n", 2, NULL, 0, false},
        {&mig_sections_dbmate, "-- migrate:upx\n", DBM_ENOTFOUND, NULL, 0, NULL, 0, false},
        {&mig_sections_goose, "-- +goose up\na\n-- +goose down\nb\n", 0, "a\n", 2, "b\n", 4, false},
        {&mig_sections_goose, "-- +goose Up\n-- +goose NO  TRANSACTION\na\n", 0,
         "-- +goose NO  TRANSACTION\na\n", 2, NULL, 0, true},
        {&mig_sections_goose, "--+goose Up\nx\n", 0, "x\n", 2, NULL, 0, false},
        {&mig_sections_goose, "-- +gooseUp\nx\n", DBM_ENOTFOUND, NULL, 0, NULL, 0, false},
        {&mig_sections_goose, "-- migrate:up\nx\n", DBM_ENOTFOUND, NULL, 0, NULL, 0, false},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        dbm_migration m;
        int rc;

        memset(&m, 0, sizeof(m));
        m.path = "1_a.sql";
        rc = mig_sections_split(&m, rows[i].text, strlen(rows[i].text), rows[i].syntax);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d, want %d", i, rc, rows[i].rc);
        if (rc == 0) {
            assert_string_equal(m.up, rows[i].up);
            assert_int_equal(m.up_len, strlen(rows[i].up));
            assert_int_equal(m.up_line, rows[i].up_line);
            if (rows[i].down) {
                assert_string_equal(m.down, rows[i].down);
                assert_int_equal(m.down_line, rows[i].down_line);
                assert_string_equal(m.down_path, "1_a.sql");
            } else {
                assert_null(m.down);
                assert_null(m.down_path);
            }
        } else {
            assert_null(m.up);
        }
        if (m.no_transaction != rows[i].no_tx)
            fail_msg("row %zu: no_transaction %d", i, m.no_transaction);
        free(m.up);
        free(m.down);
        free(m.down_path);
    }
}

/* Transaction settings beside a migration: the last setting wins, comments and TOML tables. */
static void config_false_reads_the_last_setting_of_the_key(void **state)
{
    static const struct {
        const char *text, *key, *alias;
        bool toml, want;
    } rows[] = {
        {"a = 1\nexecuteInTransaction = FALSE # why\n", "executeInTransaction", NULL, false, true},
        {"executeInTransaction=false\nexecuteInTransaction=true\n", "executeInTransaction", NULL,
         false, false},
        {"flyway.executeInTransaction=false\n", "executeInTransaction",
         "flyway.executeInTransaction", false, true},
        {"flyway.executeInTransaction=false\n", "executeInTransaction", NULL, false, false},
        {"# executeInTransaction=false\n", "executeInTransaction", NULL, false, false},
        {"executeInTransaction=no\n", "executeInTransaction", NULL, false, false},
        {"  run_in_transaction = false  \n[t]\n", "run_in_transaction", NULL, true, true},
        {"[t]\nrun_in_transaction = false\n", "run_in_transaction", NULL, true, false},
        {"[t]\nrun_in_transaction = false\n", "run_in_transaction", NULL, false, true},
    };

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *text = dbm_xstrdup(rows[i].text);
        bool got = mig_config_false(text, rows[i].key, rows[i].alias, rows[i].toml);

        if (got != rows[i].want)
            fail_msg("row %zu: %d, want %d", i, got, rows[i].want);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(native_splits_sections_and_reads_directives, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(empty_and_comment_only_files_load, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(goose_annotations_any_case_with_trailing_blanks, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(sections_split_at_the_first_markers),
        cmocka_unit_test(config_false_reads_the_last_setting_of_the_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
