/*
 * plan.c - list pending, applied, edited and missing migrations, with the
 * static checks of the files that would run.
 *
 * With a database, the pending files are checked; without one (offline, or no
 * database configured) every file is pending, and when git knows a base (the
 * pull request's base or the deployed commit) the files changed since then
 * are the ones checked.
 */
#include "command/check.h"
#include "command/commands.h"
#include "command/run.h"
#include "postgres/adopt.h"

int dbm_cmd_plan(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    bool offline = cfg->offline || !cfg->database_url;
    int error;

    if ((error = offline ? dbm_run_load_files(ctx) : dbm_run_load_files_and_connect(ctx)) < 0 ||
        (!offline && (error = dbm_run_read_history(ctx)) < 0))
        return error;
    if (offline)
        dbm_run_placeholders_offline(ctx);
    dbm_run_classify(ctx, false);
    if ((!offline && (error = dbm_run_adopt_scan(ctx, DBM_SEV_NOTICE)) < 0) ||
        (!offline && (error = dbm_adopt_sqitch_edits(ctx->report, ctx->pg, ctx->set, ctx->display,
                                                     DBM_SEV_WARNING)) < 0) ||
        (error = dbm_run_gitcheck(ctx, false)) < 0)
        return error;
    error = offline && (ctx->report->git.base || ctx->report->git.deployed)
                ? dbm_check_changed(ctx)
                : dbm_check_pending(ctx);
    if (error < 0)
        return error;
    dbm_run_report_rows(ctx);
    dbm_run_fail_on(ctx);
    return dbm_run_inspected(ctx);
}
