/*
 * server_error - where a server error points: PG_DIAG_STATEMENT_POSITION
 * (characters from the statement, as the server or a pooler in between sends
 * it) turned into a byte offset of the section, then a file line, column and
 * numbered context lines. The input is the position, the statement's byte
 * offset and the section's first line, one per line, then the section.
 */
#include "fuzz.h"

#include "postgres/db_internal.h"

#include <stdlib.h>
#include <string.h>

static char *line_of(const uint8_t **data, size_t *size)
{
    const uint8_t *nl = memchr(*data, '\n', *size);
    size_t n = nl ? (size_t)(nl - *data) : *size;
    char *s = fuzz_strndup(*data, n);

    *data += n + (nl != NULL);
    *size -= n + (nl != NULL);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *position = line_of(&data, &size);
    char *stmt = line_of(&data, &size);
    char *first = line_of(&data, &size);
    char *text = fuzz_strndup(data, size);
    size_t stmt_offset = strtoul(stmt, NULL, 10), offset;
    long first_line = strtol(first, NULL, 10);
    dbm_error_info e;

    if (first_line < 1 || first_line > 1000000)
        first_line = 1;
    offset = dbm_db_position_offset(text, size, stmt_offset, *position ? position : NULL);
    if (stmt_offset <= size && offset > size)
        FUZZ_FAIL();
    memset(&e, 0, sizeof(e));
    dbm_db_error_at(&e, "detail", NULL, text, size, offset, (int)first_line, "1_x.sql");
    if (e.line < (int)first_line || e.column < 1 || !e.context)
        FUZZ_FAIL();
    free(e.detail);
    free(e.hint);
    free(e.file);
    free(e.context);
    free(text);
    free(first);
    free(stmt);
    free(position);
    return 0;
}
