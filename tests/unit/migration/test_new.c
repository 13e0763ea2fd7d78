/* test_new.c - `new`: the file name, the template, refusing to overwrite. */

#include "dirfixture.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(new_file_names_reduced_and_refuses_overwrite, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_rejects_empty_name_and_creates_nothing, setup_dir,
                                        teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
