/*
 * report_emit.c - the run's record written out: annotations, the job summary
 * (Markdown), the step outputs and the JSON report.
 *
 * Text that came from files or the server is escaped here, at the point where
 * its destination is known.
 */
#include "common/error.h"
#include "report/report.h"
#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUMMARY_LIMIT (900u * 1024u) /* the runner refuses summaries over 1 MiB */

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

/* Text for a <pre> block: HTML-escaped, newlines kept. */
static void put_pre(dbm_buf *b, const char *s)
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

/* Text inside a `code span`: literal there, so only backticks, pipes (table cells) and
 * line breaks need care. */
static void put_code(dbm_buf *b, const char *s)
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

static void put_md(dbm_buf *b, const char *s)
{
    char *e = dbm_escape_markdown(s ? s : "");
    dbm_buf_puts(b, e);
    free(e);
}

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

static void put_locks(dbm_buf *b, const dbm_mig_result *m)
{
    bool any = false;
    for (size_t i = 0; i < m->nstmts; i++)
        for (size_t k = 0; k < m->stmts[i].nlocks; k++) {
            if (any)
                dbm_buf_puts(b, "<br>");
            put_md(b, m->stmts[i].locks[k].relation);
            dbm_buf_puts(b, " ");
            put_md(b, m->stmts[i].locks[k].mode);
            any = true;
        }
    if (!any)
        dbm_buf_puts(b, "");
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
        put_md(b, f->rule);
        if (f->status) {
            dbm_buf_puts(b, strcmp(f->status, "confirmed") == 0 ? " (confirmed)" : " (");
            if (strcmp(f->status, "confirmed") != 0) {
                put_md(b, f->status);
                dbm_buf_puts(b, ")");
            }
        }
        any = true;
    }
}

/*
 * Per migration that has statement results (a dry-run), a <details> block with
 * a table: line, statement, duration, locks taken, rewrites, findings.
 */
static void put_statements(dbm_buf *b, const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        size_t nlocks = 0, nrewrites = 0, k;

        if (!m->nstmts)
            continue;
        if (b->len > SUMMARY_LIMIT * 3 / 4) {
            dbm_buf_puts(b, "… statements of the other migrations are in the JSON report\n\n");
            return;
        }
        for (k = 0; k < m->nstmts; k++) {
            nlocks += m->stmts[k].nlocks;
            nrewrites += m->stmts[k].nrewrites;
        }
        dbm_buf_printf(b, "<details%s><summary>%s ", m->status == DBM_MIG_FAILED ? " open" : "",
                       mig_icon(m->status));
        put_md(b, m->file ? m->file : m->version);
        if (m->note) {
            dbm_buf_puts(b, ": ");
            put_md(b, m->note);
        } else {
            dbm_buf_printf(b, ": %zu statement%s, %.0f ms, %zu lock%s, %zu rewrite%s", m->nstmts,
                           m->nstmts == 1 ? "" : "s", m->duration_ms, nlocks,
                           nlocks == 1 ? "" : "s", nrewrites, nrewrites == 1 ? "" : "s");
        }
        dbm_buf_puts(b, "</summary>\n\n| Line | Statement | Duration | Locks taken | Rewrites | "
                        "Findings |\n|---:|---|---:|---|---|---|\n");
        for (k = 0; k < m->nstmts; k++) {
            const dbm_stmt_result *st = &m->stmts[k];
            if (b->len > SUMMARY_LIMIT * 7 / 8) {
                dbm_buf_printf(b, "| | … %zu more in the JSON report | | | | |\n", m->nstmts - k);
                break;
            }
            dbm_buf_printf(b, "| %d | ", st->line);
            put_md(b, st->tag);
            if (st->note) {
                dbm_buf_puts(b, " | ");
                put_md(b, st->note);
                dbm_buf_puts(b, " | | | ");
            } else {
                dbm_buf_printf(b, " | %.1f ms | ", st->duration_ms);
                for (size_t l = 0; l < st->nlocks; l++) {
                    dbm_buf_puts(b, l ? "<br>" : "");
                    put_code(b, st->locks[l].relation);
                    dbm_buf_puts(b, " ");
                    put_md(b, st->locks[l].mode);
                }
                dbm_buf_puts(b, " | ");
                for (size_t l = 0; l < st->nrewrites; l++) {
                    dbm_buf_puts(b, l ? "<br>" : "");
                    put_code(b, st->rewrites[l].relation);
                    dbm_buf_puts(b, " ");
                    put_bytes(b, st->rewrites[l].bytes);
                }
                dbm_buf_puts(b, " | ");
            }
            put_stmt_findings(b, r, m->file, st->line);
            dbm_buf_puts(b, " |\n");
        }
        dbm_buf_puts(b, "\n</details>\n\n");
    }
}

