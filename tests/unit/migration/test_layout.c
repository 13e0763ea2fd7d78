/* test_layout.c - the directory as entries: listing, names, layouts, reading ahead. */

#include "dirfixture.h"

#include "migration/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    char *link2 = dbm_xasprintf("%s/set/notes.txt", dir);
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

static void dangling_symlink_named_like_a_migration_is_an_error(void **state)
{
    const char *dir = *state;
    char *link = dbm_xasprintf("%s/2_dangling.sql", dir);

    put(dir, "1_a.sql", "select 1;\n");
    put(dir, "3_c.sql", "select 3;\n");
    assert_int_equal(symlink("/nonexistent/x", link), 0);
    assert_load_fails(dir, DBM_FORMAT_AUTO, DBM_ECONFIG, "2_dangling.sql",
                      "a symbolic link to nothing");
    free(link);
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

/* Each entry's layout, from its name or, for a folder, the file it holds; hidden ones skipped. */
static void entries_are_classified_by_layout(void **state)
{
    static const struct {
        const char *put; /* a file to create */
        const char *entry;
        mig_layout kind;
    } rows[] = {
        {"1_a.sql", "1_a.sql", MIG_LAYOUT_FLAT},
        {"1_.sql", "1_.sql", MIG_LAYOUT_NONE},
        {"1-a.sql", "1-a.sql", MIG_LAYOUT_NONE},
        {"1_a.up.sql", "1_a.up.sql", MIG_LAYOUT_GOLANG},
        {"1_a.down.sql", "1_a.down.sql", MIG_LAYOUT_GOLANG},
        {"2_.up.sql", "2_.up.sql", MIG_LAYOUT_GOLANG},
        {"1_a.go", "1_a.go", MIG_LAYOUT_GOOSE_GO},
        {"V1__a.sql", "V1__a.sql", MIG_LAYOUT_FLYWAY},
        {"V1_1.2__a.sql", "V1_1.2__a.sql", MIG_LAYOUT_FLYWAY},
        {"Vx__a.sql", "Vx__a.sql", MIG_LAYOUT_NONE},
        {"V1_a.sql", "V1_a.sql", MIG_LAYOUT_NONE},
        {"U2__a.sql", "U2__a.sql", MIG_LAYOUT_FLYWAY},
        {"R__a.sql", "R__a.sql", MIG_LAYOUT_FLYWAY},
        {"R__.sql", "R__.sql", MIG_LAYOUT_NONE},
        {"README.md", "README.md", MIG_LAYOUT_NONE},
        {"d/up.sql", "d", MIG_LAYOUT_DIESEL},
        {"p/migration.sql", "p", MIG_LAYOUT_PRISMA},
        {"pd/up.sql", "pd", MIG_LAYOUT_PRISMA}, /* with pd/migration.sql below */
        {"pd/migration.sql", "pd", MIG_LAYOUT_PRISMA},
        {"x/down.sql", "x", MIG_LAYOUT_NONE},
        {".hidden.sql", NULL, MIG_LAYOUT_NONE},
    };
    const char *dir = *state;
    mig_entry_list list = {NULL, 0, 0, NULL, NULL};
    int dfd = -1;
    size_t listed = 0;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        put(dir, rows[i].put, "select 1;\n");
    assert_int_equal(mig_layout_list(&list, &dfd, dir), 0);
    for (size_t i = 1; i < list.count; i++)
        assert_true(strcmp(list.items[i - 1].name, list.items[i].name) < 0);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const mig_entry *e = NULL;

        for (size_t k = 0; k < list.count && rows[i].entry; k++)
            if (strcmp(list.items[k].name, rows[i].entry) == 0)
                e = &list.items[k];
        if (!rows[i].entry)
            continue;
        if (!e || e->kind != rows[i].kind)
            fail_msg("'%s': %s, want %s", rows[i].entry, e ? mig_layout_name(e->kind) : "missing",
                     mig_layout_name(rows[i].kind));
    }
    for (size_t k = 0; k < list.count; k++)
        listed += list.items[k].name[0] != '.';
    assert_int_equal(listed, list.count);
    assert_int_equal(list.count, 19);
    mig_entry_list_free(&list);
    close(dfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(empty_directory_is_an_empty_set, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(missing_directory_is_a_config_error, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(names_with_spaces_and_percent_load, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(newline_in_name_is_a_clear_error, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(dangling_symlink_named_like_a_migration_is_an_error,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(symlinked_files_and_folders_are_followed, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(five_thousand_files_load_in_order, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(read_ahead_keeps_the_first_error_in_order, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(entries_are_classified_by_layout, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
