/*
 * repair.c - clear the failed record of --target-version, so that the next
 * apply runs that migration from its start. Under the run lock; runs no
 * migration SQL.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "postgres/history.h"

#include <string.h>

int dbm_cmd_repair(dbm_run_ctx *ctx)
{
    const dbm_history_row *row;
    long long run_id;
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0 || (error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_run_lock(ctx)) < 0 || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    row = dbm_history_find(ctx->history, ctx->cfg->target_version);
    if (!row || strcmp(row->status, "failed") != 0) {
        dbm_error_set(DBM_ECONFIG, "version %s has no failed record to repair",
                      ctx->cfg->target_version);
        dbm_error_hint(row ? "it is applied; repair only clears failed non-transactional runs"
                           : "run 'db-migrate status' to see the failed version");
        return DBM_ECONFIG;
    }
    if ((error = dbm_run_start(ctx, "repair", &run_id)) < 0 ||
        (error = dbm_history_delete(ctx->pg, ctx->cfg->history_schema, row->version)) < 0)
        return error;
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, "applied");
    dbm_log("repaired %s: its failed record is cleared; the next apply runs it from the start",
            row->version);
    dbm_report_set(&ctx->report->status, "applied");
    return 0;
}
