/*
 * markdown.c - the job summary and the pull-request comment, change first: a
 * headline that leads with the biggest risk, a table of what this run
 * applied, failed or would apply (with an excerpt of each statement), each
 * dry-run migration's statements, the errors, the findings by level, the
 * diffs of edited migrations, and last the migrations of earlier runs as one
 * line and a collapsed list.
 *
 * The whole stays under opts->limit bytes whatever the history: the parts
 * before the history give up their detail (statement excerpts, then rows)
 * past their share, and the history's list takes what room is left.
 */
#include "report/render.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *short_sha(const char *sha, char out[13])
{
    snprintf(out, 13, "%.12s", sha ? sha : "");
    return out;
}

static const char *tone_icon(report_tone t)
{
    static const char *const icon[] = {"✅", "🟡", "🔴", "❌"};
    return icon[t];
}

static const char *mig_icon(dbm_mig_status s)
{
    switch (s) {
    case DBM_MIG_APPLIED:
        return "✅";
    case DBM_MIG_FAILED:
        return "❌";
    case DBM_MIG_EDITED:
        return "✏️";
    case DBM_MIG_MISSING:
        return "❓";
    case DBM_MIG_SKIPPED:
        return "⏭️";
    case DBM_MIG_ROLLED_BACK:
        return "↩️";
    default:
        return "🕓";
    }
}

/* " · from..head" with a compare link when there is one, or " · head sha". */
static void put_git_range(dbm_buf *b, const dbm_report *r)
{
    const char *from = r->git.base ? r->git.base : r->git.deployed;
    char s1[13], s2[13];

    if (from && r->git.compare_url)
        dbm_buf_printf(b, "[`%s..%s`](%s)", short_sha(from, s1), short_sha(r->git.head, s2),
                       r->git.compare_url);
    else if (from)
        dbm_buf_printf(b, "`%s..%s`", short_sha(from, s1), short_sha(r->git.head, s2));
    else
        dbm_buf_printf(b, "head `%s`", short_sha(r->git.head, s1));
}

/* The title line with the lead, a line of database and commits, the run's error. */
static void put_headline(dbm_buf *b, const dbm_report *r)
{
    report_risk risk = report_biggest_risk(r);

    dbm_buf_printf(b, "### %s db-migrate %s: ", tone_icon(report_headline_tone(r, &risk)),
                   r->command);
    report_put_lead(b, r, &risk, true);
    dbm_buf_puts(b, "\n\n");
    if (r->database) {
        dbm_buf_puts(b, "database ");
        report_md_code(b, r->database);
    }
    if (r->git.head) {
        dbm_buf_puts(b, r->database ? " · " : "");
        put_git_range(b, r);
    }
    if (r->database || r->git.head)
        dbm_buf_puts(b, "\n\n");
    if (r->error) {
        dbm_buf_puts(b, "> **Error:** ");
        report_md_text(b, r->error);
        dbm_buf_puts(b, "\n\n");
    }
}

/* Whether any statement of the change measured locks: only then has its table a Locks column. */
static bool any_locks(const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++)
        for (size_t k = 0; !r->migs[i].earlier && k < r->migs[i].nstmts; k++)
            if (r->migs[i].stmts[k].nlocks > 0)
                return true;
    return false;
}

#define CELL_LOCKS 5 /* locks shown in a row's cell; the statements' tables have them all */

/* The Locks cell of a migration's row: the locks of its statements, the first few. */
static void put_locks(dbm_buf *b, const dbm_mig_result *m)
{
    size_t n = 0;

    for (size_t i = 0; i < m->nstmts; i++)
        for (size_t k = 0; k < m->stmts[i].nlocks; k++, n++) {
            if (n >= CELL_LOCKS)
                continue;
            dbm_buf_puts(b, n ? "<br>" : "");
            report_md_code(b, m->stmts[i].locks[k].relation);
            dbm_buf_puts(b, " ");
            report_md_text(b, m->stmts[i].locks[k].mode);
            if (m->stmts[i].locks[k].held_earlier)
                dbm_buf_puts(b, " " DBM_REPORT_HELD_EARLIER);
        }
    if (n > CELL_LOCKS)
        dbm_buf_printf(b, "<br>… %zu more", n - CELL_LOCKS);
}

#define CELL_STMTS 5 /* statements shown in a row's cell */

