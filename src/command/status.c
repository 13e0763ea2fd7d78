/*
 * status.c - the history joined with the files: each file's state, and the
 * history rows without a file. Reads only; checks no SQL. With --exit-code,
 * pending or failed migrations make the exit status 1.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/util.h"

/* --exit-code (dbmate's habit): pending or failed migrations are exit 1, for a script's if. */
static int status_exit_code(const dbm_report *r)
{
    int failed = 0;

    for (size_t i = 0; i < r->nmigs; i++)
        failed += r->migs[i].status == DBM_MIG_PENDING && r->migs[i].note &&
                  dbm_starts_with(r->migs[i].note, "failed before");
    if (!r->pending_count)
        return 0;
    if (failed)
        dbm_error_set(DBM_EFAILED, "%d migration%s pending, %d of them failed before",
                      r->pending_count, r->pending_count == 1 ? "" : "s", failed);
    else
        dbm_error_set(DBM_EFAILED, "%d migration%s pending", r->pending_count,
                      r->pending_count == 1 ? "" : "s");
    dbm_error_hint("run 'db-migrate apply'");
    return DBM_EFAILED;
}

int dbm_cmd_status(dbm_run_ctx *ctx)
{
    int error;

    if ((error = dbm_run_load_files_and_connect(ctx)) < 0 ||
        (error = dbm_run_read_history(ctx)) < 0)
        return error;
    dbm_run_classify(ctx, false);
    if ((error = dbm_run_adopt_scan(ctx, DBM_SEV_NOTICE)) < 0 ||
        (error = dbm_run_gitcheck(ctx, false)) < 0)
        return error;
    dbm_run_report_rows(ctx);
    if ((error = dbm_run_inspected(ctx)) < 0 || !ctx->cfg->exit_code)
        return error;
    return status_exit_code(ctx->report);
}
