/*
 * change.c - what the summary and the terminal both lead with: the biggest
 * risk of the change, the tone of the headline, the findings by level and the
 * history's newest row. Reads the record only.
 */
#include "report/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int report_lock_rank(const char *mode)
{
    static const char *const modes[] = {
        "AccessShareLock", "RowShareLock",          "RowExclusiveLock", "ShareUpdateExclusiveLock",
        "ShareLock",       "ShareRowExclusiveLock", "ExclusiveLock",    "AccessExclusiveLock"};

    for (size_t i = 0; mode && i < sizeof(modes) / sizeof(modes[0]); i++)
        if (strcmp(mode, modes[i]) == 0)
            return (int)i + 1;
    return 0;
}

/* The strongest mode statement s took on relation, or NULL. */
static const char *strongest_on(const dbm_stmt_result *s, const char *relation)
{
    const char *best = NULL;

    for (size_t l = 0; l < s->nlocks; l++)
        if (s->locks[l].relation && strcmp(s->locks[l].relation, relation) == 0 &&
            report_lock_rank(s->locks[l].mode) > report_lock_rank(best))
            best = s->locks[l].mode;
    return best;
}

/* Fold statement s into the risk found so far. */
static void weigh_stmt(report_risk *risk, const dbm_stmt_result *s)
{
    for (size_t w = 0; w < s->nrewrites; w++) {
        const dbm_rewrite *rw = &s->rewrites[w];
        if (rw->relation && rw->bytes > risk->bytes) {
            risk->relation = rw->relation;
            risk->bytes = rw->bytes;
            risk->mode = strongest_on(s, rw->relation);
        }
    }
    if (risk->bytes >= 0)
        return;
    for (size_t l = 0; l < s->nlocks; l++)
        if (report_lock_rank(s->locks[l].mode) > report_lock_rank(risk->mode)) {
            risk->relation = s->locks[l].relation;
            risk->mode = s->locks[l].mode;
        }
}

report_risk report_biggest_risk(const dbm_report *r)
{
    report_risk risk = {NULL, NULL, -1};

    for (size_t i = 0; i < r->nmigs; i++)
        for (size_t k = 0; !r->migs[i].earlier && k < r->migs[i].nstmts; k++)
            weigh_stmt(&risk, &r->migs[i].stmts[k]);
    return risk;
}

dbm_severity report_finding_level(const dbm_finding *f)
{
    if (f->status && strcmp(f->status, "refuted") == 0)
        return DBM_SEV_NOTICE;
    return f->severity;
}

size_t report_count_level(const dbm_report *r, dbm_severity level)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += report_finding_level(&r->findings[i]) == level;
    return n;
}

report_tone report_headline_tone(const dbm_report *r, const report_risk *risk)
{
    const char *st = r->status ? r->status : "";

    if (!strcmp(st, "failed") || !strcmp(st, "blocked") || r->error)
        return REPORT_FAILED;
    if (risk->bytes >= 0 || report_lock_rank(risk->mode) == 8 ||
        report_count_level(r, DBM_SEV_ERROR) > 0)
        return REPORT_RISK;
    /* Warnings are a matter for review; once applied they are history. What a rollback
     * undid is pending again, as it asked. */
    if ((r->pending_count > 0 && strcmp(st, "rolled-back") != 0) ||
        (report_count_level(r, DBM_SEV_WARNING) > 0 && strcmp(st, "applied") != 0))
        return REPORT_NOTE;
    return REPORT_OK;
}

size_t report_count_earlier(const dbm_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nmigs; i++)
        n += r->migs[i].earlier;
    return n;
}

const dbm_mig_result *report_newest_earlier(const dbm_report *r)
{
    const dbm_mig_result *newest = NULL;

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_mig_result *m = &r->migs[i];
        if (!m->earlier)
            continue;
        /* ISO 8601 in UTC orders as text; a row without a time loses to one with; between
         * equals, the later in file order wins. */
        if (!newest || (!m->applied_at && !newest->applied_at) ||
            (m->applied_at &&
             (!newest->applied_at || strcmp(m->applied_at, newest->applied_at) >= 0)))
            newest = m;
    }
    return newest;
}