/* The Statements cell: each statement's excerpt as code, else the count. */
static void put_stmts_cell(dbm_buf *b, const dbm_mig_result *m)
{
    size_t n = 0;

    if (m->nstmts && m->stmts[0].sql) {
        for (; n < m->nstmts && n < CELL_STMTS; n++) {
            dbm_buf_puts(b, n ? "<br>" : "");
            report_md_code(b, m->stmts[n].sql);
        }
        if (m->nstmts > n)
            dbm_buf_printf(b, "<br>… %zu more", m->nstmts - n);
        return;
    }
    if (m->excerpt && *m->excerpt) {
        for (const char *p = m->excerpt; p; n++) {
            const char *nl = strchr(p, '\n');
            char *line = nl ? dbm_xstrndup(p, (size_t)(nl - p)) : dbm_xstrdup(p);
            dbm_buf_puts(b, n ? "<br>" : "");
            if (strncmp(line, "… ", strlen("… ")) == 0)
                report_md_text(b, line);
            else
                report_md_code(b, line);
            free(line);
            p = nl ? nl + 1 : NULL;
        }
        return;
    }
    if (m->statement_count > 0)
        dbm_buf_printf(b, "%d", m->statement_count);
}

/* A row of the change; compact rows leave the statements out. */
static void put_change_row(dbm_buf *b, const dbm_mig_result *m, bool locks, bool compact)
{
    dbm_buf_printf(b, "| %s | ", mig_icon(m->status));
    report_md_code(b, m->version);
    dbm_buf_puts(b, " | ");
    report_md_text(b, m->name);
    dbm_buf_printf(b, " | %s", dbm_mig_status_name(m->status));
    if (m->note) {
        dbm_buf_puts(b, ": ");
        report_md_text(b, m->note);
    }
    dbm_buf_puts(b, " | ");
    if (m->status == DBM_MIG_APPLIED || m->status == DBM_MIG_FAILED || (m->nstmts && !m->note))
        dbm_buf_printf(b, "%.0f ms", m->duration_ms);
    dbm_buf_puts(b, " | ");
    if (compact) {
        if (m->statement_count > 0)
            dbm_buf_printf(b, "%d", m->statement_count);
    } else {
        put_stmts_cell(b, m);
    }
    if (locks) {
        dbm_buf_puts(b, " | ");
        if (!compact)
            put_locks(b, m);
    }
    dbm_buf_puts(b, " |\n");
}

/*
 * How much a row of the change matters when the table must be cut: what
 * failed, was edited, went missing or was not run for a reason (0), then what
 * is pending (1), and last what applied as it should (2), the rows cut first.
 */
static int row_tier(const dbm_mig_result *m)
{
    if (m->error || m->note || m->failed_before)
        return 0;
    if (m->status == DBM_MIG_APPLIED)
        return 2;
    return m->status == DBM_MIG_PENDING ? 1 : 0;
}

static size_t row_size(const dbm_mig_result *m, bool locks, bool compact)
{
    dbm_buf row = DBM_BUF_INIT;
    size_t n;

    put_change_row(&row, m, locks, compact);
    n = row.len;
    dbm_buf_free(&row);
    return n;
}

enum { ROW_CUT = 0, ROW_COMPACT, ROW_FULL };

/* The line standing for a run of rows cut, from..to, the versions of its first and last. */
static void put_cut_line(dbm_buf *b, const dbm_report *r, size_t from, size_t to, size_t n,
                         bool all_applied, bool locks)
{
    dbm_buf_printf(b, "| | … | %zu more%s in the JSON report: ", n, all_applied ? " applied" : "");
    report_md_code(b, r->migs[from].version);
    if (n > 1) {
        dbm_buf_puts(b, " to ");
        report_md_code(b, r->migs[to].version);
    }
    dbm_buf_printf(b, " | | | |%s\n", locks ? " |" : "");
}

#define CUT_LINE 200 /* the most a cut line takes (two versions of 64 bytes and the words) */

/*
 * How the count of cut runs changes when row k of the change (rows[k], an
 * index into r->migs) goes from cut to shown (+1 when it splits a run, -1
 * when it was a run alone); the reverse for shown to cut.
 */
static int runs_change(const unsigned char *mode, const size_t *rows, size_t n, size_t k)
{
    bool before = k > 0 && mode[rows[k - 1]] == ROW_CUT;
    bool after = k + 1 < n && mode[rows[k + 1]] == ROW_CUT;

    return before && after ? 1 : !before && !after ? -1 : 0;
}

