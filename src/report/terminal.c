/*
 * terminal.c - the run told as plain text for a terminal or a log, in the
 * summary's order: the headline, the change in aligned columns with each
 * statement's excerpt, the errors with their SQL, the findings by level, the
 * diffs, and the migrations of earlier runs as one line (status lists them).
 *
 * Nothing is escaped for Markdown or HTML: text from files and the server is
 * written as it is, with control characters made '?' so that it cannot move
 * the cursor or forge a line. Colour is ANSI SGR, only when asked.
 */
#include "report/render.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RED    "31"
#define GREEN  "32"
#define YELLOW "33"
#define BOLD   "1"
#define DIM    "2"

typedef struct {
    dbm_buf *b;
    bool color;
    size_t cols; /* the terminal's width, for SQL lines; 0: no limit */
} term;

/* Text from the record: line breaks as spaces, other control characters as '?'. */
static void put_text(dbm_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t')
            dbm_buf_putc(b, ' ');
        else
            dbm_buf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    }
}

/* Columns a text takes: one per character (UTF-8 continuation bytes take none). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/*
 * A line of SQL (or of a diff) that starts at column `at`: as put_text, cut
 * with "…" where it would pass the terminal's width rather than wrap.
 */
static void put_cut(term *t, const char *s, size_t at)
{
    size_t room = t->cols > at + 1 ? t->cols - at : 1, n = 0;
    const char *p = s;
    char *head;

    if (!t->cols || width(s) <= room) {
        put_text(t->b, s);
        return;
    }
    /* the bytes of room - 1 characters, then the ellipsis in the last column */
    for (; *p; p++)
        if (((unsigned char)*p & 0xC0) != 0x80 && ++n > room - 1)
            break;
    head = dbm_xstrndup(s, (size_t)(p - s));
    put_text(t->b, head);
    dbm_buf_puts(t->b, "…");
    free(head);
}

static void put_padded(dbm_buf *b, const char *s, size_t w)
{
    put_text(b, s);
    for (size_t n = width(s); n < w; n++)
        dbm_buf_putc(b, ' ');
}

static void sgr_on(term *t, const char *code)
{
    if (t->color)
        dbm_buf_printf(t->b, "\033[%sm", code);
}

static void sgr_off(term *t)
{
    if (t->color)
        dbm_buf_puts(t->b, "\033[0m");
}

static const char *status_color(dbm_mig_status s)
{
    switch (s) {
    case DBM_MIG_APPLIED:
        return GREEN;
    case DBM_MIG_PENDING:
        return YELLOW;
    case DBM_MIG_SKIPPED:
        return DIM;
    default:
        return RED;
    }
}

static void put_headline(term *t, const dbm_report *r)
{
    static const char *const tone_color[] = {GREEN, YELLOW, RED, RED};
    report_risk risk = report_biggest_risk(r);
    dbm_buf lead = DBM_BUF_INIT;

    report_put_lead(&lead, r, &risk, false);
    sgr_on(t, tone_color[report_headline_tone(r, &risk)]);
    dbm_buf_printf(t->b, "db-migrate %s: ", r->command);
    put_text(t->b, dbm_buf_cstr(&lead));
    sgr_off(t);
    dbm_buf_puts(t->b, "\n");
    dbm_buf_free(&lead);
    if (r->database) {
        dbm_buf_puts(t->b, "database ");
        put_text(t->b, r->database);
    }
    if (r->git.head) {
        const char *from = r->git.base ? r->git.base : r->git.deployed;
        dbm_buf_puts(t->b, r->database ? " · " : "");
        if (from)
            dbm_buf_printf(t->b, "%.12s..%.12s", from, r->git.head);
        else
            dbm_buf_printf(t->b, "head %.12s", r->git.head);
    }
    if (r->database || r->git.head)
        dbm_buf_puts(t->b, "\n");
}

/* Whether row m is listed in the table (status lists every row, the others the change). */
static bool listed(const dbm_report *r, const dbm_mig_result *m)
{
    return !m->earlier || strcmp(r->command, "status") == 0;
}

typedef struct {
    size_t status, version, name, duration;
} widths;

static char *duration_text(const dbm_mig_result *m)
{
    if (m->status == DBM_MIG_APPLIED || m->status == DBM_MIG_FAILED || (m->nstmts && !m->note))
        return dbm_xasprintf("%.0f ms", m->duration_ms);
    return dbm_xstrdup("");
}

