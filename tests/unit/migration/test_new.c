/* test_new.c - `new`: the file name, the template, refusing to overwrite. */

#include "dirfixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void new_file_names_reduced_and_moves_past_a_taken_second(void **state)
{
    const char *dir = *state;
    char *path = NULL, *text = NULL, *expect;
    size_t len;
    time_t now = 1704164645; /* 2024-01-02 03:04:05 UTC */
    dbm_migration_set *set;

    assert_int_equal(
        dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "  Add Users-Table  ", now), 0);
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

    /* same second: the next free second, the first file untouched */
    assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "add users table", now),
                     0);
    assert_non_null(strstr(path, "/20240102030406_add_users_table.sql"));
    free(path);
    assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "other", now), 0);
    assert_non_null(strstr(path, "/20240102030407_other.sql"));
    free(path);

    assert_int_equal(
        dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "Weird%s name\n100%", now + 10), 0);
    assert_non_null(strstr(path, "/20240102030415_weird_s_name_100.sql"));
    free(path);

    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_int_equal(set->count, 4);
    dbm_migrations_free(set);
}

static void new_file_gives_up_after_a_minute_of_taken_versions(void **state)
{
    const char *dir = *state;
    char *path = NULL;

    for (int k = 0; k < 60; k++) {
        assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "m", 0), 0);
        free(path);
    }
    path = (char *)1;
    assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "m", 0), DBM_ECONFIG);
    assert_null(path);
    assert_string_equal(dbm_error_message(), "the versions of the next 60 seconds are all taken");
}

static void new_file_creates_the_missing_directory(void **state)
{
    const char *dir = *state;
    char *nested = dbm_xasprintf("%s/db/migrations", dir), *file = dbm_xasprintf("%s/f", dir);
    char *path = NULL, *expect = dbm_xasprintf("%s/19700101000000_x.sql", nested);
    FILE *f;

    assert_int_equal(dbm_migration_new_file(&path, nested, DBM_FORMAT_AUTO, "x", 0), 0);
    assert_string_equal(path, expect);
    free(path);
    /* A file where the directory should be is a clear error. */
    f = fopen(file, "w");
    fclose(f);
    assert_int_equal(dbm_migration_new_file(&path, file, DBM_FORMAT_AUTO, "x", 0), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "is not a directory"));
    free(nested);
    free(file);
    free(expect);
}

static void new_file_rejects_empty_name_and_creates_nothing(void **state)
{
    const char *dir = *state;
    char *path = NULL, *missing = dbm_xasprintf("%s/missing", dir);
    DIR *d;
    struct dirent *de;
    int n = 0;

    assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "--- !!", 0), DBM_ECONFIG);
    assert_null(path);
    assert_int_equal(dbm_migration_new_file(&path, dir, DBM_FORMAT_AUTO, "", 0), DBM_ECONFIG);
    /* A bad name is refused before the missing directory is created. */
    assert_int_equal(dbm_migration_new_file(&path, missing, DBM_FORMAT_AUTO, "!!", 0), DBM_ECONFIG);
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
        cmocka_unit_test_setup_teardown(new_file_names_reduced_and_moves_past_a_taken_second,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_rejects_empty_name_and_creates_nothing, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_gives_up_after_a_minute_of_taken_versions,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(new_file_creates_the_missing_directory, setup_dir,
                                        teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
