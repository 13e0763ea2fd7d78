/*
 * test_versions.c - which migration version a file of the repository is:
 * from the set at head when the file is in it, else from its name alone, in
 * each format's naming rules, and never for files outside the migrations
 * directory or down files. No repository is needed: the state is built here.
 */
#include "unit.h"

#include "git/check_internal.h"

#include <stdlib.h>
#include <string.h>

/* A run over `dir` with a set in `format` holding the given items (may be none). */
static gitcheck_state state_for(dbm_migration_set *set, const char *dir)
{
    gitcheck_state c;

    memset(&c, 0, sizeof(c));
    c.set = set;
    c.dir = (char *)dir;
    return c;
}

static void assert_version(gitcheck_state *c, const char *path, const char *want)
{
    char *got = dbm_gitcheck_version_from_name(c, path);

    if (!want) {
        if (got)
            fail_msg("'%s': expected no version, got '%s'", path, got);
    } else {
        if (!got)
            fail_msg("'%s': expected '%s', got none", path, want);
        assert_string_equal(got, want);
    }
    free(got);
}

static void native_names_give_their_leading_digits(void **state)
{
    dbm_migration_set set = {.format = DBM_FORMAT_NATIVE};
    gitcheck_state c = state_for(&set, "db/migrations");

    assert_version(&c, "db/migrations/20240101120000_add_users.sql", "20240101120000");
    assert_version(&c, "db/migrations/001.create.sql", "001");
    assert_version(&c, "db/migrations/2-seed.sql", "2");
    assert_version(&c, "db/migrations/sub/003_x.sql", "003");
    /* Not migrations: no digits, digits not followed by a separator, down files. */
    assert_version(&c, "db/migrations/README.md", NULL);
    assert_version(&c, "db/migrations/2024abc.sql", NULL);
    assert_version(&c, "db/migrations/001_x.down.sql", NULL);
    assert_version(&c, "db/migrations/001_x_down.sql", NULL);
    assert_version(&c, "db/migrations/001_x.undo.sql", NULL);
    /* Outside the migrations directory, or a directory that only starts alike. */
    assert_version(&c, "db/001_x.sql", NULL);
    assert_version(&c, "db/migrations-old/001_x.sql", NULL);
}

static void root_directory_takes_every_path(void **state)
{
    gitcheck_state c = state_for(NULL, ""); /* no set: native rules */

    assert_version(&c, "7_init.sql", "7");
    assert_string_equal(dbm_gitcheck_in_dir(&c, "a/b.sql"), "a/b.sql");
}

static void flyway_names_give_dotted_versions_and_repeatables(void **state)
{
    dbm_migration_set set = {.format = DBM_FORMAT_FLYWAY};
    gitcheck_state c = state_for(&set, "sql");

    assert_version(&c, "sql/V1__init.sql", "1");
    assert_version(&c, "sql/V2_1__add_index.sql", "2.1");
    assert_version(&c, "sql/R__refresh_view.sql", "R__refresh_view");
    assert_version(&c, "sql/U2__undo.sql", NULL);
    assert_version(&c, "sql/V3_missing_separator.sql", NULL);
    assert_version(&c, "sql/V4__notes.txt", NULL);
}

static void diesel_and_prisma_names_come_from_their_folder(void **state)
{
    dbm_migration_set diesel = {.format = DBM_FORMAT_DIESEL};
    dbm_migration_set prisma = {.format = DBM_FORMAT_PRISMA};
    gitcheck_state d = state_for(&diesel, "migrations");
    gitcheck_state p = state_for(&prisma, "prisma/migrations");

    assert_version(&d, "migrations/2024-01-01-120000_create_users/up.sql", "20240101120000");
    assert_version(&d, "migrations/2024-01-01-120000_create_users/down.sql", NULL);
    assert_version(&d, "migrations/up.sql", NULL);
    assert_version(&p, "prisma/migrations/20240101120000_init/migration.sql",
                   "20240101120000_init");
    assert_version(&p, "prisma/migrations/migration_lock.toml", NULL);
    assert_version(&p, "prisma/migrations/20240101120000_init/README.md", NULL);
}

static void files_in_the_set_take_its_version_and_down_files_none(void **state)
{
    dbm_migration items[2];
    dbm_migration_set set = {.items = items, .count = 2, .format = DBM_FORMAT_NATIVE};
    gitcheck_state c = state_for(&set, "m");
    char *v;

    memset(items, 0, sizeof(items));
    items[0].version = "5";
    items[0].path = "0005_renamed_by_hand.sql";
    items[0].down_path = "undo/0005.sql";
    items[1].version = "6";
    items[1].path = "0006_both.sql";
    items[1].down_path = "0006_both.sql"; /* the down section is in the up file */

    v = dbm_gitcheck_version_of(&c, "m/0005_renamed_by_hand.sql");
    assert_string_equal(v, "5");
    free(v);
    assert_ptr_equal(dbm_gitcheck_mig_by_version(&c, "6"), &items[1]);
    assert_null(dbm_gitcheck_mig_by_version(&c, "7"));
    assert_true(dbm_gitcheck_is_down_file(&c, "m/undo/0005.sql"));
    assert_false(dbm_gitcheck_is_down_file(&c, "m/0006_both.sql"));
    assert_null(dbm_gitcheck_version_of(&c, "m/undo/0005.sql"));
    /* Not in the set: from the name. */
    v = dbm_gitcheck_version_of(&c, "m/0009_new.sql");
    assert_string_equal(v, "0009");
    free(v);
    free(c.by_path);
    free(c.by_version);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(native_names_give_their_leading_digits),
        cmocka_unit_test(root_directory_takes_every_path),
        cmocka_unit_test(flyway_names_give_dotted_versions_and_repeatables),
        cmocka_unit_test(diesel_and_prisma_names_come_from_their_folder),
        cmocka_unit_test(files_in_the_set_take_its_version_and_down_files_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