static widths column_widths(const dbm_report *r)
{
    widths w = {6, 7, 4, 0};

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        char *d;
        if (!listed(r, m))
            continue;
        d = duration_text(m);
        if (width(dbm_mig_status_name(m->status)) > w.status)
            w.status = width(dbm_mig_status_name(m->status));
        if (width(m->version) > w.version)
            w.version = width(m->version);
        if (width(m->name) > w.name)
            w.name = width(m->name);
        if (width(d) > w.duration)
            w.duration = width(d);
        free(d);
    }
    return w;
}

/* The lines under a row: its statements' excerpts, its locks, its note. */
static void put_row_details(term *t, const dbm_mig_result *m, size_t indent)
{
    char *excerpt = NULL;

    if (m->nstmts && m->stmts[0].sql) {
        dbm_buf e = DBM_BUF_INIT;
        for (size_t k = 0; k < m->nstmts; k++)
            dbm_buf_printf(&e, "%s%s", k ? "\n" : "", m->stmts[k].sql);
        excerpt = dbm_buf_detach(&e);
    } else if (m->excerpt) {
        excerpt = dbm_xstrdup(m->excerpt);
    }
    for (char *p = excerpt; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        dbm_buf_printf(t->b, "%*s", (int)indent, "");
        put_cut(t, p, indent);
        dbm_buf_puts(t->b, "\n");
        p = nl ? nl + 1 : NULL;
    }
    free(excerpt);
    for (size_t k = 0; k < m->nstmts; k++)
        for (size_t l = 0; l < m->stmts[k].nlocks; l++) {
            dbm_buf_printf(t->b, "%*slock: ", (int)indent, "");
            put_text(t->b, m->stmts[k].locks[l].relation);
            dbm_buf_puts(t->b, " ");
            put_text(t->b, m->stmts[k].locks[l].mode);
            if (m->stmts[k].locks[l].held_earlier)
                dbm_buf_puts(t->b, " " DBM_REPORT_HELD_EARLIER);
            dbm_buf_puts(t->b, "\n");
        }
    for (size_t k = 0; k < m->nstmts; k++)
        for (size_t w = 0; w < m->stmts[k].nrewrites; w++) {
            dbm_buf_printf(t->b, "%*srewrite: ", (int)indent, "");
            put_text(t->b, m->stmts[k].rewrites[w].relation);
            dbm_buf_puts(t->b, " ");
            report_put_bytes(t->b, m->stmts[k].rewrites[w].bytes);
            dbm_buf_puts(t->b, "\n");
        }
}

static void put_row(term *t, const dbm_mig_result *m, const widths *w)
{
    char *d = duration_text(m);

    dbm_buf_puts(t->b, "  ");
    sgr_on(t, status_color(m->status));
    put_text(t->b, dbm_mig_status_name(m->status));
    sgr_off(t);
    put_padded(t->b, "", w->status - width(dbm_mig_status_name(m->status)));
    dbm_buf_puts(t->b, "  ");
    put_padded(t->b, m->version, w->version);
    dbm_buf_puts(t->b, "  ");
    put_padded(t->b, m->name, w->name);
    dbm_buf_printf(t->b, "  %*s", (int)w->duration, d);
    if (m->note && !m->earlier) {
        dbm_buf_puts(t->b, "  ");
        put_text(t->b, m->note);
    } else if (m->earlier && m->applied_at) {
        dbm_buf_puts(t->b, "  applied ");
        put_text(t->b, m->applied_at);
    }
    /* No spaces at the end of a line. */
    while (t->b->len && t->b->ptr[t->b->len - 1] == ' ')
        dbm_buf_truncate(t->b, t->b->len - 1);
    dbm_buf_puts(t->b, "\n");
    if (!m->earlier)
        put_row_details(t, m, 2 + w->status + 2 + w->version + 2);
    free(d);
}

static void put_table(term *t, const dbm_report *r)
{
    widths w = column_widths(r);
    bool any = false;

    for (size_t i = 0; i < r->nmigs; i++)
        any = any || listed(r, &r->migs[i]);
    if (!any)
        return;
    dbm_buf_puts(t->b, "\n  ");
    put_padded(t->b, "STATUS", w.status);
    dbm_buf_puts(t->b, "  ");
    put_padded(t->b, "VERSION", w.version);
    dbm_buf_puts(t->b, "  NAME\n");
    for (size_t i = 0; i < r->nmigs; i++)
        if (listed(r, &r->migs[i]))
            put_row(t, &r->migs[i], &w);
}

/* Each line of `text` (may be NULL), indented by two spaces. */
static void put_indented(term *t, const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        char *line = nl ? dbm_xstrndup(p, (size_t)(nl - p)) : dbm_xstrdup(p);
        dbm_buf_puts(t->b, "  ");
        put_cut(t, line, 2);
        dbm_buf_puts(t->b, "\n");
        free(line);
        p = nl ? nl + 1 : NULL;
    }
}

