/*
 * markdown.c - the job summary: a headline, the migrations table, each
 * migration's statements (after a dry-run), the errors, the findings and the
 * diffs of edited migrations, in that order. The same text is printed on the
 * terminal outside GitHub Actions.
 *
 * The runner refuses summaries over 1 MiB, so each part stops early, pointing
 * at the JSON report, once the text has grown past its share of the limit,
 * and the whole is cut at the limit as a last resort.
 */
#include "report/render.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_LIMIT (900u * 1024u) /* the runner refuses summaries over 1 MiB */

static const char *short_sha(const char *sha, char out[13])
{
    snprintf(out, 13, "%.12s", sha ? sha : "");
    return out;
}

static const char *status_icon(const char *status)
{
    if (!status)
        return "❔";
    if (!strcmp(status, "applied") || !strcmp(status, "up-to-date"))
        return "✅";
    if (!strcmp(status, "pending"))
        return "🟡";
    return "❌";
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
    default:
        return "🕓";
    }
}

static void put_bytes(dbm_buf *b, long long n)
{
    static const char *const unit[] = {"kB", "MB", "GB", "TB"};
    double v = (double)n;
    int u = -1;

    if (n < 1024) {
        dbm_buf_printf(b, "%lld B", n);
        return;
    }
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    dbm_buf_printf(b, "%.1f %s", v, unit[u]);
}

/* " · from..head" with a compare link when there is one, or " · head sha". */
static void put_git_range(dbm_buf *b, const dbm_report *r)
{
    const char *from = r->git.base ? r->git.base : r->git.deployed;
    char s1[13], s2[13];

    dbm_buf_puts(b, " · ");
    if (from && r->git.compare_url)
        dbm_buf_printf(b, "[`%s..%s`](%s)", short_sha(from, s1), short_sha(r->git.head, s2),
                       r->git.compare_url);
    else if (from)
        dbm_buf_printf(b, "`%s..%s`", short_sha(from, s1), short_sha(r->git.head, s2));
    else
        dbm_buf_printf(b, "head `%s`", short_sha(r->git.head, s1));
}

/* The title line, then one line of counts, database and commits; the run's error below. */
static void put_headline(dbm_buf *b, const dbm_report *r)
{
    bool counts = r->applied_count || r->pending_count;

    dbm_buf_printf(b, "### %s db-migrate %s: %s\n\n", status_icon(r->status), r->command,
                   r->status ? r->status : "unknown");
    if (counts)
        dbm_buf_printf(b, "**%d** applied, **%d** pending", r->applied_count, r->pending_count);
    if (r->database) {
        dbm_buf_puts(b, counts ? " · database " : "database ");
        report_md_code(b, r->database);
    }
    if (r->git.head)
        put_git_range(b, r);
    dbm_buf_puts(b, "\n\n");

    if (r->error) {
        dbm_buf_puts(b, "> **Error:** ");
        report_md_text(b, r->error);
        dbm_buf_puts(b, "\n\n");
    }
}

/* Whether any statement measured locks: only then has the table a Locks column (dry-run). */
static bool any_locks(const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++)
        for (size_t k = 0; k < r->migs[i].nstmts; k++)
            if (r->migs[i].stmts[k].nlocks > 0)
                return true;
    return false;
}

/* The Locks cell of a migration's row: every lock of its statements. */
static void put_locks(dbm_buf *b, const dbm_mig_result *m)
{
    bool any = false;
    for (size_t i = 0; i < m->nstmts; i++)
        for (size_t k = 0; k < m->stmts[i].nlocks; k++) {
            if (any)
                dbm_buf_puts(b, "<br>");
            report_md_text(b, m->stmts[i].locks[k].relation);
            dbm_buf_puts(b, " ");
            report_md_text(b, m->stmts[i].locks[k].mode);
            any = true;
        }
}

static void put_migration_row(dbm_buf *b, const dbm_mig_result *m, bool locks)
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
    /* Counted when the file was parsed in this run; unknown otherwise. */
    if (m->statement_count > 0)
        dbm_buf_printf(b, "%d", m->statement_count);
    if (locks) {
        dbm_buf_puts(b, " | ");
        put_locks(b, m);
    }
    dbm_buf_puts(b, " |\n");
}

/* One row per migration, until half the limit is used. */
static void put_migrations(dbm_buf *b, const dbm_report *r)
{
    bool locks;

    if (!r->nmigs)
        return;
    locks = any_locks(r);
    dbm_buf_puts(b, locks ? "| | Version | Name | Status | Duration | Statements | Locks |\n"
                            "|---|---|---|---|---:|---:|---|\n"
                          : "| | Version | Name | Status | Duration | Statements |\n"
                            "|---|---|---|---|---:|---:|\n");
    for (size_t i = 0; i < r->nmigs; i++) {
        if (b->len > SUMMARY_LIMIT / 2) {
            dbm_buf_printf(b, "| | … | %zu more rows in the JSON report | | |%s\n", r->nmigs - i,
                           locks ? " |" : "");
            break;
        }
        put_migration_row(b, &r->migs[i], locks);
    }
    dbm_buf_puts(b, "\n");
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
        dbm_buf_puts(b, f->severity == DBM_SEV_ERROR ? "❌ " : "⚠️ ");
        report_md_text(b, f->rule);
        if (f->status) {
            dbm_buf_puts(b, strcmp(f->status, "confirmed") == 0 ? " (confirmed)" : " (");
            if (strcmp(f->status, "confirmed") != 0) {
                report_md_text(b, f->status);
                dbm_buf_puts(b, ")");
            }
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
    }
    dbm_buf_puts(b, " | ");
    for (size_t l = 0; l < st->nrewrites; l++) {
        dbm_buf_puts(b, l ? "<br>" : "");
        report_md_code(b, st->rewrites[l].relation);
        dbm_buf_puts(b, " ");
        put_bytes(b, st->rewrites[l].bytes);
    }
    dbm_buf_puts(b, " | ");
}

