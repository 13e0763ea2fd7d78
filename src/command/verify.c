/*
 * verify.c - check the applied checksums against the files: an edited
 * applied file, a history row without a file and an unfinished failed
 * migration each block (exit 1 on drift). Reads only.
 */
#include "command/commands.h"
#include "command/run.h"
#include "postgres/adopt.h"

#include <string.h>

/* A blocking finding for each version recorded as failed. */
static void add_failed(dbm_run_ctx *ctx)
{
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *row = &ctx->history->rows[i];
        const dbm_migration *m;
        dbm_finding *f;

        if (strcmp(row->status, "failed") != 0)
            continue;
        m = dbm_migrations_find(ctx->set, row->version);
        f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "failed-migration",
                                   m ? m->path : NULL, 0, 0,
                                   "version %s failed at statement %d and is not finished",
                                   row->version, row->failed_statement);
        dbm_report_set(&f->hint, "fix the cause and rerun apply, or clear it with repair");
    }
}

int dbm_cmd_verify(dbm_run_ctx *ctx)
{
    int error;

    if ((error = dbm_run_load_files_and_connect(ctx)) < 0 ||
        (error = dbm_run_read_history(ctx)) < 0)
        return error;
    dbm_run_classify(ctx, true);
    if ((error = dbm_run_gitcheck(ctx, false)) < 0)
        return error;
    dbm_run_report_rows(ctx);
    add_failed(ctx);
    if ((error = dbm_adopt_sqitch_edits(ctx->report, ctx->pg, ctx->set, ctx->display,
                                        DBM_SEV_ERROR)) < 0)
        return error;
    return dbm_run_inspected(ctx);
}