static void put_error(term *t, const dbm_mig_result *m)
{
    const dbm_error_info *e = m->error;

    dbm_buf_puts(t->b, "\n");
    sgr_on(t, RED);
    dbm_buf_puts(t->b, "failed: ");
    put_text(t->b, e->file ? e->file : m->file);
    if (e->line)
        dbm_buf_printf(t->b, ":%d:%d", e->line, e->column);
    sgr_off(t);
    dbm_buf_puts(t->b, "\n  ");
    put_text(t->b, e->message);
    if (e->sqlstate)
        dbm_buf_printf(t->b, " (SQLSTATE %s)", e->sqlstate);
    dbm_buf_puts(t->b, "\n");
    if (e->detail) {
        dbm_buf_puts(t->b, "  detail: ");
        put_text(t->b, e->detail);
        dbm_buf_puts(t->b, "\n");
    }
    if (e->hint) {
        dbm_buf_puts(t->b, "  hint: ");
        put_text(t->b, e->hint);
        dbm_buf_puts(t->b, "\n");
    }
    put_indented(t, e->context);
}

static void put_finding(term *t, const dbm_finding *f)
{
    dbm_buf_puts(t->b, "  ");
    put_text(t->b, f->rule);
    if (f->file) {
        dbm_buf_puts(t->b, "  ");
        put_text(t->b, f->file);
        if (f->line)
            dbm_buf_printf(t->b, ":%d", f->line);
    }
    dbm_buf_puts(t->b, ": ");
    put_text(t->b, f->message);
    if (f->status) {
        dbm_buf_puts(t->b, " (dry-run: ");
        put_text(t->b, f->status);
        dbm_buf_puts(t->b, ")");
    }
    dbm_buf_puts(t->b, "\n");
    if (f->hint) {
        dbm_buf_puts(t->b, "    hint: ");
        put_text(t->b, f->hint);
        dbm_buf_puts(t->b, "\n");
    }
}

static void put_findings(term *t, const dbm_report *r)
{
    static const char *const heading[] = {"notes", "warnings", "errors"};
    static const char *const color[] = {DIM, YELLOW, RED};

    for (int level = DBM_SEV_ERROR; level >= DBM_SEV_NOTICE; level--) {
        size_t n = report_count_level(r, (dbm_severity)level);
        if (!n)
            continue;
        dbm_buf_puts(t->b, "\n");
        sgr_on(t, color[level]);
        dbm_buf_printf(t->b, "%s (%zu):", heading[level], n);
        sgr_off(t);
        dbm_buf_puts(t->b, "\n");
        for (size_t i = 0; i < r->nfindings; i++)
            if (report_finding_level(&r->findings[i]) == (dbm_severity)level)
                put_finding(t, &r->findings[i]);
    }
}

static void put_diffs(term *t, const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->diff)
            continue;
        dbm_buf_puts(t->b, "\nedited after deploy: ");
        put_text(t->b, m->file);
        if (m->changed_by)
            dbm_buf_printf(t->b, " (changed in %.12s)", m->changed_by);
        dbm_buf_puts(t->b, "\n");
        put_indented(t, m->diff);
    }
}

/* "earlier: 1000 migrations applied before this run; the newest is 1000 x, applied ..." */
static void put_history_line(term *t, const dbm_report *r)
{
    size_t n = report_count_earlier(r);
    const dbm_mig_result *newest = report_newest_earlier(r);

    if (!n || strcmp(r->command, "status") == 0)
        return;
    dbm_buf_printf(t->b, "\nearlier: %zu migration%s ", n, n == 1 ? "" : "s");
    put_text(t->b, newest->applied_at || !newest->note ? "applied before this run" : newest->note);
    dbm_buf_puts(t->b, "; the newest is ");
    put_text(t->b, newest->version);
    dbm_buf_puts(t->b, " ");
    put_text(t->b, newest->name);
    if (newest->applied_at) {
        dbm_buf_puts(t->b, ", applied ");
        put_text(t->b, newest->applied_at);
    }
    dbm_buf_puts(t->b, "\n");
}

char *dbm_report_terminal(const dbm_report *r, bool color)
{
    return dbm_report_terminal_cut(r, color, 0);
}

char *dbm_report_terminal_cut(const dbm_report *r, bool color, size_t cols)
{
    dbm_buf b = DBM_BUF_INIT;
    term t = {&b, color, cols};

    put_headline(&t, r);
    put_table(&t, r);
    for (size_t i = 0; i < r->nmigs; i++)
        if (r->migs[i].error)
            put_error(&t, &r->migs[i]);
    put_findings(&t, r);
    put_diffs(&t, r);
    put_history_line(&t, r);
    return dbm_buf_detach(&b);
}
