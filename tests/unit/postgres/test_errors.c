/*
 * test_errors.c - a server error position (characters, from the statement's
 * start) as the file's line and column.
 */
#include "unit.h"

#include "postgres/db_internal.h"

#include <stdlib.h>
#include <string.h>

/* Two statements; the second has multi-byte characters (2, 3 and 4 bytes) before its error. */
static const char text[] = "SELECT 1;\n"
                           "SELECT 'é✓𝄞', nope\n"
                           "  FROM t;\n";
#define STMT2 10 /* byte offset of the second statement */

static void position_counts_characters_from_the_statement(void **state)
{
    static const struct {
        size_t stmt_offset;
        const char *position;
        size_t offset;
    } cases[] = {
        {STMT2, "15", 30},    /* "nope": 14 characters, 20 bytes after the statement's start */
        {STMT2, "22", 37},    /* "FROM", on the next line */
        {STMT2, "1", STMT2},  /* the statement's first character */
        {0, "8", 7},          /* in the first statement: one byte a character */
        {STMT2, NULL, STMT2}, /* no position: the statement's start */
        {STMT2, "999", sizeof(text) - 1},          /* past the end: the end */
        {sizeof(text) + 5, "3", sizeof(text) + 5}, /* a statement past the text: left alone */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(
            dbm_db_position_offset(text, sizeof(text) - 1, cases[i].stmt_offset, cases[i].position),
            cases[i].offset);
}

static void error_points_at_file_line_and_character_column(void **state)
{
    static const struct {
        size_t offset;
        int first_line;
        int line, column;
    } cases[] = {
        {30, 1, 2, 15},  /* after é✓𝄞: column in characters, not bytes (21) */
        {37, 1, 3, 3},   /* FROM */
        {37, 12, 14, 3}, /* the section starts at line 12 of its file */
        {0, 5, 5, 1},    /* the first byte */
        {500, 1, 4, 1},  /* past the end: clamped to the end, the empty last line */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_error_info e;

        memset(&e, 0, sizeof(e));
        dbm_db_error_at(&e, "a detail", NULL, text, sizeof(text) - 1, cases[i].offset,
                        cases[i].first_line, "db/001_x.sql");
        assert_int_equal(e.line, cases[i].line);
        assert_int_equal(e.column, cases[i].column);
        assert_string_equal(e.file, "db/001_x.sql");
        assert_string_equal(e.detail, "a detail");
        assert_null(e.hint);
        free(e.detail);
        free(e.file);
        free(e.context);
    }
}

static void context_shows_numbered_lines_around_the_error(void **state)
{
    static const char section[] = "a\nb\nc\nd\ne\nf\ng\nh\n";
    dbm_error_info e;

    memset(&e, 0, sizeof(e));
    /* "e" is line 5 of the section, line 104 of the file. */
    dbm_db_error_at(&e, NULL, "a hint", section, sizeof(section) - 1, 8, 100, "f.sql");
    assert_int_equal(e.line, 104);
    assert_string_equal(e.context, "   101 | b\n"
                                   "   102 | c\n"
                                   "   103 | d\n"
                                   ">  104 | e\n"
                                   "   105 | f\n"
                                   "   106 | g\n");
    assert_string_equal(e.hint, "a hint");
    free(e.hint);
    free(e.file);
    free(e.context);
}

static void error_without_a_server_position_points_at_the_statement(void **state)
{
    dbm_error_info e;

    /* A result with no error fields: what a lost connection gives. */
    memset(&e, 0, sizeof(e));
    assert_int_equal(dbm_pq_load(), 0);
    dbm_db_fill_error(&e, NULL, text, sizeof(text) - 1, STMT2, 3, "f.sql");
    assert_int_equal(e.line, 4);
    assert_int_equal(e.column, 1);
    assert_null(e.detail);
    free(e.file);
    free(e.context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(position_counts_characters_from_the_statement),
        cmocka_unit_test(error_points_at_file_line_and_character_column),
        cmocka_unit_test(context_shows_numbered_lines_around_the_error),
        cmocka_unit_test(error_without_a_server_position_points_at_the_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