/* Show row k of the change as how (compact or full) when it fits in room; true when it does. */
static bool show_row(const dbm_report *r, const size_t *rows, size_t n, size_t k, int how,
                     bool locks, size_t room, unsigned char *mode, size_t *used, size_t *runs)
{
    const dbm_mig_result *m = &r->migs[rows[k]];
    size_t now = mode[rows[k]] == ROW_CUT ? 0 : row_size(m, locks, mode[rows[k]] == ROW_COMPACT);
    size_t then = row_size(m, locks, how == ROW_COMPACT);
    size_t runs_then = *runs;

    if (mode[rows[k]] == ROW_CUT)
        runs_then = (size_t)((long)*runs + runs_change(mode, rows, n, k));
    if (*used - now + then + CUT_LINE * runs_then > room)
        return false;
    mode[rows[k]] = (unsigned char)how;
    *used = *used - now + then;
    *runs = runs_then;
    return true;
}

/*
 * Which rows the table shows within room bytes (mode[i] for r->migs[i]; rows
 * are the change's indices, n of them), with room for the lines standing for
 * the rows cut: the rows that matter (tier 0) compact; then rows with their
 * statements, tier by tier in version order, while the table stays under four
 * sevenths of room; then the other rows compact, tier by tier, while they fit.
 */
static void plan_rows(const dbm_report *r, unsigned char *mode, const size_t *rows, size_t n,
                      bool locks, size_t used, size_t room)
{
    size_t runs = n ? 1 : 0; /* all cut: one run */
    bool full = true;

    for (size_t k = 0; k < n; k++)
        if (row_tier(&r->migs[rows[k]]) == 0)
            show_row(r, rows, n, k, ROW_COMPACT, locks, room, mode, &used, &runs);
    for (int tier = 0; tier <= 2 && full; tier++)
        for (size_t k = 0; k < n && full; k++)
            if (row_tier(&r->migs[rows[k]]) == tier)
                full = show_row(r, rows, n, k, ROW_FULL, locks, room / 7 * 4, mode, &used, &runs);
    for (int tier = 0; tier <= 2; tier++)
        for (size_t k = 0; k < n; k++)
            if (row_tier(&r->migs[rows[k]]) == tier && mode[rows[k]] == ROW_CUT)
                show_row(r, rows, n, k, ROW_COMPACT, locks, room, mode, &used, &runs);
}

/*
 * One row per migration of the change (not of earlier runs), in version
 * order, within room bytes. When they do not all fit, the rows that matter
 * stay (row_tier: failed, edited, not run for a reason, then pending) and
 * the applied rows are what is cut, each run of rows cut one line naming its
 * versions; rows show their statements while there is room for it.
 */
static void put_change(dbm_buf *b, const dbm_report *r, size_t room)
{
    static const char head_locks[] =
        "| | Version | Name | Status | Duration | Statements | Locks |\n"
        "|---|---|---|---|---:|---|---|\n";
    static const char head[] = "| | Version | Name | Status | Duration | Statements |\n"
                               "|---|---|---|---|---:|---|\n";
    size_t n = 0, cut = 0, from = 0;
    bool locks, all_applied = true;
    unsigned char *mode;
    size_t *rows;

    if (r->nmigs == report_count_earlier(r))
        return;
    locks = any_locks(r);
    mode = dbm_xcalloc(r->nmigs, sizeof(*mode));
    rows = dbm_xcalloc(r->nmigs, sizeof(*rows));
    for (size_t i = 0; i < r->nmigs; i++)
        if (!r->migs[i].earlier)
            rows[n++] = i;
    plan_rows(r, mode, rows, n, locks, sizeof(head_locks), room);
    dbm_buf_puts(b, locks ? head_locks : head);
    for (size_t k = 0; k <= n; k++) {
        if (k < n && mode[rows[k]] == ROW_CUT) {
            if (!cut++)
                from = k;
            all_applied &= r->migs[rows[k]].status == DBM_MIG_APPLIED;
            continue;
        }
        if (cut) {
            put_cut_line(b, r, rows[from], rows[k - 1], cut, all_applied, locks);
            cut = 0;
            all_applied = true;
        }
        if (k < n)
            put_change_row(b, &r->migs[rows[k]], locks, mode[rows[k]] != ROW_FULL);
    }
    dbm_buf_puts(b, "\n");
    free(rows);
    free(mode);
}

