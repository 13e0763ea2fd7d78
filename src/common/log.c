#include "common/log.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool dbm_in_actions(void)
{
    const char *v = getenv("GITHUB_ACTIONS");
    return v && strcmp(v, "true") == 0;
}

static bool log_on_stderr;

void dbm_log_use_stderr(bool on)
{
    log_on_stderr = on;
}

FILE *dbm_log_stream(void)
{
    return log_on_stderr ? stderr : stdout;
}

bool dbm_log_color(void)
{
    const char *no_color = getenv("NO_COLOR");
    return isatty(fileno(dbm_log_stream())) && !(no_color && *no_color);
}

void dbm_log(const char *fmt, ...)
{
    FILE *out = dbm_log_stream();
    va_list ap;

    /* One line at a time, whole: the connecting thread logs (masks) while the main one works. */
    flockfile(out);
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
}

void dbm_warn(const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    if (dbm_in_actions()) {
        dbm_annotate("warning", NULL, 0, 0, NULL, text);
    } else {
        fflush(stdout);
        fprintf(stderr, "warning: %s\n", text);
    }
    free(text);
}

void dbm_log_group(const char *title)
{
    if (dbm_in_actions())
        dbm_log("::group::%s", title);
    else
        dbm_log("== %s", title);
}

void dbm_log_endgroup(void)
{
    if (dbm_in_actions())
        dbm_log("::endgroup::");
}

void dbm_mask(const char *secret)
{
    char *esc;

    if (!secret || !*secret || !dbm_in_actions())
        return;
    esc = dbm_escape_command_data(secret);
    dbm_log("::add-mask::%s", esc);
    free(esc);
}

static char *escape(const char *s, bool property)
{
    dbm_buf b = DBM_BUF_INIT;

    for (; s && *s; s++) {
        switch (*s) {
        case '%':
            dbm_buf_puts(&b, "%25");
            break;
        case '\r':
            dbm_buf_puts(&b, "%0D");
            break;
        case '\n':
            dbm_buf_puts(&b, "%0A");
            break;
        case ':':
            dbm_buf_puts(&b, property ? "%3A" : ":");
            break;
        case ',':
            dbm_buf_puts(&b, property ? "%2C" : ",");
            break;
        default:
            dbm_buf_putc(&b, *s);
        }
    }
    return dbm_buf_detach(&b);
}

char *dbm_escape_command_data(const char *s)
{
    return escape(s, false);
}

char *dbm_escape_command_property(const char *s)
{
    return escape(s, true);
}

char *dbm_printable(const char *s)
{
    char *p = dbm_xstrdup(s ? s : "");
    for (char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            *q = '?';
    return p;
}

void dbm_annotate(const char *level, const char *file, int line, int col, const char *title,
                  const char *message)
{
    dbm_buf b = DBM_BUF_INIT;
    char *data;

    if (!dbm_in_actions()) {
        fflush(stdout);
        if (file && line > 0)
            fprintf(stderr, "%s: %s:%d:%d: %s\n", level, file, line, col > 0 ? col : 1, message);
        else if (file)
            fprintf(stderr, "%s: %s: %s\n", level, file, message);
        else
            fprintf(stderr, "%s: %s\n", level, message);
        return;
    }
    dbm_buf_printf(&b, "::%s", level);
    if (file || title) {
        const char *sep = " ";
        if (file) {
            char *f = dbm_escape_command_property(file);
            dbm_buf_printf(&b, "%sfile=%s", sep, f);
            free(f);
            sep = ",";
            if (line > 0) {
                dbm_buf_printf(&b, ",line=%d", line);
                if (col > 0)
                    dbm_buf_printf(&b, ",col=%d", col);
            }
        }
        if (title) {
            char *t = dbm_escape_command_property(title);
            dbm_buf_printf(&b, "%stitle=%s", sep, t);
            free(t);
        }
    }
    data = dbm_escape_command_data(message);
    dbm_buf_printf(&b, "::%s", data);
    free(data);
    dbm_log("%s", b.ptr);
    dbm_buf_free(&b);
}
