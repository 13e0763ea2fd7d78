/*
 * runs.c - the audited runs (the history command): an aligned table in the
 * log, and the JSON report. Reads the rows only.
 */
#include "common/error.h"
#include "common/log.h"
#include "postgres/history.h"
#include "report/report.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define NCOLS 9

/* The cells of a row (or the header when r is NULL); the caller frees each. */
static void row_cells(char *cell[NCOLS], const dbm_run_row *r)
{
    static const char *const head[NCOLS] = {"ID",    "STARTED", "COMMAND", "OUTCOME", "COMMIT",
                                            "ACTOR", "EVENT",   "APPLIED", "RUN"};
    if (!r) {
        for (int c = 0; c < NCOLS; c++)
            cell[c] = dbm_xstrdup(head[c]);
        return;
    }
    cell[0] = dbm_xasprintf("%lld", r->id);
    cell[1] = dbm_xstrdup(r->started_at);
    cell[2] = dbm_xstrdup(r->command);
    cell[3] = dbm_xstrdup(*r->outcome ? r->outcome : r->duration_ms < 0 ? "running" : "");
    cell[4] = dbm_xasprintf("%.12s", r->git_sha);
    cell[5] = dbm_xstrdup(r->actor);
    cell[6] = dbm_xstrdup(r->event);
    if (r->napplied > 10)
        cell[7] = dbm_xasprintf("%lld: %s,…", r->napplied, r->applied);
    else if (r->napplied > 0)
        cell[7] = dbm_xasprintf("%lld: %s", r->napplied, r->applied);
    else
        cell[7] = dbm_xstrdup("0");
    cell[8] = dbm_xstrdup(r->run_url);
}

static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

char *dbm_report_runs_text(const dbm_run_row *rows, size_t n)
{
    size_t w[NCOLS] = {0};
    char *cell[NCOLS];
    dbm_buf b = DBM_BUF_INIT;

    if (!n)
        return dbm_xstrdup("no runs recorded\n");
    for (size_t i = 0; i <= n; i++) {
        row_cells(cell, i ? &rows[i - 1] : NULL);
        for (int c = 0; c < NCOLS; c++) {
            if (width(cell[c]) > w[c])
                w[c] = width(cell[c]);
            free(cell[c]);
        }
    }
    for (size_t i = 0; i <= n; i++) {
        size_t start = b.len;
        row_cells(cell, i ? &rows[i - 1] : NULL);
        for (int c = 0; c < NCOLS; c++) {
            char *p = dbm_printable(cell[c]);
            dbm_buf_printf(&b, "%s%s", c ? "  " : "", p);
            for (size_t k = width(p); c < NCOLS - 1 && k < w[c]; k++)
                dbm_buf_putc(&b, ' ');
            free(p);
            free(cell[c]);
        }
        while (b.len > start && b.ptr[b.len - 1] == ' ')
            dbm_buf_truncate(&b, b.len - 1);
        dbm_buf_putc(&b, '\n');
    }
    return dbm_buf_detach(&b);
}

static json_t *jstr(const char *s)
{
    json_t *j = s && *s ? json_string(s) : json_null();
    return j ? j : json_null();
}

char *dbm_report_runs_json(const dbm_run_row *rows, size_t n, const char *database)
{
    json_t *root = json_object(), *runs = json_array();
    char *text;

    json_object_set_new(root, "command", json_string("history"));
    json_object_set_new(root, "database", jstr(database));
    for (size_t i = 0; i < n; i++) {
        const dbm_run_row *r = &rows[i];
        json_t *applied = json_array();
        char *list = dbm_xstrdup(r->applied);
        for (char *p = list; p && *p;) {
            char *comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            json_array_append_new(applied, jstr(p));
            p = comma ? comma + 1 : NULL;
        }
        free(list);
        json_array_append_new(
            runs,
            json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "id",
                      (json_int_t)r->id, "command", jstr(r->command), "started_at",
                      jstr(r->started_at), "duration_ms",
                      r->duration_ms < 0 ? json_null() : json_integer(r->duration_ms), "outcome",
                      jstr(r->outcome), "git_sha", jstr(r->git_sha), "deployed_sha",
                      jstr(r->deployed_sha), "actor", jstr(r->actor), "event", jstr(r->event),
                      "run_url", jstr(r->run_url), "db_user", jstr(r->db_user), "applied_count",
                      (json_int_t)r->napplied, "applied_first", applied));
    }
    json_object_set_new(root, "runs", runs);
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return text;
}