/* The findings about one statement (file and line), as "rule (verdict)" items. */
static void put_stmt_findings(dbm_buf *b, const dbm_report *r, const char *file, int line)
{
    bool any = false;

    for (size_t i = 0; file && i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        if (!f->file || f->line != line || strcmp(f->file, file) != 0)
            continue;
        dbm_buf_puts(b, any ? "<br>" : "");
        dbm_buf_puts(b, report_finding_level(f) == DBM_SEV_ERROR     ? "❌ "
                        : report_finding_level(f) == DBM_SEV_WARNING ? "⚠️ "
                                                                     : "ℹ️ ");
        report_md_text(b, f->rule);
        if (f->status) {
            dbm_buf_puts(b, " (");
            report_md_text(b, f->status);
            dbm_buf_puts(b, ")");
        }
        any = true;
    }
}

/* The duration, locks and rewrites cells of a statement that ran (each followed by " | "). */
static void put_stmt_measures(dbm_buf *b, const dbm_stmt_result *st)
{
    dbm_buf_printf(b, " | %.1f ms | ", st->duration_ms);
    for (size_t l = 0; l < st->nlocks; l++) {
        dbm_buf_puts(b, l ? "<br>" : "");
        report_md_code(b, st->locks[l].relation);
        dbm_buf_puts(b, " ");
        report_md_text(b, st->locks[l].mode);
        if (st->locks[l].held_earlier)
            dbm_buf_puts(b, " " DBM_REPORT_HELD_EARLIER);
    }
    dbm_buf_puts(b, " | ");
    for (size_t l = 0; l < st->nrewrites; l++) {
        dbm_buf_puts(b, l ? "<br>" : "");
        report_md_code(b, st->rewrites[l].relation);
        dbm_buf_puts(b, " ");
        report_put_bytes(b, st->rewrites[l].bytes);
    }
    dbm_buf_puts(b, " | ");
}

static void put_stmt_row(dbm_buf *b, const dbm_report *r, const dbm_mig_result *m,
                         const dbm_stmt_result *st)
{
    dbm_buf_printf(b, "| %d | ", st->line);
    if (st->sql)
        report_md_code(b, st->sql);
    else
        report_md_text(b, st->tag);
    if (st->note) {
        dbm_buf_puts(b, " | ");
        report_md_text(b, st->note);
        dbm_buf_puts(b, " | | | ");
    } else {
        put_stmt_measures(b, st);
    }
    put_stmt_findings(b, r, m->file, st->line);
    dbm_buf_puts(b, " |\n");
}

/* The <summary> line of a migration's statements: HTML, where Markdown escapes would show. */
static void put_stmts_heading(dbm_buf *b, const dbm_mig_result *m)
{
    size_t nlocks = 0, nrewrites = 0;

    for (size_t k = 0; k < m->nstmts; k++) {
        nlocks += m->stmts[k].nlocks;
        nrewrites += m->stmts[k].nrewrites;
    }
    dbm_buf_printf(b, "<details%s><summary>%s ", m->status == DBM_MIG_FAILED ? " open" : "",
                   mig_icon(m->status));
    report_html_text(b, m->file ? m->file : m->version);
    if (m->note) {
        dbm_buf_puts(b, ": ");
        report_html_text(b, m->note);
    } else {
        dbm_buf_printf(b, ": %zu statement%s, %.0f ms, %zu lock%s, %zu rewrite%s", m->nstmts,
                       m->nstmts == 1 ? "" : "s", m->duration_ms, nlocks, nlocks == 1 ? "" : "s",
                       nrewrites, nrewrites == 1 ? "" : "s");
    }
    dbm_buf_puts(b, "</summary>\n\n");
}

/*
 * Per migration of the change with statement results (a dry-run), a <details>
 * block with a table: line, statement, duration, locks taken, rewrites, findings.
 */
static void put_statements(dbm_buf *b, const dbm_report *r, size_t limit)
{
    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];

        if (!m->nstmts || m->earlier)
            continue;
        if (b->len > limit * 5 / 8) {
            dbm_buf_puts(b, "… statements of the other migrations are in the JSON report\n\n");
            return;
        }
        put_stmts_heading(b, m);
        dbm_buf_puts(b, "| Line | Statement | Duration | Locks taken | Rewrites | Findings |\n"
                        "|---:|---|---:|---|---|---|\n");
        for (size_t k = 0; k < m->nstmts; k++) {
            if (b->len > limit * 11 / 16) {
                dbm_buf_printf(b, "| | … %zu more in the JSON report | | | | |\n", m->nstmts - k);
                break;
            }
            put_stmt_row(b, r, m, &m->stmts[k]);
        }
        dbm_buf_puts(b, "\n</details>\n\n");
    }
}

