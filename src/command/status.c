/*
 * status.c - the history joined with the files: each file's state, and the
 * history rows without a file. Reads only; checks no SQL.
 */
#include "command/commands.h"
#include "command/run.h"

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
    return dbm_run_inspected(ctx);
}
