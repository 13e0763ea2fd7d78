/*
 * outputs.c - the step outputs ($GITHUB_OUTPUT) later steps read: the run's
 * status, counts, the versions applied, the commit now deployed and where the
 * JSON report is. emit.c writes the text to the file.
 */
#include "migration/migration.h"
#include "report/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

static void output_count(dbm_buf *b, const char *name, int n)
{
    char text[32];
    snprintf(text, sizeof(text), "%d", n);
    output_line(b, name, text);
}

/* Whether m was applied in full by this run. */
static bool applied_now(const dbm_mig_result *m)
{
    return m->status == DBM_MIG_APPLIED && !m->note;
}

/* The versions of migrations this run left with status st (applied: in full), comma-separated.
 * Caller frees. */
static char *versions_with(const dbm_report *r, dbm_mig_status st)
{
    dbm_buf versions = DBM_BUF_INIT;

    for (size_t i = 0; i < r->nmigs; i++)
        if (r->migs[i].status == st && (st != DBM_MIG_APPLIED || applied_now(&r->migs[i]))) {
            if (versions.len)
                dbm_buf_putc(&versions, ',');
            dbm_buf_puts(&versions, r->migs[i].version);
        }
    return dbm_buf_detach(&versions);
}

static int by_version(const void *a, const void *b, void *format)
{
    return dbm_version_cmp(*(dbm_format *)format, *(const char *const *)a, *(const char *const *)b);
}

/*
 * A fleet's: every version this run applied on some target, once, in the
 * migrations' order (the union; each target's own list is its report's).
 * Caller frees.
 */
static char *fleet_applied_versions(const dbm_report *r)
{
    const char **all = NULL;
    size_t n = 0, cap = 0;
    dbm_buf versions = DBM_BUF_INIT;
    dbm_format sort_format = DBM_FORMAT_NATIVE;

    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_report *d = r->targets[i].detail;
        for (int f = DBM_FORMAT_NATIVE; d && d->format && dbm_format_names[f]; f++)
            if (!strcmp(d->format, dbm_format_names[f]))
                sort_format = (dbm_format)f;
        for (size_t k = 0; d && k < d->nmigs; k++) {
            if (!applied_now(&d->migs[k]))
                continue;
            dbm_array_grow((void **)&all, &cap, n + 1, sizeof(*all));
            all[n++] = d->migs[k].version;
        }
    }
    if (n > 1)
        qsort_r(all, n, sizeof(*all), by_version, &sort_format);
    for (size_t i = 0; i < n; i++) {
        if (i && by_version(&all[i - 1], &all[i], &sort_format) == 0)
            continue;
        if (versions.len)
            dbm_buf_putc(&versions, ',');
        dbm_buf_puts(&versions, all[i]);
    }
    free(all);
    return dbm_buf_detach(&versions);
}

/* The commit deployed after the run: head after a successful apply, else the one before. */
static const char *deployed_sha(const dbm_report *r)
{
    bool done = r->status && (!strcmp(r->status, "applied") || !strcmp(r->status, "up-to-date"));

    if (done && !strcmp(r->command, "apply") && r->git.head)
        return r->git.head;
    return r->git.deployed ? r->git.deployed : "";
}

char *report_outputs(const dbm_report *r, const char *report_path)
{
    dbm_buf b = DBM_BUF_INIT;
    char *versions =
        dbm_report_is_fleet(r) ? fleet_applied_versions(r) : versions_with(r, DBM_MIG_APPLIED);

    output_line(&b, "status", r->status ? r->status : "failed");
    output_count(&b, "applied-count", r->applied_count);
    output_count(&b, "pending-count", r->pending_count);
    output_line(&b, "applied-versions", versions);
    if (r->command && !strcmp(r->command, "rollback")) {
        char *undone = versions_with(r, DBM_MIG_ROLLED_BACK);
        output_count(&b, "rolled-back-count", r->rolled_back_count);
        output_line(&b, "rolled-back-versions", undone);
        free(undone);
    }
    output_line(&b, "deployed-sha", deployed_sha(r));
    output_line(&b, "report-file", report_path ? report_path : "");
    if (dbm_report_is_fleet(r))
        report_fleet_outputs(&b, r);
    free(versions);
    return dbm_buf_detach(&b);
}