/* A failed migration's error: where, the message, detail, hint and the SQL around it. */
static void put_error(dbm_buf *b, const dbm_mig_result *m)
{
    const dbm_error_info *e = m->error;

    dbm_buf_puts(b, "#### ❌ ");
    report_md_text(b, e->file ? e->file : m->file);
    if (e->line)
        dbm_buf_printf(b, ":%d:%d", e->line, e->column);
    dbm_buf_puts(b, "\n\n");
    report_md_text(b, e->message);
    if (e->sqlstate)
        dbm_buf_printf(b, " (SQLSTATE %s)", e->sqlstate);
    dbm_buf_puts(b, "\n\n");
    if (e->detail) {
        dbm_buf_puts(b, "Detail: ");
        report_md_text(b, e->detail);
        dbm_buf_puts(b, "\n\n");
    }
    if (e->hint) {
        dbm_buf_puts(b, "Hint: ");
        report_md_text(b, e->hint);
        dbm_buf_puts(b, "\n\n");
    }
    if (e->context)
        report_md_pre(b, e->context);
    dbm_buf_puts(b, "\n");
}

static void put_errors(dbm_buf *b, const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++)
        if (r->migs[i].error)
            put_error(b, &r->migs[i]);
}

/* "- **rule** `file:line`: message (dry-run: verdict)", and the hint on a line of its own. */
static void put_finding(dbm_buf *b, const dbm_finding *f)
{
    dbm_buf_puts(b, "- **");
    report_md_text(b, f->rule);
    dbm_buf_puts(b, "**");
    if (f->file) {
        char *where = f->line ? dbm_xasprintf("%s:%d", f->file, f->line) : dbm_xstrdup(f->file);
        dbm_buf_puts(b, " ");
        report_md_code(b, where);
        free(where);
    }
    dbm_buf_puts(b, ": ");
    report_md_text(b, f->message);
    if (f->status) {
        dbm_buf_puts(b, " (dry-run: ");
        report_md_text(b, f->status);
        dbm_buf_puts(b, ")");
    }
    if (f->hint) {
        /* A hard line break (a backslash at the end of the line) inside the list item. */
        dbm_buf_puts(b, "\\\n  ↳ _");
        report_md_text(b, f->hint);
        dbm_buf_puts(b, "_");
    }
    dbm_buf_puts(b, "\n");
}

/*
 * The findings of one level under its heading. Errors are all shown (they are
 * why a run is blocked) up to seven eighths of the limit; warnings and notes
 * up to three quarters.
 */
static void put_level(dbm_buf *b, const dbm_report *r, dbm_severity level, size_t limit)
{
    static const char *const heading[] = {"ℹ️ Notes", "⚠️ Warnings", "❌ Errors"};
    size_t n = report_count_level(r, level), shown = 0;
    size_t stop = level == DBM_SEV_ERROR ? limit * 7 / 8 : limit * 3 / 4;

    if (!n)
        return;
    dbm_buf_printf(b, "#### %s (%zu)\n\n", heading[level], n);
    for (size_t i = 0; i < r->nfindings && b->len < stop; i++)
        if (report_finding_level(&r->findings[i]) == level) {
            put_finding(b, &r->findings[i]);
            shown++;
        }
    if (shown < n)
        dbm_buf_printf(b, "- … %zu more in the JSON report\n", n - shown);
    dbm_buf_puts(b, "\n");
}

static void put_findings(dbm_buf *b, const dbm_report *r, size_t limit)
{
    put_level(b, r, DBM_SEV_ERROR, limit);
    put_level(b, r, DBM_SEV_WARNING, limit);
    put_level(b, r, DBM_SEV_NOTICE, limit);
}

/* Each edited deployed migration's diff, folded. */
static void put_diffs(dbm_buf *b, const dbm_report *r, size_t limit)
{
    char sha[13];

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->diff || b->len > limit * 3 / 4)
            continue;
        dbm_buf_puts(b, "<details><summary>Edited after deploy: ");
        report_html_text(b, m->file);
        if (m->changed_by)
            dbm_buf_printf(b, " (changed in %s)", short_sha(m->changed_by, sha));
        dbm_buf_puts(b, "</summary>\n\n");
        report_md_pre(b, m->diff);
        dbm_buf_puts(b, "</details>\n\n");
    }
}

/* n with a comma between thousands: "1,000". */
static void put_count(dbm_buf *b, size_t n)
{
    if (n >= 1000) {
        put_count(b, n / 1000);
        dbm_buf_printf(b, ",%03zu", n % 1000);
    } else {
        dbm_buf_printf(b, "%zu", n);
    }
}