char *dbm_report_markdown(const dbm_report *r, const dbm_emit_opts *opts)
{
    dbm_buf b = DBM_BUF_INIT;
    char s1[13], s2[13];
    size_t shown = 0;

    dbm_buf_printf(&b, "### %s db-migrate %s: %s\n\n", status_icon(r->status), r->command,
                   r->status ? r->status : "unknown");
    if (r->applied_count || r->pending_count)
        dbm_buf_printf(&b, "**%d** applied, **%d** pending", r->applied_count, r->pending_count);
    if (r->database) {
        dbm_buf_puts(&b, r->applied_count || r->pending_count ? " · database " : "database ");
        put_code(&b, r->database);
    }
    if (r->git.head) {
        const char *from = r->git.base ? r->git.base : r->git.deployed;
        dbm_buf_puts(&b, " · ");
        if (from && r->git.compare_url)
            dbm_buf_printf(&b, "[`%s..%s`](%s)", short_sha(from, s1), short_sha(r->git.head, s2),
                           r->git.compare_url);
        else if (from)
            dbm_buf_printf(&b, "`%s..%s`", short_sha(from, s1), short_sha(r->git.head, s2));
        else
            dbm_buf_printf(&b, "head `%s`", short_sha(r->git.head, s1));
    }
    dbm_buf_puts(&b, "\n\n");

    if (r->error) {
        dbm_buf_puts(&b, "> **Error:** ");
        put_md(&b, r->error);
        dbm_buf_puts(&b, "\n\n");
    }

    if (r->nmigs) {
        /* The Locks column only when something measured locks (dry-run). */
        bool locks = false;
        for (size_t i = 0; i < r->nmigs && !locks; i++)
            for (size_t k = 0; k < r->migs[i].nstmts && !locks; k++)
                locks = r->migs[i].stmts[k].nlocks > 0;
        dbm_buf_puts(&b, locks ? "| | Version | Name | Status | Duration | Statements | Locks |\n"
                                 "|---|---|---|---|---:|---:|---|\n"
                               : "| | Version | Name | Status | Duration | Statements |\n"
                                 "|---|---|---|---|---:|---:|\n");
        for (size_t i = 0; i < r->nmigs; i++) {
            const dbm_mig_result *m = &r->migs[i];
            if (b.len > SUMMARY_LIMIT / 2) {
                dbm_buf_printf(&b, "| | … | %zu more rows in the JSON report | | |%s\n",
                               r->nmigs - i, locks ? " |" : "");
                break;
            }
            dbm_buf_printf(&b, "| %s | ", mig_icon(m->status));
            put_code(&b, m->version);
            dbm_buf_puts(&b, " | ");
            put_md(&b, m->name);
            dbm_buf_printf(&b, " | %s", dbm_mig_status_name(m->status));
            if (m->note) {
                dbm_buf_puts(&b, ": ");
                put_md(&b, m->note);
            }
            dbm_buf_puts(&b, " | ");
            if (m->status == DBM_MIG_APPLIED || m->status == DBM_MIG_FAILED ||
                (m->nstmts && !m->note))
                dbm_buf_printf(&b, "%.0f ms", m->duration_ms);
            dbm_buf_puts(&b, " | ");
            /* Counted when the file was parsed in this run; unknown otherwise. */
            if (m->statement_count > 0)
                dbm_buf_printf(&b, "%d", m->statement_count);
            if (locks) {
                dbm_buf_puts(&b, " | ");
                put_locks(&b, m);
            }
            dbm_buf_puts(&b, " |\n");
        }
        dbm_buf_puts(&b, "\n");
    }
    put_statements(&b, r);

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        const dbm_error_info *e = m->error;
        if (!e || b.len > SUMMARY_LIMIT)
            continue;
        dbm_buf_puts(&b, "#### ❌ ");
        put_md(&b, e->file ? e->file : m->file);
        if (e->line)
            dbm_buf_printf(&b, ":%d:%d", e->line, e->column);
        dbm_buf_puts(&b, "\n\n");
        put_md(&b, e->message);
        if (e->sqlstate)
            dbm_buf_printf(&b, " (SQLSTATE %s)", e->sqlstate);
        dbm_buf_puts(&b, "\n\n");
        if (e->detail) {
            dbm_buf_puts(&b, "Detail: ");
            put_md(&b, e->detail);
            dbm_buf_puts(&b, "\n\n");
        }
        if (e->hint) {
            dbm_buf_puts(&b, "Hint: ");
            put_md(&b, e->hint);
            dbm_buf_puts(&b, "\n\n");
        }
        if (e->context)
            put_pre(&b, e->context);
        dbm_buf_puts(&b, "\n");
    }

    if (r->nfindings) {
        dbm_buf_puts(&b, "#### Findings\n\n");
        for (size_t i = 0; i < r->nfindings && b.len < SUMMARY_LIMIT; i++, shown++) {
            const dbm_finding *f = &r->findings[i];
            static const char *const sev[] = {"ℹ️", "⚠️", "❌"};
            dbm_buf_printf(&b, "- %s **", sev[f->severity]);
            put_md(&b, f->rule);
            dbm_buf_puts(&b, "**");
            if (f->file) {
                char *where =
                    f->line ? dbm_xasprintf("%s:%d", f->file, f->line) : dbm_xstrdup(f->file);
                dbm_buf_puts(&b, " ");
                put_code(&b, where);
                free(where);
            }
            dbm_buf_puts(&b, ": ");
            put_md(&b, f->message);
            if (f->status) {
                dbm_buf_puts(&b, " (dry-run: ");
                put_md(&b, f->status);
                dbm_buf_puts(&b, ")");
            }
            if (f->hint) {
                dbm_buf_puts(&b, " — ");
                put_md(&b, f->hint);
            }
            dbm_buf_puts(&b, "\n");
        }
        if (shown < r->nfindings)
            dbm_buf_printf(&b, "- … %zu more in the JSON report\n", r->nfindings - shown);
        dbm_buf_puts(&b, "\n");
    }

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->diff || b.len > SUMMARY_LIMIT)
            continue;
        dbm_buf_puts(&b, "<details><summary>Edited after deploy: ");
        put_md(&b, m->file);
        if (m->changed_by) {
            dbm_buf_printf(&b, " (changed in %s)", short_sha(m->changed_by, s1));
        }
        dbm_buf_puts(&b, "</summary>\n\n");
        put_pre(&b, m->diff);
        dbm_buf_puts(&b, "</details>\n\n");
    }
    if (b.len > SUMMARY_LIMIT) {
        dbm_buf_truncate(&b, SUMMARY_LIMIT);
        dbm_buf_puts(&b, "\n\n… summary cut at 900 KiB; the JSON report has everything.\n");
    }
    (void)opts;
    return dbm_buf_detach(&b);
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* json_string refuses invalid UTF-8; file names and server text may hold it. */
static json_t *jtext(const char *s)
{
    json_t *j;
    if (!s)
        return json_null();
    j = json_string(s);
    if (!j) {
        char *copy = dbm_xstrdup(s);
        for (char *p = copy; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        j = json_string(copy);
        free(copy);
    }
    return j;
}

char *dbm_report_json(const dbm_report *r)
{
    json_t *root = json_object();
    json_t *git = json_object();
    json_t *changes = json_array();
    json_t *migs = json_array();
    json_t *findings = json_array();
    char *out;

    json_object_set_new(root, "command", jstr(r->command));
    json_object_set_new(root, "status", jstr(r->status));
    json_object_set_new(root, "database", jtext(r->database));
    json_object_set_new(root, "migrations_dir", jtext(r->migrations_dir));
    json_object_set_new(root, "format", jstr(r->format));
    json_object_set_new(root, "applied_count", json_integer(r->applied_count));
    json_object_set_new(root, "pending_count", json_integer(r->pending_count));
    json_object_set_new(root, "duration_ms", json_real(r->duration_ms));
    json_object_set_new(root, "error", jtext(r->error));
    json_object_set_new(git, "head", jstr(r->git.head));
    json_object_set_new(git, "deployed", jstr(r->git.deployed));
    json_object_set_new(git, "base", jstr(r->git.base));
    json_object_set_new(git, "compare_url", jtext(r->git.compare_url));
    for (size_t i = 0; i < r->git.nchanges; i++) {
        const dbm_git_change_info *c = &r->git.changes[i];
        json_array_append_new(changes, json_pack("{s:o, s:o, s:o, s:o}", "kind", jstr(c->kind),
                                                 "path", jtext(c->path), "old_path",
                                                 jtext(c->old_path), "commit", jstr(c->commit)));
    }
    json_object_set_new(git, "changes", changes);
    json_object_set_new(root, "git", git);

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        json_t *jm = json_object();
        json_t *stmts = json_array();
        json_object_set_new(jm, "version", jtext(m->version));
        json_object_set_new(jm, "name", jtext(m->name));
        json_object_set_new(jm, "file", jtext(m->file));
        json_object_set_new(jm, "status", json_string(dbm_mig_status_name(m->status)));
        json_object_set_new(jm, "duration_ms", json_real(m->duration_ms));
        json_object_set_new(jm, "transactional", json_boolean(m->transactional));
        json_object_set_new(jm, "statement_count", json_integer(m->statement_count));
        json_object_set_new(jm, "note", jtext(m->note));
        for (size_t k = 0; k < m->nstmts; k++) {
            const dbm_stmt_result *s = &m->stmts[k];
            json_t *locks = json_array(), *rewrites = json_array();
            for (size_t l = 0; l < s->nlocks; l++)
                json_array_append_new(locks, json_pack("{s:o, s:o}", "relation",
                                                       jtext(s->locks[l].relation), "mode",
                                                       jstr(s->locks[l].mode)));
            for (size_t l = 0; l < s->nrewrites; l++)
                json_array_append_new(rewrites, json_pack("{s:o, s:I}", "relation",
                                                          jtext(s->rewrites[l].relation), "bytes",
                                                          (json_int_t)s->rewrites[l].bytes));
            json_array_append_new(stmts, json_pack("{s:i, s:o, s:f, s:o, s:o, s:o}", "line",
                                                   s->line, "tag", jstr(s->tag), "duration_ms",
                                                   s->duration_ms, "locks", locks, "rewrites",
                                                   rewrites, "note", jtext(s->note)));
        }
        json_object_set_new(jm, "statements", stmts);
        if (m->error) {
            const dbm_error_info *e = m->error;
            json_object_set_new(jm, "error",
                                json_pack("{s:o, s:o, s:o, s:i, s:i, s:o, s:o}", "message",
                                          jtext(e->message), "sqlstate", jstr(e->sqlstate), "file",
                                          jtext(e->file), "line", e->line, "column", e->column,
                                          "detail", jtext(e->detail), "hint", jtext(e->hint)));
        } else {
            json_object_set_new(jm, "error", json_null());
        }
        if (m->diff)
            json_object_set_new(jm, "diff", jtext(m->diff));
        if (m->changed_by)
            json_object_set_new(jm, "changed_by", jstr(m->changed_by));
        json_array_append_new(migs, jm);
    }
    json_object_set_new(root, "migrations", migs);

    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        static const char *const sev[] = {"notice", "warning", "error"};
        json_array_append_new(
            findings, json_pack("{s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o}", "severity",
                                sev[f->severity], "rule", jstr(f->rule), "file", jtext(f->file),
                                "line", f->line, "column", f->col, "message", jtext(f->message),
                                "hint", jtext(f->hint), "dry_run", jstr(f->status)));
    }
    json_object_set_new(root, "findings", findings);
    out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out ? out : dbm_xstrdup("{}");
}