static void put_stmt_row(dbm_buf *b, const dbm_report *r, const dbm_mig_result *m,
                         const dbm_stmt_result *st)
{
    dbm_buf_printf(b, "| %d | ", st->line);
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

/* The <summary> line of a migration's statements: its note, or what its statements did. */
static void put_stmts_heading(dbm_buf *b, const dbm_mig_result *m)
{
    size_t nlocks = 0, nrewrites = 0;

    for (size_t k = 0; k < m->nstmts; k++) {
        nlocks += m->stmts[k].nlocks;
        nrewrites += m->stmts[k].nrewrites;
    }
    dbm_buf_printf(b, "<details%s><summary>%s ", m->status == DBM_MIG_FAILED ? " open" : "",
                   mig_icon(m->status));
    report_md_text(b, m->file ? m->file : m->version);
    if (m->note) {
        dbm_buf_puts(b, ": ");
        report_md_text(b, m->note);
    } else {
        dbm_buf_printf(b, ": %zu statement%s, %.0f ms, %zu lock%s, %zu rewrite%s", m->nstmts,
                       m->nstmts == 1 ? "" : "s", m->duration_ms, nlocks, nlocks == 1 ? "" : "s",
                       nrewrites, nrewrites == 1 ? "" : "s");
    }
    dbm_buf_puts(b, "</summary>\n\n");
}

/*
 * Per migration that has statement results (a dry-run), a <details> block with
 * a table: line, statement, duration, locks taken, rewrites, findings.
 */
static void put_statements(dbm_buf *b, const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];

        if (!m->nstmts)
            continue;
        if (b->len > SUMMARY_LIMIT * 3 / 4) {
            dbm_buf_puts(b, "… statements of the other migrations are in the JSON report\n\n");
            return;
        }
        put_stmts_heading(b, m);
        dbm_buf_puts(b, "| Line | Statement | Duration | Locks taken | Rewrites | Findings |\n"
                        "|---:|---|---:|---|---|---|\n");
        for (size_t k = 0; k < m->nstmts; k++) {
            if (b->len > SUMMARY_LIMIT * 7 / 8) {
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
        if (r->migs[i].error && b->len <= SUMMARY_LIMIT)
            put_error(b, &r->migs[i]);
}

/* "- icon **rule** `file:line`: message (dry-run: verdict) — hint" */
static void put_finding(dbm_buf *b, const dbm_finding *f)
{
    static const char *const sev[] = {"ℹ️", "⚠️", "❌"};

    dbm_buf_printf(b, "- %s **", sev[f->severity]);
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
        dbm_buf_puts(b, " — ");
        report_md_text(b, f->hint);
    }
    dbm_buf_puts(b, "\n");
}

static void put_findings(dbm_buf *b, const dbm_report *r)
{
    size_t shown = 0;

    if (!r->nfindings)
        return;
    dbm_buf_puts(b, "#### Findings\n\n");
    for (size_t i = 0; i < r->nfindings && b->len < SUMMARY_LIMIT; i++, shown++)
        put_finding(b, &r->findings[i]);
    if (shown < r->nfindings)
        dbm_buf_printf(b, "- … %zu more in the JSON report\n", r->nfindings - shown);
    dbm_buf_puts(b, "\n");
}

/* Each edited deployed migration's diff, folded. */
static void put_diffs(dbm_buf *b, const dbm_report *r)
{
    char sha[13];

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->diff || b->len > SUMMARY_LIMIT)
            continue;
        dbm_buf_puts(b, "<details><summary>Edited after deploy: ");
        report_md_text(b, m->file);
        if (m->changed_by)
            dbm_buf_printf(b, " (changed in %s)", short_sha(m->changed_by, sha));
        dbm_buf_puts(b, "</summary>\n\n");
        report_md_pre(b, m->diff);
        dbm_buf_puts(b, "</details>\n\n");
    }
}

char *dbm_report_markdown(const dbm_report *r, const dbm_emit_opts *opts)
{
    dbm_buf b = DBM_BUF_INIT;

    put_headline(&b, r);
    put_migrations(&b, r);
    put_statements(&b, r);
    put_errors(&b, r);
    put_findings(&b, r);
    put_diffs(&b, r);
    if (b.len > SUMMARY_LIMIT) {
        dbm_buf_truncate(&b, SUMMARY_LIMIT);
        dbm_buf_puts(&b, "\n\n… summary cut at 900 KiB; the JSON report has everything.\n");
    }
    (void)opts;
    return dbm_buf_detach(&b);
}