/* "2026-12-04T21:27:18Z" as "2026-12-04 21:27 UTC"; any other form as it is. */
static void put_when(dbm_buf *b, const char *iso)
{
    if (strlen(iso) == 20 && iso[10] == 'T' && iso[19] == 'Z')
        dbm_buf_printf(b, "%.10s %.5s UTC", iso, iso + 11);
    else
        report_md_text(b, iso);
}

/* "**Earlier:** 1,000 migrations applied before this run; the newest is `1000` x, applied (when)."
 */
static void put_history_line(dbm_buf *b, const dbm_report *r, size_t n)
{
    const dbm_mig_result *newest = report_newest_earlier(r);

    dbm_buf_puts(b, "**Earlier:** ");
    put_count(b, n);
    dbm_buf_printf(b, " migration%s ", n == 1 ? "" : "s");
    if (newest->applied_at || !newest->note)
        dbm_buf_puts(b, "applied before this run");
    else
        report_md_text(b, newest->note);
    dbm_buf_puts(b, "; the newest is ");
    report_md_code(b, newest->version);
    dbm_buf_puts(b, " ");
    report_md_text(b, newest->name);
    if (newest->applied_at) {
        dbm_buf_puts(b, ", applied ");
        put_when(b, newest->applied_at);
    }
    dbm_buf_puts(b, ".\n\n");
}

/*
 * The migrations of earlier runs: one line, then a collapsed list, newest
 * first, cut where the limit leaves no room (the JSON report has them all).
 */
static void put_history(dbm_buf *b, const dbm_report *r, size_t limit)
{
    size_t n = report_count_earlier(r), shown = 0;
    const size_t room = 512; /* for the closing lines */

    if (!n)
        return;
    put_history_line(b, r, n);
    if (b->len + room > limit)
        return;
    dbm_buf_puts(b, "<details><summary>");
    put_count(b, n);
    dbm_buf_printf(b,
                   " earlier migration%s</summary>\n\n"
                   "| Version | Name | Applied | Duration |\n|---|---|---|---:|\n",
                   n == 1 ? "" : "s");
    for (size_t i = r->nmigs; i-- > 0;) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->earlier)
            continue;
        if (b->len + room > limit) {
            dbm_buf_printf(b, "| … | %zu older in the JSON report | | |\n", n - shown);
            break;
        }
        dbm_buf_puts(b, "| ");
        report_md_code(b, m->version);
        dbm_buf_puts(b, " | ");
        report_md_text(b, m->name);
        dbm_buf_puts(b, " | ");
        report_md_text(b, m->applied_at ? m->applied_at : m->note);
        dbm_buf_puts(b, " | ");
        if (m->applied_at)
            dbm_buf_printf(b, "%.0f ms", m->duration_ms);
        dbm_buf_puts(b, " |\n");
        shown++;
    }
    dbm_buf_puts(b, "\n</details>\n\n");
}

char *dbm_report_markdown(const dbm_report *r, const dbm_emit_opts *opts)
{
    size_t limit = opts && opts->limit ? opts->limit : DBM_SUMMARY_LIMIT, room;
    dbm_buf b = DBM_BUF_INIT, after = DBM_BUF_INIT;

    if (dbm_report_is_fleet(r))
        return report_fleet_markdown(r, limit);
    /*
     * The errors and findings are written first, aside, within five eighths of
     * the limit: they and the rows that matter are what the summary keeps, and
     * the table of the change (whose applied rows give way) takes the room
     * left of seven eighths.
     */
    put_headline(&b, r);
    put_errors(&after, r);
    put_findings(&after, r, limit / 8 * 5);
    room = b.len + after.len + limit / 8 < limit / 8 * 7 ? limit / 8 * 7 - b.len - after.len
                                                         : limit / 8;
    put_change(&b, r, room);
    dbm_buf_put(&b, after.ptr ? after.ptr : "", after.len);
    dbm_buf_free(&after);
    put_statements(&b, r, limit);
    put_diffs(&b, r, limit);
    put_history(&b, r, limit);
    if (b.len > limit) {
        static const char cut[] = "\n\n… summary cut; the JSON report has everything.\n";
        size_t at = limit - sizeof(cut);
        /* Never inside a UTF-8 character. */
        while (at > 0 && ((unsigned char)b.ptr[at] & 0xC0) == 0x80)
            at--;
        dbm_buf_truncate(&b, at);
        dbm_buf_puts(&b, cut);
    }
    return dbm_buf_detach(&b);
}