static int write_file(const char *path, const char *text, bool append, const char *what)
{
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s'", what, path);
    fputs(text, f);
    if (fclose(f) != 0)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s'", what, path);
    return 0;
}

static void output_line(dbm_buf *b, const char *name, const char *value)
{
    /* Values are single-line; the delimiter form keeps even odd ones intact. */
    if (strchr(value, '\n') || strchr(value, '\r')) {
        char delim[48];
        snprintf(delim, sizeof(delim), "dbm_EOF_%ld_%d", (long)time(NULL), (int)getpid());
        dbm_buf_printf(b, "%s<<%s\n%s\n%s\n", name, delim, value, delim);
    } else {
        dbm_buf_printf(b, "%s=%s\n", name, value);
    }
}

static void annotations(const dbm_report *r)
{
    static const char *const level[] = {"notice", "warning", "error"};

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_error_info *e = r->migs[i].error;
        char *msg;
        if (!e)
            continue;
        msg =
            e->hint ? dbm_xasprintf("%s\nhint: %s", e->message, e->hint) : dbm_xstrdup(e->message);
        dbm_annotate("error", e->file ? e->file : r->migs[i].file, e->line, e->column,
                     "Migration failed", msg);
        free(msg);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        char *title = dbm_xasprintf("db-migrate: %s", f->rule);
        char *msg =
            f->hint ? dbm_xasprintf("%s\nhint: %s", f->message, f->hint) : dbm_xstrdup(f->message);
        dbm_annotate(level[f->severity], f->file, f->line, f->col, title, msg);
        free(title);
        free(msg);
    }
}

