/*
 * history.c - the audited runs (DESIGN section 2): when, who, commit, event,
 * outcome, run URL and what each applied, newest first, as a table in the log
 * and, with report-file, as JSON. Reads only; needs no migration files.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/log.h"
#include "postgres/history.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>

#define HISTORY_RUNS 100 /* the newest runs shown */

int dbm_cmd_history(dbm_run_ctx *ctx)
{
    dbm_run_row *rows = NULL;
    size_t n = 0;
    char *text = NULL;
    int error;

    if ((error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_history_runs(&rows, &n, ctx->pg, ctx->cfg->history_schema, HISTORY_RUNS)) < 0)
        goto done;
    text = dbm_report_runs_text(rows, n);
    fputs(text, dbm_log_stream());
    fflush(dbm_log_stream());
    if (ctx->cfg->report_file) {
        char *json = dbm_report_runs_json(rows, n, ctx->report->database);
        error = dbm_report_write(ctx->cfg->report_file, json, "report");
        free(json);
    }
done:
    free(text);
    dbm_history_runs_free(rows, n);
    return error;
}
