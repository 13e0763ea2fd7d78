#include "common/error.h"
#include "common/stop.h"

#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Per thread: the connection is opened on a worker thread while files are read. */
#define MESSAGE_SIZE 4096
static _Thread_local char message[MESSAGE_SIZE];
static _Thread_local char hint[1024];
static _Thread_local int last_code;

/*
 * Every message and hint is one line: a line break or tab (a server's or a
 * library's text, a value quoted without dbm_printable) becomes one space,
 * with the spaces around it; other control characters become '?', so no
 * message can move the terminal's cursor; none is left at the end.
 */
static void one_line(char *s)
{
    size_t n = 0;

    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f') {
            while (n > 0 && s[n - 1] == ' ')
                n--;
            while (s[i + 1] == ' ' || (s[i + 1] && strchr("\n\r\t\v\f", s[i + 1])))
                i++;
            if (n > 0)
                s[n++] = ' ';
            continue;
        }
        s[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    while (n > 0 && s[n - 1] == ' ')
        n--;
    s[n] = '\0';
}

/* Whether c ends a URL's authority or a conninfo value written without quotes. */
static bool ends_value(char c)
{
    return c == '\0' || c == ' ' || c == '\'' || c == '"' || c == '/' || c == '?' || c == '#';
}

/*
 * A password quoted by mistake (a connection string given where another
 * value was expected, "unexpected argument 'postgresql://u:pw@h/db'") is
 * replaced by "***": in a URL's user info (scheme://user:PASSWORD@host) and
 * in a conninfo's password=VALUE or password='VALUE'. The last guard: values
 * known to be secret are never put in a message to begin with.
 */
static void redact(char *s, size_t size)
{
    char out[MESSAGE_SIZE];
    size_t n = 0, i = 0;

    while (s[i] && n + 4 < sizeof(out)) {
        const char *url = strncmp(s + i, "://", 3) == 0 ? s + i + 3 : NULL;
        bool kv = strncasecmp(s + i, "password=", 9) == 0 &&
                  (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\'' || s[i - 1] == '"');
        size_t skip = 0, keep = 0;

        if (url) {
            size_t end = 0, at = 0, colon = 0;

            while (!ends_value(url[end]))
                end++;
            for (size_t k = 0; k < end; k++)
                if (url[k] == '@')
                    at = k + 1;
            for (size_t k = 0; at && k < at - 1 && !colon; k++)
                if (url[k] == ':')
                    colon = k + 1;
            if (colon && at - 1 > colon) {
                keep = 3 + colon;      /* "://user:" */
                skip = at - 1 - colon; /* the password */
            }
        } else if (kv) {
            const char *v = s + i + 9;

            keep = 9;
            if (*v == '\'') {
                keep++;
                while (v[1 + skip] && v[1 + skip] != '\'')
                    skip += v[1 + skip] == '\\' && v[2 + skip] ? 2 : 1;
            } else
                while (v[skip] && v[skip] != ' ' && v[skip] != '\'' && v[skip] != '"')
                    skip++;
        }
        if (skip == 0) {
            out[n++] = s[i++];
            continue;
        }
        for (size_t k = 0; k < keep && n + 4 < sizeof(out); k++)
            out[n++] = s[i++];
        memcpy(out + n, "***", 3);
        n += 3;
        i += skip;
    }
    out[n] = '\0';
    snprintf(s, size, "%s", out);
}

int dbm_error_set(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    one_line(message);
    redact(message, sizeof(message));
    hint[0] = '\0';
    last_code = code;
    return code;
}

void dbm_error_hint(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(hint, sizeof(hint), fmt, ap);
    va_end(ap);
    one_line(hint);
    redact(hint, sizeof(hint));
}

const char *dbm_error_message(void)
{
    return message;
}

const char *dbm_error_hint_text(void)
{
    return hint[0] ? hint : NULL;
}

void dbm_error_clear(void)
{
    message[0] = '\0';
    hint[0] = '\0';
    last_code = DBM_OK;
}

int dbm_error_exit_status(int code)
{
    switch (code) {
    case DBM_OK:
        return 0;
    case DBM_ECONFIG:
        return 2;
    case DBM_ECONNECT:
        return 3;
    case DBM_ELOCKED:
        return 4;
    case DBM_ECANCELLED:
        return 128 + (dbm_stop_signal() ? dbm_stop_signal() : SIGTERM);
    default:
        return 1;
    }
}

/* A copy for dbm_error_save; error.c sits below util.c, so it has its own. */
static char *copy(const char *s)
{
    char *p = strdup(s);

    if (!p) { /* as dbm_xmalloc does: out of memory ends the process */
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", strlen(s) + 1);
        exit(1);
    }
    return p;
}

void dbm_error_save(dbm_saved_error *out)
{
    out->code = last_code;
    out->message = copy(message);
    out->hint = hint[0] ? copy(hint) : NULL;
}

int dbm_error_raise(const dbm_saved_error *e)
{
    snprintf(message, sizeof(message), "%s", e->message ? e->message : "");
    snprintf(hint, sizeof(hint), "%s", e->hint ? e->hint : "");
    last_code = e->code;
    return e->code;
}

void dbm_saved_error_free(dbm_saved_error *e)
{
    free(e->message);
    free(e->hint);
    e->message = e->hint = NULL;
    e->code = DBM_OK;
}
