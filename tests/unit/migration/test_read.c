/* test_read.c - reading migration files: normalization, encoding checks, checksum. */

#include "dirfixture.h"

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
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
