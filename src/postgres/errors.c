/*
 * errors.c - a server error as the migration's: its message, and where in the
 * file it points.
 *
 * PostgreSQL gives an error's position in characters, counted from the start
 * of the query string the statement came in; the file is UTF-8 and a query
 * string may hold several statements (or a batch of files). These functions
 * turn that into a byte offset in the section's text, then a line and column
 * of the file.
 */
#include "postgres/db_internal.h"
#include "postgres/message.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Numbered lines around `line` (1-based, in text), the line itself marked. */
static char *context_lines(const char *text, size_t len, int line, int first_line)
{
    dbm_buf b = DBM_BUF_INIT;
    int cur = 1;
    size_t start = 0;

    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (cur >= line - 3 && cur <= line + 2)
                dbm_buf_printf(&b, "%s%5d | %.*s\n", cur == line ? ">" : " ", cur + first_line - 1,
                               (int)(i - start), text + start);
            cur++;
            start = i + 1;
            if (cur > line + 2)
                break;
        }
    }
    return dbm_buf_detach(&b);
}

size_t dbm_db_position_offset(const char *text, size_t text_len, size_t stmt_offset,
                              const char *position)
{
    if (!position || stmt_offset > text_len)
        return stmt_offset;
    return stmt_offset + dbm_sql_charpos_to_offset(text + stmt_offset, text_len - stmt_offset,
                                                   strtol(position, NULL, 10));
}

size_t dbm_db_error_offset(const PGresult *res, const char *text, size_t text_len,
                           size_t stmt_offset)
{
    return dbm_db_position_offset(text, text_len, stmt_offset,
                                  PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
}

void dbm_db_error_at(dbm_error_info *e, const char *detail, const char *hint, const char *text,
                     size_t text_len, size_t offset, int first_line, const char *file)
{
    int line = 1, col = 1;

    if (offset > text_len)
        offset = text_len;
    dbm_sql_linecol(text, text_len, offset, &line, &col);
    dbm_report_set(&e->detail, detail);
    dbm_report_set(&e->hint, hint);
    dbm_report_set(&e->file, file);
    e->line = first_line + line - 1;
    e->column = col;
    free(e->context);
    e->context = context_lines(text, text_len, line, first_line);
}

/*
 * What to do about an integrity constraint violation (SQLSTATE class 23), for
 * which the server gives no hint of its own: the rows are the problem, not
 * the SQL. NULL for any other error.
 */
static const char *constraint_hint(const char *sqlstate)
{
    static const struct {
        const char *sqlstate, *hint;
    } hints[] = {
        {"23505", "the key in the detail is there twice: skip or merge the row (INSERT ... ON "
                  "CONFLICT), or remove the duplicates before the unique index is built"},
        {"23502", "a row has no value for a NOT NULL column: give the column a DEFAULT, or fill "
                  "it (UPDATE) before setting NOT NULL"},
        {"23514", "rows break the CHECK constraint: fix them first, or add it NOT VALID and "
                  "VALIDATE CONSTRAINT once they are fixed"},
        {"23503", "rows reference keys that are not there: add the missing keys or fix the "
                  "references first, or add the constraint NOT VALID and VALIDATE it later"},
        {"23P01", "rows conflict under the exclusion constraint: fix the overlapping rows first"},
    };

    if (!sqlstate || strncmp(sqlstate, "23", 2) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
        if (strcmp(sqlstate, hints[i].sqlstate) == 0)
            return hints[i].hint;
    return "the data breaks an integrity constraint (see the detail): fix those rows, then run "
           "again";
}

/* As dbm_db_fill_error, pointing at byte `offset` of `text`. */
static void fill_error_at(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                          size_t offset, int first_line, const char *file)
{
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (!hint && sqlstate && strcmp(sqlstate, "57014") == 0 && primary &&
        strstr(primary, "statement timeout"))
        hint = "the statement ran longer than statement-timeout: raise it for this deploy "
               "(--statement-timeout 10m, 0 for none), or make the statement cheaper (an index "
               "first, a data change in batches)";
    if (!hint)
        hint = constraint_hint(sqlstate);
    dbm_db_error_at(e, PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL), hint, text, text_len,
                    offset, first_line, file);
}

void dbm_db_fill_error(dbm_error_info *e, const PGresult *res, const char *text, size_t text_len,
                       size_t stmt_offset, int first_line, const char *file)
{
    fill_error_at(e, res, text, text_len, dbm_db_error_offset(res, text, text_len, stmt_offset),
                  first_line, file);
}

void dbm_db_record_error(dbm_mig_result *result, const PGresult *res, PGconn *conn,
                         const char *text, size_t len, size_t offset, int first_line,
                         const char *file)
{
    /* A backend ended mid-query ("FATAL:  terminating connection ...") leaves no result fields. */
    dbm_error_info *e = dbm_report_set_error(result, dbm_db_message(res, conn),
                                             PQresultErrorField(res, PG_DIAG_SQLSTATE));

    fill_error_at(e, res, text, len, offset, first_line, file);
}

void dbm_db_transactional_hint(dbm_mig_result *result, const PGresult *res, bool in_history)
{
    if (in_history && strcmp(dbm_db_sqlstate(res), "23505") == 0)
        dbm_report_set(&result->error->hint,
                       "another run recorded this version at the same time; nothing was "
                       "applied twice (the run lock was bypassed, e.g. by a pooler)");
    if (strcmp(dbm_db_sqlstate(res), DBM_LOCK_TIMEOUT_SQLSTATE) == 0)
        dbm_report_set(&result->error->hint,
                       "another session held a conflicting lock for longer than lock-timeout "
                       "on every retry; find it in pg_locks, or raise lock-timeout or "
                       "lock-retries");
}
