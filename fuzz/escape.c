/*
 * escape - where untrusted text (file names, SQL, server messages) is written
 * into the job summary, the pull-request comment and workflow commands: each
 * escaping must leave nothing that ends its context. Markdown text: no line
 * break, control character, or raw < > | `; a code span: no backtick inside
 * and every | escaped; <pre>: no < inside; HTML text: no < > "; workflow
 * command data: no CR or LF; a property: no ':' or ','; printable text: no
 * control character.
 */
#include "fuzz.h"

#include "common/log.h"
#include "common/util.h"
#include "report/render.h"
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

static void check_none(const char *s, size_t n, const char *bad, bool controls)
{
    for (size_t i = 0; i < n; i++)
        if ((bad && s[i] && strchr(bad, s[i])) || (controls && (unsigned char)s[i] < 0x20))
            FUZZ_FAIL();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size), *e;
    dbm_buf b = DBM_BUF_INIT;

    e = dbm_escape_markdown(text);
    check_none(e, strlen(e), "<>|`\r\n", true);
    free(e);

    report_md_code(&b, text);
    if (b.len < 2 || b.ptr[0] != '`' || b.ptr[b.len - 1] != '`')
        FUZZ_FAIL();
    check_none(b.ptr + 1, b.len - 2, "`", true);
    for (size_t i = 1; i + 1 < b.len; i++)
        if (b.ptr[i] == '|' && b.ptr[i - 1] != '\\')
            FUZZ_FAIL();
    dbm_buf_truncate(&b, 0);

    report_md_pre(&b, text);
    if (!dbm_starts_with(b.ptr, "<pre>") || b.len < 12 || strcmp(b.ptr + b.len - 7, "</pre>\n"))
        FUZZ_FAIL();
    check_none(b.ptr + 5, b.len - 12, "<>", false);
    dbm_buf_truncate(&b, 0);

    report_html_text(&b, text);
    check_none(dbm_buf_cstr(&b), b.len, "<>\"", true);
    dbm_buf_free(&b);

    e = dbm_escape_command_data(text);
    check_none(e, strlen(e), "\r\n", false);
    free(e);
    e = dbm_escape_command_property(text);
    check_none(e, strlen(e), "\r\n:,", false);
    free(e);
    e = dbm_printable(text);
    check_none(e, strlen(e), NULL, true);
    free(e);
    free(text);
    return 0;
}
