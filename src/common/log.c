#include "common/log.h"
#include "common/json.h"
#include "common/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
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
    const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(dbm_log_stream())) && !(no_color && *no_color) &&
           !(term && strcmp(term, "dumb") == 0);
}

size_t dbm_log_width(void)
{
    const char *columns = getenv("COLUMNS");
    struct winsize ws;
    char *end = NULL;
    long n;

    if (!isatty(fileno(dbm_log_stream())))
        return 0;
    n = columns ? strtol(columns, &end, 10) : 0;
    if (columns && end != columns && !*end && n > 0 && n < 10000)
        return (size_t)n;
    if (ioctl(fileno(dbm_log_stream()), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

static bool log_json;

void dbm_log_use_json(bool on)
{
    log_json = on;
}

bool dbm_log_json(void)
{
    return log_json;
}

/* One line, whole: the connecting thread logs (masks) while the main one works. */
static void put_line(FILE *out, const char *text)
{
    flockfile(out);
    fputs(text, out);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
}

/* Write `event` (consumed) as one line of JSON to out. */
static void put_json(FILE *out, json_t *event)
{
    char *line = json_dumps(event, JSON_COMPACT | JSON_PRESERVE_ORDER);

    if (line)
        put_line(out, line);
    free(line);
    json_decref(event);
}

/*
 * A JSON log line's "timestamp" (UTC, milliseconds) and "level", in the names
 * Lambda's JSON log format filters on (INFO, WARN, ERROR), which CloudWatch
 * Logs Insights and other log pipelines read as well.
 */
static json_t *event_new(const char *level)
{
    json_t *e = json_object();
    struct timeval tv;
    struct tm tm;
    char when[32], stamp[48];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(stamp, sizeof(stamp), "%s.%03dZ", when, (int)(tv.tv_usec / 1000) % 1000);
    json_object_set_new(e, "timestamp", json_string(stamp));
    json_object_set_new(e, "level", json_string(level));
    return e;
}

/* {"timestamp", "level", "message", "file", "line", "col", "hint"}: the parts that are set. */
static void put_event(FILE *out, const char *level, const char *message, const char *file, int line,
                      int col, const char *hint)
{
    json_t *e = event_new(level);

    json_object_set_new(e, "message", dbm_json_text(message));
    if (file)
        json_object_set_new(e, "file", dbm_json_text(file));
    if (file && line > 0)
        json_object_set_new(e, "line", json_integer(line));
    if (file && line > 0 && col > 0)
        json_object_set_new(e, "col", json_integer(col));
    if (hint)
        json_object_set_new(e, "hint", dbm_json_text(hint));
    put_json(out, e);
}

static _Thread_local char prefix[128];

void dbm_log_set_prefix(const char *name)
{
    snprintf(prefix, sizeof(prefix), "%s", name ? name : "");
}

/* text with this thread's prefix; caller frees. */
static char *prefixed(const char *text)
{
    return *prefix ? dbm_xasprintf("[%s] %s", prefix, text) : dbm_xstrdup(text);
}

void dbm_log(const char *fmt, ...)
{
    va_list ap;
    char *text, *line;

    va_start(ap, fmt);
    text = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    line = prefixed(text);
    if (log_json)
        put_event(dbm_log_stream(), "INFO", line, NULL, 0, 0, NULL);
    else
        put_line(dbm_log_stream(), line);
    free(line);
    free(text);
}

void dbm_log_error(const char *message, const char *hint)
{
    fflush(stdout);
    if (log_json) {
        put_event(stderr, "ERROR", message, NULL, 0, 0, hint);
        return;
    }
    fprintf(stderr, "error: %s\n", message);
    if (hint)
        fprintf(stderr, "hint: %s\n", hint);
}

void dbm_log_with(const char *message, const char *key, const char *json)
{
    json_t *e;

    if (!log_json) {
        put_line(dbm_log_stream(), message);
        return;
    }
    e = event_new("INFO");
    json_object_set_new(e, "message", dbm_json_text(message));
    json_object_set_new(e, key, json_loads(json, 0, NULL));
    put_json(dbm_log_stream(), e);
}

void dbm_log_report(const char *headline, const char *report_json)
{
    dbm_log_with(headline, "report", report_json);
}

void dbm_warn(const char *fmt, ...)
{
    va_list ap;
    char *text;

    va_start(ap, fmt);
    text = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    if (*prefix) {
        char *line = prefixed(text);
        free(text);
        text = line;
    }
    if (dbm_in_actions()) {
        dbm_annotate("warning", NULL, 0, 0, NULL, text);
    } else if (log_json) {
        fflush(stdout);
        put_event(stderr, "WARN", text, NULL, 0, 0, NULL);
    } else {
        fflush(stdout);
        fprintf(stderr, "warning: %s\n", text);
    }
    free(text);
}

void dbm_log_group(const char *title)
{
    char *line;

    if (!dbm_in_actions()) {
        dbm_log("== %s", title);
        return;
    }
    line = dbm_xasprintf("::group::%s", title);
    put_line(dbm_log_stream(), line); /* a workflow command: never JSON */
    free(line);
}

void dbm_log_endgroup(void)
{
    if (dbm_in_actions())
        put_line(dbm_log_stream(), "::endgroup::");
}

void dbm_mask(const char *secret)
{
    char *esc;

    if (!secret || !*secret || !dbm_in_actions())
        return;
    esc = dbm_escape_command_data(secret);
    {
        char *line = dbm_xasprintf("::add-mask::%s", esc);
        put_line(dbm_log_stream(), line);
        free(line);
    }
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
    dbm_buf b = DBM_BUF_INIT;
    size_t len, bad;
    char *p;

    s = s ? s : "";
    len = strlen(s);
    while (!dbm_utf8_valid(s, len, &bad)) { /* bytes that are not UTF-8 as \xNN */
        dbm_buf_put(&b, s, bad);
        dbm_buf_printf(&b, "\\x%02x", (unsigned char)s[bad]);
        s += bad + 1;
        len -= bad + 1;
    }
    dbm_buf_put(&b, s, len);
    p = dbm_buf_detach(&b);
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

    if (!dbm_in_actions() && log_json) {
        fflush(stdout);
        put_event(stderr,
                  strcmp(level, "error") == 0     ? "ERROR"
                  : strcmp(level, "warning") == 0 ? "WARN"
                                                  : "INFO",
                  message, file, line, col, NULL);
        return;
    }
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
    put_line(dbm_log_stream(), b.ptr);
    dbm_buf_free(&b);
}
