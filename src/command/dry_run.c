/*
 * dry_run.c - run the pending migrations in one transaction, statement by
 * statement, measuring each (locks, rewrites, time), then roll back.
 *
 * It shares apply's shape up to the point where apply writes: it takes no run
 * lock, creates nothing and writes no history, so nothing of it survives. A
 * migration that must run outside a transaction is reported as not run. The
 * measurements then confirm or refute the rule findings (check.h).
 */
#include "command/check.h"
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/dryrun.h"
#include "postgres/progress.h"

#include <stdlib.h>

static void log_dry_run(const dbm_mig_result *r)
{
    char *name = dbm_printable(r->file);
    size_t nlocks = 0, nrewrites = 0;

    for (size_t i = 0; i < r->nstmts; i++) {
        nlocks += r->stmts[i].nlocks;
        nrewrites += r->stmts[i].nrewrites;
    }
    if (r->status == DBM_MIG_FAILED)
        dbm_log("FAILED   %s after %.0f ms", name, r->duration_ms);
    else if (r->note)
        dbm_log("not run  %s: %s", name, r->note);
    else
        dbm_log("dry-run  %s (%d statement%s, %.0f ms, %zu lock%s, %zu rewrite%s; rolled back)",
                name, r->statement_count, r->statement_count == 1 ? "" : "s", r->duration_ms,
                nlocks, nlocks == 1 ? "" : "s", nrewrites, nrewrites == 1 ? "" : "s");
    free(name);
}

/*
 * Run pending file i in the dry-run's transaction, with its row in the report.
 * Sets ran[i] when its statements ran; DBM_EFAILED (with the run's message)
 * when it failed.
 */
static int dry_run_one(dbm_run_ctx *ctx, dbm_dryrun *dr, dbm_progress *progress, size_t i,
                       bool *ran)
{
    const dbm_migration *m = &ctx->set->items[i];
    dbm_report *rep = ctx->report;
    dbm_mig_result *r;
    int error;

    r = dbm_report_add_migration(rep, m->version, m->name, ctx->display[i], DBM_MIG_PENDING);
    ctx->row[i] = rep->nmigs - 1;
    r->failed_before = ctx->state[i] == DBM_RUN_RESUME;
    rep->pending_count++;
    dbm_progress_begin(progress, ctx->display[i]);
    error = dbm_dryrun_migration(dr, r, m, ctx->parsed[i], ctx->display[i]);
    dbm_progress_end(progress);
    dbm_progress_blame(progress, r);
    dbm_run_excerpts(ctx, i, r);
    log_dry_run(r);
    if (error == DBM_EFAILED) {
        dbm_error_set(DBM_EFAILED, "unable to run '%s' in the dry-run: %s", ctx->display[i],
                      r->error ? r->error->message : "failed");
        if (r->error && r->error->hint)
            dbm_error_hint("%s", r->error->hint);
        return error;
    }
    if (error == 0)
        ran[i] = !r->note;
    return error;
}

/*
 * Run every pending file, up to the first that fails (*failed; the rest are
 * skipped). Returns 0, or an error that is not a migration's failure.
 */
static int dry_run_files(dbm_run_ctx *ctx, dbm_dryrun *dr, bool *ran, bool *failed)
{
    dbm_progress *progress = NULL;
    int error = 0;

    if (dbm_run_any_pending(ctx))
        dbm_progress_start(&progress, ctx->pg);
    for (size_t i = 0; i < ctx->set->count; i++) {
        if (!dbm_run_is_pending(ctx->state[i]) || *failed) {
            dbm_run_idle_row(ctx, i, *failed);
            continue;
        }
        error = dry_run_one(ctx, dr, progress, i, ran);
        if (error == DBM_EFAILED)
            *failed = true;
        else if (error < 0)
            break;
        error = 0;
    }
    dbm_progress_free(progress);
    if (error < 0)
        return error;
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *h = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, h->version))
            dbm_report_add_migration(ctx->report, h->version, h->name, NULL, DBM_MIG_MISSING);
    }
    return 0;
}

int dbm_cmd_dry_run(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_report *rep = ctx->report;
    dbm_dryrun *dr = NULL;
    bool *ran = NULL;
    bool failed = false;
    int error;

    if ((error = dbm_run_prepare(ctx, false)) < 0)
        goto done;
    if (dbm_report_has_blocking(rep)) {
        dbm_run_report_rows(ctx);
        error = dbm_run_blocked(rep);
        goto done;
    }
    ran = dbm_xcalloc(ctx->set->count, sizeof(*ran));
    if ((error = dbm_dryrun_begin(&dr, ctx->pg, cfg->lock_timeout_ms, cfg->statement_timeout_ms)) <
            0 ||
        (error = dry_run_files(ctx, dr, ran, &failed)) < 0)
        goto done;
    dbm_check_confirm(ctx, ran);
    /* After the measurements, which refute some guesses: fail-on counts the rest. */
    dbm_run_fail_on(ctx);
    if (!failed && dbm_report_has_blocking(rep)) {
        error = dbm_run_blocked(rep);
        goto done;
    }
    dbm_report_set(&rep->status, failed ? "failed" : rep->pending_count ? "pending" : "up-to-date");
    if (!rep->pending_count)
        dbm_log("up to date: nothing to dry-run");
    else if (!failed)
        dbm_log("dry-run: everything was rolled back");
    error = failed ? DBM_EFAILED : 0;
done:
    dbm_dryrun_free(dr);
    free(ran);
    return error;
}
