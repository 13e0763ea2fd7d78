/* test_read.c - reading migration files: normalization, encoding checks, checksum. */

#include "dirfixture.h"

#include "migration/format.h"
#include "migration/read.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A missing optional file is DBM_ENOTFOUND with no message; a required one names dir/rel. */
static void read_text_missing_file(void **state)
{
    const char *dir = *state;
    char *dir_slash = dbm_xasprintf("%s/", dir), *want = dbm_xasprintf("'%s/nope.sql'", dir);
    char *text = NULL;
    size_t len = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);

    assert_true(dfd >= 0);
    assert_int_equal(mig_read_text(&text, &len, dfd, dir, "nope.sql", true), DBM_ENOTFOUND);
    assert_null(text);
    assert_string_equal(dbm_error_message(), "");
    assert_int_equal(mig_read_text(&text, &len, dfd, dir_slash, "nope.sql", false), DBM_EGENERIC);
    assert_non_null(strstr(dbm_error_message(), want));
    assert_null(text);
    close(dfd);
    free(dir_slash);
    free(want);
}

/* Normalization keeps line numbers: a BOM and CRLFs go, a lone CR stays. */
static void read_text_normalizes_in_place(void **state)
{
    const char *dir = *state;
    char *text = NULL;
    size_t len = 0;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);

    put(dir, "a.sql",
        "\xef\xbb\xbf"
        "a\r\nb\rc\r\n\r\nd");
    assert_int_equal(mig_read_text(&text, &len, dfd, dir, "a.sql", false), 0);
    assert_int_equal(len, strlen("a\nb\rc\n\nd"));
    assert_string_equal(text, "a\nb\rc\n\nd");
    assert_int_equal(mig_line_of(text, len - 1), 4);
    assert_int_equal(mig_line_of(text, 0), 1);
    free(text);
    close(dfd);
}

/* The other tools hash the file's bytes: CRLF and a BOM change their hashes, not db-migrate's.
 * Expected values: sha384sum / sha256sum of the same bytes. */
static void tool_hashes_are_of_the_bytes_on_disk(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    char *raw = NULL;
    size_t len = 0;
    int dfd;

    put(dir, "1_lf.sql", "SELECT 1;\n");
    put(dir, "2_crlf.sql", "\xef\xbb\xbfSELECT 1;\r\n");
    set = load_ok(dir, DBM_FORMAT_SQLX);
    assert_string_equal(set->items[0].checksum, set->items[1].checksum);
    assert_string_equal(
        set->items[0].tool_hash,
        "24454095d8d7876ca8e842f34296ca645c83e0f7b50f048c99db4b2ff4da659267afc4ef3e9"
        "94f3d74e18c741165d931");
    assert_string_equal(
        set->items[1].tool_hash,
        "e7120aba455d6ba140ccdf4b195b13b90512d6323220e31eb293181cc077ac61723ed7e9cfd"
        "247fa137c61b7acdbda32");
    dbm_migrations_free(set);

    dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_int_equal(mig_read_raw(&raw, &len, dfd, dir, "2_crlf.sql"), 0);
    assert_int_equal(len, 14);
    assert_memory_equal(raw, "\xef\xbb\xbfSELECT 1;\r\n", 15);
    free(raw);
    assert_true(mig_read_raw(&raw, &len, dfd, dir, "missing.sql") < 0);
    close(dfd);
}

/* Prisma takes the file's SHA-256, or that of the file with CRLF as LF, or with LF as CRLF. */
static void prisma_hashes_are_the_three_it_accepts(void **state)
{
    char *h = mig_tool_hash_prisma("A;\r\nB;\n", 7);

    (void)state;
    assert_string_equal(h, "2fdaa8dc997f9bbdbfa38f1f36e5dce70bf76d5e2492175114a14498d3c88a00 "
                           "6184b6bafda3bd09bb422c2fad6941c35383f59353765a0e3b2c2e335faf79c5 "
                           "86fc101c7c4cb0ef6258c89342325448a74a3e6da2cc17d51b1c83608e9b562e");
    assert_true(
        dbm_tool_hash_lists(h, "6184b6bafda3bd09bb422c2fad6941c35383f59353765a0e3b2c2e335faf79c5"));
    assert_false(dbm_tool_hash_lists(h, "6184b6bafda3bd09"));
    assert_false(dbm_tool_hash_lists(NULL, "6184"));
    free(h);
    h = mig_tool_hash_drizzle("SELECT 1;\r\n", 11);
    assert_string_equal(h, "d3cd5042f97738960d802ad6b3a548dfa18152215118ba18f04493bc6944b0e4");
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checksum_known_answer),
        cmocka_unit_test_setup_teardown(crlf_and_bom_do_not_change_the_checksum, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(invalid_utf8_names_file_and_line, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(nul_byte_is_rejected_with_line, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(huge_file_loads, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(read_text_missing_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(read_text_normalizes_in_place, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(tool_hashes_are_of_the_bytes_on_disk, setup_dir,
                                        teardown_dir),
        cmocka_unit_test(prisma_hashes_are_the_three_it_accepts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
