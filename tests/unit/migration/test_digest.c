/*
 * test_digest.c - expect-migrations' digest: its known answer, and what a
 * mismatch says.
 */

#include "unit.h"

#include "common/error.h"
#include "migration/digest.h"

#include <stdlib.h>
#include <string.h>

#define SHA_001_002 "a636c8aadd00c5e586bb78b4310ab1cc03497ee5426073ab334498c71377bc5c"

static dbm_migration items[3];
static dbm_migration_set set = {.items = items, .count = 2, .format = DBM_FORMAT_NATIVE};

static void reset(void)
{
    memset(items, 0, sizeof(items));
    items[0].version = "001";
    memcpy(items[0].checksum, "sha256:aa", 10);
    items[1].version = "002";
    memcpy(items[1].checksum, "sha256:bb", 10);
    set.count = 2;
}

static void digest_is_sha256_of_versions_and_checksums(void **state)
{
    char *d;
    dbm_migration_set empty = {.items = items, .count = 0, .format = DBM_FORMAT_NATIVE};

    (void)state;
    reset();
    d = dbm_migrations_digest(&set);
    assert_string_equal(d, "sha256:" SHA_001_002 ":2:002");
    free(d);
    d = dbm_migrations_digest(&empty);
    assert_string_equal(
        d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855:0:");
    free(d);
}

static void expect_accepts_the_same_set(void **state)
{
    (void)state;
    reset();
    assert_int_equal(dbm_migrations_expect(&set, "sha256:" SHA_001_002 ":2:002"), 0);
}

static void expect_names_a_missing_newer_migration(void **state)
{
    (void)state;
    reset();
    set.count = 1;
    assert_int_equal(dbm_migrations_expect(&set, "sha256:" SHA_001_002 ":2:002"), DBM_EBLOCKED);
    assert_string_equal(dbm_error_message(), "these migrations are not the ones expected: 1 "
                                             "migration up to 001 here, 2 migrations up to 002 "
                                             "expected");
    assert_non_null(strstr(dbm_error_hint_text(), "stale image"));
}

static void expect_names_an_edited_file(void **state)
{
    (void)state;
    reset();
    memcpy(items[1].checksum, "sha256:cc", 10);
    assert_int_equal(dbm_migrations_expect(&set, "sha256:" SHA_001_002 ":2:002"), DBM_EBLOCKED);
    assert_non_null(strstr(dbm_error_message(), "2 migrations up to 002 here as expected, but a "
                                                "version or a file's content differs"));
}

static void expect_refuses_what_is_not_a_digest(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "sha256:" SHA_001_002,
        "sha256:" SHA_001_002 ":x:002",
        "sha256:" SHA_001_002 ":2",
        "sha256:A636c8aadd00c5e586bb78b4310ab1cc03497ee5426073ab334498c71377bc5c:2:002",
        "md5:" SHA_001_002 ":2:002",
    };

    (void)state;
    reset();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(dbm_migrations_expect(&set, bad[i]), DBM_ECONFIG);
        assert_string_equal(dbm_error_message(),
                            "invalid value for expect-migrations: not a migrations digest");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_is_sha256_of_versions_and_checksums),
        cmocka_unit_test(expect_accepts_the_same_set),
        cmocka_unit_test(expect_names_a_missing_newer_migration),
        cmocka_unit_test(expect_names_an_edited_file),
        cmocka_unit_test(expect_refuses_what_is_not_a_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