const dbm_mig_result *report_first_failure(const dbm_report *r)
{
    for (size_t i = 0; i < r->nmigs; i++)
        if (r->migs[i].status == DBM_MIG_FAILED)
            return &r->migs[i];
    return NULL;
}

void report_put_bytes(dbm_buf *b, long long n)
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

/* A name in the lead: a code span in Markdown, as it is on a terminal. */
static void put_name(dbm_buf *b, const char *s, bool md)
{
    if (md)
        report_md_code(b, s);
    else
        dbm_buf_puts(b, s ? s : "");
}

static void put_count(dbm_buf *b, size_t n, const char *what, const char *plural)
{
    dbm_buf_printf(b, "%s%zu %s", b->len ? " · " : "", n, n == 1 ? what : plural);
}

/* The lead's first part: the failure, the block, the risk, or the status. */
static void put_lead_head(dbm_buf *b, const dbm_report *r, const report_risk *risk, bool md)
{
    const char *st = r->status ? r->status : "unknown";
    const dbm_mig_result *f = report_first_failure(r);

    if (!strcmp(st, "failed") && f) {
        dbm_buf_puts(b, "failed at ");
        if (f->error && f->error->line) {
            char *where =
                dbm_xasprintf("%s:%d", f->error->file ? f->error->file : f->file, f->error->line);
            put_name(b, where, md);
            free(where);
        } else {
            put_name(b, f->file ? f->file : f->version, md);
        }
    } else if (!strcmp(st, "blocked")) {
        /* the count of the final error line (dbm_run_blocked): one edit found twice is one */
        size_t n = dbm_report_blocking_count(r);
        dbm_buf_printf(b, "blocked by %zu problem%s", n, n == 1 ? "" : "s");
    } else if (risk->relation && risk->bytes >= 0) {
        dbm_buf_puts(b, "rewrites ");
        put_name(b, risk->relation, md);
        dbm_buf_puts(b, " (");
        report_put_bytes(b, risk->bytes);
        dbm_buf_puts(b, ")");
        if (risk->mode)
            dbm_buf_printf(b, " under %s", risk->mode);
    } else if (risk->relation && report_lock_rank(risk->mode) >= 5) {
        /* ShareLock and stronger block writes to the table while they are held. */
        dbm_buf_printf(b, "takes %s on ", risk->mode);
        put_name(b, risk->relation, md);
    } else if (!(!strcmp(st, "pending") && r->pending_count) &&
               !(!strcmp(st, "applied") && r->applied_count) &&
               !(!strcmp(st, "rolled-back") && r->rolled_back_count)) {
        /* "pending", "applied" and "rolled-back" are said by the counts that follow. */
        dbm_buf_puts(b, st);
    }
}

void report_put_lead(dbm_buf *out, const dbm_report *r, const report_risk *risk, bool md)
{
    size_t errors = report_count_level(r, DBM_SEV_ERROR);
    size_t warnings = report_count_level(r, DBM_SEV_WARNING);
    dbm_buf lead = DBM_BUF_INIT, *b = &lead;

    put_lead_head(b, r, risk, md);
    if (r->rolled_back_count)
        put_count(b, (size_t)r->rolled_back_count, "rolled back", "rolled back");
    if (r->applied_count)
        put_count(b, (size_t)r->applied_count, "applied", "applied");
    if (r->pending_count)
        put_count(b, (size_t)r->pending_count, "pending", "pending");
    if (errors && !(r->status && !strcmp(r->status, "blocked")))
        put_count(b, errors, "error", "errors");
    if (warnings)
        put_count(b, warnings, "warning", "warnings");
    dbm_buf_puts(out, lead.len ? dbm_buf_cstr(&lead) : "nothing to do");
    dbm_buf_free(&lead);
}
