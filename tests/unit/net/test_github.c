/* test_github.c - the pull-request comment's body: marker, Markdown, and its cut. */
#include "unit.h"

#include "common/util.h"
#include "net/github.h"

#include <stdlib.h>
#include <string.h>

#define MARKER   "<!-- db-migrate:comment command=plan -->"
#define CUT_TAIL "\n\n… cut to fit a comment; the job summary has everything.\n"

static void short_markdown_follows_the_marker_whole(void **state)
{
    char *body = dbm_github_comment_body(MARKER, "## plan\n\nnothing to do\n");

    assert_string_equal(body, MARKER "\n## plan\n\nnothing to do\n");
    free(body);
}

/* 70,000 bytes of lines: cut at the last line end before 60,000. */
static void long_markdown_is_cut_at_a_line_end(void **state)
{
    dbm_buf md = DBM_BUF_INIT;
    char *body;

    while (md.len < 70000)
        dbm_buf_puts(&md, "| 20240101000000 | a row of the history table |\n");
    body = dbm_github_comment_body(MARKER, dbm_buf_cstr(&md));
    assert_true(strlen(body) <= strlen(MARKER) + 1 + 60000 + strlen(CUT_TAIL));
    assert_true(strlen(body) > 59000);
    assert_string_equal(body + strlen(body) - strlen(CUT_TAIL) - 2, "|\n" CUT_TAIL);
    free(body);
    dbm_buf_free(&md);
}

/* One long line of multi-byte characters, whichever byte 60,000 falls on: whole characters. */
static void a_line_longer_than_the_limit_is_cut_between_characters(void **state)
{
    for (size_t lead = 0; lead < 4; lead++) {
        dbm_buf md = DBM_BUF_INIT;
        char *body;

        for (size_t k = 0; k < lead; k++)
            dbm_buf_putc(&md, 'x');
        while (md.len < 70000)
            dbm_buf_puts(&md, "𝄞✓é");
        body = dbm_github_comment_body(MARKER, dbm_buf_cstr(&md));
        assert_true(strlen(body) > 59990);
        assert_true(dbm_utf8_valid(body, strlen(body), NULL));
        assert_null(strchr(body, '?'));
        free(body);
        dbm_buf_free(&md);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_markdown_follows_the_marker_whole),
        cmocka_unit_test(long_markdown_is_cut_at_a_line_end),
        cmocka_unit_test(a_line_longer_than_the_limit_is_cut_between_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