int dbm_report_emit(const dbm_report *r, const dbm_emit_opts *opts)
{
    int error = 0;
    char *md = NULL;

    annotations(r);
    /* A run that stopped before it read anything has only its error to tell. */
    if (opts->summary_path || (!opts->quiet_terminal && (r->nmigs || r->nfindings)))
        md = dbm_report_markdown(r, opts);
    if (opts->summary_path) {
        if (write_file(opts->summary_path, md, true, "job summary") < 0)
            error = DBM_EGENERIC;
    } else if (md && !opts->quiet_terminal) {
        fputs("\n", stdout);
        fputs(md, stdout);
        fflush(stdout);
    }
    if (opts->output_path) {
        dbm_buf b = DBM_BUF_INIT;
        dbm_buf versions = DBM_BUF_INIT;
        char n[32];
        for (size_t i = 0; i < r->nmigs; i++)
            if (r->migs[i].status == DBM_MIG_APPLIED && !r->migs[i].note) {
                if (versions.len)
                    dbm_buf_putc(&versions, ',');
                dbm_buf_puts(&versions, r->migs[i].version);
            }
        output_line(&b, "status", r->status ? r->status : "failed");
        snprintf(n, sizeof(n), "%d", r->applied_count);
        output_line(&b, "applied-count", n);
        snprintf(n, sizeof(n), "%d", r->pending_count);
        output_line(&b, "pending-count", n);
        output_line(&b, "applied-versions", dbm_buf_cstr(&versions));
        output_line(&b, "deployed-sha",
                    r->status &&
                            (!strcmp(r->status, "applied") || !strcmp(r->status, "up-to-date")) &&
                            !strcmp(r->command, "apply") && r->git.head
                        ? r->git.head
                        : (r->git.deployed ? r->git.deployed : ""));
        output_line(&b, "report-file", opts->report_path ? opts->report_path : "");
        if (write_file(opts->output_path, b.ptr, true, "step outputs") < 0)
            error = DBM_EGENERIC;
        dbm_buf_free(&b);
        dbm_buf_free(&versions);
    }
    if (opts->report_path) {
        char *json = dbm_report_json(r);
        if (write_file(opts->report_path, json, false, "report") < 0)
            error = DBM_EGENERIC;
        free(json);
    }
    free(md);
    return error;
}
