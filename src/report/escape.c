/*
 * escape.c - text from files or the server written into Markdown: inline text,
 * code spans and <pre> blocks. The escaping happens here, where the
 * destination is known, never earlier.
 */
#include "report/render.h"
#include "report/report.h"

#include <stdlib.h>

char *dbm_escape_markdown(const char *s)
{
    dbm_buf b = DBM_BUF_INIT;

    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            dbm_buf_puts(&b, "&amp;");
            break;
        case '<':
            dbm_buf_puts(&b, "&lt;");
            break;
        case '>':
            dbm_buf_puts(&b, "&gt;");
            break;
        case '"':
            dbm_buf_puts(&b, "&quot;");
            break;
        case '|':
            dbm_buf_puts(&b, "&#124;");
            break;
        case '`':
            dbm_buf_puts(&b, "&#96;");
            break;
        case '*':
        case '_':
        case '[':
        case ']':
        case '\\':
        case '#':
            dbm_buf_putc(&b, '\\');
            dbm_buf_putc(&b, *s);
            break;
        case '\r':
        case '\n':
            dbm_buf_putc(&b, ' ');
            break;
        default:
            if ((unsigned char)*s < 0x20)
                dbm_buf_putc(&b, ' ');
            else
                dbm_buf_putc(&b, *s);
        }
    }
    return dbm_buf_detach(&b);
}

void report_md_text(dbm_buf *b, const char *s)
{
    char *e = dbm_escape_markdown(s ? s : "");
    dbm_buf_puts(b, e);
    free(e);
}

void report_md_code(dbm_buf *b, const char *s)
{
    dbm_buf_putc(b, '`');
    for (; s && *s; s++) {
        if (*s == '`')
            dbm_buf_putc(b, '\'');
        else if (*s == '|')
            dbm_buf_puts(b, "\\|");
        else if ((unsigned char)*s < 0x20)
            dbm_buf_putc(b, ' ');
        else
            dbm_buf_putc(b, *s);
    }
    dbm_buf_putc(b, '`');
}

void report_md_pre(dbm_buf *b, const char *s)
{
    dbm_buf_puts(b, "<pre>");
    for (; s && *s; s++) {
        if (*s == '&')
            dbm_buf_puts(b, "&amp;");
        else if (*s == '<')
            dbm_buf_puts(b, "&lt;");
        else if (*s == '>')
            dbm_buf_puts(b, "&gt;");
        else
            dbm_buf_putc(b, *s);
    }
    dbm_buf_puts(b, "</pre>\n");
}

void report_html_text(dbm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '&')
            dbm_buf_puts(b, "&amp;");
        else if (*s == '<')
            dbm_buf_puts(b, "&lt;");
        else if (*s == '>')
            dbm_buf_puts(b, "&gt;");
        else if (*s == '"')
            dbm_buf_puts(b, "&quot;");
        else if ((unsigned char)*s < 0x20)
            dbm_buf_putc(b, ' ');
        else
            dbm_buf_putc(b, *s);
    }
}
